package authgate

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
)

// Check cookies: the short-lived, encrypted cookies that carry a flow's
// state from one request to the next without server-side state. The OAuth
// flow keeps its state, PKCE verifier and nonce in them (oauth.go);
// extensions keep theirs (a pending second factor, a WebAuthn challenge)
// through [Auth.SetCheckCookie], [Auth.ReadCheckCookie] and
// [Auth.UseCheckCookie].
//
// Each cookie is AES-encrypted and HMAC-signed with keys derived from
// Config.Secrets for this purpose only (securecookie), bound to its cookie
// name, and carries its own expiry by the Auth's clock, at most
// checkMaxAge away; securecookie's timestamp is a second expiry check. It
// is HttpOnly, SameSite=Lax and, on https, __Host- prefixed, so a sibling
// subdomain cannot plant one.

// ErrCheckCookie reports a check cookie that is missing, duplicated,
// tampered with, minted under another name, expired or already used.
var ErrCheckCookie = errors.New("authgate: check cookie missing, invalid, expired or used")

// checkMaxAge is the longest a check cookie lives: NextAuth's 15 minutes
// for a sign-in at a provider.
const checkMaxAge = 15 * time.Minute

// purposeCheck keys the check cookies.
const purposeCheck = "authgate oauth check v1"

// maxCheckCookie bounds a check cookie's value.
const maxCheckCookie = 4096

// checkEnvelope is what a check cookie holds: the caller's value, its
// expiry (Unix seconds, the Auth's clock) and, for a cookie that may be
// used only once, a random id registered with the adapter.
type checkEnvelope struct {
	Value   json.RawMessage `json:"v"`
	Expires int64           `json:"e"`
	Once    string          `json:"o,omitempty"`
}

// newCheckCodec builds the check cookies' codec: always encrypted
// (SignOnly does not apply: a PKCE verifier is a secret).
func newCheckCodec(secrets []string) rotatingCodec {
	var c rotatingCodec
	for _, s := range secrets {
		sc := securecookie.New(deriveKey([]byte(s), purposeCheck+" hmac"), deriveKey([]byte(s), purposeCheck+" aes"))
		sc.SetSerializer(jsonSerializer{})
		sc.MaxAge(int((checkMaxAge + clockSkew) / time.Second))
		c = append(c, sc)
	}
	return c
}

// checkName is the cookie name of an extension's check cookie called name.
func (a *Auth[T]) checkName(name string) string {
	if a.secure {
		return "__Host-authgate.check." + name
	}
	return "authgate.check." + name
}

// validCheckName reports whether name may name a check cookie: 1 to 32
// lower-case ASCII letters, digits, '-' or '_'.
func validCheckName(name string) bool {
	if name == "" || len(name) > 32 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// setCheck writes value into the check cookie cookieName until exp.
func (a *Auth[T]) setCheck(w http.ResponseWriter, cookieName string, value any, exp time.Time, once string) error {
	b, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("%w: check cookie %s: %w", ErrConfig, cookieName, err)
	}
	v, err := a.checkCodec.Encode(cookieName, checkEnvelope{Value: b, Expires: exp.Unix(), Once: once})
	if err != nil {
		return fmt.Errorf("%w: check cookie %s: %w", ErrConfig, cookieName, err)
	}
	if len(v) > maxCheckCookie {
		return fmt.Errorf("%w: check cookie %s: %d bytes encoded, at most %d fit", ErrConfig, cookieName, len(v), maxCheckCookie)
	}
	http.SetCookie(w, a.cookie(cookieName, v, exp, max(1, int((exp.Sub(a.now())+time.Second-1)/time.Second))))
	return nil
}

// readCheckEnvelope decodes the check cookie cookieName of r and verifies
// it has not expired at now. Its errors wrap ErrCheckCookie and say why,
// for the log.
func (a *Auth[T]) readCheckEnvelope(r *http.Request, cookieName string, now time.Time) (checkEnvelope, error) {
	var e checkEnvelope
	raw, ok := cookieValue(r, cookieName)
	switch {
	case !ok || raw == "":
		return e, fmt.Errorf("%w: no (or a duplicated) %s cookie", ErrCheckCookie, cookieName)
	case len(raw) > maxCheckCookie:
		return e, fmt.Errorf("%w: %s cookie too long", ErrCheckCookie, cookieName)
	}
	if err := a.checkCodec.Decode(cookieName, raw, &e); err != nil {
		return e, fmt.Errorf("%w: %s cookie does not verify", ErrCheckCookie, cookieName)
	}
	if now.Unix() >= e.Expires {
		return e, fmt.Errorf("%w: %s cookie expired", ErrCheckCookie, cookieName)
	}
	return e, nil
}

// clearCheck expires the check cookie cookieName when r carries it.
func (a *Auth[T]) clearCheck(w http.ResponseWriter, r *http.Request, cookieName string) {
	if hasCookie(r, cookieName) {
		http.SetCookie(w, a.cookie(cookieName, "", time.Unix(0, 0), -1))
	}
}

