package passkey_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/passkey"
)

// The whole life of a passkey through both endpoints, as
// next-auth/webauthn's signIn("passkey") drives them: a signed-in user
// adds one, signs out, and signs in with it without naming themselves.
func testRegisterThenSignIn(t *testing.T, e *env) {
	b := e.browser()
	var providers map[string]map[string]string
	json.Unmarshal([]byte(b.get("/api/auth/providers").body), &providers)
	if p := providers["passkey"]; p["type"] != "webauthn" || p["name"] != "Passkey" || !strings.HasSuffix(p["callbackUrl"], "/api/auth/callback/passkey") {
		t.Fatalf("/providers lists passkey as %v, want type webauthn", p)
	}

	b.signIn("alice@example.com", "alice-pw")
	cred := newCredential(t)
	r := b.register(cred, "name", "Work laptop")
	if r.status != 200 || r.json()["url"] != e.url+"/whoami" {
		t.Fatalf("registration: got %d %s, want 200 and the callbackUrl", r.status, r.body)
	}
	if got := b.whoami(); got != e.alice+" pwd" {
		t.Errorf("after adding a passkey the session is %q, want alice's password session unchanged", got)
	}
	k := e.stored(cred)
	if k == nil || k.UserID != e.alice || k.Name != "Work laptop" || k.SignCount != 0 {
		t.Fatalf("stored passkey: %+v", k)
	}
	h, _ := e.store.UserHandle(t.Context(), e.alice)
	if string(b.auth.Options.UserHandle) != string(h) {
		t.Errorf("the authenticator holds user handle %x, want alice's stable handle %x", b.auth.Options.UserHandle, h)
	}

	b.signOut()
	e.clk.Add(time.Hour)
	r, opts := b.options("")
	if r.status != 200 || r.json()["action"] != "authenticate" || strings.Contains(opts, "allowCredentials") || strings.Contains(opts, "publicKey") {
		t.Fatalf("anonymous options: got %d %s, want a discoverable authentication's inner options", r.status, r.body)
	}
	r = b.callback("authenticate", b.assert(opts, cred, 1, e.rp))
	if r.status != 200 || r.json()["url"] != e.url+"/whoami" {
		t.Fatalf("passkey sign-in: got %d %s, want 200 and the callbackUrl", r.status, r.body)
	}
	if got := b.whoami(); got != e.alice+" hwk,user,mfa" {
		t.Errorf("after the passkey sign-in /whoami says %q, want alice with AMR hwk,user,mfa", got)
	}
	var session struct{ User struct{ Email, Name string } }
	json.Unmarshal([]byte(b.get("/api/auth/session").body), &session)
	if session.User.Email != "alice@example.com" || session.User.Name != "Alice" {
		t.Errorf("/session shows %+v, want alice", session.User)
	}
	if got := b.get("/mfa"); got.status != 200 || got.body != "strong" {
		t.Errorf("RequireAMR(mfa) after a passkey sign-in: got %d %q, want 200", got.status, got.body)
	}
	k = e.stored(cred)
	if k.SignCount != 1 || !k.LastUsed.Equal(e.clk.Now()) {
		t.Errorf("after the sign-in the store has counter %d, last used %v; want 1 and %v", k.SignCount, k.LastUsed, e.clk.Now())
	}
	if !e.logs.has("passkey_registered") || !e.logs.has("signin") {
		t.Errorf("the log misses the registration or the sign-in:\n%s", e.logs)
	}
}

func TestRegisterSignOutAndSignInWithThePasskey(t *testing.T) {
	t.Parallel()
	testRegisterThenSignIn(t, memoryEnv(t, edits{}))
}

// The answers have Auth.js v5's shapes: {action, options} with the inner
// options object; a registration asks for a resident key and user
// verification; the callback answers {url} to X-Auth-Return-Redirect or
// json=true, and a 302 otherwise.
func TestTheWireShapeIsAuthJSs(t *testing.T) {
	t.Parallel()
	e := memoryEnv(t, edits{})
	b := e.browser()
	b.signIn("alice@example.com", "alice-pw")
	r, opts := b.options("?action=register&email=ignored%40example.com")
	var o struct {
		Challenge              string
		RP                     struct{ ID, Name string }
		User                   struct{ ID, Name, DisplayName string }
		Timeout                int
		AuthenticatorSelection struct {
			ResidentKey, UserVerification string
			RequireResidentKey            bool
		}
	}
	if err := json.Unmarshal([]byte(opts), &o); err != nil || r.json()["action"] != "register" {
		t.Fatalf("register options: %d %s", r.status, r.body)
	}
	if o.RP.ID != "localhost" || o.User.Name != "alice@example.com" || o.User.DisplayName != "Alice" || o.Timeout != 300000 ||
		o.AuthenticatorSelection.ResidentKey != "required" || !o.AuthenticatorSelection.RequireResidentKey ||
		o.AuthenticatorSelection.UserVerification != "required" || len(o.Challenge) < 43 {
		t.Errorf("register options: %s", opts)
	}
	if r.header.Get("Cache-Control") != "no-store" || !strings.Contains(r.header.Get("Set-Cookie"), "authgate.check.webauthn=") ||
		!strings.Contains(r.header.Get("Set-Cookie"), "HttpOnly") {
		t.Errorf("options headers: %v", r.header)
	}
	cred := newCredential(t)
	data := b.attest(opts, cred, e.rp)
	plain := b.post("/api/auth/callback/passkey", url.Values{"action": {"register"}, "data": {data}, "csrfToken": {b.csrf()},
		"callbackUrl": {"/whoami"}})
	if plain.status != 302 || plain.header.Get("Location") != e.url+"/whoami" {
		t.Errorf("a form post without json: got %d %q, want 302 to the callbackUrl", plain.status, plain.header.Get("Location"))
	}
	b.signOut()
	_, opts = b.options("?action=authenticate")
	v4 := b.post("/api/auth/callback/passkey", url.Values{"action": {"authenticate"}, "data": {b.assert(opts, cred, 5, e.rp)},
		"csrfToken": {b.csrf()}, "callbackUrl": {"https://evil.example/x"}, "json": {"true"}})
	if v4.status != 200 || v4.json()["url"] != e.url {
		t.Errorf("json=true with a foreign callbackUrl: got %d %s, want 200 and the origin", v4.status, v4.body)
	}
	for _, tt := range []struct{ name, query, want string }{
		{"an unknown action", "?action=delete", "Invalid action"},
		{"no action while signed in", "", "Invalid request"},
	} {
		if r, _ := b.options(tt.query); r.status != 400 || r.json()["error"] != tt.want {
			t.Errorf("%s: got %d %s, want 400 %q", tt.name, r.status, r.body, tt.want)
		}
	}
}

