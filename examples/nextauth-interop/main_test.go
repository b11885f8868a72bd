package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The example's end-to-end test: the unmodified next-auth 4 and @auth/core
// packages (run by next-app.mjs) and authgate share one origin and one
// session cookie. Skipped locally without node or `npm ci`; failed under
// CI=true.

const secret = "interop-secret-0123456789abcdefghijklmnop"

func requireNode(t *testing.T) {
	t.Helper()
	miss := func(why string) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true: .ci/run installs node and runs npm ci here)", why)
		}
		t.Skipf("%s; run `npm ci` in examples/nextauth-interop", why)
	}
	if _, err := exec.LookPath("node"); err != nil {
		miss("node is not installed")
	}
	for _, p := range []string{"next-auth/package.json", "@auth/core/package.json"} {
		if _, err := os.Stat(filepath.Join("node_modules", p)); err != nil {
			miss("node_modules/" + p + " is missing")
		}
	}
}

// site is the shared origin: the Go handler in front, the Node app behind.
type site struct {
	t      *testing.T
	srv    *httptest.Server
	format string
	base   string // NextAuth's base path: /api/auth or /api/authjs
	token  string // the Node route returning getToken's result
	cookie string // the session cookie's name
}

func newSite(t *testing.T, format string) *site {
	t.Helper()
	requireNode(t)
	var h atomic.Pointer[http.Handler]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*h.Load()).ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)

	cmd := exec.Command("node", "next-app.mjs")
	cmd.Env = append(os.Environ(), "AUTH_SECRET="+secret, "NEXTAUTH_URL="+srv.URL, "PORT=0")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "listening ") {
				line <- strings.TrimPrefix(sc.Text(), "listening ")
			}
		}
	}()
	var port string
	select {
	case port = <-line:
	case <-time.After(30 * time.Second):
		t.Fatal("the Node app did not start")
	}
	node, _ := url.Parse("http://127.0.0.1:" + port)
	// The Go server's clock is 2 s behind the Node app's, as two servers'
	// clocks may be: a token NextAuth re-issues is then issued after a
	// revocation Go made in the same (real) second.
	behind := func() time.Time { return time.Now().Add(-2 * time.Second) }
	handler, err := NewHandler(Options{URL: srv.URL, Secret: secret, Format: format, Node: node, Now: behind})
	if err != nil {
		t.Fatal(err)
	}
	h.Store(&handler)
	s := &site{t: t, srv: srv, format: format, base: "/api/auth", token: "/api/node/token", cookie: "next-auth.session-token"}
	if format == "authjs-v5" {
		s.base, s.token, s.cookie = "/api/authjs", "/api/node/token5", "authjs.session-token"
	}
	return s
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	s  *site
	hc *http.Client
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{s: s, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values, header ...string) (int, map[string]any) {
	b.s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.s.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.hc.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer res.Body.Close()
	var v map[string]any
	raw, _ := io.ReadAll(res.Body)
	json.Unmarshal(raw, &v)
	return res.StatusCode, v
}

// sessionCookies returns the jar's session cookies (whole or chunks).
func (b *browser) sessionCookies() []*http.Cookie {
	u, _ := url.Parse(b.s.srv.URL)
	var out []*http.Cookie
	for _, c := range b.hc.Jar.Cookies(u) {
		if strings.HasPrefix(c.Name, b.s.cookie) {
			out = append(out, c)
		}
	}
	return out
}

// nextSignIn signs name in through NextAuth's own credentials flow.
func (b *browser) nextSignIn(name string) {
	b.s.t.Helper()
	_, csrf := b.do("GET", b.s.base+"/csrf", nil)
	tok, _ := csrf["csrfToken"].(string)
	if tok == "" {
		b.s.t.Fatalf("no CSRF token from %s/csrf: %v", b.s.base, csrf)
	}
	code, _ := b.do("POST", b.s.base+"/callback/credentials", url.Values{"csrfToken": {tok}, "username": {name}, "password": {"pw-" + name}, "json": {"true"}})
	if code != http.StatusOK && code != http.StatusFound {
		b.s.t.Fatalf("NextAuth sign-in of %s: status %d", name, code)
	}
	if len(b.sessionCookies()) == 0 {
		b.s.t.Fatalf("NextAuth set no %s for %s", b.s.cookie, name)
	}
}

// goMe returns what the Go handler behind authgate.Middleware sees.
func (b *browser) goMe(header ...string) (int, map[string]any) {
	b.s.t.Helper()
	return b.do("GET", "/api/go/me", nil, header...)
}

