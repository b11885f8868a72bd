package authgate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// fakeProvider is an in-memory OAuthProvider: its authorization URL
// carries the state, and a code is good once, with the verifier and
// nonce it was issued with. The real providers are tested in the
// providers module against an OIDC server and a GitHub fake.
type fakeProvider struct {
	id, name  string
	fail      error // AuthCodeURL's error
	stateOnly bool  // no PKCE, no nonce (a provider that supports neither)
	mu        sync.Mutex
	flows     map[string][2]string // code → verifier, nonce
	params    url.Values
	exchanges atomic.Int64 // calls of Exchange: requests to the provider
}

func newFake(id string) *fakeProvider {
	return &fakeProvider{id: id, name: "Fake " + id, flows: map[string][2]string{}}
}

func (f *fakeProvider) ID() string   { return f.id }
func (f *fakeProvider) Name() string { return f.name }

func (f *fakeProvider) AuthCodeURL(ctx context.Context, req authgate.OAuthRequest) (authgate.OAuthRedirect, error) {
	if f.fail != nil {
		return authgate.OAuthRedirect{}, f.fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	code := "code-" + req.State[:16]
	v, n := "verifier-"+req.State[16:40], "nonce-"+req.State[40:]
	if f.stateOnly {
		v, n = "", ""
	}
	f.flows[code] = [2]string{v, n}
	f.params = req.Params
	q := url.Values{"state": {req.State}, "code": {code}, "redirect_uri": {req.RedirectURI}}
	return authgate.OAuthRedirect{URL: "https://provider.example/authorize?" + q.Encode(), PKCEVerifier: v, Nonce: n}, nil
}

func (f *fakeProvider) Exchange(ctx context.Context, cb authgate.OAuthCallback) (*authgate.OAuthProfile, error) {
	f.exchanges.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	want, ok := f.flows[cb.Code]
	delete(f.flows, cb.Code)
	if !ok || want[0] != cb.PKCEVerifier || want[1] != cb.Nonce {
		return nil, errors.New("fake: bad code, verifier or nonce")
	}
	return &authgate.OAuthProfile{ID: "42", Name: "Octo", Email: "octo@example.com",
		Profile: map[string]any{"login": "octo"}, AccessToken: "secret-access-token", RefreshToken: "secret-refresh-token"}, nil
}

// oauthSignIn runs POST /signin/{id} (json) and follows the fake's
// authorization URL back to the callback; it returns the callback's
// response.
func (c *client) oauthSignIn(id string, form url.Values) response {
	c.t.Helper()
	form.Set("csrfToken", c.csrf())
	form.Set("json", "true")
	res := c.postForm("/api/auth/signin/"+id, form)
	var v struct{ URL string }
	if err := json.Unmarshal([]byte(res.body), &v); err != nil || res.StatusCode != 200 {
		c.t.Fatalf("POST /signin/%s: %d %s", id, res.StatusCode, res.body)
	}
	u, _ := url.Parse(v.URL)
	q := u.Query()
	cb, _ := url.Parse(q.Get("redirect_uri"))
	cb.RawQuery = url.Values{"code": {q.Get("code")}, "state": {q.Get("state")}}.Encode()
	return c.get(strings.TrimPrefix(cb.String(), c.app.url))
}

func TestOAuthSignInThroughTheCallbacks(t *testing.T) {
	t.Parallel()
	var seen []string
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Providers = []authgate.OAuthProvider{newFake("fake")}
		c.Callbacks.SignIn = func(ctx context.Context, p authgate.SignInParams[claims]) (authgate.SignInDecision, error) {
			seen = append(seen, fmt.Sprintf("signIn %s %v %s", p.User.ID, p.Account, p.Profile["login"]))
			return authgate.Allow(), nil
		}
		c.Callbacks.JWT = func(ctx context.Context, p authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
			if p.Trigger == authgate.TriggerSignIn {
				seen = append(seen, fmt.Sprintf("jwt %s %s %s %s", p.Account.Type, p.Account.AccessToken, p.Account.RefreshToken, p.Profile["login"]))
				p.Token.Claims.Plan = "oauth"
				p.Token.Role = "user"
			}
			return p.Token, nil
		}
	})
	c := a.client()
	res := c.oauthSignIn("fake", url.Values{"callbackUrl": {"/whoami"}})
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != a.url+"/whoami" {
		t.Fatalf("callback: %d to %q, want 302 to /whoami", res.StatusCode, res.Header.Get("Location"))
	}
	want := []string{"signIn fake:42 {fake oauth 42} octo", "jwt oauth secret-access-token secret-refresh-token octo"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("callbacks: got %q, want %q", seen, want)
	}
	if got := c.get("/whoami").body; got != "fake:42 user oauth" {
		t.Errorf("/whoami after the OAuth sign-in: %q", got)
	}
	for _, s := range []string{"secret-access-token", "secret-refresh-token", "code-", "verifier-", "nonce-"} {
		if strings.Contains(a.logs.String(), s) {
			t.Errorf("the log holds %q:\n%s", s, a.logs.String())
		}
	}
}