// A front end on next-auth/webauthn (@simplewebauthn/browser 9) hands the
// authenticator user.id as the text it received, so the authenticator
// returns the handle's base64url as its user handle: that is the same
// user.
func TestAUserHandleReturnedAsTextIsTheSameHandle(t *testing.T) {
	t.Parallel()
	e := memoryEnv(t, edits{})
	b := e.browser()
	b.signIn("alice@example.com", "alice-pw")
	cred := newCredential(t)
	if r := b.register(cred); r.status != 200 {
		t.Fatalf("registration: %d %s", r.status, r.body)
	}
	b.signOut()
	h, _ := e.store.UserHandle(t.Context(), e.alice)
	b.auth.Options.UserHandle = []byte(strings.TrimRight(b64url(h), "="))
	if r := b.passkeySignIn(cred, 1); r.status != 200 || !strings.HasPrefix(b.whoami(), e.alice+" ") {
		t.Errorf("sign-in with the text user handle: got %d %s", r.status, r.body)
	}
}

// A passkey is a strong sign-in: its AMR satisfies RequireAMR("mfa"),
// which a password sign-in does not.
func TestAPasswordSignInIsNotMFAButAPasskeyIs(t *testing.T) {
	t.Parallel()
	e := memoryEnv(t, edits{})
	b := e.browser()
	b.signIn("alice@example.com", "alice-pw")
	if r := b.get("/mfa"); r.status != 401 {
		t.Errorf("RequireAMR(mfa) after a password: got %d, want 401", r.status)
	}
	if strings.Join(passkey.AMR, ",") != "hwk,user,mfa" {
		t.Errorf("AMR is %v", passkey.AMR)
	}
}

// The passkey extension needs an adapter that stores passkeys.
func TestMountNeedsAPasskeyAdapter(t *testing.T) {
	t.Parallel()
	_, err := authgate.New(authgate.Config[claims]{
		Secrets: []string{"passkey-test-secret-0123456789abcdef"}, URL: "http://localhost:3000",
		Extensions: []authgate.Extension[claims]{passkey.New(passkey.Config[claims]{})},
	})
	if err == nil || !strings.Contains(err.Error(), "PasskeyAdapter") {
		t.Errorf("New without an adapter: got %v, want an error naming PasskeyAdapter", err)
	}
}

// The backup state (a passkey becoming synced) is written back after a
// sign-in and shown in the list; the backup eligibility may not change.
func TestTheBackupStateIsWrittenBack(t *testing.T) {
	t.Parallel()
	e := memoryEnv(t, edits{})
	b := e.browser()
	b.auth.Options.BackupEligible = true
	b.signIn("alice@example.com", "alice-pw")
	cred := newCredential(t)
	if r := b.register(cred); r.status != 200 {
		t.Fatal(r.body)
	}
	if k := e.stored(cred); !k.BackupEligible || k.BackupState {
		t.Fatalf("registered: eligible %v, synced %v; want eligible, not synced", k.BackupEligible, k.BackupState)
	}
	b.auth.Options.BackupState = true
	if r := b.passkeySignIn(cred, 1); r.status != 200 {
		t.Fatal(r.body)
	}
	if k := e.stored(cred); !k.BackupState {
		t.Error("the sign-in's backup state was not written back")
	}
	if _, list := b.credentialList(); len(list) != 1 || !list[0].Synced || !list[0].SyncEligible {
		t.Errorf("the list shows %+v, want synced", list)
	}
	b.signOut()
	b.auth.Options.BackupEligible, b.auth.Options.BackupState = false, false
	if r := b.passkeySignIn(cred, 2); r.status != 401 {
		t.Errorf("a sign-in whose backup eligibility changed: got %d, want 401", r.status)
	}
}
