package authgate_test

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/authgate/authgate"
)

// Fuzz targets for the request parsers that issue 4 names and the core's
// own fuzz targets (FuzzRedirect, FuzzSessionCookie) do not cover: the
// credentials body (form or JSON) and the CSRF check. Their seed corpora
// live in testdata/fuzz/<Target>/ and run in every `go test`. Both drive the
// real handler, so what they prove holds for the wire: no panic, no 500,
// and the invariants below.

// plainHasher is a fast PasswordHasher for fuzzing ("plain:" + password),
// with bcrypt's 72-byte rule.
type plainHasher struct{}

func (plainHasher) Hash(pw string) (string, error) { return "plain:" + pw, nil }

func (plainHasher) Compare(hash, pw string) error {
	if len(pw) > 72 {
		return authgate.ErrPasswordTooLong
	}
	if hash != "plain:"+pw {
		return authgate.ErrPasswordMismatch
	}
	return nil
}

// noLimiter never throttles, so fuzzing is not slowed into 429s.
type noLimiter struct{}

func (noLimiter) Allow(context.Context, authgate.Attempt) (time.Duration, error) { return 0, nil }
func (noLimiter) Record(context.Context, authgate.Attempt, bool) error           { return nil }

// fuzzGate is an Auth for fuzzing with one valid CSRF pair. authorized
// receives every Credentials that reached Authorize.
type fuzzGate struct {
	h                 http.Handler
	token, cookieName string
	cookieValue, mac  string
	authorizeCalls    atomic.Int64
	onAuthorize       func(c *authgate.Credentials)
}

