package authgate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// The one black-box harness of the package's tests: a fake clock, the
// user table and its Authorize, the app factory (newApp in-process,
// newServedApp over a real loopback server), a browser-like client with a
// cookie jar and a chosen client address, the CSRF helper (client.csrf)
// and the log buffer every app writes to.

// claims is the app-specific claim type the tests use.
type claims struct {
	Plan string `json:"plan,omitempty"`
}

// clock is the injectable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

// clockStart is when every app's clock starts.
var clockStart = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func newClock() *clock { return &clock{now: clockStart} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

const (
	secretA = "test-secret-A-0123456789abcdefghijklmnop"
	secretB = "test-secret-B-0123456789abcdefghijklmnop"
	// appURL is the in-process app's origin.
	appURL = "http://app.example"
	// sessionCookie and csrfCookie are the cookie names on http origins.
	sessionCookie = "authgate.session-token"
	csrfCookie    = "authgate.csrf-token"
)

// password72 is exactly bcrypt's limit.
var password72 = strings.Repeat("p", 72)

// passwordUnicode has spaces, an emoji and a combining accent (NFD).
const passwordUnicode = "correct horse 🐎 battery cafe\u0301"

// testUser is a row of the tests' user table.
type testUser struct {
	id, hash, role, plan string
	disabled             bool
}

// userTable is the user table, hashed once with bcrypt at cost 4: alice
// (admin, plan pro), bob (user, plan free), carol (disabled), long (a
// 72-byte password) and emoji (passwordUnicode). Every password but those
// two is "<name>-password".
var userTable = sync.OnceValue(func() map[string]testUser {
	mk := func(pw string) string {
		h, err := authgate.BcryptHasher{Cost: 4}.Hash(pw)
		if err != nil {
			panic(err)
		}
		return h
	}
	return map[string]testUser{
		"alice": {id: "u1", hash: mk("alice-password"), role: "admin", plan: "pro"},
		"bob":   {id: "u2", hash: mk("bob-password"), role: "user", plan: "free"},
		"carol": {id: "u3", hash: mk("carol-password"), role: "user", disabled: true},
		"long":  {id: "u4", hash: mk(password72)},
		"emoji": {id: "u5", hash: mk(passwordUnicode)},
	}
})

// authorize is the tests' Authorize over the user table: one password
// comparison for everyone (an unknown user has hash ""), nil for a wrong
// password, an unknown or a disabled user.
func authorize(ctx context.Context, c *authgate.Credentials) (*authgate.User[claims], error) {
	u, ok := userTable()[c.Username()]
	if !c.PasswordMatches(u.hash) || !ok || u.disabled {
		return nil, nil
	}
	return &authgate.User[claims]{ID: u.id, Name: c.Username(), Email: c.Username() + "@example.com", Role: u.role}, nil
}

// countingHasher is bcrypt at cost 4 that counts comparisons.
type countingHasher struct {
	authgate.BcryptHasher
	compares atomic.Int64
}

func (h *countingHasher) Compare(hash, password string) error {
	h.compares.Add(1)
	return h.BcryptHasher.Compare(hash, password)
}

// newConfig is the tests' app configuration on baseURL: Authorize over the
// user table; the JWT callback copies id, role and plan into the token at
// sign-in and takes a new plan on update; the Session callback copies them
// out.
func newConfig(baseURL string, clk *clock) authgate.Config[claims] {
	return authgate.Config[claims]{
		Secrets:   []string{secretA},
		URL:       baseURL,
		Hasher:    &countingHasher{BcryptHasher: authgate.BcryptHasher{Cost: 4}},
		Now:       clk.Now,
		Logger:    slog.New(slog.DiscardHandler),
		Authorize: authorize,
		Callbacks: authgate.Callbacks[claims]{
			JWT: func(ctx context.Context, p authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
				if p.Trigger == authgate.TriggerSignIn {
					p.Token.Subject = p.User.ID
					p.Token.Role = p.User.Role
					p.Token.Claims.Plan = userTable()[p.User.Name].plan
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

// app is the test app: the protocol handler under /api/auth/, behind the
// middleware with a few routes:
//
//	/whoami   "anonymous" or "<id> <role> <plan>", read with auth.Session
//	/admin    RequireRole("admin")
//	/private  RequireAuth
type app struct {
	t      testing.TB
	auth   *authgate.Auth[claims]
	h      http.Handler // the whole app, middleware included
	url    string       // its origin
	clk    *clock
	hasher *countingHasher // nil when edit replaced the Hasher
	logs   *logBuffer
	srv    *httptest.Server // nil in-process
}

// newApp builds the app on appURL, served in-process by each client's
// transport; edit may change the config first (URL included).
func newApp(t testing.TB, edit func(*authgate.Config[claims])) *app {
	t.Helper()
	return buildApp(t, appURL, edit)
}

// newServedApp builds the app behind a real httptest.Server on loopback.
func newServedApp(t testing.TB, edit func(*authgate.Config[claims])) *app {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	a := buildApp(t, srv.URL, edit)
	h, a.srv = a.h, srv
	return a
}

func buildApp(t testing.TB, baseURL string, edit func(*authgate.Config[claims])) *app {
	t.Helper()
	clk := newClock()
	logs := &logBuffer{}
	cfg := newConfig(baseURL, clk)
	cfg.Logger = logs.logger()
	hasher := cfg.Hasher.(*countingHasher)
	if edit != nil {
		edit(&cfg)
	}
	if cfg.Hasher != authgate.PasswordHasher(hasher) {
		hasher = nil
	}
	auth, err := authgate.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", auth.Handler())
	mux.Handle("/whoami", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := auth.Session(r)
		if !ok {
			io.WriteString(w, "anonymous")
			return
		}
		io.WriteString(w, s.User.ID+" "+s.User.Role+" "+s.Claims.Plan)
	}))
	mux.Handle("/admin", auth.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := auth.Session(r)
		io.WriteString(w, "admin "+s.User.ID+" plan="+s.Claims.Plan)
	})))
	mux.Handle("/private", auth.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "private")
	})))
	return &app{t: t, auth: auth, h: auth.Middleware(mux), url: cfg.URL, clk: clk, hasher: hasher, logs: logs}
}

