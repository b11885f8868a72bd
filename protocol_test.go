package authgate_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authgate/authgate"
)

// Tests of NextAuth's REST protocol under /api/auth as next-auth/react
// uses it: the full round trip over a real server, every endpoint's
// answer, session updates and the limits on request bodies.

// TestSignInRoundTrip is the one full round trip over a real loopback
// server with a cookie jar: session, sign-in, session, a guarded route,
// sign-out.
func TestSignInRoundTrip(t *testing.T) {
	t.Parallel()
	a := newServedApp(t, nil)
	c := a.client()

	if res := c.get("/api/auth/session"); res.StatusCode != 200 || strings.TrimSpace(res.body) != "{}" {
		t.Fatalf("GET /session before sign-in: got %d %q, want 200 {}", res.StatusCode, res.body)
	}
	res := c.signIn("alice", "alice-password")
	if res.StatusCode != 200 || strings.TrimSpace(res.body) != `{"url":"`+a.url+`/whoami"}` {
		t.Fatalf("sign-in: got %d %q, want 200 and the callback URL", res.StatusCode, res.body)
	}
	sc := sessionSetCookies(res.Response)
	if len(sc) != 1 || !sc[0].HttpOnly || sc[0].SameSite != http.SameSiteLaxMode || sc[0].Path != "/" || sc[0].MaxAge <= 0 {
		t.Fatalf("session Set-Cookie: got %+v, want one HttpOnly, SameSite=Lax, Path=/ cookie with Max-Age", sc)
	}

	res = c.get("/api/auth/session")
	var s authgate.Session[claims]
	if err := json.Unmarshal([]byte(res.body), &s); err != nil {
		t.Fatalf("GET /session: %v in %q", err, res.body)
	}
	if s.User.ID != "u1" || s.User.Name != "alice" || s.User.Role != "admin" || s.Claims.Plan != "pro" {
		t.Errorf("GET /session: got %+v, want alice (u1, admin, plan pro)", s)
	}
	if want := a.clk.Now().Add(authgate.DefaultMaxAge); !s.Expires.Equal(want) {
		t.Errorf("expires: got %v, want %v", s.Expires, want)
	}
	if !strings.Contains(res.body, `"expires":"2026-12-29T12:00:00.000Z"`) {
		t.Errorf("expires: got %s, want JavaScript's toISOString form", res.body)
	}
	for _, h := range []string{"Cache-Control", "Pragma", "Expires"} {
		if res.Header.Get(h) == "" {
			t.Errorf("GET /session: got no %s header, want one", h)
		}
	}

	if res := c.get("/admin"); res.StatusCode != 200 || res.body != "admin u1 plan=pro" {
		t.Errorf("GET /admin as alice: got %d %q, want 200 from the handler", res.StatusCode, res.body)
	}

	res = c.postForm("/api/auth/signout", url.Values{"csrfToken": {c.csrf()}, "callbackUrl": {"/"}, "json": {"true"}})
	if res.StatusCode != 200 || strings.TrimSpace(res.body) != `{"url":"`+a.url+`/"}` {
		t.Fatalf("sign-out: got %d %q, want 200 and the callback URL", res.StatusCode, res.body)
	}
	if got := sessionSetCookies(res.Response); len(got) != 1 || got[0].MaxAge >= 0 {
		t.Errorf("sign-out Set-Cookie: got %+v, want the session cookie deleted", got)
	}
	if res := c.get("/api/auth/session"); strings.TrimSpace(res.body) != "{}" {
		t.Errorf("GET /session after sign-out: got %q, want {}", res.body)
	}
	if res := c.get("/whoami"); res.body != "anonymous" {
		t.Errorf("after sign-out: got %q, want anonymous", res.body)
	}
}

func TestProtocolEndpoints(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := a.client()
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantIn             string
	}{
		{"Providers lists credentials", "GET", "/api/auth/providers", 200, `"type":"credentials"`},
		{"The built-in sign-in page", "GET", "/api/auth/signin", 200, `name="csrfToken"`},
		{"The sign-out confirmation page", "GET", "/api/auth/signout", 200, `action="` + a.url + `/api/auth/signout"`},
		{"A sign-in error goes back to the sign-in page", "GET", "/api/auth/error?error=CredentialsSignin", 302, ""},
		{"AccessDenied renders with 403", "GET", "/api/auth/error?error=AccessDenied", 403, "permission"},
		{"Configuration renders with 500", "GET", "/api/auth/error?error=Configuration", 500, "configuration"},
		{"A passkey that did not verify renders with 403", "GET", "/api/auth/error?error=WebAuthnVerificationError", 403, "passkey could not be verified"},
		{"Client logs are accepted and ignored", "POST", "/api/auth/_log", 200, "{}"},
		{"GET on the credentials callback is 405", "GET", "/api/auth/callback/credentials", 405, ""},
		{"GET on _log is 405", "GET", "/api/auth/_log", 405, ""},
		{"An unknown action is 404", "GET", "/api/auth/nope", 404, ""},
		{"An unknown provider is 404", "POST", "/api/auth/callback/github", 404, ""},
		{"Signing in with an unknown provider is 404", "POST", "/api/auth/signin/github", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := c.send(tt.method, tt.path, "", "")
			if res.StatusCode != tt.wantStatus || !strings.Contains(res.body, tt.wantIn) {
				t.Fatalf("got %d %q, want %d containing %q", res.StatusCode, res.body, tt.wantStatus, tt.wantIn)
			}
		})
	}
}

