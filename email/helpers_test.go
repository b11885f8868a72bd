package email_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/email"
	"github.com/authgate/authgate/email/smtptest"
	"github.com/authgate/authgate/sqlstore"
	"github.com/authgate/authgate/sqlstore/pgtest"
)

// The tests run the extension inside a real authgate.Auth behind a real
// httptest server, against a real SMTP server (smtptest, go-smtp on
// loopback, with a password) reached through the real SMTPMailer, and a
// real sqlstore (SQLite by default, PostgreSQL where the test says so).
// The clock is injected; nothing sleeps.

const secret = "0123456789abcdef0123456789abcdef-email-tests"

type claims struct{}

var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Close()
	os.Exit(code)
}

// newClock starts at the wall clock's second (the store deletes tokens
// that expired by it), and moves only when a test advances it.
func newClock() *clock { return &clock{now: time.Now().UTC().Truncate(time.Second)} }

// clock is the injected clock, shared by the app and its store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// openSQLite opens a sqlstore on a new SQLite file.
func openSQLite(t testing.TB, clk *clock) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "auth.db"), sqlstore.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openPostgres opens a sqlstore on a new database of the shared real
// PostgreSQL server (skipped without one, failed under CI=true).
func openPostgres(t testing.TB, clk *clock) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), pg.Server(t).NewDatabase(t), sqlstore.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// options shape one test environment.
type options struct {
	store    *sqlstore.Store // default: a new SQLite file
	smtp     *smtptest.Server
	clk      *clock
	limiter  authgate.Limiter // default: NoLimiter (the throttle tests set one)
	url      string           // the public origin; default: the instance's own
	edit     func(*email.Config)
	editAuth func(*authgate.Config[claims])
}

// env is one app instance: authgate with the e-mail extension, served.
type env struct {
	t      testing.TB
	store  *sqlstore.Store
	smtp   *smtptest.Server
	clk    *clock
	auth   *authgate.Auth[claims]
	ext    *email.Extension[claims]
	srv    *httptest.Server
	url    string      // the public origin (links, redirects)
	direct string      // where this instance listens
	signUp atomic.Bool // the SignIn callback allows new users
	logs   *strings.Builder
	logMu  *sync.Mutex
}

func newEnv(t testing.TB, o options) *env {
	t.Helper()
	if o.smtp == nil {
		o.smtp = smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "s3cret pass"})
	}
	if o.clk == nil {
		o.clk = newClock()
	}
	if o.store == nil {
		o.store = openSQLite(t, o.clk)
	}
	if o.limiter == nil {
		o.limiter = authgate.NoLimiter()
	}
	mailer, err := email.NewSMTPMailer(email.SMTPConfig{URL: o.smtp.URL, From: "Example <no-reply@example.com>"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := email.Config{Mailer: mailer, Limiter: o.limiter, PasswordReset: true}
	if o.edit != nil {
		o.edit(&cfg)
	}
	ext, err := email.New[claims](cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: o.store, smtp: o.smtp, clk: o.clk, ext: ext, logs: &strings.Builder{}, logMu: &sync.Mutex{}}
	e.signUp.Store(true)
	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	e.url, e.direct = e.srv.URL, e.srv.URL
	if o.url != "" {
		e.url = o.url
	}
	ac := authgate.Config[claims]{
		Secrets:    []string{secret},
		URL:        e.url,
		Adapter:    o.store,
		Extensions: []authgate.Extension[claims]{ext},
		Hasher:     authgate.BcryptHasher{Cost: 4},
		Now:        o.clk.Now,
		Logger:     slog.New(slog.NewTextHandler(lockedWriter{e}, nil)),
		Limiter:    authgate.NoLimiter(),
		// The throttle tests speak for other clients through
		// X-Forwarded-For.
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		// Credentials: the address and the password the adapter keeps.
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[claims], error) {
			u, err := o.store.UserByEmail(ctx, c.Get("email"))
			hash := ""
			if err == nil {
				hash, _ = o.store.PasswordHash(ctx, u.ID)
			} else if !errors.Is(err, authgate.ErrNotFound) {
				return nil, err
			}
			if !c.PasswordMatches(hash) || err != nil {
				return nil, nil
			}
			return &authgate.User[claims]{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role}, nil
		},
		Callbacks: authgate.Callbacks[claims]{
			SignIn: func(ctx context.Context, p authgate.SignInParams[claims]) (authgate.SignInDecision, error) {
				if p.User.ID == "" {
					if !e.signUp.Load() {
						return authgate.Deny(), nil
					}
					p.User.Role = "member"
				}
				return authgate.Allow(), nil
			},
		},
	}
	if o.editAuth != nil {
		o.editAuth(&ac)
	}
	e.auth, err = authgate.New(ac)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", e.auth.Handler())
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		s, ok := e.auth.Session(r)
		if !ok {
			io.WriteString(w, "anonymous")
			return
		}
		fmt.Fprintf(w, "%s %s %s %s", s.User.ID, s.User.Email, s.User.Role, strings.Join(s.AMR(), ","))
	})
	h = e.auth.Middleware(mux)
	return e
}

type lockedWriter struct{ e *env }

func (l lockedWriter) Write(p []byte) (int, error) {
	l.e.logMu.Lock()
	defer l.e.logMu.Unlock()
	return l.e.logs.Write(p)
}

