package authgate

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// CSRF protection has two layers. [http.CrossOriginProtection] refuses
// unsafe cross-origin requests (Sec-Fetch-Site, then Origin) in front of the
// whole protocol handler. Behind it, NextAuth's double-submit token: GET
// /csrf returns a random token and sets it in an HttpOnly cookie as
// "token|mac", where mac is HMAC-SHA256 under a key derived for this
// purpose only; every state-changing POST must carry the same token in its
// body. The MAC stops a sibling domain from planting a cookie of its own
// choosing (cookie tossing); the comparisons are constant-time.

const csrfTokenLen = 64 // hex characters

// errCSRF reports a missing or mismatched CSRF token.
var errCSRF = errors.New("authgate: csrf check failed")

func (a *Auth[T]) csrfMAC(key []byte, token string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// csrfFromCookie returns the token in the CSRF cookie when its MAC verifies
// under any of the CSRF keys.
func (a *Auth[T]) csrfFromCookie(r *http.Request) (string, bool) {
	v, ok := cookieValue(r, a.csrfCookie)
	if !ok {
		return "", false
	}
	// The value is token, separator, mac: 64 hex characters each side of
	// "|" or its percent-encoding (NextAuth's cookie library writes "%7C").
	// It is split by position, so no input can shift the parts.
	const macLen = sha256.Size * 2
	if len(v) < csrfTokenLen+1+macLen {
		return "", false
	}
	token, sep, mac := v[:csrfTokenLen], v[csrfTokenLen:len(v)-macLen], v[len(v)-macLen:]
	if (sep != "|" && sep != "%7C" && sep != "%7c") || !isHex(token) {
		return "", false
	}
	for _, k := range a.csrfKeys {
		if hmac.Equal([]byte(mac), []byte(a.csrfMAC(k, token))) {
			return token, true
		}
	}
	return "", false
}

// CSRFToken returns the CSRF token for a server-rendered form that posts to
// the protocol handler (a sign-in form that works without JavaScript, a
// sign-out button), as next-auth's server-side getCsrfToken does. It
// reuses the token of the request's CSRF cookie, or mints one and sets the
// cookie on w, so call it before writing the response body. The form sends
// it back in a "csrfToken" field.
func (a *Auth[T]) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	return a.ensureCSRF(w, r)
}

// ensureCSRF returns the request's valid CSRF token, or mints one and sets
// its cookie.
func (a *Auth[T]) ensureCSRF(w http.ResponseWriter, r *http.Request) string {
	if t, ok := a.csrfFromCookie(r); ok {
		return t
	}
	return a.newCSRF(w)
}

// newCSRF mints a token and sets its cookie (a browser-session cookie).
func (a *Auth[T]) newCSRF(w http.ResponseWriter) string {
	t := randomToken()
	http.SetCookie(w, a.cookie(a.csrfCookie, t+"%7C"+a.csrfMAC(a.csrfKeys[0], t), time.Time{}, 0))
	return t
}

// verifyCSRF checks that the body token of an unsafe request equals the
// cookie's. It logs and returns an error wrapping errCSRF.
func (a *Auth[T]) verifyCSRF(r *http.Request, bodyToken string) error {
	err := a.checkCSRF(r, bodyToken)
	if err != nil {
		a.logNoisy(r.Context(), noisyCSRF, slog.LevelWarn, "authgate: csrf refused",
			slog.String("event", "csrf_refused"), slog.String("reason", err.Error()),
			slog.String("path", clip(r.URL.Path)))
	}
	return err
}

// checkCSRF compares the body's token with the cookie's. The same-origin
// layer ([http.CrossOriginProtection]) already ran in front of the whole
// protocol handler.
func (a *Auth[T]) checkCSRF(r *http.Request, bodyToken string) error {
	cookieToken, ok := a.csrfFromCookie(r)
	switch {
	case !ok:
		return fmt.Errorf("%w: no valid csrf cookie", errCSRF)
	case bodyToken == "":
		return fmt.Errorf("%w: no csrfToken in the body", errCSRF)
	case subtle.ConstantTimeCompare([]byte(cookieToken), []byte(bodyToken)) != 1:
		return fmt.Errorf("%w: csrfToken does not match the cookie", errCSRF)
	}
	return nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