// TestOAuthHostileCallbackURL runs the credentials flow's hostile
// redirect table through the OAuth flow: wherever the callbackUrl points,
// the callback's redirect stays on the app's origin.
func TestOAuthHostileCallbackURL(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Providers = []authgate.OAuthProvider{newFake("fake")}
	})
	for _, raw := range hostile {
		t.Run(url.PathEscape(raw[:min(len(raw), 40)]), func(t *testing.T) {
			c := a.client()
			res := c.oauthSignIn("fake", url.Values{"callbackUrl": {raw}})
			loc := res.Header.Get("Location")
			if res.StatusCode != http.StatusFound || (loc != a.url && !strings.HasPrefix(loc, a.url+"/")) {
				t.Fatalf("callbackUrl %q: got %d to %q, want a URL on %s", raw, res.StatusCode, loc, a.url)
			}
			if strings.HasPrefix(loc[len(a.url):], "//") || strings.ContainsAny(loc, "\\\t\r\n") {
				t.Fatalf("callbackUrl %q: got %q", raw, loc)
			}
		})
	}
}

func TestOAuthProvidersListed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		authorize bool
		wantIDs   string
	}{
		{"with Authorize: credentials and the providers", true, "credentials fake other"},
		{"OAuth only: the providers", false, "fake other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t, func(c *authgate.Config[claims]) {
				c.Providers = []authgate.OAuthProvider{newFake("fake"), newFake("other")}
				if !tt.authorize {
					c.Authorize = nil
				}
			})
			c := a.client()
			var list map[string]struct{ ID, Name, Type, SigninURL, CallbackURL string }
			if err := json.Unmarshal([]byte(c.get("/api/auth/providers").body), &list); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, id := range []string{"credentials", "fake", "other"} {
				if p, ok := list[id]; ok {
					ids = append(ids, id)
					if id != "credentials" && (p.Type != "oauth" || p.Name != "Fake "+id ||
						p.SigninURL != a.url+"/api/auth/signin/"+id || p.CallbackURL != a.url+"/api/auth/callback/"+id) {
						t.Errorf("/providers %s: %+v", id, p)
					}
				}
			}
			if got := strings.Join(ids, " "); got != tt.wantIDs || len(list) != len(ids) {
				t.Errorf("/providers: got %v, want %s", list, tt.wantIDs)
			}

			page := c.get("/api/auth/signin")
			for _, id := range []string{"fake", "other"} {
				if !strings.Contains(page.body, `action="`+a.url+`/api/auth/signin/`+id+`"`) ||
					!strings.Contains(page.body, "Sign in with Fake "+id) {
					t.Errorf("the sign-in page has no button for %s:\n%s", id, page.body)
				}
			}
			if got := strings.Contains(page.body, `name="password"`); got != tt.authorize {
				t.Errorf("credentials form shown: %v, want %v", got, tt.authorize)
			}
			if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https: http:") {
				t.Errorf("the sign-in page's CSP does not let a provider button leave for the provider: %q", csp)
			}
			if !tt.authorize {
				res := c.postForm("/api/auth/callback/credentials", url.Values{"username": {"alice"}, "password": {"alice-password"}, "csrfToken": {c.csrf()}})
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("credentials sign-in without Authorize: got %d, want 404", res.StatusCode)
				}
			}
		})
	}
}

