package authgate_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

func TestSignInRoundTrip(t *testing.T) {
	a := newApp(t, nil)
	c := a.client()

	if res := c.get("/api/auth/session"); res.StatusCode != 200 || strings.TrimSpace(res.body) != "{}" {
		t.Fatalf("GET /session before sign-in: got %d %q, want 200 {}", res.StatusCode, res.body)
	}
	res := c.signIn("alice", "alice-password")
	if res.StatusCode != 200 || strings.TrimSpace(res.body) != `{"url":"`+a.srv.URL+`/whoami"}` {
		t.Fatalf("sign-in: got %d %q, want 200 and the callback URL", res.StatusCode, res.body)
	}
	sc := sessionSetCookies(res)
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
		t.Errorf("expires is not in JavaScript's toISOString form: %s", res.body)
	}
	for _, h := range []string{"Cache-Control", "Pragma", "Expires"} {
		if res.Header.Get(h) == "" {
			t.Errorf("GET /session: no %s header", h)
		}
	}

	if res := c.get("/admin"); res.StatusCode != 200 || res.body != "admin u1 plan=pro" {
		t.Errorf("GET /admin as alice: got %d %q, want 200 from the handler", res.StatusCode, res.body)
	}

	res = c.postForm("/api/auth/signout", url.Values{"csrfToken": {c.csrf()}, "callbackUrl": {"/"}, "json": {"true"}})
	if res.StatusCode != 200 || strings.TrimSpace(res.body) != `{"url":"`+a.srv.URL+`/"}` {
		t.Fatalf("sign-out: got %d %q", res.StatusCode, res.body)
	}
	if got := sessionSetCookies(res); len(got) != 1 || got[0].MaxAge >= 0 {
		t.Errorf("sign-out Set-Cookie: got %+v, want the session cookie deleted", got)
	}
	if res := c.get("/api/auth/session"); strings.TrimSpace(res.body) != "{}" {
		t.Errorf("GET /session after sign-out: got %q, want {}", res.body)
	}
	if res := c.get("/whoami"); res.body != "anonymous" {
		t.Errorf("after sign-out: got %q, want anonymous", res.body)
	}
}

func TestGuards(t *testing.T) {
	a := newApp(t, func(c *authgate.Config[claims]) { c.Pages.SignIn = "/login" })
	anon := a.client()
	bob := a.client()
	bob.signIn("bob", "bob-password")
	alice := a.client()
	alice.signIn("alice", "alice-password")

	tests := []struct {
		name       string
		c          *client
		path       string
		header     []string
		wantStatus int
		wantIn     string
	}{
		{"anonymous API request gets 401 JSON", anon, "/admin", []string{"Accept", "application/json"}, 401, `{"error":"unauthenticated"}`},
		{"anonymous browser navigation goes to the sign-in page", anon, "/admin?tab=1", []string{"Accept", "text/html"}, 302, ""},
		{"a user without the role gets 403", bob, "/admin", nil, 403, `{"error":"forbidden"}`},
		{"the admin gets through", alice, "/admin", nil, 200, "admin u1"},
		{"RequireAuth lets any user through", bob, "/private", nil, 200, "private"},
		{"RequireAuth refuses anonymous", anon, "/private", nil, 401, "unauthenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.get(tt.path, tt.header...)
			if res.StatusCode != tt.wantStatus || !strings.Contains(res.body, tt.wantIn) {
				t.Fatalf("got %d %q, want %d containing %q", res.StatusCode, res.body, tt.wantStatus, tt.wantIn)
			}
			if tt.wantStatus == 302 {
				want := a.srv.URL + "/login?callbackUrl=" + url.QueryEscape(a.srv.URL+"/admin?tab=1")
				if got := res.Header.Get("Location"); got != want {
					t.Errorf("Location: got %q, want %q", got, want)
				}
			}
		})
	}
}

