package main

// auth.go is the demo's whole authgate set-up, the file to copy into your
// own app: the deployment settings (secret, public URL, session lifetimes,
// cookie format or database sessions, shared stores in Redis, "Sign in with
// …" providers), the authgate.Config built from them (the adapter, Authorize
// over its users, the callbacks a role-based app writes, the custom login
// page), authgate.New,
// where the endpoints and guards go, the middleware around the whole site,
// and how a refused request is answered. The rest of the demo only renders
// pages (pages.go, oauth.go), keeps the users (store.go) and reads the
// command line (main.go).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/email"
	"github.com/authgate/authgate/nextauth"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/redisstore"
	"github.com/redis/go-redis/v9"
)

// Claims are the demo's own typed claims, carried in the session cookie
// (authgate's type parameter T): handlers read them as s.Claims.Note, with
// no type assertion. The session JSON shows them as "claims" once set.
type Claims struct {
	// UpdateTrigger and Note are written by the JWT callback when the client
	// calls update({note: "…"}) (useSession().update in next-auth/react), so
	// the example page can show that the call reached the server.
	UpdateTrigger string `json:"updateTrigger,omitempty"`
	Note          string `json:"note,omitempty"`
}

// Options are the demo's deployment settings, from the command line and
// environment (main.go checks them first); newAuth turns them into
// authgate's Config.
type Options struct {
	Secret string // AUTH_SECRET
	URL    string // AUTH_URL, the public origin
	// MaxAge, UpdateAge and MaxLifetime are the -session-* flags; zero keeps
	// authgate's defaults (30 days, 24 hours, 90 days).
	MaxAge, UpdateAge, MaxLifetime time.Duration
	StaticDir                      string // -static
	Logger                         *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Hasher compares passwords; nil is bcrypt at cost 10, the cost of the
	// hashes adduser stores.
	Hasher authgate.PasswordHasher
	// Providers are the "Sign in with …" providers (buildProviders).
	Providers []authgate.OAuthProvider
	// TokenFormat is the -token-format flag: "authgate" (or ""), authgate's
	// own cookie; "nextauth-v4" or "authjs-v5", the session cookie a
	// Next.js app with the same AUTH_SECRET reads and writes.
	TokenFormat string
	// SessionStrategy is the -session-strategy flag: "jwt" (or ""), the
	// session in its cookie; "database", the session in the database (the
	// cookie holds an opaque token).
	SessionStrategy string
	// Limiter and Revocations are shared stores (-redis); nil keeps
	// authgate's in-memory ones.
	Limiter     authgate.Limiter
	Revocations authgate.RevocationStore
	// Redis is the client of -redis, or nil.
	Redis *redis.Client

	// Email is the e-mail extension (email.go): sign-in links and
	// "forgot password"; nil leaves them off.
	Email *email.Extension[Claims]
	// RequireSecondFactor are the -require-2fa roles: their users see
	// /admin only after signing in with a second factor (totp.go).
	RequireSecondFactor []string
}

