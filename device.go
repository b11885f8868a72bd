package authgate

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
)

// Device tokens: OWASP's "device cookies" against online guessing. A
// browser that signs in with the right password (and, when a
// CredentialsStep requires one, the right second step) gets a device
// token: a
// long-lived __Host- cookie, encrypted and authenticated under keys of its
// own, naming the account it signed in to, the session subject and a
// random device id. A later credentials sign-in that presents a valid
// device token for the account it names is a returning user: its password
// check waits in the device lane, ahead of every stranger (password.go),
// and the [Limiter] budgets it by that device's own failures instead of
// the address's and the account's (limiter.go), so no flood of strangers
// can crowd it out or lock it out.
//
// Checking a token costs no store round trip: the MAC and expiry are
// checked here, and revocation is the [RevocationStore]'s Revoked, which
// answers from memory (a shared store from its local view). A token is
// revoked with the user's sessions: [Auth.SignOutEverywhere] marks the
// subject, which covers every device token issued until then. A token
// lives MaxLifetime, as long as the revocation store keeps such a mark,
// and is renewed at every successful sign-in. One browser holds one token:
// signing in to another account replaces it.

// purposeDevice keys the device tokens.
const purposeDevice = "authgate device token v1"

// deviceCookieName is the device token's cookie, before the __Host- prefix
// https adds.
const deviceCookieName = "authgate.device"

// maxDeviceCookie bounds a device cookie's value before it is decoded.
const maxDeviceCookie = 1024

// deviceToken is what a device cookie carries.
type deviceToken struct {
	Account string `json:"a"` // the canonical account (Config.AccountKey)
	Subject string `json:"s"` // the session subject it signed in as
	ID      string `json:"d"` // the device id, random
	Issued  int64  `json:"t"` // Unix seconds
}

// initDevice prepares the device tokens' codec.
func (a *Auth[T]) initDevice() {
	a.deviceCookie = deviceCookieName
	if a.secure {
		a.deviceCookie = hostPrefix + a.deviceCookie
	}
	for _, s := range a.cfg.Secrets {
		sc := securecookie.New(deriveKey([]byte(s), purposeDevice+" hmac"), deriveKey([]byte(s), purposeDevice+" aes"))
		sc.SetSerializer(jsonSerializer{})
		sc.MaxAge(int((a.cfg.MaxLifetime + clockSkew) / time.Second))
		a.deviceCodec = append(a.deviceCodec, sc)
	}
}

// device returns the device token r presents when it is valid for
// account: it verifies, names account, is neither from the future nor
// older than MaxLifetime, and is not revoked. A token that cannot be
// checked (a store fault) does not count: the attempt is a stranger's.
func (a *Auth[T]) device(ctx context.Context, r *http.Request, account string, now time.Time) (deviceToken, bool) {
	var tok deviceToken
	if account == "" {
		return tok, false
	}
	raw, ok := cookieValue(r, a.deviceCookie)
	if !ok || raw == "" || len(raw) > maxDeviceCookie {
		return tok, false
	}
	if err := a.deviceCodec.Decode(a.deviceCookie, raw, &tok); err != nil {
		return tok, false
	}
	n := now.Unix()
	if tok.Account != account || tok.ID == "" || tok.Subject == "" ||
		tok.Issued > n+int64(clockSkew/time.Second) || n >= tok.Issued+int64(a.cfg.MaxLifetime/time.Second) {
		return tok, false
	}
	revoked, err := a.cfg.Revocations.Revoked(ctx, tok.ID, tok.Subject, time.Unix(tok.Issued, 0))
	if err != nil || revoked {
		return tok, false
	}
	return tok, true
}

// setDevice gives the browser of a successful credentials sign-in to
// account as subject a device token: the same device id when it presented
// a valid one for this account, else a new one.
func (a *Auth[T]) setDevice(ctx context.Context, w http.ResponseWriter, account, subject, id string) {
	if account == "" || subject == "" {
		return
	}
	if id == "" {
		id = randomToken()[:sessionIDLen]
	}
	issued, err := a.signInTime(ctx, subject, a.now())
	if err != nil {
		return // no time a token would not be born revoked: the browser stays a stranger
	}
	v, err := a.deviceCodec.Encode(a.deviceCookie, deviceToken{Account: account, Subject: subject, ID: id, Issued: issued})
	if err != nil || len(v) > maxDeviceCookie {
		return // the sign-in stands; the browser stays a stranger
	}
	expires := time.Unix(issued, 0).Add(a.cfg.MaxLifetime)
	http.SetCookie(w, a.cookie(a.deviceCookie, v, expires, int(a.cfg.MaxLifetime/time.Second)))
}
