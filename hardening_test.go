package authgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// The tests in this file prove the defences of issue 4 (SECURITY.md names
// each one). They drive the handler in-process, so that the client address
// (RemoteAddr) can be chosen, with an injected clock and a hasher that
// counts comparisons.

const hgBase = "https://app.example"

// countingHasher is bcrypt at cost 4 that counts comparisons.
type countingHasher struct {
	authgate.BcryptHasher
	compares atomic.Int64
}

func (h *countingHasher) Compare(hash, password string) error {
	h.compares.Add(1)
	return h.BcryptHasher.Compare(hash, password)
}

// password72 is exactly bcrypt's limit.
var password72 = strings.Repeat("p", 72)

// passwordUnicode has spaces, an emoji and a combining accent (NFD).
const passwordUnicode = "correct horse 🐎 battery cafe\u0301"

// gate is an Auth driven in-process.
type gate struct {
	t      *testing.T
	auth   *authgate.Auth[claims]
	h      http.Handler
	clk    *clock
	hasher *countingHasher
	// csrfToken and csrfCookie are one valid pair, reused by every request
	// so that responses can be compared byte for byte.
	csrfToken  string
	csrfCookie *http.Cookie
}

func newGate(t *testing.T, edit func(*authgate.Config[claims])) *gate {
	t.Helper()
	hasher := &countingHasher{BcryptHasher: authgate.BcryptHasher{Cost: 4}}
	mk := func(pw string) string {
		h, err := hasher.Hash(pw)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	db := map[string]testUser{
		"alice": {id: "u1", hash: mk("alice-password")},
		"bob":   {id: "u2", hash: mk("bob-password")},
		"carol": {id: "u3", hash: mk("carol-password"), disabled: true},
		"long":  {id: "u4", hash: mk(password72)},
		"emoji": {id: "u5", hash: mk(passwordUnicode)},
	}
	clk := newClock()
	cfg := authgate.Config[claims]{
		Secrets:   []string{secretA},
		URL:       hgBase,
		Hasher:    hasher,
		Now:       clk.Now,
		Logger:    discardLogger(),
		Authorize: authorizeFrom(db),
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := authgate.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	g := &gate{t: t, auth: a, h: a.Handler(), clk: clk, hasher: hasher}
	rec := httptest.NewRecorder()
	g.h.ServeHTTP(rec, httptest.NewRequest("GET", hgBase+"/api/auth/csrf", nil))
	var v struct{ CsrfToken string }
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.CsrfToken == "" {
		t.Fatalf("GET /csrf: %d %q", rec.Code, rec.Body)
	}
	g.csrfToken = v.CsrfToken
	for _, c := range rec.Result().Cookies() {
		if strings.Contains(c.Name, "csrf-token") {
			g.csrfCookie = c
		}
	}
	if g.csrfCookie == nil {
		t.Fatal("GET /csrf set no CSRF cookie")
	}
	return g
}

// signIn posts credentials from the client address addr (host only) as
// next-auth/react does; header adds name, value pairs.
func (g *gate) signIn(addr, username, password string, header ...string) *httptest.ResponseRecorder {
	g.t.Helper()
	form := url.Values{"username": {username}, "password": {password}, "csrfToken": {g.csrfToken},
		"callbackUrl": {"/dashboard"}, "json": {"true"}}
	return g.post("/api/auth/callback/credentials", addr, "application/x-www-form-urlencoded", form.Encode(), header...)
}

// signInForm posts credentials as a plain HTML form (no json=true).
func (g *gate) signInForm(addr, username, password string) *httptest.ResponseRecorder {
	g.t.Helper()
	form := url.Values{"username": {username}, "password": {password}, "csrfToken": {g.csrfToken}}
	return g.post("/api/auth/callback/credentials", addr, "application/x-www-form-urlencoded", form.Encode())
}

func (g *gate) post(path, addr, contentType, body string, header ...string) *httptest.ResponseRecorder {
	g.t.Helper()
	r := httptest.NewRequest("POST", hgBase+path, strings.NewReader(body))
	r.RemoteAddr = netip.AddrPortFrom(netip.MustParseAddr(addr), 41000).String()
	r.Header.Set("Content-Type", contentType)
	r.AddCookie(g.csrfCookie)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	g.h.ServeHTTP(rec, r)
	return rec
}

// signedIn reports whether rec set a session cookie.
func signedIn(rec *httptest.ResponseRecorder) bool {
	for _, c := range rec.Result().Cookies() {
		if strings.Contains(c.Name, "session-token") && c.Value != "" {
			return true
		}
	}
	return false
}

func TestThrottling(t *testing.T) {
	t.Run("the eleventh attempt against one account is answered 429 with Retry-After, even with the right password", func(t *testing.T) {
		g := newGate(t, nil)
		for i := range 10 {
			if rec := g.signIn("198.51.100.7", "alice", "wrong"); rec.Code != 401 {
				t.Fatalf("failure %d: got %d, want 401", i+1, rec.Code)
			}
		}
		before := g.hasher.compares.Load()
		rec := g.signIn("198.51.100.7", "alice", "alice-password")
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "90" {
			t.Fatalf("11th attempt: got %d Retry-After %q, want 429 and 90", rec.Code, rec.Header().Get("Retry-After"))
		}
		var body struct{ URL string }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || !strings.Contains(body.URL, "error=TooManyAttempts") {
			t.Errorf("11th attempt body: got %q, want a url with error=TooManyAttempts", rec.Body)
		}
		if signedIn(rec) {
			t.Error("11th attempt set a session cookie")
		}
		if n := g.hasher.compares.Load() - before; n != 0 {
			t.Errorf("a throttled attempt ran %d password comparisons, want 0 (throttle before bcrypt)", n)
		}

		g.clk.Advance(90 * time.Second)
		if rec := g.signIn("198.51.100.7", "alice", "alice-password"); rec.Code != 200 || !signedIn(rec) {
			t.Errorf("after Retry-After: got %d, want 200 and a session", rec.Code)
		}
	})

	t.Run("a different account from another address is unaffected, and so is the victim from their own address", func(t *testing.T) {
		g := newGate(t, nil)
		for range 10 {
			g.signIn("198.51.100.7", "alice", "wrong")
		}
		if rec := g.signIn("198.51.100.7", "alice", "wrong"); rec.Code != 429 {
			t.Fatalf("attacker's 11th attempt: got %d, want 429", rec.Code)
		}
		if rec := g.signIn("203.0.113.20", "bob", "bob-password"); rec.Code != 200 || !signedIn(rec) {
			t.Errorf("bob from another address: got %d, want 200 and a session", rec.Code)
		}
		if rec := g.signIn("203.0.113.21", "alice", "alice-password"); rec.Code != 200 || !signedIn(rec) {
			t.Errorf("alice from her own address during the attack: got %d, want 200 and a session", rec.Code)
		}
	})

	t.Run("case and space variants of a username count as one account", func(t *testing.T) {
		g := newGate(t, nil)
		for i, name := range []string{"alice", "Alice", " alice", "ALICE ", "aLiCe", "alice", "alice\t", "Alice", "alice", "ALICE"} {
			if rec := g.signIn("198.51.100.7", name, "wrong"); rec.Code != 401 {
				t.Fatalf("failure %d (%q): got %d, want 401", i+1, name, rec.Code)
			}
		}
		if rec := g.signIn("198.51.100.7", "alice", "wrong"); rec.Code != 429 {
			t.Errorf("11th attempt: got %d, want 429", rec.Code)
		}
	})

	t.Run("unknown and existing accounts are throttled with identical answers", func(t *testing.T) {
		g := newGate(t, nil)
		for range 10 {
			g.signIn("198.51.100.7", "alice", "wrong")
			g.signIn("198.51.100.8", "nobody", "wrong")
		}
		existing := g.signIn("198.51.100.7", "alice", "wrong")
		unknown := g.signIn("198.51.100.8", "nobody", "wrong")
		if existing.Code != 429 {
			t.Fatalf("got %d, want 429", existing.Code)
		}
		sameResponse(t, existing, unknown)
	})
}

// sameResponse fails unless a and b have the same status, headers
// (including Set-Cookie) and body, byte for byte.
func sameResponse(t *testing.T, a, b *httptest.ResponseRecorder) {
	t.Helper()
	if a.Code != b.Code {
		t.Errorf("status: %d vs %d", a.Code, b.Code)
	}
	if !reflect.DeepEqual(a.Header(), b.Header()) {
		t.Errorf("headers differ:\n%v\n%v", a.Header(), b.Header())
	}
	if a.Body.String() != b.Body.String() {
		t.Errorf("bodies differ:\n%q\n%q", a.Body, b.Body)
	}
}

func TestEnumerationSafety(t *testing.T) {
	t.Run("every failed attempt costs exactly one password comparison", func(t *testing.T) {
		g := newGate(t, nil)
		for i, tc := range []struct {
			name, username, password string
			code, compares           int
		}{
			{"unknown user", "nobody", "whatever", 401, 1},
			{"disabled user with the right password", "carol", "carol-password", 401, 1},
			{"wrong password", "alice", "wrong", 401, 1},
			{"empty password", "alice", "", 401, 1},
			{"right password", "alice", "alice-password", 200, 1},
		} {
			before := g.hasher.compares.Load()
			rec := g.signIn(netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)}).String(), tc.username, tc.password)
			if rec.Code != tc.code {
				t.Errorf("%s: got %d, want %d", tc.name, rec.Code, tc.code)
			}
			if n := g.hasher.compares.Load() - before; n != int64(tc.compares) {
				t.Errorf("%s: %d comparisons, want %d", tc.name, n, tc.compares)
			}
		}
	})

	t.Run("unknown user, disabled user and wrong password get byte-identical answers", func(t *testing.T) {
		for _, mode := range []struct {
			name string
			send func(g *gate, addr, user, pw string) *httptest.ResponseRecorder
		}{
			{"json", func(g *gate, addr, user, pw string) *httptest.ResponseRecorder { return g.signIn(addr, user, pw) }},
			{"html form", (*gate).signInForm},
		} {
			t.Run(mode.name, func(t *testing.T) {
				g := newGate(t, nil)
				wrong := mode.send(g, "198.51.100.1", "alice", "wrong")
				if wrong.Code == 200 && mode.name == "json" || signedIn(wrong) {
					t.Fatalf("wrong password: got %d %q", wrong.Code, wrong.Body)
				}
				sameResponse(t, wrong, mode.send(g, "198.51.100.2", "nobody", "wrong"))
				sameResponse(t, wrong, mode.send(g, "198.51.100.3", "carol", "carol-password"))
				sameResponse(t, wrong, mode.send(g, "198.51.100.4", "alice", "alice-password"+"X"))
			})
		}
	})

	t.Run("a 73-byte password whose first 72 bytes are right does not sign in", func(t *testing.T) {
		g := newGate(t, nil)
		if rec := g.signIn("198.51.100.1", "long", password72+"X"); rec.Code != 401 || signedIn(rec) {
			t.Errorf("72 bytes + X: got %d (session %v), want 401 and no session", rec.Code, signedIn(rec))
		}
		if rec := g.signIn("198.51.100.2", "long", password72+strings.Repeat("X", 10000)); rec.Code != 401 || signedIn(rec) {
			t.Errorf("72 bytes + 10000: got %d, want 401 and no session", rec.Code)
		}
		if rec := g.signIn("198.51.100.3", "long", password72); rec.Code != 200 || !signedIn(rec) {
			t.Errorf("the exact 72 bytes: got %d, want 200 and a session", rec.Code)
		}
		if err := authgate.CheckPassword(mustHash(t, password72), password72+"X"); err == nil {
			t.Error("CheckPassword accepted 72 bytes + X")
		}
	})
}