// newAuth is the demo's authgate: the deployment settings of o, and the
// behaviour every deployment shares.
func (a *app) newAuth(o Options) (*authgate.Auth[Claims], error) {
	// -token-format: authgate's own cookie, or NextAuth's, so that a
	// Next.js app with the same AUTH_SECRET shares the session.
	codec, cookieName, err := tokenFormat(o.TokenFormat, o.Secret)
	if err != nil {
		return nil, err
	}
	store := a.store
	var extensions []authgate.Extension[Claims]
	// -smtp: sign-in links by e-mail and "forgot password" (email.go).
	if o.Email != nil {
		extensions = append(extensions, o.Email)
	}
	a.mfa, a.mfaRoles = newTOTP(), o.RequireSecondFactor // the second factor (totp.go)
	extensions = append(extensions, a.mfa)
	return authgate.New(authgate.Config[Claims]{
		// The adapter (store.go): users, the accounts that sign them in (a
		// username, a GitHub account), and the sessions, which the device
		// list shows in both strategies. -session-strategy database keeps
		// the sessions themselves there too.
		Adapter:          store.Adapter(),
		DatabaseSessions: o.SessionStrategy == "database",
		Secrets:          []string{o.Secret}, // AUTH_SECRET, at least 32 bytes
		URL:              o.URL,              // AUTH_URL, the origin browsers use
		// The -session-* flags; zero keeps authgate's defaults.
		MaxAge: o.MaxAge, UpdateAge: o.UpdateAge, MaxLifetime: o.MaxLifetime,
		Codec: codec, SessionCookieName: cookieName,
		// -redis: the sign-in limiter and the revocations shared by every
		// instance (useRedis, below); nil keeps them in this process.
		Limiter: o.Limiter, Revocations: o.Revocations,
		// "Sign in with …" (buildProviders, below): -oidc-issuer, GITHUB_ID.
		Providers: o.Providers,

		// Further ways to sign in: a link by e-mail (-smtp), passkeys
		// (passkey.go: the device's screen lock, no password typed), and a
		// code from an authenticator app after the password, for users who
		// turned it on at /account/2fa (totp.go).
		Extensions: append(extensions, a.passkeyExtensions()...),
		Logger:     o.Logger, Now: o.Now, Hasher: o.Hasher,

		// Our own login form replaces the built-in page; guards send
		// anonymous browsers to /login?callbackUrl=….
		Pages: authgate.Pages{SignIn: "/login"},

		// Authorize checks a username and password from the sign-in form.
		// It returns nil (→ "CredentialsSignin", 401) for a wrong password
		// AND for an unknown user, after the same amount of work: an
		// unknown user's hash is "", and PasswordMatches("") runs a dummy
		// bcrypt comparison, so response times do not reveal which
		// usernames exist.
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[Claims], error) {
			u, err := store.UserByUsername(ctx, c.Username())
			if err != nil && !errors.Is(err, ErrNoUser) {
				return nil, err // a fault: logged by authgate; the client sees 503 Busy
			}
			if !c.PasswordMatches(u.PasswordHash) || err != nil {
				return nil, nil
			}
			return &authgate.User[Claims]{
				ID:    u.ID,
				Name:  u.Username, // the session's user.name is the username
				Email: u.Email,
				Role:  u.Role,
			}, nil
		},

		Callbacks: authgate.Callbacks[Claims]{
			// SignIn lets everyone in whom Authorize, a provider or an
			// e-mail link vouched for. A new user (no ID yet: authgate
			// creates them in the adapter once this allows it) gets the role
			// user; nobody becomes admin that way.
			SignIn: func(ctx context.Context, p authgate.SignInParams[Claims]) (authgate.SignInDecision, error) {
				if p.User.ID == "" {
					p.User.Role = oauthRole
					if p.User.Name == "" { // a sign-up by e-mail link: the address's local part
						p.User.Name, _, _ = strings.Cut(p.User.Email, "@")
					}
				}
				return authgate.Allow(), nil
			},
			// JWT shapes what the cookie carries. At sign-in the token
			// already holds the user's ID, name, email and role (authgate
			// copies them from the User); the demo's work is keeping the
			// role current and taking the client's update safely.
			JWT: func(ctx context.Context, p authgate.JWTParams[Claims]) (*authgate.Token[Claims], error) {
				switch p.Trigger {
				case authgate.TriggerRefresh:
					// At most once per UpdateAge: reload the role, so that a
					// demotion reaches live sessions. A deleted user's session
					// ends (ErrSessionRevoked: its cookie is cleared); a
					// database that cannot answer is a fault (the cookie is
					// kept for when it is back).
					u, err := store.UserByID(ctx, p.Token.Subject)
					if errors.Is(err, ErrNoUser) {
						return nil, fmt.Errorf("user %s was deleted: %w", p.Token.Subject, authgate.ErrSessionRevoked)
					}
					if err != nil {
						return nil, err
					}
					p.Token.Role = u.Role
				case authgate.TriggerUpdate:
					// The client's data is untrusted: take only the note, never
					// a role or id from it.
					var data struct {
						Note string `json:"note"`
					}
					_ = json.Unmarshal(p.Data, &data) // bad or missing data: empty note
					p.Token.Claims.UpdateTrigger = string(p.Trigger)
					p.Token.Claims.Note = truncate(data.Note, 100)
				}
				return p.Token, nil
			},
		},

		ErrorHandler: a.refuse,
	})
}

