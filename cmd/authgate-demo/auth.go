package main

// auth.go is the demo's whole auth wiring, the file to copy into your own
// app: the authgate.Config (Authorize over the users table, the callbacks a
// role-based app writes, the custom login page), where the guards go, and
// how a refused request is answered. The rest of the demo only renders
// pages (pages.go), keeps the users (store.go) and reads the command line
// (main.go).

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate"
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

// authConfig is the demo's authgate configuration, without the deployment
// settings (secret, public URL, session timeouts) that main.go reads from
// the command line and environment.
func (a *app) authConfig() authgate.Config[Claims] {
	store := a.store
	return authgate.Config[Claims]{
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
				return nil, err // logged by authgate; the client sees CredentialsSignin
			}
			if !c.PasswordMatches(u.PasswordHash) || err != nil {
				return nil, nil
			}
			return &authgate.User[Claims]{
				ID:    strconv.FormatInt(u.ID, 10),
				Name:  u.Username, // the session's user.name is the username
				Email: u.Email,
				Role:  u.Role,
			}, nil
		},

		Callbacks: authgate.Callbacks[Claims]{
			// JWT shapes what the cookie carries. At sign-in the token
			// already holds the user's ID, name, email and role (authgate
			// copies them from the User); the demo's work is keeping the
			// role current and taking the client's update safely.
			JWT: func(ctx context.Context, p authgate.JWTParams[Claims]) (*authgate.Token[Claims], error) {
				switch p.Trigger {
				case authgate.TriggerSignIn:
					if p.Account.Type == "oauth" {
						// A "Sign in with …" user (oauth.go) has no row in
						// users, so no role to copy: every one is a "user".
						p.Token.Role = oauthRole
					}
				case authgate.TriggerRefresh:
					if isOAuthSubject(p.Token.Subject) {
						break // not in the users table: keep the role
					}
					// At most once per UpdateAge: reload the role, so that a
					// demotion reaches live sessions, and end the session of a
					// deleted user (an error fails closed: anonymous).
					u, err := store.UserByID(ctx, p.Token.Subject)
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
	}
}

// mountAuth puts authgate's endpoints and guards on mux: who may see what.
func (a *app) mountAuth(mux *http.ServeMux) {
	auth := a.auth
	// The NextAuth-compatible endpoints: /api/auth/csrf, /session,
	// /callback/credentials, /signout, …
	mux.Handle("/api/auth/", auth.Handler())
	mux.Handle("GET /dashboard", auth.RequireAuth(http.HandlerFunc(a.dashboard)))
	mux.Handle("GET /admin", auth.RequireRole("admin")(http.HandlerFunc(a.admin)))
	// Signing out every device is sensitive: it needs a sign-in from the
	// last 15 minutes (RequireFreshAuth), and, as an app route outside
	// authgate's handler, Go's own CSRF defence for unsafe requests.
	mux.Handle("POST /account/signout-everywhere", http.NewCrossOriginProtection().Handler(
		auth.RequireFreshAuth(15*time.Minute)(http.HandlerFunc(a.signOutEverywhere))))
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
		// A form post from the dashboard with an old sign-in: sign in
		// again, then come back to the dashboard.
		http.Redirect(w, r, "/login?error=FreshSignIn&callbackUrl=%2Fdashboard", http.StatusSeeOther)
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