func TestRequireRoleExactMatch(t *testing.T) {
	a := newApp(t, nil)
	h := a.auth.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, role := range []string{"Admin", "admin ", " admin", "administrator", ""} {
		r := authgatetest.SignIn(t, a.auth, request("GET", "/x"), authgate.User[claims]{ID: "u9", Role: role})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 403 {
			t.Errorf("role %q: got %d, want 403", role, w.Code)
		}
	}
	r := authgatetest.SignIn(t, a.auth, request("GET", "/x"), authgate.User[claims]{ID: "u9", Roles: []string{"viewer", "admin"}})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Errorf("roles [viewer admin]: got %d, want 200", w.Code)
	}
}

// TestBadCookiesAreAnonymous drives the middleware with cookies that must
// all mean "anonymous": never a 500, and the cookie is cleared.
func TestBadCookiesAreAnonymous(t *testing.T) {
	a := newApp(t, nil)
	good := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1", Role: "admin"})[0]
	v := good.Value
	flip := func(i int) string {
		b := []byte(v)
		b[i] ^= 0x01
		if b[i] == '=' || b[i] < '-' {
			b[i] = 'A'
		}
		return string(b)
	}
	other, err := authgate.New(seedConfig(t, "http://other.example", newClock()))
	if err != nil {
		t.Fatal(err)
	}
	foreign := authgatetest.Cookies(t, other, authgate.User[claims]{ID: "u1", Role: "admin"})[0].Value

	tests := []struct {
		name  string
		value string
	}{
		{"a flipped bit at the start", flip(0)},
		{"a flipped bit in the middle", flip(len(v) / 2)},
		{"a flipped bit at the end", flip(len(v) - 3)},
		{"truncated by one byte", v[:len(v)-1]},
		{"truncated to half", v[:len(v)/2]},
		{"empty", ""},
		{"garbage", "not-a-cookie"},
		{"pipes and dots", strings.Repeat("|.", 2000)},
		{"over-long", strings.Repeat("A", 20000)},
		{"a cookie for another origin with the same secret", foreign},
		{"the CSRF cookie's value", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef%7C00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request("GET", "/whoami", &http.Cookie{Name: good.Name, Value: tt.value})
			w := httptest.NewRecorder()
			a.srv.Config.Handler.ServeHTTP(w, r)
			if w.Code != 200 || w.Body.String() != "anonymous" {
				t.Fatalf("got %d %q, want 200 anonymous", w.Code, w.Body.String())
			}
			if sc := w.Header().Get("Set-Cookie"); !strings.Contains(sc, good.Name+"=;") || !strings.Contains(sc, "Max-Age=0") {
				t.Errorf("Set-Cookie: got %q, want the session cookie cleared", sc)
			}
		})
	}

	t.Run("duplicated cookies", func(t *testing.T) {
		r := request("GET", "/whoami", good, good)
		w := httptest.NewRecorder()
		a.srv.Config.Handler.ServeHTTP(w, r)
		if w.Body.String() != "anonymous" {
			t.Fatalf("got %q, want anonymous", w.Body.String())
		}
	})
}

func TestCookieTimes(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration // after minting
		want    string
	}{
		{"a fresh cookie is accepted", time.Minute, "u1 admin "},
		{"a cookie idle for MaxAge has expired", authgate.DefaultMaxAge, "anonymous"},
		{"a cookie dated in the future is refused", -time.Hour, "anonymous"},
		{"a cookie within the clock skew is accepted", -10 * time.Second, "u1 admin "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t, nil)
			ck := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1", Role: "admin"})
			a.clk.Advance(tt.advance)
			w := httptest.NewRecorder()
			a.srv.Config.Handler.ServeHTTP(w, request("GET", "/whoami", ck...))
			if w.Body.String() != tt.want {
				t.Fatalf("got %q, want %q", w.Body.String(), tt.want)
			}
		})
	}
}