// mountAuth puts authgate's endpoints and guards on mux (who may see
// what), and returns the site's handler: mux behind auth.Middleware, which
// loads the session (if any) for every request, so that the login page and
// the navigation bar know who is signed in.
func (a *app) mountAuth(mux *http.ServeMux) http.Handler {
	auth := a.auth
	// The NextAuth-compatible endpoints: /api/auth/csrf, /session,
	// /callback/credentials, /signout, …
	mux.Handle("/api/auth/", auth.Handler())
	mux.Handle("GET /dashboard", auth.RequireAuth(http.HandlerFunc(a.dashboard)))
	mux.Handle("GET /admin", auth.RequireRole("admin")(a.requireSecondFactor(http.HandlerFunc(a.admin))))
	// Signing out every device is sensitive: it needs a sign-in from the
	// last 15 minutes (RequireFreshAuth), and, as an app route outside
	// authgate's handler, Go's own CSRF defence for unsafe requests.
	mux.Handle("POST /account/signout-everywhere", http.NewCrossOriginProtection().Handler(
		auth.RequireFreshAuth(15*time.Minute)(http.HandlerFunc(a.signOutEverywhere))))
	// "Your devices": the list for every signed-in user; signing a device
	// out is sensitive like the above (a thief's cookie alone must not end
	// the owner's other sessions).
	mux.Handle("GET /devices", auth.RequireAuth(http.HandlerFunc(a.devices)))
	mux.Handle("POST /devices/signout", http.NewCrossOriginProtection().Handler(
		auth.RequireFreshAuth(15*time.Minute)(http.HandlerFunc(a.signOutDevice))))
	mux.Handle("POST /devices/signout-others", http.NewCrossOriginProtection().Handler(
		auth.RequireFreshAuth(15*time.Minute)(http.HandlerFunc(a.signOutOthers))))
	return auth.Middleware(mux)
}