// serve runs r through the whole app in-process.
func (a *app) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	return w
}

// client is a browser-like client with a cookie jar that does not follow
// redirects. In-process, its requests come from addr.
type client struct {
	t    testing.TB
	app  *app
	hc   *http.Client
	addr string
}

// defaultAddr is the in-process clients' address unless chosen.
const defaultAddr = "192.0.2.1"

// client returns a new client with an empty jar.
func (a *app) client() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		a.t.Fatal(err)
	}
	return a.clientWith(jar, defaultAddr)
}

// from returns a client sharing c's jar whose requests come from addr
// (in-process apps only).
func (c *client) from(addr string) *client {
	if c.app.srv != nil {
		c.t.Fatal("from: a served app's client address is loopback")
	}
	return c.app.clientWith(c.hc.Jar, addr)
}

func (a *app) clientWith(jar http.CookieJar, addr string) *client {
	c := &client{t: a.t, app: a, addr: addr}
	c.hc = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if a.srv != nil {
		c.hc.Transport = a.srv.Client().Transport
	} else {
		c.hc.Transport = handlerTransport{h: a.h, addr: netip.AddrPortFrom(netip.MustParseAddr(addr), 41000).String()}
	}
	return c
}

// handlerTransport is an http.RoundTripper that serves requests with h in
// the same process, as if they came from addr.
type handlerTransport struct {
	h    http.Handler
	addr string
}

