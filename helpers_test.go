package authgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// claims is the app-specific claim type the tests use.
type claims struct {
	Plan string `json:"plan,omitempty"`
}

// clock is an injectable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

const (
	secretA = "test-secret-A-0123456789abcdefghijklmnop"
	secretB = "test-secret-B-0123456789abcdefghijklmnop"
)

// testUser is a row of the tests' user table.
type testUser struct {
	id, hash, role, plan string
	disabled             bool
}

// users is a tiny user store with bcrypt hashes at the minimum cost.
func users(t testing.TB) map[string]testUser {
	t.Helper()
	h := authgate.BcryptHasher{Cost: 4}
	mk := func(pw string) string {
		s, err := h.Hash(pw)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return map[string]testUser{
		"alice": {id: "u1", hash: mk("alice-password"), role: "admin", plan: "pro"},
		"bob":   {id: "u2", hash: mk("bob-password"), role: "user", plan: "free"},
	}
}

// authorizeFrom is the tests' Authorize over a user table: one password
// comparison for everyone (an unknown user has hash ""), nil for a wrong
// password, an unknown or a disabled user.
func authorizeFrom(db map[string]testUser) func(context.Context, *authgate.Credentials) (*authgate.User[claims], error) {
	return func(ctx context.Context, c *authgate.Credentials) (*authgate.User[claims], error) {
		u, ok := db[c.Username()]
		if !c.PasswordMatches(u.hash) || !ok || u.disabled {
			return nil, nil
		}
		return &authgate.User[claims]{ID: u.id, Name: c.Username(), Email: c.Username() + "@example.com", Role: u.role}, nil
	}
}

// seedConfig is the seed's app: Authorize against the user table, jwt copies
// id, role and the plan into the token at sign-in, session copies them out.
func seedConfig(t testing.TB, baseURL string, clk *clock) authgate.Config[claims] {
	t.Helper()
	db := users(t)
	return authgate.Config[claims]{
		Secrets:   []string{secretA},
		URL:       baseURL,
		Hasher:    authgate.BcryptHasher{Cost: 4},
		Now:       clk.Now,
		Logger:    discardLogger(),
		Authorize: authorizeFrom(db),
		Callbacks: authgate.Callbacks[claims]{
			JWT: func(ctx context.Context, p authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
				if p.Trigger == authgate.TriggerSignIn {
					p.Token.Subject = p.User.ID
					p.Token.Role = p.User.Role
					p.Token.Claims.Plan = db[p.User.Name].plan
				}
				if p.Trigger == authgate.TriggerUpdate && p.Data != nil {
					var d struct{ Plan string }
					if err := json.Unmarshal(p.Data, &d); err != nil {
						return nil, err
					}
					p.Token.Claims.Plan = d.Plan
				}
				return p.Token, nil
			},
			Session: func(ctx context.Context, p authgate.SessionParams[claims]) (*authgate.Session[claims], error) {
				p.Session.User.ID = p.Token.Subject
				p.Session.User.Role = p.Token.Role
				p.Session.Claims = p.Token.Claims
				return p.Session, nil
			},
		},
	}
}

// app is a running test server: the protocol handler, the middleware and a
// few guarded routes.
type app struct {
	t    testing.TB
	srv  *httptest.Server
	auth *authgate.Auth[claims]
	clk  *clock
}

// newApp starts the seed app; edit may change the config first.
func newApp(t testing.TB, edit func(*authgate.Config[claims])) *app {
	t.Helper()
	clk := newClock()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := seedConfig(t, srv.URL, clk)
	if edit != nil {
		edit(&cfg)
	}
	a, err := authgate.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux.Handle("/api/auth/", a.Handler())
	mux.Handle("/whoami", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := authgate.FromContext[claims](r.Context())
		if !ok {
			io.WriteString(w, "anonymous")
			return
		}
		io.WriteString(w, s.User.ID+" "+s.User.Role+" "+s.Claims.Plan)
	}))
	mux.Handle("/admin", a.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := authgate.FromContext[claims](r.Context())
		io.WriteString(w, "admin "+s.User.ID+" plan="+s.Claims.Plan)
	})))
	mux.Handle("/private", a.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "private")
	})))
	srv.Config.Handler = a.Middleware(mux)
	return &app{t: t, srv: srv, auth: a, clk: clk}
}

// client is a browser-like client with a cookie jar that does not follow
// redirects.
type client struct {
	t   testing.TB
	app *app
	hc  *http.Client
}

func (a *app) client() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		a.t.Fatal(err)
	}
	return &client{t: a.t, app: a, hc: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is a finished response with its body read.
type response struct {
	*http.Response
	body string
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{res, string(b)}
}

func (c *client) get(path string, header ...string) response {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.app.srv.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

func (c *client) postForm(path string, form url.Values) response {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.app.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) postJSON(path string, v any) response {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequest("POST", c.app.srv.URL+path, strings.NewReader(string(b)))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req)
}

// csrf fetches a CSRF token as next-auth/react's getCsrfToken does.
func (c *client) csrf() string {
	c.t.Helper()
	res := c.get("/api/auth/csrf")
	var v struct{ CsrfToken string }
	if err := json.Unmarshal([]byte(res.body), &v); err != nil || len(v.CsrfToken) != 64 {
		c.t.Fatalf("GET /csrf: %d %q", res.StatusCode, res.body)
	}
	return v.CsrfToken
}

// signIn posts credentials as signIn("credentials", {redirect: false}) does.
func (c *client) signIn(username, password string) response {
	c.t.Helper()
	return c.postForm("/api/auth/callback/credentials", url.Values{
		"username": {username}, "password": {password}, "redirect": {"false"},
		"csrfToken": {c.csrf()}, "callbackUrl": {c.app.srv.URL + "/whoami"}, "json": {"true"},
	})
}

// cookies returns the jar's cookies for the server.
func (c *client) cookies() []*http.Cookie {
	u, _ := url.Parse(c.app.srv.URL)
	return c.hc.Jar.Cookies(u)
}

func (c *client) cookie(name string) string {
	for _, ck := range c.cookies() {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// setCookie replaces a cookie in the jar.
func (c *client) setCookie(name, value string) {
	u, _ := url.Parse(c.app.srv.URL)
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// sessionCookies returns the Set-Cookie lines of res for the session.
func sessionSetCookies(res response) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range res.Cookies() {
		if strings.HasPrefix(c.Name, "authgate.session-token") || strings.HasPrefix(c.Name, "__Secure-authgate.session-token") {
			out = append(out, c)
		}
	}
	return out
}

// request builds a server-side request carrying the given cookies, for
// driving handlers without a network.
func request(method, target string, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
