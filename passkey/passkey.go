package passkey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Errors of this package, checked with [errors.Is].
var (
	// ErrLastSignIn reports a passkey that cannot be deleted because it is
	// the user's last way to sign in: no other passkey, no password, no
	// account of another provider.
	ErrLastSignIn = errors.New("passkey: the last way to sign in cannot be deleted")

	// ErrFreshSignInRequired reports a change (adding or deleting a
	// passkey) by a user whose sign-in is older than [Config.MaxAuthAge].
	// It wraps [authgate.ErrUnauthenticated].
	ErrFreshSignInRequired = fmt.Errorf("%w: passkey: a recent sign-in is required", authgate.ErrUnauthenticated)

	// ErrBadName reports a passkey name that is empty, longer than 64
	// characters or has control characters.
	ErrBadName = errors.New("passkey: the name must be 1 to 64 printable characters")
)

// AMR is how a passkey sign-in authenticated the user, as RFC 8176 names
// it: a key held by an authenticator ("hwk"), the user present ("user"),
// and, since user verification (a PIN or biometric on the authenticator)
// is required, a second factor besides possession ("mfa").
var AMR = []string{"hwk", "user", "mfa"}

// Config configures [New]. Its zero value is usable: every field's default
// comes from the authgate Config it is mounted in.
type Config[T any] struct {
	// ID is the provider id: in /providers, in the endpoints' paths and in
	// the Account of a passkey sign-in. The default is "passkey", what
	// next-auth/webauthn's signIn("passkey") asks for.
	ID string
	// Name is the provider's name in /providers. The default is "Passkey".
	Name string
	// RPID is the WebAuthn relying party id: the host name passkeys are
	// bound to, such as "example.com" (then they also work on its
	// subdomains listed in Origins). The default is the host name of
	// authgate's Config.URL.
	RPID string
	// RPName is the name authenticators show. The default is the host (and
	// port) of authgate's Config.URL.
	RPName string
	// Origins are the origins whose pages may run a ceremony, such as
	// "https://example.com". The default is authgate's Config.URL.
	Origins []string
	// Timeout is how long a ceremony may take, from the options to the
	// callback: the browser's timeout and the challenge cookie's life. The
	// default is 5 minutes (Auth.js's 300000 ms); at most 15 minutes.
	Timeout time.Duration
	// MaxAuthAge is how recent a sign-in must be to add or delete a
	// passkey. The default is authgate's Config.FreshAuthAge (15 minutes
	// unless set).
	MaxAuthAge time.Duration
	// User returns the user a passkey of userID signs in as. The default
	// reads the adapter's user (id, name, e-mail address, image, role); an
	// app whose users live elsewhere sets its own. An error wrapping
	// [authgate.ErrNotFound] refuses the sign-in (error=AccessDenied); any
	// other error is a fault (error=Busy).
	User func(ctx context.Context, userID string) (*authgate.User[T], error)
}

// Passkeys is the passkey extension: put it in authgate's
// Config.Extensions. Create it with [New]; it is safe for concurrent use
// once mounted.
type Passkeys[T any] struct {
	cfg Config[T]

	auth    *authgate.Auth[T]
	store   authgate.PasskeyAdapter
	limiter authgate.Limiter
	log     *slog.Logger
	now     func() time.Time
	wa      *webauthn.WebAuthn
	origin  string // authgate's origin, "https://example.com"
	base    string // authgate's BasePath
	maxBody int64
	client  clientFiles
}

// New returns the passkey extension configured by c. It checks c when
// authgate.New mounts it: then a missing PasskeyAdapter, a bad RPID or
// origin, or a Timeout out of range make authgate.New fail.
func New[T any](c Config[T]) *Passkeys[T] {
	if c.ID == "" {
		c.ID = "passkey"
	}
	if c.Name == "" {
		c.Name = "Passkey"
	}
	return &Passkeys[T]{cfg: c}
}

// ID implements [authgate.Extension].
func (p *Passkeys[T]) ID() string { return p.cfg.ID }

// checkName is the challenge cookie's name (authgate.check.webauthn); the
// cookie's value names the provider, so two passkey extensions share it.
const checkName = "webauthn"