// hasCookie reports whether r carries a cookie called name.
func hasCookie(r *http.Request, name string) bool {
	it := newCookieIter(r)
	for {
		k, _, ok := it.next()
		if !ok {
			return false
		}
		if k == name {
			return true
		}
	}
}

// checkOnceIdentifier is the verification token that makes a check
// cookie single-use across instances.
func checkOnceIdentifier(name, once string) (string, []byte) {
	h := sha256.Sum256([]byte(once))
	return "check:" + name + ":" + base64.RawURLEncoding.EncodeToString(h[:12]), h[:]
}

// SetCheckCookie keeps value (encoded as JSON) in a check cookie called
// name for maxAge, for the next step of a flow on the same browser: a
// pending second factor, a WebAuthn challenge, an extension's state. The
// cookie is encrypted and signed with keys derived from [Config.Secrets],
// bound to name, HttpOnly, SameSite=Lax and __Host- on https (the cookie
// is called "authgate.check." + name). Name is 1 to 32 lower-case ASCII
// letters, digits, '-' or '_'; maxAge is positive and at most 15 minutes.
//
// With [Config.Adapter], the cookie is also registered as a verification
// token, so [Auth.UseCheckCookie] accepts it once, also across instances;
// without one, UseCheckCookie clears the cookie but a copy taken before
// stays usable until it expires.
//
// Call it before writing the response body. Errors wrap [ErrConfig] (a
// bad name or maxAge, a value that does not encode or is too large) or
// [ErrStore] (the adapter failed; no cookie was set).
func (a *Auth[T]) SetCheckCookie(w http.ResponseWriter, r *http.Request, name string, value any, maxAge time.Duration) error {
	if !validCheckName(name) {
		return fmt.Errorf("%w: check cookie name %q", ErrConfig, name)
	}
	if maxAge <= 0 || maxAge > checkMaxAge {
		return fmt.Errorf("%w: check cookie %s: maxAge %v is not in (0, %v]", ErrConfig, name, maxAge, checkMaxAge)
	}
	exp := a.now().Add(maxAge)
	var once string
	if a.cfg.Adapter != nil {
		once = randomToken()
		id, h := checkOnceIdentifier(name, once)
		if err := a.cfg.Adapter.CreateVerificationToken(r.Context(), VerificationToken{Identifier: id, TokenHash: h, Expires: exp.UTC()}); err != nil {
			return fmt.Errorf("%w: check cookie %s: %w", ErrStore, name, err)
		}
	}
	return a.setCheck(w, a.checkName(name), value, exp, once)
}

// ReadCheckCookie decodes the check cookie name of r into dst without
// using it up: for a step that may be tried again (a mistyped code). The
// error wraps [ErrCheckCookie] when the cookie is missing, duplicated,
// does not verify (tampered with, another name, a removed secret) or
// expired; a cookie already used is only refused by UseCheckCookie. It
// wraps [ErrConfig] when the value does not decode into dst.
func (a *Auth[T]) ReadCheckCookie(r *http.Request, name string, dst any) error {
	e, err := a.readCheckEnvelope(r, a.checkName(name), a.now())
	if err != nil {
		return err
	}
	if err := json.Unmarshal(e.Value, dst); err != nil {
		return fmt.Errorf("%w: check cookie %s: %w", ErrConfig, name, err)
	}
	return nil
}

// UseCheckCookie decodes the check cookie name of r into dst, clears it
// on w and, with [Config.Adapter], uses up its registration, so that of
// all requests presenting the cookie (or a copy of it) exactly one
// succeeds. Errors wrap [ErrCheckCookie] as for ReadCheckCookie, and also
// for a cookie already used; [ErrStore] when the adapter failed (the
// cookie is cleared all the same: the flow starts again); [ErrConfig] when
// the value does not decode into dst. Call it before writing the response
// body.
func (a *Auth[T]) UseCheckCookie(w http.ResponseWriter, r *http.Request, name string, dst any) error {
	cn := a.checkName(name)
	defer a.clearCheck(w, r, cn)
	e, err := a.readCheckEnvelope(r, cn, a.now())
	if err != nil {
		return err
	}
	if a.cfg.Adapter != nil {
		if e.Once == "" {
			return fmt.Errorf("%w: %s cookie was set without the adapter", ErrCheckCookie, cn)
		}
		id, h := checkOnceIdentifier(name, e.Once)
		_, err := a.cfg.Adapter.UseVerificationToken(r.Context(), id, h)
		switch {
		case errors.Is(err, ErrNotFound):
			a.logNoisy(r.Context(), noisyCheck, slog.LevelWarn, "authgate: check cookie refused",
				slog.String("event", "check_refused"), slog.String("reason", "used already"), slog.String("name", name))
			return fmt.Errorf("%w: %s cookie used already", ErrCheckCookie, cn)
		case err != nil:
			return fmt.Errorf("%w: check cookie %s: %w", ErrStore, name, err)
		}
	}
	if err := json.Unmarshal(e.Value, dst); err != nil {
		return fmt.Errorf("%w: check cookie %s: %w", ErrConfig, name, err)
	}
	return nil
}