// TestOAuthSignInPost: the built-in page's form post (no json) is
// redirected to the provider; a failing provider and a missing CSRF token
// are refused; only allow-listed authorization parameters reach the
// provider.
func TestOAuthSignInPost(t *testing.T) {
	t.Parallel()
	good, broken := newFake("fake"), newFake("broken")
	broken.fail = errors.New("discovery down")
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Providers = []authgate.OAuthProvider{good, broken}
	})
	c := a.client()
	res := c.postForm("/api/auth/signin/fake?prompt=login&redirect_uri=https://evil.example&state=x", url.Values{"csrfToken": {c.csrf()}})
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), "https://provider.example/authorize?") {
		t.Errorf("form post: got %d to %q, want 302 to the provider", res.StatusCode, res.Header.Get("Location"))
	}
	if fmt.Sprint(good.params) != "map[prompt:[login]]" {
		t.Errorf("authorization parameters passed on: %v, want only prompt", good.params)
	}
	res = c.postForm("/api/auth/signin/broken", url.Values{"csrfToken": {c.csrf()}, "json": {"true"}})
	if res.StatusCode != http.StatusInternalServerError || !strings.Contains(res.body, "error=OAuthSignin") {
		t.Errorf("failing provider: got %d %s, want 500 with OAuthSignin", res.StatusCode, res.body)
	}
	res = c.postForm("/api/auth/signin/fake", url.Values{"json": {"true"}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.body, "MissingCSRF") {
		t.Errorf("no CSRF token: got %d %s, want 403 MissingCSRF", res.StatusCode, res.body)
	}
	for _, ck := range res.Cookies() {
		if strings.Contains(ck.Name, "state") {
			t.Errorf("a refused POST set %s", ck.Name)
		}
	}
}

func TestOAuthConfigRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		providers []authgate.OAuthProvider
		noAuth    bool
	}{
		{"an id with upper case", []authgate.OAuthProvider{newFake("GitHub")}, false},
		{"an id with a slash", []authgate.OAuthProvider{newFake("a/b")}, false},
		{"an empty id", []authgate.OAuthProvider{newFake("")}, false},
		{"the id credentials", []authgate.OAuthProvider{newFake("credentials")}, false},
		{"the same id twice", []authgate.OAuthProvider{newFake("x"), newFake("x")}, false},
		{"a nil provider", []authgate.OAuthProvider{nil}, false},
		{"neither Authorize nor providers", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newConfig("https://app.example", newClock())
			cfg.Providers = tt.providers
			if tt.noAuth {
				cfg.Authorize = nil
			}
			if _, err := authgate.New(cfg); !errors.Is(err, authgate.ErrConfig) {
				t.Fatalf("New: got %v, want ErrConfig", err)
			}
		})
	}
}

// TestOAuthCheckCookiesOnHTTPS: on an https origin the check cookies get
// the __Host- prefix, Secure, HttpOnly, SameSite=Lax and a 15-minute
// lifetime.
func TestOAuthCheckCookiesOnHTTPS(t *testing.T) {
	t.Parallel()
	a := newHTTPSOAuthApp(t, newFake("fake"))
	w := httpRecorder(a.Handler(), "GET", "https://app.example/api/auth/csrf", "", nil)
	var tok struct{ CsrfToken string }
	json.Unmarshal(w.Body.Bytes(), &tok)
	w = httpRecorder(a.Handler(), "POST", "https://app.example/api/auth/signin/fake",
		"csrfToken="+tok.CsrfToken+"&json=true", w.Result().Cookies())
	if w.Code != 200 {
		t.Fatalf("POST /signin/fake: %d %s", w.Code, w.Body)
	}
	got := map[string]*http.Cookie{}
	for _, c := range w.Result().Cookies() {
		got[c.Name] = c
	}
	for _, name := range []string{"__Host-authgate.state", "__Host-authgate.pkce.code_verifier", "__Host-authgate.nonce"} {
		c := got[name]
		if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 900 || c.Path != "/" {
			t.Errorf("%s: %+v", name, c)
		}
	}
}

