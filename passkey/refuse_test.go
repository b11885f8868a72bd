package passkey_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/passkey"
	"github.com/descope/virtualwebauthn"
)

// registered is an env where alice has the passkey cred (counter 5 after
// one sign-in) and b is signed out.
func registered(t *testing.T, e *env) (*browser, virtualwebauthn.Credential) {
	t.Helper()
	b := e.browser()
	b.signIn("alice@example.com", "alice-pw")
	cred := newCredential(t)
	if r := b.register(cred); r.status != 200 {
		t.Fatalf("registration: %d %s", r.status, r.body)
	}
	b.signOut()
	if r := b.passkeySignIn(cred, 5); r.status != 200 {
		t.Fatalf("first sign-in: %d %s", r.status, r.body)
	}
	b.signOut()
	return b, cred
}

// tamper changes the base64url field name of the response in data.
func tamper(t *testing.T, data, field string, change func([]byte) []byte) string {
	t.Helper()
	var v map[string]any
	json.Unmarshal([]byte(data), &v)
	resp := v["response"].(map[string]any)
	raw, err := base64.RawURLEncoding.DecodeString(resp[field].(string))
	if err != nil {
		t.Fatal(err)
	}
	resp[field] = base64.RawURLEncoding.EncodeToString(change(raw))
	out, _ := json.Marshal(v)
	return string(out)
}

// Every sign-in whose answer does not verify is refused with Auth.js's
// WebAuthnVerificationError, and nobody is signed in.
func TestSignInsThatDoNotVerifyAreRefused(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		// answer returns the callback's form data for a fresh ceremony
		// of b; it may use other browsers and cookies.
		answer func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string
	}{
		{"a replayed challenge", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			return b.replayable(cred, 6)
		}},
		{"a challenge from another browser's cookie", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			_, opts := e.browser().options("?action=authenticate")
			b.options("?action=authenticate") // b's own cookie, another challenge
			return b.assert(opts, cred, 6, e.rp)
		}},
		{"no challenge cookie at all", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			_, opts := e.browser().options("?action=authenticate")
			return b.assert(opts, cred, 6, e.rp)
		}},
		{"a wrong origin", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			_, opts := b.options("?action=authenticate")
			return b.assert(opts, cred, 6, virtualwebauthn.RelyingParty{ID: "localhost", Origin: "http://evil.localhost:1"})
		}},
		{"a wrong RP ID", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			_, opts := b.options("?action=authenticate")
			return b.assert(opts, cred, 6, virtualwebauthn.RelyingParty{ID: "evil.example", Origin: e.url})
		}},
		{"a bad signature", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			_, opts := b.options("?action=authenticate")
			return tamper(t, b.assert(opts, cred, 6, e.rp), "signature", func(s []byte) []byte { s[len(s)-3] ^= 1; return s })
		}},
		{"authenticator data changed after signing", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			_, opts := b.options("?action=authenticate")
			return tamper(t, b.assert(opts, cred, 6, e.rp), "authenticatorData", func(d []byte) []byte { d[36]++; return d })
		}},
		{"user verification missing", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			_, opts := b.options("?action=authenticate")
			b.auth.Options.UserNotVerified = true
			return b.assert(opts, cred, 6, e.rp)
		}},
		{"a sign counter lower than the stored one", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			_, opts := b.options("?action=authenticate")
			return b.assert(opts, cred, 4, e.rp)
		}},
		{"the stored sign counter again", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			_, opts := b.options("?action=authenticate")
			return b.assert(opts, cred, 5, e.rp)
		}},
		{"an unknown credential", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			_, opts := b.options("?action=authenticate")
			return b.assert(opts, newCredential(t), 6, e.rp)
		}},
		{"the user handle of another user", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			_, opts := b.options("?action=authenticate")
			h, _ := e.store.UserHandle(t.Context(), e.bob)
			b.auth.Options.UserHandle = h
			return b.assert(opts, cred, 6, e.rp)
		}},
		{"no user handle", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			_, opts := b.options("?action=authenticate")
			b.auth.Options.UserHandle = nil
			return b.assert(opts, cred, 6, e.rp)
		}},
		{"a registration's answer", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			_, opts := b.options("?action=authenticate")
			return `{"id":"x","rawId":"x","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}` + opts[:0]
		}},
		{"data that is not JSON", func(t *testing.T, e *env, b *browser, cred virtualwebauthn.Credential) string {
			b.options("?action=authenticate")
			return "{not json"
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := memoryEnv(t, edits{})
			b, cred := registered(t, e)
			data := tt.answer(t, e, b, cred)
			r := b.callback("authenticate", data)
			if r.status != 401 || r.errorCode() != passkey.CodeVerification {
				t.Errorf("got %d %s, want 401 and error=WebAuthnVerificationError", r.status, r.body)
			}
			if got := b.whoami(); got != "anonymous" {
				t.Errorf("after the refusal /whoami says %q", got)
			}
			if k := e.stored(cred); k.SignCount != 5 && k.SignCount != 6 {
				t.Errorf("the stored counter is %d", k.SignCount)
			}
			if testing.Verbose() {
				t.Log(lastReason(e.logs.String()))
			}
			if !e.logs.has("passkey_refused") && !e.logs.has("passkey_clone_warning") {
				t.Errorf("the refusal is not logged:\n%s", e.logs)
			}
		})
	}
}