func TestReissueKeepsAbsoluteLifetime(t *testing.T) {
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.MaxAge, c.UpdateAge, c.MaxLifetime = time.Hour, 10*time.Minute, 3*time.Hour
	})
	ck := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1", Role: "admin"})
	start := a.clk.Now()
	reissued := 0
	// Stay active every 30 minutes: the idle timeout slides, the absolute
	// lifetime does not.
	for a.clk.Now().Sub(start) < 3*time.Hour {
		a.clk.Advance(30 * time.Minute)
		w := httptest.NewRecorder()
		a.srv.Config.Handler.ServeHTTP(w, request("GET", "/whoami", ck...))
		alive := a.clk.Now().Sub(start) < 3*time.Hour
		if got := w.Body.String() != "anonymous"; got != alive {
			t.Fatalf("at +%v: signed in = %v, want %v", a.clk.Now().Sub(start), got, alive)
		}
		if res := w.Result(); alive && len(res.Cookies()) > 0 {
			ck = res.Cookies()
			reissued++
			if exp := ck[0].Expires; exp.After(start.Add(3 * time.Hour)) {
				t.Fatalf("re-issued cookie expires %v, after the absolute lifetime", exp)
			}
		}
	}
	if reissued < 4 {
		t.Errorf("re-issued %d times, want one per request past UpdateAge", reissued)
	}
}

func TestKeyRotation(t *testing.T) {
	clk := newClock()
	mk := func(secrets ...string) *authgate.Auth[claims] {
		cfg := seedConfig(t, "http://app.example", clk)
		cfg.Secrets = secrets
		a, err := authgate.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	old := mk(secretA)
	ck := authgatetest.Cookies(t, old, authgate.User[claims]{ID: "u1"})
	tests := []struct {
		name    string
		auth    *authgate.Auth[claims]
		wantErr error
	}{
		{"the old secret still verifies after a new one is put first", mk(secretB, secretA), nil},
		{"a removed secret no longer verifies", mk(secretB), authgate.ErrInvalidSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.auth.Check(request("GET", "/", ck...))
			if (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errorsIs(err, tt.wantErr)) {
				t.Fatalf("Check: got %v, want %v", err, tt.wantErr)
			}
		})
	}
	rotated := mk(secretB, secretA)
	fresh := authgatetest.Cookies(t, rotated, authgate.User[claims]{ID: "u1"})
	if _, err := mk(secretB).Check(request("GET", "/", fresh...)); err != nil {
		t.Errorf("a cookie minted after rotation must verify with the new secret alone: %v", err)
	}
}

func TestCSRF(t *testing.T) {
	a := newApp(t, nil)
	other := a.client()
	otherToken := other.csrf()
	tests := []struct {
		name   string
		form   func(c *client) url.Values
		header []string
	}{
		{"no token", func(c *client) url.Values { return url.Values{} }, nil},
		{"an empty token", func(c *client) url.Values { return url.Values{"csrfToken": {""}} }, nil},
		{"another client's token", func(c *client) url.Values { c.csrf(); return url.Values{"csrfToken": {otherToken}} }, nil},
		{"a token without the cookie", func(c *client) url.Values { return url.Values{"csrfToken": {otherToken}} }, nil},
		{"an over-long token", func(c *client) url.Values { c.csrf(); return url.Values{"csrfToken": {strings.Repeat("a", 5000)}} }, nil},
		{"a cross-site request with a valid token", func(c *client) url.Values { return url.Values{"csrfToken": {c.csrf()}} }, []string{"Sec-Fetch-Site", "cross-site"}},
		{"a foreign Origin with a valid token", func(c *client) url.Values { return url.Values{"csrfToken": {c.csrf()}} }, []string{"Origin", "https://evil.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := a.client()
			form := tt.form(c)
			form.Set("username", "alice")
			form.Set("password", "alice-password")
			form.Set("json", "true")
			req, _ := http.NewRequest("POST", a.srv.URL+"/api/auth/callback/credentials", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Set(tt.header[i], tt.header[i+1])
			}
			res := c.do(req)
			if res.StatusCode != 403 || !strings.Contains(res.body, "error=MissingCSRF") {
				t.Errorf("got %d %q, want 403 with error=MissingCSRF", res.StatusCode, res.body)
			}
			if sc := sessionSetCookies(res); len(sc) != 0 {
				t.Errorf("a session cookie was issued: %v", sc)
			}
		})
	}
}