func TestPasswordsAreTakenAsSent(t *testing.T) {
	g := newGate(t, nil)
	for i, tc := range []struct {
		name, password string
		want           int
	}{
		{"spaces, an emoji and a combining accent sign in", passwordUnicode, 200},
		{"the NFC form of the same text is another password", strings.Replace(passwordUnicode, "e\u0301", "\u00e9", 1), 401},
		{"trailing space is not trimmed", passwordUnicode + " ", 401},
		{"a NUL does not end the password", passwordUnicode + "\x00", 401},
	} {
		if rec := g.signIn(netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)}).String(), "emoji", tc.password); rec.Code != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, rec.Code, tc.want)
		}
	}
}

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := authgate.BcryptHasher{Cost: 4}.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestOversizedBody(t *testing.T) {
	a := newApp(t, nil)
	c := a.client()
	big := "username=alice&password=" + strings.Repeat("A", 1<<20)
	for _, path := range []string{"/api/auth/callback/credentials", "/api/auth/signout", "/api/auth/session", "/api/auth/_log"} {
		req, err := http.NewRequest("POST", a.srv.URL+path, strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res := c.do(req); res.StatusCode != http.StatusRequestEntityTooLarge {
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

func TestClientAddressForThrottling(t *testing.T) {
	// exhaust makes 10 failed attempts for alice, then reports whether an
	// 11th from the given address (and X-Forwarded-For) is throttled.
	exhaust := func(g *gate, remote string, xffs []string, nextRemote, nextXFF string) int {
		for i := range 10 {
			var hdr []string
			if xffs != nil {
				hdr = []string{"X-Forwarded-For", xffs[i]}
			}
			g.signIn(remote, "alice", "wrong", hdr...)
		}
		var hdr []string
		if nextXFF != "" {
			hdr = []string{"X-Forwarded-For", nextXFF}
		}
		return g.signIn(nextRemote, "alice", "wrong", hdr...).Code
	}
	spoofed := func(prefix string) []string {
		var out []string
		for i := range 10 {
			out = append(out, prefix+netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}).String())
		}
		return out
	}
	proxies := func(cfg *authgate.Config[claims]) {
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	}

	tests := []struct {
		name    string
		edit    func(*authgate.Config[claims])
		remote  string
		xffs    []string
		next    string
		nextXFF string
		want    int
	}{
		{"X-Forwarded-For from a direct client is ignored", nil, "203.0.113.5", spoofed(""), "203.0.113.5", "192.0.2.99", 429},
		{"X-Forwarded-For from an untrusted proxy is ignored", proxies, "203.0.113.5", spoofed(""), "203.0.113.5", "192.0.2.99", 429},
		{"a trusted proxy's X-Forwarded-For names the client", proxies, "10.0.0.1", spoofed("")[:1:1], "10.0.0.1", "192.0.2.99", 401},
		{"a client cannot escape by prepending to a trusted proxy's chain", proxies, "10.0.0.1", spoofed("198.51.100.1, "), "10.0.0.1", "6.6.6.6, 192.0.2.1", 429},
		{"a trusted proxy's entries with ports name the client", proxies, "10.0.0.1", nil, "10.0.0.1", "[2001:db8::99]:443", 401},
	}
	// The fifth: ten failures from one client behind a proxy that appends
	// ports; a different client behind it is not throttled.
	for range 10 {
		tests[4].xffs = append(tests[4].xffs, "192.0.2.1:5678")
	}
	// The third case reuses one forwarded client for all ten failures.
	tests[2].xffs = []string{"192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1"}
	// The fourth: the client prepends a different lie each time; the proxy
	// appends the real address 192.0.2.1.
	for i := range tests[3].xffs {
		tests[3].xffs[i] = netip.AddrFrom4([4]byte{6, 6, 6, byte(i)}).String() + ", 192.0.2.1"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGate(t, tt.edit)
			if got := exhaust(g, tt.remote, tt.xffs, tt.next, tt.nextXFF); got != tt.want {
				t.Errorf("11th attempt: got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRevocation(t *testing.T) {
	t.Run("a cookie replayed after sign-out is anonymous", func(t *testing.T) {
		a := newApp(t, nil)
		c := a.client()
		if res := c.signIn("alice", "alice-password"); res.StatusCode != 200 {
			t.Fatalf("sign-in: %d", res.StatusCode)
		}
		captured := c.cookie("authgate.session-token")
		if captured == "" {
			t.Fatal("no session cookie after sign-in")
		}
		if res := c.postForm("/api/auth/signout", url.Values{"csrfToken": {c.csrf()}, "json": {"true"}}); res.StatusCode != 200 {
			t.Fatalf("sign-out: %d %q", res.StatusCode, res.body)
		}
		thief := a.client()
		thief.setCookie("authgate.session-token", captured)
		if res := thief.get("/whoami"); res.body != "anonymous" {
			t.Errorf("GET /whoami with the replayed cookie: got %q, want anonymous", res.body)
		}
		if res := thief.get("/api/auth/session"); strings.TrimSpace(res.body) != "{}" {
			t.Errorf("GET /session with the replayed cookie: got %q, want {}", res.body)
		}
		if res := thief.get("/private"); res.StatusCode != 401 {
			t.Errorf("GET /private with the replayed cookie: got %d, want 401", res.StatusCode)
		}
		if s, err := a.auth.Check(request("GET", "/", &http.Cookie{Name: "authgate.session-token", Value: captured})); s != nil || !errors.Is(err, authgate.ErrSessionRevoked) {
			t.Errorf("Check: got %v, %v; want nil and ErrSessionRevoked", s, err)
		}
	})

	t.Run("sign out everywhere kills older sessions and spares newer ones and other users", func(t *testing.T) {
		a := newApp(t, nil)
		laptop, phone, bob := a.client(), a.client(), a.client()
		laptop.signIn("alice", "alice-password")
		bob.signIn("bob", "bob-password")
		a.clk.Advance(time.Minute)
		if err := a.auth.SignOutEverywhere(context.Background(), "u1"); err != nil {
			t.Fatal(err)
		}
		a.clk.Advance(time.Second)
		phone.signIn("alice", "alice-password")
		for _, tc := range []struct {
			name string
			c    *client
			want string
		}{
			{"alice's older session", laptop, "anonymous"},
			{"alice's newer session", phone, "u1 admin pro"},
			{"bob's session", bob, "u2 user free"},
		} {
			if res := tc.c.get("/whoami"); res.body != tc.want {
				t.Errorf("%s: got %q, want %q", tc.name, res.body, tc.want)
			}
		}
	})

	t.Run("a thief's copy re-issued after the victim's last visit stays revoked after the victim's cookie expires", func(t *testing.T) {
		a := newApp(t, func(cfg *authgate.Config[claims]) {
			cfg.MaxAge = 30 * time.Minute
			cfg.UpdateAge = 5 * time.Minute
		})
		victim := a.client()
		victim.signIn("alice", "alice-password") // victim's cookie: exp 30m
		thief := a.client()
		thief.setCookie("authgate.session-token", victim.cookie("authgate.session-token"))
		a.clk.Advance(6 * time.Minute)
		if res := thief.get("/whoami"); res.body != "u1 admin pro" { // re-issued: exp 36m
			t.Fatalf("thief before sign-out: got %q", res.body)
		}
		stolen := thief.cookie("authgate.session-token")
		a.clk.Advance(time.Minute)
		victim.postForm("/api/auth/signout", url.Values{"csrfToken": {victim.csrf()}, "json": {"true"}})
		start := newClock().Now()
		for _, at := range []time.Duration{8 * time.Minute, 31 * time.Minute, 35 * time.Minute} {
			a.clk.Advance(start.Add(at).Sub(a.clk.Now()))
			// Revocation writes prune expired entries: make one.
			a.auth.SignOutEverywhere(context.Background(), "someone-else")
			thief.setCookie("authgate.session-token", stolen)
			if res := thief.get("/whoami"); res.body != "anonymous" {
				t.Errorf("thief %v after sign-in: got %q, want anonymous", at, res.body)
			}
		}
	})

	t.Run("re-issued cookies of a revoked session stay revoked", func(t *testing.T) {
		a := newApp(t, func(cfg *authgate.Config[claims]) { cfg.UpdateAge = time.Minute })
		c := a.client()
		c.signIn("alice", "alice-password")
		a.clk.Advance(2 * time.Minute)
		c.get("/whoami") // re-issued: same session id, new cookie bytes
		old := c.cookie("authgate.session-token")
		c.postForm("/api/auth/signout", url.Values{"csrfToken": {c.csrf()}, "json": {"true"}})
		thief := a.client()
		thief.setCookie("authgate.session-token", old)
		if res := thief.get("/whoami"); res.body != "anonymous" {
			t.Errorf("got %q, want anonymous", res.body)
		}
	})
}

func TestTimeouts(t *testing.T) {
	short := func(cfg *authgate.Config[claims]) {
		cfg.MaxAge = 30 * time.Minute
		cfg.UpdateAge = 5 * time.Minute
		cfg.MaxLifetime = 12 * time.Hour
	}

	t.Run("a session idle for longer than MaxAge is anonymous", func(t *testing.T) {
		a := newApp(t, short)
		c := a.client()
		c.signIn("alice", "alice-password")
		a.clk.Advance(29 * time.Minute)
		if res := c.get("/whoami"); res.body != "u1 admin pro" {
			t.Fatalf("after 29 idle minutes: got %q, want signed in", res.body)
		}
		a.clk.Advance(31 * time.Minute)
		if res := c.get("/whoami"); res.body != "anonymous" {
			t.Errorf("after 31 idle minutes: got %q, want anonymous", res.body)
		}
	})

	t.Run("an active session ends at MaxLifetime after sign-in", func(t *testing.T) {
		a := newApp(t, short)
		c := a.client()
		c.signIn("alice", "alice-password")
		for elapsed := 10 * time.Minute; elapsed < 12*time.Hour; elapsed += 10 * time.Minute {
			a.clk.Advance(10 * time.Minute)
			if res := c.get("/whoami"); res.body != "u1 admin pro" {
				t.Fatalf("active after %v: got %q, want signed in", elapsed, res.body)
			}
		}
		a.clk.Advance(10 * time.Minute)
		if res := c.get("/whoami"); res.body != "anonymous" {
			t.Errorf("active after 12h: got %q, want anonymous", res.body)
		}
	})

	t.Run("a fresh-auth guard refuses a session signed in too long ago, however recently re-issued", func(t *testing.T) {
		a := newApp(t, short)
		var called int
		spy := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called++ })
		guard := a.auth.RequireFreshAuth(15 * time.Minute)(spy)
		c := a.client()
		c.signIn("alice", "alice-password")
		serve := func(header ...string) *httptest.ResponseRecorder {
			r := request("GET", "/settings/password", c.cookies()...)
			for i := 0; i+1 < len(header); i += 2 {
				r.Header.Set(header[i], header[i+1])
			}
			rec := httptest.NewRecorder()
			a.auth.Middleware(guard).ServeHTTP(rec, r)
			return rec
		}
		a.clk.Advance(14 * time.Minute)
		c.get("/whoami") // re-issue: does not make the sign-in fresher
		if rec := serve(); rec.Code != 200 || called != 1 {
			t.Fatalf("14 minutes after sign-in: got %d (handler ran %d times), want 200", rec.Code, called)
		}
		a.clk.Advance(2 * time.Minute)
		c.get("/whoami")
		if rec := serve(); rec.Code != 401 || called != 1 {
			t.Errorf("16 minutes after sign-in: got %d (handler ran %d times), want 401 and no call", rec.Code, called)
		}
		if rec := serve("Accept", "text/html"); rec.Code != 302 || !strings.Contains(rec.Header().Get("Location"), "/api/auth/signin?callbackUrl=") {
			t.Errorf("browser navigation 16 minutes after sign-in: got %d %q, want a redirect to sign in", rec.Code, rec.Header().Get("Location"))
		}
		anon := httptest.NewRecorder()
		guard.ServeHTTP(anon, request("GET", "/settings/password"))
		if anon.Code != 401 || called != 1 {
			t.Errorf("anonymous: got %d, want 401", anon.Code)
		}
	})

	t.Run("the fresh-auth guard reports ErrFreshAuthRequired, which is an ErrUnauthenticated", func(t *testing.T) {
		var got error
		a := newApp(t, func(cfg *authgate.Config[claims]) {
			short(cfg)
			cfg.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) { got = err; w.WriteHeader(499) }
		})
		c := a.client()
		c.signIn("alice", "alice-password")
		a.clk.Advance(16 * time.Minute)
		rec := httptest.NewRecorder()
		a.auth.RequireFreshAuth(15*time.Minute)(http.NotFoundHandler()).ServeHTTP(rec, request("GET", "/x", c.cookies()...))
		if !errors.Is(got, authgate.ErrFreshAuthRequired) || !errors.Is(got, authgate.ErrUnauthenticated) {
			t.Errorf("error handler got %v, want ErrFreshAuthRequired wrapping ErrUnauthenticated", got)
		}
	})

	t.Run("a fresh-auth guard without a positive maxAge panics at construction", func(t *testing.T) {
		a := newApp(t, nil)
		defer func() {
			if recover() == nil {
				t.Error("RequireFreshAuth(0) did not panic")
			}
		}()
		a.auth.RequireFreshAuth(0)
	})
}

// blockingHasher is bcrypt at cost 4 whose comparisons of the password
// "block" wait until release is closed.
type blockingHasher struct {
	authgate.BcryptHasher
	entered chan struct{}
	release chan struct{}
}

func (h *blockingHasher) Compare(hash, password string) error {
	if password == "block" {
		h.entered <- struct{}{}
		<-h.release
	}
	return h.BcryptHasher.Compare(hash, password)
}

func TestBoundedHashConcurrency(t *testing.T) {
	h := &blockingHasher{BcryptHasher: authgate.BcryptHasher{Cost: 4}, entered: make(chan struct{}, 1), release: make(chan struct{})}
	g := newGate(t, func(cfg *authgate.Config[claims]) {
		cfg.Hasher = h
		cfg.MaxConcurrentHashes = 1
	})
	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- g.signIn("198.51.100.1", "alice", "block") }()
	<-h.entered // the only comparison slot is taken

	busy := g.signIn("198.51.100.2", "bob", "bob-password")
	if busy.Code != http.StatusServiceUnavailable || busy.Header().Get("Retry-After") != "1" || !strings.Contains(busy.Body.String(), "error=Busy") {
		t.Errorf("sign-in with no free slot: got %d Retry-After %q %q, want 503, 1 and error=Busy", busy.Code, busy.Header().Get("Retry-After"), busy.Body)
	}
	sameResponse(t, busy, g.signIn("198.51.100.3", "nobody", "whatever"))

	rec := httptest.NewRecorder()
	g.h.ServeHTTP(rec, httptest.NewRequest("GET", hgBase+"/api/auth/session", nil))
	if rec.Code != 200 {
		t.Errorf("GET /session while every slot is taken: got %d, want 200", rec.Code)
	}

	close(h.release)
	if rec := <-first; rec.Code != 401 {
		t.Errorf("the blocked sign-in: got %d, want 401", rec.Code)
	}
	if rec := g.signIn("198.51.100.4", "bob", "bob-password"); rec.Code != 200 {
		t.Errorf("sign-in after the slot freed: got %d, want 200", rec.Code)
	}
}