func newFuzzGate(f *testing.F) *fuzzGate {
	g := &fuzzGate{}
	a, err := authgate.New(authgate.Config[struct{}]{
		Secrets: []string{secretA},
		URL:     hgBase,
		Hasher:  plainHasher{},
		Limiter: noLimiter{},
		Logger:  discardLogger(),
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[struct{}], error) {
			g.authorizeCalls.Add(1)
			if g.onAuthorize != nil {
				g.onAuthorize(c)
			}
			hash := ""
			if c.Username() == "alice" {
				hash = "plain:pw"
			}
			if !c.PasswordMatches(hash) {
				return nil, nil
			}
			return &authgate.User[struct{}]{ID: "u1"}, nil
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	g.h = a.Handler()
	rec := httptest.NewRecorder()
	g.h.ServeHTTP(rec, httptest.NewRequest("GET", hgBase+"/api/auth/csrf", nil))
	var v struct{ CsrfToken string }
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		f.Fatal(err)
	}
	g.token = v.CsrfToken
	for _, c := range rec.Result().Cookies() {
		if strings.Contains(c.Name, "csrf-token") {
			g.cookieName, g.cookieValue = c.Name, c.Value
		}
	}
	_, g.mac, _ = strings.Cut(g.cookieValue, "%7C")
	if g.token == "" || g.mac == "" {
		f.Fatalf("GET /csrf: %q, cookie %q", rec.Body, g.cookieValue)
	}
	return g
}

// FuzzCredentialsBody posts arbitrary bodies with arbitrary content types
// to the credentials sign-in. "@CSRF@" in the body stands for the valid
// CSRF token, so the fuzzer gets past the CSRF check and into the parser.
//
// Invariants: no panic and no 5xx; a body over 16 KiB is 413 and nothing
// else is; Authorize sees only what the body really said (each field once,
// as a string, no protocol field, no password over 72 bytes); a session is
// issued only for alice's password.
func FuzzCredentialsBody(f *testing.F) {
	g := newFuzzGate(f)
	f.Add("application/x-www-form-urlencoded", []byte("username=alice&password=pw&csrfToken=@CSRF@&json=true"))
	f.Add("application/json", []byte(`{"username":"alice","password":"pw","csrfToken":"@CSRF@","json":"true"}`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		// alice's sign-in must work, or the target proves nothing.
		mustSignIn := string(body) == "username=alice&password=pw&csrfToken=@CSRF@&json=true" && contentType == "application/x-www-form-urlencoded" ||
			string(body) == `{"username":"alice","password":"pw","csrfToken":"@CSRF@","json":"true"}` && contentType == "application/json"
		body = []byte(strings.ReplaceAll(string(body), "@CSRF@", g.token))
		var seen *authgate.Credentials
		g.onAuthorize = func(c *authgate.Credentials) { seen = c }
		defer func() { g.onAuthorize = nil }()

		r := httptest.NewRequest("POST", hgBase+"/api/auth/callback/credentials", strings.NewReader(string(body)))
		r.Header["Content-Type"] = []string{contentType}
		r.Header.Set("Cookie", g.cookieName+"="+g.cookieValue)
		rec := httptest.NewRecorder()
		g.h.ServeHTTP(rec, r)

		if mustSignIn && (rec.Code != 200 || seen == nil) {
			t.Fatalf("alice's sign-in failed: %d %s", rec.Code, rec.Body)
		}
		switch rec.Code {
		case 200, 302, 400, 401, 403, 413, 415:
		default:
			t.Fatalf("status %d for %q %q: %s", rec.Code, contentType, body, rec.Body)
		}
		if tooBig := len(body) > authgate.DefaultMaxBodyBytes; tooBig != (rec.Code == 413) {
			t.Fatalf("%d-byte body answered %d", len(body), rec.Code)
		}
		for _, c := range rec.Result().Cookies() {
			if strings.Contains(c.Name, "session-token") && c.Value != "" && (seen == nil || seen.Username() != "alice" || seen.Password() != "pw") {
				t.Fatalf("session issued for %q", body)
			}
		}
		if seen == nil {
			return
		}
		if len(seen.Password()) > 72 {
			t.Fatalf("Authorize saw a %d-byte password", len(seen.Password()))
		}
		want, ok := oracleFields(contentType, body)
		if !ok {
			t.Fatalf("Authorize ran for a body the oracle refuses: %q %q", contentType, body)
		}
		for _, k := range []string{"csrfToken", "callbackUrl", "json", "redirect"} {
			delete(want, k)
		}
		names := seen.Names()
		slices.Sort(names)
		var wantNames []string
		for k := range want {
			wantNames = append(wantNames, k)
		}
		slices.Sort(wantNames)
		if !slices.Equal(names, wantNames) {
			t.Fatalf("Authorize saw fields %q, the body has %q", names, wantNames)
		}
		for k, v := range want {
			if seen.Get(k) != v {
				t.Fatalf("field %q: Authorize saw %q, the body has %q", k, seen.Get(k), v)
			}
		}
	})
}

// oracleFields parses body with the standard library alone: the fields a
// correct parser must hand to Authorize, or false when it must refuse the
// body (repeated field, non-string JSON member, other content type).
func oracleFields(contentType string, body []byte) (map[string]string, bool) {
	mt, _, _ := mime.ParseMediaType(contentType)
	out := map[string]string{}
	switch mt {
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, false
		}
		for k, v := range vals {
			if len(v) != 1 {
				return nil, false
			}
			out[k] = v[0]
		}
	case "application/json":
		if len(body) == 0 {
			return out, true
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || m == nil && string(body) != "null" {
			return nil, false
		}
		for k, v := range m {
			if k == "data" {
				continue
			}
			switch v := v.(type) {
			case string:
				out[k] = v
			case nil:
				// The core reads null as "" (a JSON quirk of decoding into
				// a string); refusing it would be fine too.
				out[k] = ""
			default:
				return nil, false
			}
		}
	case "":
		return out, len(body) == 0
	default:
		return nil, false
	}
	return out, true
}

// FuzzCSRFCheck sends the credentials sign-in with alice's right password
// and an arbitrary CSRF cookie, body token, Origin and Sec-Fetch-Site. In
// the cookie and token "@TOKEN@" and "@MAC@" stand for the parts of the
// valid pair.
//
// Invariants: no panic, no 5xx; Authorize runs (and a session is issued)
// only when the request passes, and it passes only when the body token is
// the valid token, the cookie carries the valid token and its MAC, and the
// request is not cross-origin by Sec-Fetch-Site or Origin (an Origin equal
// to the configured URL is trusted whatever Sec-Fetch-Site says, as
// http.CrossOriginProtection does for trusted origins). A refused request
// sets no cookie.
func FuzzCSRFCheck(f *testing.F) {
	g := newFuzzGate(f)
	f.Add("@TOKEN@%7C@MAC@", "@TOKEN@", "", "")
	f.Add("@TOKEN@|@MAC@", "@TOKEN@", hgBase, "same-origin")
	f.Add("@TOKEN@%7C@MAC@", "@TOKEN@", "https://evil.example", "cross-site")
	f.Fuzz(func(t *testing.T, cookie, token, origin, secFetchSite string) {
		// The valid pair must pass, or the target proves nothing.
		mustPass := (cookie == "@TOKEN@%7C@MAC@" || cookie == "@TOKEN@|@MAC@") && token == "@TOKEN@" &&
			(origin == "" || origin == hgBase) && (secFetchSite == "" || secFetchSite == "same-origin")
		expand := func(s string) string {
			return strings.NewReplacer("@TOKEN@", g.token, "@MAC@", g.mac).Replace(s)
		}
		cookie, token = expand(cookie), expand(token)
		// Marshal replaces invalid UTF-8, so token then differs from
		// what was sent; it can never equal the valid (hex) token either way.
		body, _ := json.Marshal(map[string]string{"username": "alice", "password": "pw", "csrfToken": token, "json": "true"})
		r := httptest.NewRequest("POST", hgBase+"/api/auth/callback/credentials", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		r.Header["Cookie"] = []string{g.cookieName + "=" + cookie}
		if origin != "" {
			r.Header["Origin"] = []string{origin}
		}
		if secFetchSite != "" {
			r.Header["Sec-Fetch-Site"] = []string{secFetchSite}
		}
		before := g.authorizeCalls.Load()
		rec := httptest.NewRecorder()
		g.h.ServeHTTP(rec, r)
		authorized := g.authorizeCalls.Load() != before

		if rec.Code >= 500 {
			t.Fatalf("status %d", rec.Code)
		}
		// 413: a token so long that the body passes MaxBodyBytes is
		// refused before the CSRF check.
		passed := rec.Code != http.StatusForbidden && rec.Code != http.StatusRequestEntityTooLarge
		if mustPass && (!passed || rec.Code != 200) {
			t.Fatalf("the valid pair was refused: %d %s", rec.Code, rec.Body)
		}
		if passed != authorized {
			t.Fatalf("status %d but Authorize ran: %v", rec.Code, authorized)
		}
		if !passed {
			if len(rec.Result().Cookies()) != 0 {
				t.Fatalf("a refused request set cookies: %v", rec.Result().Cookies())
			}
			return
		}
		// It passed: every condition must hold.
		if !utf8.ValidString(token) || token != g.token {
			t.Fatalf("passed with body token %q, want %q", token, g.token)
		}
		if !strings.Contains(cookie, g.token) || !strings.Contains(strings.ToLower(cookie), g.mac) {
			t.Fatalf("passed with cookie %q", cookie)
		}
		if origin == hgBase {
			// The configured origin is trusted whatever Sec-Fetch-Site
			// says: a browser sends it only from the app's own pages.
			return
		}
		switch secFetchSite {
		case "", "same-origin", "none":
		default:
			t.Fatalf("passed with Sec-Fetch-Site %q", secFetchSite)
		}
		if secFetchSite == "" && origin != "" {
			u, err := url.Parse(origin)
			if err != nil || u.Host != "app.example" {
				t.Fatalf("passed with Origin %q", origin)
			}
		}
	})
}