func TestCSRFRotatesAtSignIn(t *testing.T) {
	a := newApp(t, nil)
	c := a.client()
	before := c.csrf()
	if res := c.signIn("alice", "alice-password"); res.StatusCode != 200 {
		t.Fatalf("sign-in: %d %s", res.StatusCode, res.body)
	}
	if after := c.csrf(); after == before {
		t.Error("the CSRF token survived sign-in; it must rotate")
	}
}

func TestSignInFailures(t *testing.T) {
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Callbacks.SignIn = func(ctx context.Context, p authgate.SignInParams[claims]) (authgate.SignInDecision, error) {
			if p.User.ID == "u2" {
				return authgate.Deny(), nil
			}
			return authgate.Allow(), nil
		}
	})
	tests := []struct {
		name, user, password string
		wantStatus           int
		wantURL              string
	}{
		{"a wrong password", "alice", "nope", 401, "/api/auth/error?error=CredentialsSignin&provider=credentials"},
		{"an unknown user", "mallory", "nope", 401, "/api/auth/error?error=CredentialsSignin&provider=credentials"},
		{"a user the signIn callback denies", "bob", "bob-password", 403, "/api/auth/error?error=AccessDenied"},
		{"a password over 72 bytes", "alice", strings.Repeat("x", 73), 401, "/api/auth/error?error=CredentialsSignin&provider=credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := a.client()
			res := c.signIn(tt.user, tt.password)
			var v struct{ URL string }
			json.Unmarshal([]byte(res.body), &v)
			if res.StatusCode != tt.wantStatus || v.URL != a.srv.URL+tt.wantURL {
				t.Fatalf("got %d %q, want %d %q", res.StatusCode, v.URL, tt.wantStatus, a.srv.URL+tt.wantURL)
			}
			if sc := sessionSetCookies(res); len(sc) != 0 {
				t.Errorf("a session cookie was issued: %v", sc)
			}
		})
	}
}