// A counter that did not increase is refused, logged and remembered as a
// clone warning the user sees in their list; the stored counter stays.
func TestADecreasingCounterIsRefusedLoggedAndRemembered(t *testing.T) {
	t.Parallel()
	e := memoryEnv(t, edits{})
	b, cred := registered(t, e)
	if r := b.passkeySignIn(cred, 3); r.status != 401 || r.errorCode() != passkey.CodeVerification {
		t.Fatalf("counter 3 after 5: got %d %s, want 401", r.status, r.body)
	}
	k := e.stored(cred)
	if k.SignCount != 5 || !k.CloneWarning {
		t.Errorf("stored: counter %d, clone warning %v; want 5 and true", k.SignCount, k.CloneWarning)
	}
	if !strings.Contains(e.logs.String(), `"event":"passkey_clone_warning"`) || !strings.Contains(e.logs.String(), `"presented":3`) {
		t.Errorf("the log misses the clone warning:\n%s", e.logs)
	}
	// The real authenticator, further on, still signs in; the warning stays.
	if r := b.passkeySignIn(cred, 9); r.status != 200 {
		t.Fatalf("counter 9: got %d %s", r.status, r.body)
	}
	var list struct{ Credentials []passkey.Credential }
	json.Unmarshal([]byte(b.get("/api/auth/passkey/credentials").body), &list)
	if len(list.Credentials) != 1 || !list.Credentials[0].CloneWarning {
		t.Errorf("the list shows %+v, want the clone warning", list.Credentials)
	}
}

// Registration is for a signed-in user with a recent sign-in only: never
// for an anonymous visitor naming an address (Auth.js would create that
// account), nor for a stale session, nor with a ceremony begun by another
// user, nor without user verification.
func TestRegistrationNeedsARecentlySignedInUser(t *testing.T) {
	t.Parallel()
	e := memoryEnv(t, edits{})
	anon := e.browser()
	for _, q := range []string{"?action=register&email=victim%40example.com", "?action=register&email=new%40example.com", "?action=register"} {
		if r, _ := anon.options(q); r.status != 401 || r.json()["error"] != passkey.CodeSessionRequired || r.header.Get("Set-Cookie") != "" {
			t.Errorf("anonymous %s: got %d %s (cookie %q), want 401 SessionRequired and no challenge", q, r.status, r.body, r.header.Get("Set-Cookie"))
		}
	}
	if u, err := e.store.UserByEmail(t.Context(), "new@example.com"); err == nil {
		t.Errorf("an anonymous registration created user %+v", u)
	}
	if !e.logs.has("passkey_refused") {
		t.Error("the anonymous registration is not logged")
	}

	alice := e.browser()
	alice.signIn("alice@example.com", "alice-pw")
	e.clk.Add(16 * time.Minute)
	if r, _ := alice.options("?action=register"); r.status != 401 || r.json()["error"] != passkey.CodeFreshSignInRequired {
		t.Errorf("a 16-minute-old sign-in: got %d %s, want 401 FreshAuthRequired", r.status, r.body)
	}
	alice.signIn("alice@example.com", "alice-pw")

	// Alice's registration ceremony, finished while signed in as Bob.
	_, opts := alice.options("?action=register")
	data := alice.attest(opts, newCredential(t), e.rp)
	alice.signOut()
	bobPW, _ := (authgate.BcryptHasher{Cost: 4}).Hash("bob-pw")
	e.store.SetPasswordHash(t.Context(), e.bob, bobPW)
	alice.signIn("bob@example.com", "bob-pw")
	if r := alice.callback("register", data); r.status != 401 {
		t.Errorf("alice's ceremony finished as bob: got %d %s, want 401", r.status, r.body)
	}
	if list, _ := e.store.Passkeys(t.Context(), e.bob); len(list) != 0 {
		t.Errorf("bob got %d passkeys from alice's ceremony", len(list))
	}

	// Without user verification, and a wrong origin.
	for _, tt := range []struct {
		name string
		rp   virtualwebauthn.RelyingParty
		uv   bool
	}{
		{"no user verification", e.rp, false},
		{"a wrong origin", virtualwebauthn.RelyingParty{ID: "localhost", Origin: "https://localhost"}, true},
		{"a wrong RP ID", virtualwebauthn.RelyingParty{ID: "example.com", Origin: e.url}, true},
	} {
		_, opts := alice.options("?action=register")
		alice.auth.Options.UserNotVerified = !tt.uv
		r := alice.callback("register", alice.attest(opts, newCredential(t), tt.rp))
		alice.auth.Options.UserNotVerified = false
		if r.status != 401 || r.errorCode() != passkey.CodeVerification {
			t.Errorf("%s: got %d %s, want 401 WebAuthnVerificationError", tt.name, r.status, r.body)
		}
	}
	if list, _ := e.store.Passkeys(t.Context(), e.bob); len(list) != 0 {
		t.Errorf("bob got %d passkeys from refused ceremonies", len(list))
	}

	// A registration cookie used for a sign-in.
	_, opts = alice.options("?action=register")
	if r := alice.callback("authenticate", alice.attest(opts, newCredential(t), e.rp)); r.status != 401 {
		t.Errorf("a registration's cookie posted as a sign-in: got %d, want 401", r.status)
	}
}