// refuse is Config.ErrorHandler: a signed-in browser without the role gets
// an HTML 403 page, a form post with a stale sign-in goes back to /login;
// everything else gets authgate's default answer (the login page with a
// callbackUrl for anonymous browsers, 401/403 JSON for API clients).
func (a *app) refuse(w http.ResponseWriter, r *http.Request, err error) {
	browser := strings.Contains(r.Header.Get("Accept"), "text/html")
	switch {
	case errors.Is(err, authgate.ErrForbidden) && browser && r.Method == http.MethodGet:
		a.render(w, r, http.StatusForbidden, "forbidden", pageData{Title: "Forbidden"})
	case errors.Is(err, authgate.ErrFreshAuthRequired) && browser:
		// A form post with an old sign-in: sign in again, then come back
		// to the page the form was on.
		back := "%2Fdashboard"
		if strings.HasPrefix(r.URL.Path, "/devices") {
			back = "%2Fdevices"
		}
		http.Redirect(w, r, "/login?error=FreshSignIn&callbackUrl="+back, http.StatusSeeOther)
	default:
		authgate.DefaultErrorHandler(w, r, err)
	}
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// TokenFormats are the values of -token-format.
var TokenFormats = []string{"authgate", "nextauth-v4", "authjs-v5"}

// tokenFormat returns the session codec and cookie name of a -token-format
// value: authgate's defaults for "authgate" (or ""), NextAuth v4's token
// and next-auth.session-token for "nextauth-v4", Auth.js v5's and
// authjs.session-token for "authjs-v5".
func tokenFormat(format, secret string) (authgate.Codec, string, error) {
	switch format {
	case "", "authgate":
		return nil, "", nil
	case "nextauth-v4":
		c, err := nextauth.NewV4(secret)
		return c, nextauth.V4CookieName, err
	case "authjs-v5":
		c, err := nextauth.NewV5(secret)
		return c, nextauth.V5CookieName, err
	}
	return nil, "", fmt.Errorf("-token-format %q: want one of %s", format, strings.Join(TokenFormats, ", "))
}

// OAuthOptions are the -oidc-* flags and the provider secrets from the
// environment.
type OAuthOptions struct {
	OIDCIssuer       string // -oidc-issuer
	OIDCClientID     string // -oidc-client-id
	OIDCClientSecret string // OIDC_CLIENT_SECRET
	GitHubID         string // GITHUB_ID
	GitHubSecret     string // GITHUB_SECRET
}

// buildProviders returns the providers o configures: "oidc" when an issuer
// is given (its discovery runs now, so a wrong issuer stops the demo at
// start-up), "github" when GITHUB_ID is set. A half-configured provider is
// an error, not a silently missing button.
func buildProviders(ctx context.Context, o OAuthOptions) ([]authgate.OAuthProvider, error) {
	var out []authgate.OAuthProvider
	if o.OIDCIssuer != "" || o.OIDCClientID != "" {
		if o.OIDCIssuer == "" || o.OIDCClientID == "" || o.OIDCClientSecret == "" {
			return nil, fmt.Errorf("-oidc-issuer, -oidc-client-id and OIDC_CLIENT_SECRET go together")
		}
		p, err := providers.OIDC(ctx, providers.OIDCConfig{
			Issuer: o.OIDCIssuer, ClientID: o.OIDCClientID, ClientSecret: o.OIDCClientSecret,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if o.GitHubID != "" || o.GitHubSecret != "" {
		p, err := providers.GitHub(providers.GitHubConfig{ClientID: o.GitHubID, ClientSecret: o.GitHubSecret})
		if err != nil {
			return nil, fmt.Errorf("GITHUB_ID and GITHUB_SECRET go together: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// oauthRole is the role of a user who first signs in with a provider:
// "user". An admin may change it in the database; the JWT callback reloads
// it at the next refresh.
const oauthRole = "user"

// redisLog adapts slog to go-redis' logger interface.
type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}

// useRedis connects to the Redis at url and puts its shared sign-in limiter
// and revocation store into o, so that several demo processes sharing that
// Redis behave as one site: one throttling budget, and a sign-out on one is
// honoured by all (see redisstore/README.md). Without -redis or REDIS_URL
// the demo keeps authgate's in-memory stores. The returned function closes
// the stores and the client.
func useRedis(ctx context.Context, url string, o *Options, logger *slog.Logger) (func(), error) {
	// go-redis reports dial failures and reconnections through its own
	// logger; send them to the demo's, as warnings.
	redis.SetLogger(redisLog{logger})
	client, err := redisstore.Connect(ctx, url, 0)
	if err != nil {
		return nil, err
	}
	lim, err := redisstore.NewLimiter(ctx, client, redisstore.LimiterOptions{})
	if err != nil {
		client.Close()
		return nil, err
	}
	// The revocation store loads every revocation at start; give it longer
	// than one call's timeout in total.
	loadCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	revs, err := redisstore.NewRevocationStore(loadCtx, client, redisstore.RevocationOptions{
		MaxAge: o.MaxAge, MaxLifetime: o.MaxLifetime, Logger: logger, Now: o.Now,
	})
	if err != nil {
		client.Close()
		return nil, err
	}
	o.Limiter, o.Revocations, o.Redis = lim, revs, client
	opt := client.Options()
	logger.Info("sign-in limits and revocations are shared through redis",
		slog.String("redis", fmt.Sprintf("%s/%d", opt.Addr, opt.DB)))
	return func() {
		revs.Close()
		client.Close()
	}, nil
}