// log returns what the instance logged so far.
func (e *env) log() string { e.logMu.Lock(); defer e.logMu.Unlock(); return e.logs.String() }

// addUser stores a user with an address and, when password is not
// empty, a password.
func (e *env) addUser(address, password string) *authgate.AdapterUser {
	e.t.Helper()
	u := &authgate.AdapterUser{Email: address, Name: strings.Split(address, "@")[0], Role: "admin"}
	if err := e.store.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	if password != "" {
		h, err := authgate.BcryptHasher{Cost: 4}.Hash(password)
		if err != nil {
			e.t.Fatal(err)
		}
		if err := e.store.SetPasswordHash(context.Background(), u.ID, h); err != nil {
			e.t.Fatal(err)
		}
	}
	return u
}

// browser is a client with its own cookie jar that does not follow
// redirects, so that every answer can be checked.
type browser struct {
	e    *env
	c    *http.Client
	base string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, base: e.direct, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// on returns a browser with b's cookies that talks to another instance.
func (b *browser) on(e *env) *browser { return &browser{e: e, c: b.c, base: e.direct} }

// target is where a request for path goes: a path or a URL on the public
// origin goes to this browser's instance.
func (b *browser) target(path string) string {
	if rest, ok := strings.CutPrefix(path, b.e.url); ok {
		return b.base + rest
	}
	if !strings.HasPrefix(path, "http") {
		return b.base + path
	}
	return path
}

type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(body)}
}

func (b *browser) get(path string) response {
	b.e.t.Helper()
	return b.method("GET", path)
}

func (b *browser) method(method, path string) response {
	b.e.t.Helper()
	req, _ := http.NewRequest(method, b.target(path), nil)
	return b.do(req)
}

func (b *browser) postForm(path string, form url.Values) response {
	b.e.t.Helper()
	req, _ := http.NewRequest("POST", b.target(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`"csrfToken":"([0-9a-f]+)"`)

func (b *browser) csrf() string {
	b.e.t.Helper()
	m := csrfRE.FindStringSubmatch(b.get("/api/auth/csrf").body)
	if m == nil {
		b.e.t.Fatal("no csrf token")
	}
	return m[1]
}

// requestLink is next-auth/react's signIn("email", {email, redirect:
// false}): the form it posts, with json=true.
func (b *browser) requestLink(address string) response {
	b.e.t.Helper()
	return b.postForm("/api/auth/signin/email", url.Values{"email": {address}, "redirect": {"false"},
		"csrfToken": {b.csrf()}, "callbackUrl": {b.e.url + "/dashboard"}, "json": {"true"}})
}

// forgot posts the forgot-password form with json=true.
func (b *browser) forgot(address string) response {
	b.e.t.Helper()
	return b.postForm("/api/auth/forgot-password", url.Values{"email": {address}, "csrfToken": {b.csrf()},
		"callbackUrl": {b.e.url + "/dashboard"}, "json": {"true"}})
}

var (
	actionRE = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	inputRE  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// submit opens link (the page a mail links to) and posts its form with
// extra fields, as a person clicking the button does. It returns the
// page and the answer to the post.
func (b *browser) submit(link string, extra url.Values) (page, res response) {
	b.e.t.Helper()
	page = b.get(link)
	if page.status != http.StatusOK {
		b.e.t.Fatalf("GET %s: %d, want the page", link, page.status)
	}
	action := actionRE.FindStringSubmatch(page.body)
	if action == nil {
		b.e.t.Fatalf("no form on the page: %s", page.body)
	}
	form := url.Values{}
	for _, m := range inputRE.FindAllStringSubmatch(page.body, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	for k, v := range extra {
		form[k] = v
	}
	return page, b.postForm(htmlUnescape(action[1]), form)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#39;", "'", "&#34;", `"`, "&lt;", "<", "&gt;", ">").Replace(s)
}

// whoami is "anonymous" or "<id> <email> <role> <amr>".
func (b *browser) whoami() string { b.e.t.Helper(); return b.get("/whoami").body }

// nextLink waits for the next mail and returns it with its link to path.
func (e *env) nextLink(path string) (*smtptest.Mail, string) {
	e.t.Helper()
	m := e.smtp.Next(e.t)
	l := m.Link(path)
	if l == "" {
		e.t.Fatalf("no link to %s in the mail: %q", path, m.Text)
	}
	return m, l
}

// signInWithLink requests a link for address, reads it from the mail and
// confirms it; it returns the confirmation's answer.
func (b *browser) signInWithLink(address string) response {
	b.e.t.Helper()
	if res := b.requestLink(address); res.status != http.StatusOK {
		b.e.t.Fatalf("request a link: %d %s", res.status, res.body)
	}
	_, link := b.e.nextLink("/callback/email")
	_, res := b.submit(link, nil)
	return res
}

// location is the redirect target of a 3xx answer, or the JSON url.
func (r response) location() string {
	if l := r.header.Get("Location"); l != "" {
		return l
	}
	if m := regexp.MustCompile(`"url":"([^"]*)"`).FindStringSubmatch(r.body); m != nil {
		return strings.ReplaceAll(m[1], `\u0026`, "&")
	}
	return ""
}