func (tr handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body io.Reader = http.NoBody
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	r := httptest.NewRequestWithContext(req.Context(), req.Method, req.URL.String(), body)
	r.Header = req.Header.Clone()
	r.RemoteAddr = tr.addr
	w := httptest.NewRecorder()
	tr.h.ServeHTTP(w, r)
	res := w.Result()
	res.Request = req
	return res, nil
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

// get sends GET path; header adds name, value pairs.
func (c *client) get(path string, header ...string) response {
	c.t.Helper()
	return c.send("GET", path, "", "", header...)
}

// send sends a request with a body of contentType; header adds name,
// value pairs.
func (c *client) send(method, path, contentType, body string, header ...string) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.app.url+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return c.do(req)
}

func (c *client) postForm(path string, form url.Values, header ...string) response {
	c.t.Helper()
	return c.send("POST", path, "application/x-www-form-urlencoded", form.Encode(), header...)
}

func (c *client) postJSON(path string, v any) response {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.send("POST", path, "application/json", string(b))
}

// csrf fetches a CSRF token as next-auth/react's getCsrfToken does; the
// cookie lands in the jar.
func (c *client) csrf() string {
	c.t.Helper()
	res := c.get("/api/auth/csrf")
	var v struct{ CsrfToken string }
	if err := json.Unmarshal([]byte(res.body), &v); err != nil || len(v.CsrfToken) != 64 {
		c.t.Fatalf("GET /csrf: %d %q", res.StatusCode, res.body)
	}
	return v.CsrfToken
}

// signIn posts credentials as signIn("credentials", {redirect: false})
// does; header adds name, value pairs.
func (c *client) signIn(username, password string, header ...string) response {
	c.t.Helper()
	return c.postForm("/api/auth/callback/credentials", url.Values{
		"username": {username}, "password": {password}, "redirect": {"false"},
		"csrfToken": {c.csrf()}, "callbackUrl": {c.app.url + "/whoami"}, "json": {"true"},
	}, header...)
}

// signInForm posts credentials as a plain HTML form does (no json=true).
func (c *client) signInForm(username, password string) response {
	c.t.Helper()
	return c.postForm("/api/auth/callback/credentials", url.Values{
		"username": {username}, "password": {password}, "csrfToken": {c.csrf()}})
}

// signOut posts the sign-out as next-auth/react's signOut({redirect: false}) does.
func (c *client) signOut() response {
	c.t.Helper()
	return c.postForm("/api/auth/signout", url.Values{"csrfToken": {c.csrf()}, "json": {"true"}})
}

// cookies returns the jar's cookies for the app.
func (c *client) cookies() []*http.Cookie {
	u, _ := url.Parse(c.app.url)
	return c.hc.Jar.Cookies(u)
}

// cookie returns the value of the jar's cookie name, or "".
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
	u, _ := url.Parse(c.app.url)
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// sessionSetCookies returns the Set-Cookie lines of res for the session.
func sessionSetCookies(res *http.Response) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range res.Cookies() {
		if strings.Contains(c.Name, "authgate.session-token") {
			out = append(out, c)
		}
	}
	return out
}

// signedIn reports whether res set a session cookie with a value.
func signedIn(res *http.Response) bool {
	for _, c := range sessionSetCookies(res) {
		if c.Value != "" {
			return true
		}
	}
	return false
}

// request builds a server-side request on appURL carrying cookies, for
// driving handlers directly.
func request(method, path string, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(method, appURL+path, nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

// sameResponse fails unless a and b have the same status, headers
// (including Set-Cookie) and body, byte for byte.
func sameResponse(t *testing.T, a, b response) {
	t.Helper()
	if a.StatusCode != b.StatusCode {
		t.Errorf("status: %d vs %d", a.StatusCode, b.StatusCode)
	}
	if !reflect.DeepEqual(a.Header, b.Header) {
		t.Errorf("headers differ:\n%v\n%v", a.Header, b.Header)
	}
	if a.body != b.body {
		t.Errorf("bodies differ:\n%q\n%q", a.body, b.body)
	}
}

// logBuffer captures an app's log output, safe for concurrent writers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