func field(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

func TestSharedSessions(t *testing.T) {
	for _, format := range []string{"nextauth-v4", "authjs-v5"} {
		t.Run(format, func(t *testing.T) {
			s := newSite(t, format)

			t.Run("NextAuth signs in, Go reads the session", func(t *testing.T) {
				b := s.browser()
				b.nextSignIn("alice")
				code, me := b.goMe()
				if code != 200 || field(me, "user", "id") != "u-alice" || field(me, "user", "role") != "admin" || field(me, "claims", "plan") != "pro" || field(me, "user", "email") != "alice@example.com" {
					t.Fatalf("Go saw %d %v", code, me)
				}
			})
			t.Run("a chunked NextAuth cookie joins in Go", func(t *testing.T) {
				b := s.browser()
				b.nextSignIn("bigalice")
				if n := len(b.sessionCookies()); n < 2 {
					t.Fatalf("NextAuth set %d session cookies, want chunks", n)
				}
				if code, me := b.goMe(); code != 200 || field(me, "user", "id") != "u-bigalice" {
					t.Fatalf("Go saw %d %v", code, me)
				}
			})
			t.Run("Go signs in, NextAuth reads the session and the token", func(t *testing.T) {
				b := s.browser()
				if code, _ := b.do("POST", "/api/go/signin", url.Values{"username": {"bob"}, "password": {"pw-bob"}}); code != 200 {
					t.Fatalf("Go sign-in: %d", code)
				}
				code, sess := b.do("GET", s.base+"/session", nil)
				if code != 200 || field(sess, "user", "name") != "bob" || field(sess, "user", "id") != "u-bob" || field(sess, "plan") != "go" {
					t.Fatalf("NextAuth's session: %d %v", code, sess)
				}
				if format == "nextauth-v4" {
					// getServerSession, as a Next.js route handler calls it.
					if code, sess := b.do("GET", "/api/node/session", nil); code != 200 || field(sess, "user", "id") != "u-bob" || field(sess, "plan") != "go" {
						t.Fatalf("getServerSession: %d %v", code, sess)
					}
				}
				// getToken is what next-auth's middleware (withAuth) reads.
				code, tok := b.do("GET", s.token, nil)
				if code != 200 || tok["sub"] != "u-bob" || tok["id"] != "u-bob" || tok["role"] != "user" || tok["aud"] != s.srv.URL || tok["auth_time"] == nil || tok["sid"] == nil {
					t.Fatalf("getToken: %d %v", code, tok)
				}
				// NextAuth re-issued the cookie (new jti, claims copied): Go still reads it.
				if code, me := b.goMe(); code != 200 || field(me, "user", "id") != "u-bob" || field(me, "claims", "plan") != "go" {
					t.Fatalf("Go after NextAuth's refresh: %d %v", code, me)
				}
			})
			t.Run("a chunked Go cookie joins in NextAuth", func(t *testing.T) {
				b := s.browser()
				if code, _ := b.do("POST", "/api/go/signin", url.Values{"username": {"bigbob"}, "password": {"pw-bigbob"}}); code != 200 {
					t.Fatalf("Go sign-in: %d", code)
				}
				if n := len(b.sessionCookies()); n < 2 {
					t.Fatalf("Go set %d session cookies, want chunks", n)
				}
				if code, sess := b.do("GET", s.base+"/session", nil); code != 200 || field(sess, "user", "name") != "bigbob" {
					t.Fatalf("NextAuth's session: %d %.200v", code, sess)
				}
			})
			t.Run("signing out in Go also ends the copy NextAuth refreshed", func(t *testing.T) {
				b := s.browser()
				b.do("POST", "/api/go/signin", url.Values{"username": {"carol"}, "password": {"pw-carol"}})
				b.do("GET", s.base+"/session", nil) // NextAuth re-issues: a new jti
				refreshed := b.sessionCookies()
				b.do("POST", "/api/go/signout", nil)
				thief := s.browser()
				u, _ := url.Parse(s.srv.URL)
				thief.hc.Jar.SetCookies(u, refreshed)
				if code, me := thief.goMe(); code != 401 {
					t.Fatalf("the refreshed copy of a signed-out session: %d %v", code, me)
				}
			})
			// A thief keeps a copy of a NextAuth session; its owner signs out
			// through Go; the thief has NextAuth re-issue the copy (new jti,
			// new iat), then calls the Go API with it.
			for _, tc := range []struct {
				name, user, signout string
			}{
				{"signing out in Go ends a NextAuth session with sid and auth_time, also once NextAuth re-issued a copy", "grace", "/api/go/signout"},
				{"signing out in Go ends a NextAuth session without sid or auth_time, also once NextAuth re-issued a copy", "legacyerin", "/api/go/signout"},
				{"signing out everywhere in Go ends a NextAuth session without auth_time, also once NextAuth re-issued a copy", "legacyfrank", "/api/go/signout-everywhere"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					b := s.browser()
					b.nextSignIn(tc.user)
					if code, me := b.goMe(); code != 200 || field(me, "user", "id") != "u-"+tc.user {
						t.Fatalf("Go before the sign-out: %d %v", code, me)
					}
					thief := s.browser()
					u, _ := url.Parse(s.srv.URL)
					thief.hc.Jar.SetCookies(u, b.sessionCookies())
					if code, _ := b.do("POST", tc.signout, nil); code != 200 {
						t.Fatalf("POST %s: %d", tc.signout, code)
					}
					if code, sess := thief.do("GET", s.base+"/session", nil); code != 200 || field(sess, "user", "id") != "u-"+tc.user {
						t.Fatalf("NextAuth's refresh of the thief's copy: %d %v", code, sess)
					}
					if code, me := thief.goMe(); code != 401 {
						t.Fatalf("Go accepted the re-issued copy of a signed-out session: %d %v", code, me)
					}
				})
			}
			t.Run("a NextAuth token as a bearer token", func(t *testing.T) {
				b := s.browser()
				b.nextSignIn("dave")
				cs := b.sessionCookies()
				server := s.browser() // no cookies: a server-to-server call
				if code, me := server.goMe("Authorization", "Bearer "+url.QueryEscape(cs[0].Value)); code != 200 || field(me, "user", "id") != "u-dave" {
					t.Fatalf("bearer: %d %v", code, me)
				}
			})
			t.Run("a forged cookie is refused in Go", func(t *testing.T) {
				b := s.browser()
				u, _ := url.Parse(s.srv.URL)
				b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: s.cookie, Value: "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA", Path: "/"}})
				if code, _ := b.goMe(); code != 401 {
					t.Fatalf("a forged cookie: %d", code)
				}
			})
		})
	}
}
