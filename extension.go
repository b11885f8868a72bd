package authgate

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Extension is a way to sign in, or a step of one, that lives in a package
// of its own: a link by e-mail, a second factor, passkeys. The core serves
// its endpoints under [Config.BasePath] behind the same cross-origin
// protection as its own, lists it in GET /providers when it is a provider
// next-auth/react's signIn(id) must find, and the extension finishes every
// sign-in through [Auth.CompleteSignIn], so the SignIn → JWT → session path,
// the device list and the events stay the core's.
//
// Implementations must be safe for concurrent use once mounted.
type Extension[T any] interface {
	// ID names the extension in /providers, in its endpoints' paths and in
	// logs, such as "email" or "passkey": 1 to 64 lower-case ASCII letters,
	// digits, '-' or '_', not "credentials", and unlike every provider's
	// and other extension's.
	ID() string
	// Mount is called once by [New], when the Auth is otherwise ready: the
	// extension keeps a (for CompleteSignIn, the check cookies, the
	// adapter, the Limiter) and returns what it adds to [Auth.Handler]. An
	// error makes New fail with an error wrapping [ErrConfig].
	Mount(a *Auth[T]) (Endpoints, error)
}

// Endpoints is what an [Extension] adds to [Auth.Handler].
type Endpoints struct {
	// Type, when not empty, lists the extension in GET /providers under its
	// ID with this type and Name, in NextAuth's shape (signinUrl
	// BasePath/signin/{id}, callbackUrl BasePath/callback/{id}), such as
	// "email" or "webauthn": next-auth/react's signIn(id) looks the
	// provider up there first. An extension that is a step of another
	// sign-in (a second factor) leaves it empty.
	Type, Name string
	// Routes are the extension's endpoints: [http.ServeMux] patterns of a
	// method and a path relative to BasePath, such as "POST /signin/email"
	// or "GET /webauthn-options/passkey", each with its handler. They are
	// served like the core's own endpoints: behind
	// [http.CrossOriginProtection] (unsafe cross-origin requests get 403)
	// and with X-Content-Type-Options: nosniff. A literal segment wins over
	// the core's wildcards ("POST /signin/email" over
	// "POST /signin/{provider}"); a pattern that is malformed, has no
	// method, or conflicts with another makes New fail.
	Routes map[string]http.Handler
}

// mountedExtension is an Extension with what it mounted.
type mountedExtension struct {
	id string
	Endpoints
}

// mountExtensions mounts every extension of the Config, in order.
func (a *Auth[T]) mountExtensions() ([]mountedExtension, error) {
	out := make([]mountedExtension, 0, len(a.cfg.Extensions))
	for _, x := range a.cfg.Extensions {
		e, err := x.Mount(a)
		if err != nil {
			return nil, fmt.Errorf("%w: extension %q: %w", ErrConfig, x.ID(), err)
		}
		for p := range e.Routes {
			method, path, ok := strings.Cut(p, " ")
			if !ok || method == "" || !strings.HasPrefix(path, "/") || e.Routes[p] == nil {
				return nil, fmt.Errorf("%w: extension %q: route %q must be \"METHOD /path\" with a handler", ErrConfig, x.ID(), p)
			}
		}
		out = append(out, mountedExtension{id: x.ID(), Endpoints: e})
	}
	return out, nil
}

// handleExtensions registers the extensions' routes on mux (the protocol
// handler's), turning a conflicting or malformed pattern, which
// http.ServeMux reports by panicking, into an error.
func (a *Auth[T]) handleExtensions(mux *http.ServeMux, exts []mountedExtension) (err error) {
	for _, e := range exts {
		for p, h := range e.Routes {
			method, path, _ := strings.Cut(p, " ")
			func() {
				defer func() {
					if v := recover(); v != nil {
						err = fmt.Errorf("%w: extension %q: route %q: %v", ErrConfig, e.id, p, v)
					}
				}()
				mux.Handle(method+" "+a.basePath+path, h)
			}()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// What an extension may use of the Auth besides [Auth.CompleteSignIn] and
// the check cookies: its adapter, its clock, its Limiter, the attempts it
// counts and keys of its own derived from the secrets.

// Adapter returns [Config.Adapter], or nil. An extension that stores
// through one of the optional interfaces ([SecondFactorAdapter],
// [PasskeyAdapter]) asserts it, and fails its Mount when it is missing.
func (a *Auth[T]) Adapter() Adapter { return a.cfg.Adapter }

// Now returns the time by [Config.Now], the clock the core reads.
func (a *Auth[T]) Now() time.Time { return a.now() }

// Limiter returns [Config.Limiter] (the in-memory default when it was
// nil), for an extension to throttle its own attempts (codes, e-mails,
// ceremonies) in the budgets sign-ins use.
func (a *Auth[T]) Limiter() Limiter { return a.cfg.Limiter }

// Attempt returns the [Attempt] r makes against account, as the
// credentials sign-in builds it: the client address (through
// [Config.TrustedProxies]) and the time by [Config.Now]. Its Device is
// "": a stranger's attempt, under the address's and account's budgets.
func (a *Auth[T]) Attempt(r *http.Request, account string) Attempt {
	return Attempt{Account: account, Addr: a.clientAddr(r), Time: a.now()}
}

// purposeExtension prefixes the purposes of PurposeKeys, so that no
// extension's key is one the core derives for itself.
const purposeExtension = "authgate extension key v1: "

// PurposeKeys returns one 32-byte key for purpose per [Config.Secrets],
// in their order, derived with HKDF-SHA256: an extension seals with the
// first and opens with each in turn, so putting a new secret first keeps
// what the older ones sealed readable for as long as they stay listed.
// Each purpose, such as "totp seed v1", gets keys of its own, unrelated to
// every other purpose's and to the core's.
func (a *Auth[T]) PurposeKeys(purpose string) [][]byte {
	keys := make([][]byte, len(a.cfg.Secrets))
	for i, s := range a.cfg.Secrets {
		keys[i] = deriveKey([]byte(s), purposeExtension+purpose)
	}
	return keys
}