func TestAccountHidesTokensFromLogs(t *testing.T) {
	t.Parallel()
	acc := authgate.Account{Provider: "github", Type: "oauth", ProviderAccountID: "1",
		AccessToken: "at-secret", RefreshToken: "rt-secret", IDToken: "id-secret"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "account", acc)
	out := buf.String() + fmt.Sprint(acc) + fmt.Sprintf("%v %+v %#v", acc, acc, acc)
	if strings.Contains(out, "secret") || !strings.Contains(out, "github") {
		t.Errorf("an Account printed with its tokens: %s", out)
	}
}

// httpRecorder serves one request on h without a network.
func httpRecorder(h http.Handler, method, target, form string, cookies []*http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(form))
	if form != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// FuzzOAuthCallback sends arbitrary query strings to the callback of a
// started flow: the answer is always a 302 on the app's origin, and a
// session is set only for the real state and code.
func FuzzOAuthCallback(f *testing.F) {
	fake := newFake("fake")
	a := newHTTPSOAuthApp(f, fake)
	h := a.Handler()
	w := httpRecorder(h, "GET", "https://app.example/api/auth/csrf", "", nil)
	var tok struct{ CsrfToken string }
	json.Unmarshal(w.Body.Bytes(), &tok)
	w = httpRecorder(h, "POST", "https://app.example/api/auth/signin/fake", "csrfToken="+tok.CsrfToken+"&json=true", w.Result().Cookies())
	var started struct{ URL string }
	json.Unmarshal(w.Body.Bytes(), &started)
	u, _ := url.Parse(started.URL)
	state, code := u.Query().Get("state"), u.Query().Get("code")
	checks := w.Result().Cookies()

	f.Add("state=" + state + "&code=" + code)
	f.Add("state=" + state + "&state=" + state + "&code=" + code)
	f.Add("code=" + code)
	f.Add("error=access_denied&state=" + state)
	f.Add("error=%00%0d%0a&error_description=%3Cscript%3E")
	f.Add("state=" + strings.ToUpper(state) + "&code=" + code)
	f.Add("state=" + state + "&code=" + strings.Repeat("x", 5000))
	f.Add("state=;&code=%ff%fe")
	f.Fuzz(func(t *testing.T, query string) {
		// The fake forgets a code once used; give it the flow again.
		fake.mu.Lock()
		fake.flows[code] = [2]string{"verifier-" + state[16:40], "nonce-" + state[40:]}
		fake.mu.Unlock()
		r := httptest.NewRequest("GET", "https://app.example/api/auth/callback/fake", nil)
		r.URL.RawQuery = query // as a server receives it, unvalidated
		for _, c := range checks {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		loc := w.Header().Get("Location")
		if w.Code != http.StatusFound || !strings.HasPrefix(loc, "https://app.example/") && loc != "https://app.example" {
			t.Fatalf("callback ?%q: %d to %q", query, w.Code, loc)
		}
		signedIn := false
		for _, c := range w.Result().Cookies() {
			signedIn = signedIn || strings.Contains(c.Name, "session-token") && c.MaxAge > 0
		}
		q, _ := url.ParseQuery(query)
		valid := len(q["state"]) == 1 && q.Get("state") == state && len(q["code"]) == 1 && q.Get("code") == code && !q.Has("error")
		if signedIn && !valid {
			t.Fatalf("callback ?%q signed in", query)
		}
	})
}

// BenchmarkOAuth measures authgate's own share of a "Sign in with …"
// (the provider is the in-memory fake, so no network): POST /signin/{id}
// alone (state, three encrypted check cookies), and the POST followed by
// the callback (checks decrypted and compared, callbacks, session issued).
func BenchmarkOAuth(b *testing.B) {
	fake := newFake("fake")
	a := newHTTPSOAuthApp(b, fake)
	h := a.Handler()
	w := httpRecorder(h, "GET", "https://app.example/api/auth/csrf", "", nil)
	var tok struct{ CsrfToken string }
	json.Unmarshal(w.Body.Bytes(), &tok)
	csrf := w.Result().Cookies()
	post := func() *httptest.ResponseRecorder {
		w := httpRecorder(h, "POST", "https://app.example/api/auth/signin/fake", "csrfToken="+tok.CsrfToken+"&json=true&callbackUrl=%2Fhome", csrf)
		if w.Code != 200 {
			b.Fatalf("POST: %d %s", w.Code, w.Body)
		}
		return w
	}
	b.Run("POST /signin/{id}", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			post()
		}
	})
	b.Run("POST /signin/{id} then GET /callback/{id}", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w := post()
			var started struct{ URL string }
			json.Unmarshal(w.Body.Bytes(), &started)
			u, _ := url.Parse(started.URL)
			r := httptest.NewRequest("GET", "https://app.example/api/auth/callback/fake?code="+u.Query().Get("code")+"&state="+u.Query().Get("state"), nil)
			for _, c := range w.Result().Cookies() {
				r.AddCookie(c)
			}
			cw := httptest.NewRecorder()
			h.ServeHTTP(cw, r)
			if cw.Code != 302 || cw.Header().Get("Location") != "https://app.example/home" {
				b.Fatalf("callback: %d to %q", cw.Code, cw.Header().Get("Location"))
			}
		}
	})
}

