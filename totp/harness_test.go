package totp_test

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
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/sqlstore"
	"github.com/authgate/authgate/sqlstore/pgtest"
	"github.com/authgate/authgate/totp"
	"github.com/pquerna/otp"
	otptotp "github.com/pquerna/otp/totp"
)

// The black-box harness: an app with authgate, sqlstore (SQLite or a real
// PostgreSQL) and the TOTP factor, an injected clock, and a browser-like
// client with a cookie jar that calls the app in-process.

const (
	secretA = "totp-test-secret-A-0123456789abcdefghij"
	secretB = "totp-test-secret-B-0123456789abcdefghij"
	appURL  = "http://app.example"
)

// clock is the injected clock every app of a test shares.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	// Mid-step, so a step either side is 15 s away.
	return &clock{now: time.Date(2026, 11, 29, 12, 0, 15, 0, time.UTC)}
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// users are the test users: alice (admin) and bob (user), password
// "<name>-password", hashed at bcrypt's minimum cost.
var users = sync.OnceValue(func() map[string]struct{ id, role, hash string } {
	mk := func(pw string) string {
		h, err := authgate.BcryptHasher{Cost: 4}.Hash(pw)
		if err != nil {
			panic(err)
		}
		return h
	}
	return map[string]struct{ id, role, hash string }{
		"alice": {"u-alice", "admin", mk("alice-password")},
		"bob":   {"u-bob", "user", mk("bob-password")},
	}
})

func authorize(ctx context.Context, c *authgate.Credentials) (*authgate.User[struct{}], error) {
	u, ok := users()[c.Username()]
	if !c.PasswordMatches(u.hash) || !ok {
		return nil, nil
	}
	return &authgate.User[struct{}]{ID: u.id, Name: c.Username(), Email: c.Username() + "@example.com", Role: u.role}, nil
}

// countingLimiter is the memory limiter, counting the outcomes recorded.
type countingLimiter struct {
	*authgate.MemoryLimiter
	failed, succeeded atomic.Int64
}

func (l *countingLimiter) Record(ctx context.Context, a authgate.Attempt, o authgate.Outcome) error {
	switch o {
	case authgate.AttemptFailed:
		l.failed.Add(1)
	case authgate.AttemptSucceeded:
		l.succeeded.Add(1)
	}
	return l.MemoryLimiter.Record(ctx, a, o)
}

// app is one authgate instance with the factor.
type app struct {
	t      *testing.T
	auth   *authgate.Auth[struct{}]
	mfa    *totp.Factor[struct{}]
	h      http.Handler
	clk    *clock
	store  *sqlstore.Store
	limits *countingLimiter
	logs   *bytes.Buffer
}

// options adjust an app before New.
type options struct {
	secrets []string
	limiter authgate.MemoryLimiterOptions
	cfg     totp.Config
}