// Mount implements [authgate.Extension]: it reads the Auth's adapter,
// limiter, clock and URL, builds the WebAuthn relying party and returns
// the endpoints.
func (p *Passkeys[T]) Mount(a *authgate.Auth[T]) (authgate.Endpoints, error) {
	ac := a.Config()
	store, ok := ac.Adapter.(authgate.PasskeyAdapter)
	if !ok {
		return authgate.Endpoints{}, errors.New("passkey: Config.Adapter must be an authgate.PasskeyAdapter (such as sqlstore's)")
	}
	u, err := url.Parse(ac.URL)
	if err != nil {
		return authgate.Endpoints{}, fmt.Errorf("passkey: URL: %w", err)
	}
	c := &p.cfg
	if c.RPID == "" {
		c.RPID = strings.ToLower(u.Hostname())
	}
	if c.RPName == "" {
		c.RPName = u.Host
	}
	origin := strings.ToLower(u.Scheme + "://" + u.Host)
	if len(c.Origins) == 0 {
		c.Origins = []string{origin}
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.Timeout < 10*time.Second || c.Timeout > 15*time.Minute {
		return authgate.Endpoints{}, fmt.Errorf("passkey: Timeout %v is not between 10 seconds and 15 minutes", c.Timeout)
	}
	if c.MaxAuthAge == 0 {
		c.MaxAuthAge = ac.FreshAuthAge
	}
	if c.MaxAuthAge < 0 {
		return authgate.Endpoints{}, fmt.Errorf("passkey: MaxAuthAge %v is negative", c.MaxAuthAge)
	}
	if c.User == nil {
		c.User = func(ctx context.Context, id string) (*authgate.User[T], error) {
			u, err := store.User(ctx, id)
			if err != nil {
				return nil, err
			}
			return &authgate.User[T]{ID: u.ID, Name: u.Name, Email: u.Email, Image: u.Image, Role: u.Role}, nil
		}
	}
	required := true
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          c.RPID,
		RPDisplayName: c.RPName,
		RPOrigins:     c.Origins,
		// Discoverable credentials with user verification, as Auth.js's
		// Passkey provider asks for; attestation "none" (the default):
		// which authenticator model it is does not decide anything here.
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: &required,
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		},
		// The browser's timeout. Expiry is enforced by the challenge
		// cookie, on authgate's clock, so go-webauthn's own (wall-clock)
		// check stays off.
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: c.Timeout, TimeoutUVD: c.Timeout},
			Registration: webauthn.TimeoutConfig{Timeout: c.Timeout, TimeoutUVD: c.Timeout},
		},
	})
	if err != nil {
		return authgate.Endpoints{}, fmt.Errorf("passkey: %w", err)
	}
	p.auth, p.store, p.limiter, p.log, p.now, p.wa = a, store, ac.Limiter, ac.Logger, ac.Now, wa
	p.origin, p.base, p.maxBody = origin, ac.BasePath, ac.MaxBodyBytes
	p.client = newClientFiles()
	id := c.ID
	return authgate.Endpoints{
		Type: "webauthn",
		Name: c.Name,
		Routes: map[string]http.Handler{
			"GET /webauthn-options/" + id:               http.HandlerFunc(p.serveOptions),
			"POST /callback/" + id:                      http.HandlerFunc(p.serveCallback),
			"GET /" + id + "/credentials":               http.HandlerFunc(p.serveList),
			"PATCH /" + id + "/credentials/{id}":        http.HandlerFunc(p.serveRename),
			"DELETE /" + id + "/credentials/{id}":       http.HandlerFunc(p.serveDelete),
			"GET /" + id + "/client.js":                 http.HandlerFunc(p.client.serveHelper),
			"GET /" + id + "/simplewebauthn-browser.js": http.HandlerFunc(p.client.serveLibrary),
		},
	}, nil
}

// errorURL is authgate's error page with code.
func (p *Passkeys[T]) errorURL(code string) string {
	return p.origin + p.base + "/error?error=" + url.QueryEscape(code)
}