// A passkey registered already (to anyone) is not registered again.
func TestACredentialIsRegisteredOnce(t *testing.T) {
	t.Parallel()
	e := memoryEnv(t, edits{})
	b := e.browser()
	b.signIn("alice@example.com", "alice-pw")
	cred := newCredential(t)
	if r := b.register(cred); r.status != 200 {
		t.Fatal(r.body)
	}
	if r := b.register(cred); r.status != 401 || r.errorCode() != passkey.CodeVerification {
		t.Errorf("the same credential again: got %d %s, want 401", r.status, r.body)
	}
}

// The callback checks the CSRF token Auth.js's client sends (Auth.js
// itself does not).
func TestTheCallbackChecksTheCSRFToken(t *testing.T) {
	t.Parallel()
	e := memoryEnv(t, edits{})
	b, cred := registered(t, e)
	for _, token := range []string{"", strings.Repeat("0", 64)} {
		_, opts := b.options("?action=authenticate")
		r := b.post("/api/auth/callback/passkey", url.Values{"action": {"authenticate"}, "data": {b.assert(opts, cred, 6, e.rp)},
			"csrfToken": {token}}, "X-Auth-Return-Redirect", "1")
		if r.status != 403 || r.errorCode() != authgate.CodeMissingCSRF {
			t.Errorf("csrfToken %q: got %d %s, want 403 MissingCSRF", token, r.status, r.body)
		}
	}
	if r := b.do("POST", "/api/auth/callback/passkey", "application/x-www-form-urlencoded", "action=authenticate",
		"Sec-Fetch-Site", "cross-site"); r.status != 403 {
		t.Errorf("a cross-site POST: got %d, want 403", r.status)
	}
	if got := b.whoami(); got != "anonymous" {
		t.Errorf("after the refusals: %q", got)
	}
}

// A store that cannot answer fails the ceremony closed (503 Busy), signs
// nobody in and keeps the session cookie of a signed-in user.
func TestAStoreFaultFailsClosed(t *testing.T) {
	t.Parallel()
	mem := newMemory()
	e := newEnv(t, mem, edits{})
	b, cred := registered(t, e)
	_, opts := b.options("?action=authenticate")
	data := b.assert(opts, cred, 6, e.rp)
	mem.SetFail(errOutage)
	r := b.callback("authenticate", data)
	if r.status != 503 || r.errorCode() != authgate.CodeBusy {
		t.Errorf("callback during an outage: got %d %s, want 503 Busy", r.status, r.body)
	}
	if r, _ := b.options("?action=authenticate"); r.status != 503 || r.json()["error"] != authgate.CodeBusy {
		t.Errorf("options during an outage: got %d %s, want 503 Busy", r.status, r.body)
	}
	mem.SetFail(nil)
	if got := b.whoami(); got != "anonymous" {
		t.Errorf("after the outage: %q", got)
	}
	if k := e.stored(cred); k.SignCount != 5 {
		t.Errorf("the counter moved to %d during the outage", k.SignCount)
	}

	// Signed in, the session survives an outage of the passkey list.
	b.signIn("alice@example.com", "alice-pw")
	mem.SetFail(errOutage)
	if r := b.get("/api/auth/passkey/credentials"); r.status != http.StatusServiceUnavailable {
		t.Errorf("the list during an outage: got %d", r.status)
	}
	mem.SetFail(nil)
	if got := b.whoami(); !strings.HasPrefix(got, e.alice) {
		t.Errorf("after an outage of the list the session is %q", got)
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

// replayable signs in with cred at counter, signs out, and puts the
// challenge cookie of that sign-in back into b's jar: it returns the
// answer to post again.
func (b *browser) replayable(cred virtualwebauthn.Credential, counter uint32) string {
	b.e.t.Helper()
	_, opts := b.options("?action=authenticate")
	saved := b.hc.Jar.Cookies(mustURL(b.e.url))
	data := b.assert(opts, cred, counter, b.e.rp)
	if r := b.callback("authenticate", data); r.status != 200 {
		b.e.t.Fatalf("the first use: %d %s", r.status, r.body)
	}
	b.signOut()
	b.hc.Jar.SetCookies(mustURL(b.e.url), saved) // the challenge cookie as it was
	return data
}

// lastReason is the reason of the last refusal in the log.
func lastReason(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "passkey_refused") || strings.Contains(lines[i], "passkey_clone_warning") {
			return lines[i]
		}
	}
	return ""
}