// newApp builds an app on store (opened with clk's time, see backends)
// with clk; with no store, a new SQLite file and a new clock.
func newApp(t *testing.T, store *sqlstore.Store, clk *clock, opt options) *app {
	t.Helper()
	if store == nil {
		clk = newClock()
		store = openSQLite(t, clk)
	}
	if opt.secrets == nil {
		opt.secrets = []string{secretA}
	}
	if opt.cfg.Issuer == "" {
		opt.cfg.Issuer = "Acme"
	}
	a := &app{t: t, clk: clk, store: store, logs: &bytes.Buffer{},
		limits: &countingLimiter{MemoryLimiter: authgate.NewMemoryLimiter(opt.limiter)}}
	a.mfa = totp.New[struct{}](opt.cfg)
	var err error
	a.auth, err = authgate.New(authgate.Config[struct{}]{
		Secrets:    opt.secrets,
		URL:        appURL,
		Now:        clk.Now,
		Hasher:     authgate.BcryptHasher{Cost: 4},
		Logger:     slog.New(slog.NewTextHandler(a.logs, nil)),
		Adapter:    store,
		Limiter:    a.limits,
		Authorize:  authorize,
		Extensions: []authgate.Extension[struct{}]{a.mfa},
	})
	if err != nil {
		t.Fatalf("authgate.New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", a.auth.Handler())
	mux.HandleFunc("/amr", func(w http.ResponseWriter, r *http.Request) {
		s, ok := a.auth.Session(r)
		if !ok {
			http.Error(w, "anonymous", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, strings.Join(s.AMR(), " "))
	})
	mux.Handle("/admin", a.mfa.RequireSecondFactor("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "admin page")
	})))
	// A stand-in for a passkey sign-in (the passkey module's AMR has "mfa").
	mux.HandleFunc("POST /test/passkey-signin", func(w http.ResponseWriter, r *http.Request) {
		u := users()[r.URL.Query().Get("user")]
		_, err := a.auth.CompleteSignIn(w, r, &authgate.User[struct{}]{ID: u.id, Role: u.role},
			authgate.SignInMethod{Account: authgate.Account{Provider: "passkey", Type: "webauthn", ProviderAccountID: u.id}, AMR: []string{"hwk", "user", "mfa"}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	a.h = a.auth.Middleware(mux)
	return a
}

// openSQLite opens a store on a new SQLite file whose clock (which
// decides when tokens expire) is clk.
func openSQLite(t *testing.T, clk *clock) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "authgate.db"), sqlstore.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// pg is the PostgreSQL server the package's tests share.
var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Close()
	os.Exit(code)
}

// openPostgres opens a store on a new database of the shared server
// (skipped without PostgreSQL, failed under CI=true) whose clock is clk.
func openPostgres(t *testing.T, clk *clock) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), pg.Server(t).NewDatabase(t), sqlstore.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// backends are the stores every flow test runs on.
var backends = []struct {
	name string
	open func(t *testing.T, clk *clock) *sqlstore.Store
}{
	{"SQLite", openSQLite},
	{"PostgreSQL", openPostgres},
}

// client is a browser: a cookie jar, requests served in-process from addr.
type client struct {
	t    *testing.T
	app  *app
	hc   *http.Client
	addr string
}

func (a *app) client() *client { return a.clientFrom("192.0.2.1") }

func (a *app) clientFrom(addr string) *client {
	jar, _ := cookiejar.New(nil)
	c := &client{t: a.t, app: a, addr: addr}
	c.hc = &http.Client{Jar: jar, Transport: c, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return c
}

// RoundTrip serves req with the app in-process.
func (c *client) RoundTrip(req *http.Request) (*http.Response, error) {
	var body io.Reader = http.NoBody
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		body = bytes.NewReader(b)
	}
	r := httptest.NewRequestWithContext(req.Context(), req.Method, req.URL.String(), body)
	r.Header = req.Header.Clone()
	r.RemoteAddr = netip.AddrPortFrom(netip.MustParseAddr(c.addr), 40000).String()
	w := httptest.NewRecorder()
	c.app.h.ServeHTTP(w, r)
	res := w.Result()
	res.Request = req
	return res, nil
}

type response struct {
	*http.Response
	body string
}

func (c *client) send(method, path, contentType, body string, header ...string) response {
	c.t.Helper()
	req, _ := http.NewRequest(method, appURL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res, string(b)}
}

func (c *client) get(path string, header ...string) response {
	c.t.Helper()
	return c.send("GET", path, "", "", header...)
}

func (c *client) csrf() string {
	c.t.Helper()
	var v struct{ CsrfToken string }
	json.Unmarshal([]byte(c.get("/api/auth/csrf").body), &v)
	return v.CsrfToken
}

// credentials posts fields (name, value, …) as next-auth/react's
// signIn("credentials", {…, redirect: false}) does.
func (c *client) credentials(kv ...string) response {
	c.t.Helper()
	form := url.Values{"redirect": {"false"}, "csrfToken": {c.csrf()}, "callbackUrl": {appURL + "/"}, "json": {"true"}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	return c.send("POST", "/api/auth/callback/credentials", "application/x-www-form-urlencoded", form.Encode())
}

func (c *client) password(user string) response {
	c.t.Helper()
	return c.credentials("username", user, "password", user+"-password")
}

// api posts a JSON body with the CSRF token to an endpoint of the factor.
func (c *client) api(path string, fields map[string]string) response {
	c.t.Helper()
	body := map[string]string{"csrfToken": c.csrf()}
	for k, v := range fields {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	return c.send("POST", "/api/auth"+path, "application/json", string(b))
}

// errorOf returns the error parameter of a {url} answer.
func errorOf(t *testing.T, res response) string {
	t.Helper()
	var v struct{ URL string }
	if err := json.Unmarshal([]byte(res.body), &v); err != nil {
		t.Fatalf("not a {url} answer: %d %q", res.StatusCode, res.body)
	}
	u, err := url.Parse(v.URL)
	if err != nil || !u.IsAbs() {
		t.Fatalf("url %q is not absolute", v.URL)
	}
	return u.Query().Get("error")
}

// cookie returns the value of the jar's cookie name.
func (c *client) cookie(name string) string {
	u, _ := url.Parse(appURL)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func (c *client) setCookie(name, value string) {
	u, _ := url.Parse(appURL)
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func (c *client) amr() string {
	c.t.Helper()
	res := c.get("/amr")
	if res.StatusCode != 200 {
		return "anonymous"
	}
	return res.body
}

// code returns the code of secret (base32) at t, as an authenticator app
// computes it.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := otptotp.GenerateCodeCustom(secret, at, otptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolled is a user who set up and confirmed TOTP.
type enrolled struct {
	secret   string
	recovery []string
}

// enrol signs user in with the password, sets up and confirms TOTP (with
// the code of the current step) and signs the client out; the clock then
// moves to the next step, so the confirming code is not the current one.
func (c *client) enrol(user string) enrolled {
	c.t.Helper()
	if res := c.password(user); res.StatusCode != 200 {
		c.t.Fatalf("password sign-in of %s: %d %s", user, res.StatusCode, res.body)
	}
	e := c.enrolIn()
	c.signOut()
	return e
}

// enrolIn sets up and confirms TOTP in c's session; the clock then moves
// to the next step.
func (c *client) enrolIn() enrolled {
	c.t.Helper()
	res := c.api("/mfa/totp/setup", nil)
	var setup struct{ Secret, OtpauthURL, QRCode string }
	if err := json.Unmarshal([]byte(res.body), &setup); res.StatusCode != 200 || err != nil || setup.Secret == "" {
		c.t.Fatalf("setup: %d %s", res.StatusCode, res.body)
	}
	res = c.api("/mfa/totp/confirm", map[string]string{"code": code(c.t, setup.Secret, c.app.clk.Now())})
	var conf struct{ RecoveryCodes []string }
	if err := json.Unmarshal([]byte(res.body), &conf); res.StatusCode != 200 || err != nil || len(conf.RecoveryCodes) != totp.RecoveryCodeCount {
		c.t.Fatalf("confirm: %d %s", res.StatusCode, res.body)
	}
	c.app.clk.Advance(30 * time.Second)
	return enrolled{secret: setup.Secret, recovery: conf.RecoveryCodes}
}

func (c *client) signOut() {
	c.t.Helper()
	form := url.Values{"csrfToken": {c.csrf()}, "json": {"true"}}
	c.send("POST", "/api/auth/signout", "application/x-www-form-urlencoded", form.Encode())
}