// TestOAuthStateOnlyProvider: a provider without PKCE or nonce finishes
// with the state cookie alone, and a check cookie left by an earlier flow
// with another provider is dropped, not reused.
func TestOAuthStateOnlyProvider(t *testing.T) {
	t.Parallel()
	plain := newFake("plain")
	plain.stateOnly = true
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Providers = []authgate.OAuthProvider{newFake("fake"), plain}
	})
	c := a.client()
	res := c.postForm("/api/auth/signin/fake", url.Values{"csrfToken": {c.csrf()}, "json": {"true"}})
	if res.StatusCode != 200 || c.cookie("authgate.pkce.code_verifier") == "" {
		t.Fatalf("POST /signin/fake: %d, pkce cookie %q", res.StatusCode, c.cookie("authgate.pkce.code_verifier"))
	}
	res = c.oauthSignIn("plain", url.Values{"callbackUrl": {"/whoami"}})
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != a.url+"/whoami" {
		t.Fatalf("state-only callback: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if got := c.get("/whoami").body; !strings.HasPrefix(got, "plain:42") {
		t.Errorf("/whoami: %q", got)
	}
	for _, name := range []string{"authgate.state", "authgate.pkce.code_verifier", "authgate.nonce"} {
		if c.cookie(name) != "" {
			t.Errorf("%s is left after the flow", name)
		}
	}
}

// TestOAuthDuplicatedCheckCookie: a second check cookie of the same name
// (planted by a sibling domain: cookie tossing) makes the callback fail
// rather than pick one.
func TestOAuthDuplicatedCheckCookie(t *testing.T) {
	t.Parallel()
	a := newHTTPSOAuthApp(t, newFake("fake"))
	h := a.Handler()
	start := func() (string, []*http.Cookie) {
		w := httpRecorder(h, "GET", "https://app.example/api/auth/csrf", "", nil)
		var tok struct{ CsrfToken string }
		json.Unmarshal(w.Body.Bytes(), &tok)
		w = httpRecorder(h, "POST", "https://app.example/api/auth/signin/fake", "csrfToken="+tok.CsrfToken+"&json=true", w.Result().Cookies())
		var started struct{ URL string }
		json.Unmarshal(w.Body.Bytes(), &started)
		u, _ := url.Parse(started.URL)
		return "code=" + u.Query().Get("code") + "&state=" + u.Query().Get("state"), w.Result().Cookies()
	}
	query, checks := start()
	_, attacker := start()
	for _, planted := range attacker {
		t.Run(planted.Name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "https://app.example/api/auth/callback/fake?"+query, nil)
			for _, c := range checks {
				r.AddCookie(c)
			}
			r.AddCookie(planted)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if loc := w.Header().Get("Location"); w.Code != http.StatusFound || loc != "https://app.example/api/auth/error?error=OAuthCallback" {
				t.Fatalf("callback with a second %s: %d to %q, want OAuthCallback", planted.Name, w.Code, loc)
			}
		})
	}
	// The flow itself is fine: the same request without the planted cookie signs in.
	r := httptest.NewRequest("GET", "https://app.example/api/auth/callback/fake?"+query, nil)
	for _, c := range checks {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if loc := w.Header().Get("Location"); w.Code != http.StatusFound || strings.Contains(loc, "error=") {
		t.Fatalf("the untampered callback: %d to %q", w.Code, loc)
	}
}