func TestPlainFormSignInRedirects(t *testing.T) {
	a := newApp(t, nil)
	c := a.client()
	res := c.postForm("/api/auth/callback/credentials", url.Values{
		"username": {"alice"}, "password": {"alice-password"}, "csrfToken": {c.csrf()}, "callbackUrl": {"/admin"}})
	if res.StatusCode != 302 || res.Header.Get("Location") != a.srv.URL+"/admin" {
		t.Fatalf("got %d Location %q, want 302 to /admin", res.StatusCode, res.Header.Get("Location"))
	}
	res = c.postForm("/api/auth/callback/credentials", url.Values{
		"username": {"alice"}, "password": {"wrong"}, "csrfToken": {c.csrf()}})
	if res.StatusCode != 302 || !strings.Contains(res.Header.Get("Location"), "error=CredentialsSignin") {
		t.Fatalf("got %d Location %q, want 302 to the error", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestSessionUpdate(t *testing.T) {
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

func TestChunkedCookies(t *testing.T) {
	big := strings.Repeat("x", 6000) // too big for one cookie
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.SignOnly = false
		jwt := c.Callbacks.JWT
		c.Callbacks.JWT = func(ctx context.Context, p authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
			tok, err := jwt(ctx, p)
			if err == nil && p.Trigger == authgate.TriggerSignIn {
				tok.Claims.Plan = big
			}
			return tok, err
		}
	})
	c := a.client()
	res := c.signIn("alice", "alice-password")
	sc := sessionSetCookies(res)
	if len(sc) < 2 || sc[0].Name != "authgate.session-token.0" || sc[1].Name != "authgate.session-token.1" {
		t.Fatalf("got cookies %d, want chunks .0 and .1", len(sc))
	}
	for _, ck := range sc {
		if len(ck.Value) > 3933 {
			t.Errorf("chunk %s is %d bytes, over 3933", ck.Name, len(ck.Value))
		}
	}
	if res := c.get("/whoami"); res.body != "u1 admin "+big {
		t.Fatalf("reading the chunks back: got %d bytes", len(res.body))
	}
	// A session past MaxCookieChunks fails loudly instead.
	b := newApp(t, func(c *authgate.Config[claims]) {
		c.MaxCookieChunks = 1
		c.Callbacks.JWT = func(ctx context.Context, p authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
			p.Token.Claims.Plan = big
			return p.Token, nil
		}
	})
	if _, err := b.auth.NewSessionCookies(context.Background(), &authgate.User[claims]{ID: "u1"}); !errorsIs(err, authgate.ErrSessionTooLarge) {
		t.Errorf("oversized session: got %v, want ErrSessionTooLarge", err)
	}
	res = b.client().signIn("alice", "alice-password")
	if res.StatusCode != 500 || len(sessionSetCookies(res)) != 0 {
		t.Errorf("oversized sign-in: got %d with %d cookies, want 500 and none", res.StatusCode, len(sessionSetCookies(res)))
	}
}

func TestSecureOriginCookies(t *testing.T) {
	cfg := seedConfig(t, "https://app.example", newClock())
	a, err := authgate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ck := authgatetest.Cookies(t, a, authgate.User[claims]{ID: "u1"})
	if ck[0].Name != "__Secure-authgate.session-token" || !ck[0].Secure {
		t.Errorf("session cookie on https: got %s secure=%v", ck[0].Name, ck[0].Secure)
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "http://app.example/api/auth/csrf", nil)
	r.Header.Set("X-Forwarded-Proto", "http")
	a.Handler().ServeHTTP(w, r)
	c := w.Result().Cookies()
	if len(c) != 1 || c[0].Name != "__Host-authgate.csrf-token" || !c[0].Secure || c[0].Path != "/" || c[0].Domain != "" {
		t.Errorf("csrf cookie on https: got %+v, want __Host- prefix, Secure, Path=/, no Domain", c)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	authorize := func(context.Context, *authgate.Credentials) (*authgate.User[claims], error) { return nil, nil }
	tests := []struct {
		name string
		cfg  authgate.Config[claims]
	}{
		{"no secret", authgate.Config[claims]{URL: "http://x", Authorize: authorize}},
		{"a short secret", authgate.Config[claims]{Secrets: []string{"short"}, URL: "http://x", Authorize: authorize}},
		{"a short second secret", authgate.Config[claims]{Secrets: []string{secretA, "short"}, URL: "http://x", Authorize: authorize}},
		{"no URL", authgate.Config[claims]{Secrets: []string{secretA}, Authorize: authorize}},
		{"a relative URL", authgate.Config[claims]{Secrets: []string{secretA}, URL: "/app", Authorize: authorize}},
		{"a URL with a path", authgate.Config[claims]{Secrets: []string{secretA}, URL: "http://x/app", Authorize: authorize}},
		{"a non-http URL", authgate.Config[claims]{Secrets: []string{secretA}, URL: "ftp://x", Authorize: authorize}},
		{"a base path without a slash", authgate.Config[claims]{Secrets: []string{secretA}, URL: "http://x", BasePath: "api/auth", Authorize: authorize}},
		{"a base path ending in a slash", authgate.Config[claims]{Secrets: []string{secretA}, URL: "http://x", BasePath: "/api/auth/", Authorize: authorize}},
		{"no Authorize", authgate.Config[claims]{Secrets: []string{secretA}, URL: "http://x"}},
		{"UpdateAge over MaxAge", authgate.Config[claims]{Secrets: []string{secretA}, URL: "http://x", Authorize: authorize, MaxAge: time.Hour, UpdateAge: 2 * time.Hour}},
		{"an off-site sign-in page", authgate.Config[claims]{Secrets: []string{secretA}, URL: "http://x", Authorize: authorize, Pages: authgate.Pages{SignIn: "//evil.example/login"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := authgate.New(tt.cfg); !errorsIs(err, authgate.ErrConfig) {
				t.Fatalf("New: got %v, want ErrConfig", err)
			}
		})
	}
}

func TestProtocolEndpoints(t *testing.T) {
	a := newApp(t, nil)
	c := a.client()
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantIn             string
	}{
		{"providers lists credentials", "GET", "/api/auth/providers", 200, `"type":"credentials"`},
		{"the built-in sign-in page", "GET", "/api/auth/signin", 200, `name="csrfToken"`},
		{"the sign-out confirmation page", "GET", "/api/auth/signout", 200, `action="` + a.srv.URL + `/api/auth/signout"`},
		{"a sign-in error goes back to the sign-in page", "GET", "/api/auth/error?error=CredentialsSignin", 302, ""},
		{"AccessDenied renders with 403", "GET", "/api/auth/error?error=AccessDenied", 403, "permission"},
		{"Configuration renders with 500", "GET", "/api/auth/error?error=Configuration", 500, "configuration"},
		{"client logs are accepted and ignored", "POST", "/api/auth/_log", 200, "{}"},
		{"GET on the credentials callback is 405", "GET", "/api/auth/callback/credentials", 405, ""},
		{"GET on _log is 405", "GET", "/api/auth/_log", 405, ""},
		{"an unknown action is 404", "GET", "/api/auth/nope", 404, ""},
		{"an unknown provider is 404", "POST", "/api/auth/callback/github", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, a.srv.URL+tt.path, nil)
			res := c.do(req)
			if res.StatusCode != tt.wantStatus || !strings.Contains(res.body, tt.wantIn) {
				t.Fatalf("got %d %q, want %d containing %q", res.StatusCode, res.body, tt.wantStatus, tt.wantIn)
			}
		})
	}
}

// FuzzSessionCookie feeds arbitrary cookie values to the middleware's
// decision. Whatever arrives, Check must not panic, and it may only accept
// a value that carries the one session the test minted: no input forges
// another.
func FuzzSessionCookie(f *testing.F) {
	clk := newClock()
	a, err := authgate.New(seedConfig(f, "http://app.example", clk))
	if err != nil {
		f.Fatal(err)
	}
	ck := authgatetest.Cookies(f, a, authgate.User[claims]{ID: "u1", Role: "admin"})[0]
	f.Add(ck.Value)
	f.Add(ck.Value[:len(ck.Value)-2])
	f.Add(strings.ToUpper(ck.Value))
	f.Add("")
	f.Add("|||")
	f.Add(strings.Repeat("A", 4000))
	f.Add("MTc5NTkyNTg5OXwzQ0hUUFVZRWJz")
	f.Fuzz(func(t *testing.T, value string) {
		r := request("GET", "/", &http.Cookie{Name: ck.Name, Value: "x"})
		r.Header.Set("Cookie", ck.Name+"="+value)
		s, err := a.Check(r)
		if err == nil && (s.User.ID != "u1" || s.User.Role != "admin") {
			t.Fatalf("accepted a forged session %+v from %q", s.User, value)
		}
	})
}

func TestShortMaxAgeAloneIsAccepted(t *testing.T) {
	a := newApp(t, func(c *authgate.Config[claims]) { c.MaxAge = time.Hour })
	ck := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1"})
	a.clk.Advance(31 * time.Minute) // past the default UpdateAge of MaxAge/2
	w := httptest.NewRecorder()
	a.srv.Config.Handler.ServeHTTP(w, request("GET", "/whoami", ck...))
	if len(sessionSetCookies(response{Response: w.Result()})) != 1 {
		t.Errorf("a session half its MaxAge old was not re-issued")
	}
}

func TestCSRFTokenForServerRenderedForms(t *testing.T) {
	a := newApp(t, nil)
	// A server-rendered login page: CSRFToken sets the cookie and returns
	// the token for a hidden field.
	w := httptest.NewRecorder()
	token := a.auth.CSRFToken(w, request("GET", "/login"))
	c := a.client()
	u, _ := url.Parse(a.srv.URL)
	c.hc.Jar.SetCookies(u, w.Result().Cookies())
	res := c.postForm("/api/auth/callback/credentials", url.Values{
		"username": {"alice"}, "password": {"alice-password"}, "csrfToken": {token}, "json": {"true"}})
	if res.StatusCode != 200 {
		t.Fatalf("sign-in with CSRFToken's token: got %d %s", res.StatusCode, res.body)
	}
	// With a valid cookie on the request, the same token comes back and
	// no new cookie is set.
	w = httptest.NewRecorder()
	r := request("GET", "/login")
	for _, ck := range c.cookies() {
		r.AddCookie(ck)
	}
	if got := a.auth.CSRFToken(w, r); got != c.csrf() || len(w.Result().Cookies()) != 0 {
		t.Errorf("CSRFToken with a valid cookie: got a new token or cookie")
	}
}

func TestJSONBodiesAreStrict(t *testing.T) {
	a := newApp(t, nil)
	tests := []struct{ name, body string }{
		{"a repeated member", `{"username":"alice","username":"bob","password":"x","csrfToken":"T"}`},
		{"a null member", `{"username":null,"password":"x","csrfToken":"T"}`},
		{"a number where a string belongs", `{"username":1,"password":"x","csrfToken":"T"}`},
		{"an object where a string belongs", `{"username":{"$ne":""},"password":"x","csrfToken":"T"}`},
		{"data after the object", `{"username":"alice","password":"x","csrfToken":"T"} {}`},
		{"an array", `["alice"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := a.client()
			body := strings.ReplaceAll(tt.body, `"T"`, `"`+c.csrf()+`"`)
			req, _ := http.NewRequest("POST", a.srv.URL+"/api/auth/callback/credentials", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if res := c.do(req); res.StatusCode != 400 || len(sessionSetCookies(res)) != 0 {
				t.Fatalf("got %d %s, want 400 and no session", res.StatusCode, res.body)
			}
		})
	}
}

// revocationSpy records what sign-out asks the store for.
type revocationSpy struct {
	authgate.RevocationStore
	until time.Time
}

func (s *revocationSpy) RevokeSession(ctx context.Context, id, subject string, until time.Time) error {
	s.until = until
	return s.RevocationStore.RevokeSession(ctx, id, subject, until)
}

func TestSignOutRevokesForEveryCopy(t *testing.T) {
	var spy *revocationSpy
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.MaxAge, c.UpdateAge = time.Hour, 10*time.Minute
		spy = &revocationSpy{RevocationStore: authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{Now: c.Now})}
		c.Revocations = spy
	})
	c := a.client()
	c.signIn("alice", "alice-password")
	a.clk.Advance(40 * time.Minute) // the cookie expires 20 minutes from now; a copy re-issued now, in 60
	c.postForm("/api/auth/signout", url.Values{"csrfToken": {c.csrf()}, "json": {"true"}})
	if want := a.clk.Now().Add(time.Hour); spy.until.Before(want) {
		t.Errorf("sign-out revoked until %v, want at least now + MaxAge (%v)", spy.until, want)
	}
}

func TestSignOutEverywhereThenSignInAtOnce(t *testing.T) {
	a := newApp(t, nil)
	ctx := context.Background()
	old := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1"})
	a.clk.Advance(300 * time.Millisecond) // same second
	if err := a.auth.SignOutEverywhere(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	// A password change that keeps this device signed in: a new session
	// minted at once, in the same second as the revocation.
	fresh := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1"})
	other := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u2"})
	tests := []struct {
		name    string
		cookies []*http.Cookie
		wantErr error
	}{
		{"the session signed in before the call is revoked", old, authgate.ErrSessionRevoked},
		{"the session minted right after it, in the same second, is valid", fresh, nil},
		{"another user's session is untouched", other, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.auth.Check(request("GET", "/", tt.cookies...))
			if (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errorsIs(err, tt.wantErr)) {
				t.Fatalf("Check: got %v, want %v", err, tt.wantErr)
			}
		})
	}
	a.clk.Advance(time.Hour) // still valid later, with its sign-in time one second after the revocation
	if s, err := a.auth.Check(request("GET", "/", fresh...)); err != nil || s.AuthTime().Unix() != a.clk.Now().Add(-time.Hour).Unix()+1 {
		t.Fatalf("an hour later: %v, %v", s, err)
	}
}