// TestSignInWithAnUnknownProviderIs404: POST /signin/{id} for a provider
// that is not configured is 404 as docs/protocol.md says, with a valid
// CSRF token as without, and not the CSRF refusal.
func TestSignInWithAnUnknownProviderIs404(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := a.client()
	for _, form := range []url.Values{{"csrfToken": {c.csrf()}, "json": {"true"}}, {"json": {"true"}}} {
		if res := c.postForm("/api/auth/signin/github", form); res.StatusCode != http.StatusNotFound || strings.Contains(res.body, "MissingCSRF") {
			t.Errorf("POST /signin/github (csrf %v): got %d %q, want 404", form.Has("csrfToken"), res.StatusCode, res.body)
		}
	}
	if res := c.postForm("/api/auth/signin/credentials", url.Values{"csrfToken": {c.csrf()}, "json": {"true"}}); res.StatusCode != 200 {
		t.Errorf("POST /signin/credentials: got %d %q, want 200 with the sign-in page", res.StatusCode, res.body)
	}
}

func TestSessionUpdate(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := a.client()
	c.signIn("alice", "alice-password")
	res := c.postJSON("/api/auth/session", map[string]any{"csrfToken": c.csrf(), "data": map[string]string{"Plan": "team"}})
	if res.StatusCode != 200 || !strings.Contains(res.body, `"plan":"team"`) {
		t.Fatalf("update: got %d %q, want the jwt callback's new plan", res.StatusCode, res.body)
	}
	if res := c.get("/whoami"); res.body != "u1 admin team" {
		t.Errorf("after update: got %q, want the re-issued cookie to carry the plan", res.body)
	}
	res = c.postJSON("/api/auth/session", map[string]any{"csrfToken": "forged", "data": map[string]string{"Plan": "x"}})
	if res.StatusCode != 403 {
		t.Errorf("update with a bad CSRF token: got %d, want 403", res.StatusCode)
	}
}

func TestOversizedBody(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := a.client()
	big := "username=alice&password=" + strings.Repeat("A", 1<<20)
	for _, path := range []string{"/api/auth/callback/credentials", "/api/auth/signout", "/api/auth/session", "/api/auth/_log"} {
		if res := c.send("POST", path, "application/x-www-form-urlencoded", big); res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with 1 MB: got %d, want 413", path, res.StatusCode)
		}
	}
	if res := c.get("/api/auth/session"); res.StatusCode != 200 {
		t.Errorf("GET /session after the floods: got %d, want 200", res.StatusCode)
	}
	if res := c.signIn("alice", "alice-password"); res.StatusCode != 200 {
		t.Errorf("sign-in after the floods: got %d, want 200", res.StatusCode)
	}
}

func TestJSONBodiesAreStrict(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	tests := []struct{ name, body, message string }{
		{"A repeated member", `{"username":"alice","username":"bob","password":"x","csrfToken":"T"}`, `member \"username\" appears more than once`},
		{"A null member", `{"username":null,"password":"x","csrfToken":"T"}`, `member \"username\" must be a string`},
		{"A number where a string belongs", `{"username":1,"password":"x","csrfToken":"T"}`, `member \"username\" must be a string`},
		{"An object where a string belongs", `{"username":{"$ne":""},"password":"x","csrfToken":"T"}`, `member \"username\" must be a string`},
		{"An object for a flag", `{"username":"alice","password":"x","json":{},"csrfToken":"T"}`, `member \"json\" must be a string, a boolean or a number`},
		{"Data after the object", `{"username":"alice","password":"x","csrfToken":"T"} {}`, `the body has data after the JSON object`},
		{"An array", `["alice"]`, `the body is not a JSON object`},
		{"Broken JSON", `{"username":"alice",`, `the body is not valid JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := a.client()
			body := strings.ReplaceAll(tt.body, `"T"`, `"`+c.csrf()+`"`)
			res := c.send("POST", "/api/auth/callback/credentials", "application/json", body)
			if res.StatusCode != 400 || len(sessionSetCookies(res.Response)) != 0 {
				t.Fatalf("got %d %s, want 400 and no session", res.StatusCode, res.body)
			}
			if !strings.Contains(res.body, `"error":"BadRequest"`) || !strings.Contains(res.body, `"message":"`+tt.message+`"`) {
				t.Errorf("got body %s, want error BadRequest and message %s", res.body, tt.message)
			}
		})
	}
}

func TestJSONFlagsMayBeBooleansOrNumbers(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	tests := []struct {
		name, flags string
		wantJSON    bool // answered {"url"} with 200, not a 302
	}{
		{"json as the string \"true\"", `"json":"true"`, true},
		{"json as the boolean true", `"json":true`, true},
		{"json as the number 1", `"json":1`, true},
		{"json as the boolean false", `"json":false`, false},
		{"json as the number 0, redirect as a boolean", `"json":0,"redirect":false`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := a.client()
			body := `{"username":"alice","password":"alice-password","csrfToken":"` + c.csrf() + `",` + tt.flags + `}`
			res := c.send("POST", "/api/auth/callback/credentials", "application/json", body)
			if tt.wantJSON && (res.StatusCode != 200 || !strings.Contains(res.body, `"url"`)) {
				t.Errorf("got %d %s, want 200 with a url", res.StatusCode, res.body)
			}
			if !tt.wantJSON && res.StatusCode != http.StatusFound {
				t.Errorf("got %d %s, want a 302", res.StatusCode, res.body)
			}
			if len(sessionSetCookies(res.Response)) == 0 {
				t.Errorf("got no session cookie, want a signed-in client")
			}
		})
	}
}