// TestAFloodOfBadCallbacksLogsAFewLinesASecond: callback refusals cost the
// sender nothing, so they are rate-limited like bad cookies.
func TestAFloodOfBadCallbacksLogsAFewLinesASecond(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Providers = []authgate.OAuthProvider{newFake("fake")}
	})
	c := a.client()
	for range 200 {
		if res := c.get("/api/auth/callback/fake?code=x&state=y"); !strings.Contains(res.Header.Get("Location"), "error=OAuthCallback") {
			t.Fatalf("a bad callback: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
	}
	a.clk.Advance(time.Second)
	c.get("/api/auth/callback/fake?error=access_denied")
	logs := a.logs.String()
	if n := strings.Count(logs, "event=oauth_callback_refused"); n != 6 {
		t.Errorf("got %d refusal lines for 201 bad callbacks over two seconds, want 6 (5 a second)", n)
	}
	if !strings.Contains(logs, "event=suppressed kind=oauth_callback_refused count=195") {
		t.Errorf("no summary of the 195 suppressed lines:\n%s", logs)
	}
}

// newHTTPSOAuthApp builds the harness's config on an https origin with p as
// its only provider.
func newHTTPSOAuthApp(tb testing.TB, p authgate.OAuthProvider) *authgate.Auth[claims] {
	tb.Helper()
	cfg := newConfig("https://app.example", newClock())
	cfg.Providers = []authgate.OAuthProvider{p}
	a, err := authgate.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// TestOAuthCallbacksAreThrottled: every code exchange is a request to the
// provider, so failed exchanges are charged to the client address's budget
// and, once it is spent, a callback is answered 429 before any request to
// the provider. Successful sign-ins give their charge back.
func TestOAuthCallbacksAreThrottled(t *testing.T) {
	t.Parallel()
	fake := newFake("fake")
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Providers = []authgate.OAuthProvider{fake}
		c.Limiter = authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{PerAddress: authgate.AttemptBudget{Burst: 5, Every: time.Hour}})
	})
	honest := a.client()
	for i := range 10 {
		if res := honest.oauthSignIn("fake", url.Values{}); strings.Contains(res.Header.Get("Location"), "error=") {
			t.Fatalf("successful sign-in %d: %d to %q", i+1, res.StatusCode, res.Header.Get("Location"))
		}
	}
	fake.exchanges.Store(0)

	attacker := a.client().from("198.51.100.7")
	statuses := map[int]int{}
	for range 300 {
		form := url.Values{"csrfToken": {attacker.csrf()}, "json": {"true"}}
		res := attacker.postForm("/api/auth/signin/fake", form)
		var v struct{ URL string }
		json.Unmarshal([]byte(res.body), &v)
		u, _ := url.Parse(v.URL)
		forged := "/api/auth/callback/fake?" + url.Values{"code": {"forged"}, "state": {u.Query().Get("state")}}.Encode()
		res = attacker.get(forged)
		statuses[res.StatusCode]++
		if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if n := fake.exchanges.Load(); n != 5 {
		t.Errorf("300 forged callbacks made %d requests to the provider, want the budget's 5", n)
	}
	if statuses[http.StatusFound] != 5 || statuses[http.StatusTooManyRequests] != 295 {
		t.Errorf("answers: %v, want 5 refusals (302) then 295 × 429", statuses)
	}
	if res := a.client().from("203.0.113.9").oauthSignIn("fake", url.Values{}); strings.Contains(res.Header.Get("Location"), "error=") {
		t.Errorf("a client at another address: %d to %q, want signed in", res.StatusCode, res.Header.Get("Location"))
	}
}
