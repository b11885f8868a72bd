package authgate_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// Tests of the CSRF defence: the double-submit token bound to its cookie,
// Origin and Sec-Fetch-Site checks, rotation at sign-in, Auth.CSRFToken.

func TestCSRF(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	otherToken := a.client().csrf()
	tests := []struct {
		name   string
		form   func(c *client) url.Values
		header []string
	}{
		{"No token", func(c *client) url.Values { c.csrf(); return url.Values{} }, nil},
		{"An empty token", func(c *client) url.Values { c.csrf(); return url.Values{"csrfToken": {""}} }, nil},
		{"Another client's token", func(c *client) url.Values { c.csrf(); return url.Values{"csrfToken": {otherToken}} }, nil},
		{"A token without the cookie", func(c *client) url.Values { return url.Values{"csrfToken": {otherToken}} }, nil},
		{"An over-long token", func(c *client) url.Values { c.csrf(); return url.Values{"csrfToken": {strings.Repeat("a", 5000)}} }, nil},
		{"A cross-site request with a valid token", func(c *client) url.Values { return url.Values{"csrfToken": {c.csrf()}} }, []string{"Sec-Fetch-Site", "cross-site"}},
		{"A foreign Origin with a valid token", func(c *client) url.Values { return url.Values{"csrfToken": {c.csrf()}} }, []string{"Origin", "https://evil.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := a.client()
			form := tt.form(c)
			form.Set("username", "alice")
			form.Set("password", "alice-password")
			form.Set("json", "true")
			res := c.postForm("/api/auth/callback/credentials", form, tt.header...)
			if res.StatusCode != 403 || !strings.Contains(res.body, "error=MissingCSRF") {
				t.Errorf("got %d %q, want 403 with error=MissingCSRF", res.StatusCode, res.body)
			}
			if sc := sessionSetCookies(res.Response); len(sc) != 0 {
				t.Errorf("got session cookies %v, want none", sc)
			}
		})
	}
}

func TestCSRFRotatesAtSignIn(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := a.client()
	before := c.csrf()
	if res := c.signIn("alice", "alice-password"); res.StatusCode != 200 {
		t.Fatalf("sign-in: got %d %s, want 200", res.StatusCode, res.body)
	}
	if after := c.csrf(); after == before {
		t.Error("the CSRF token survived sign-in; want a new one")
	}
	res := c.postForm("/api/auth/signout", url.Values{"csrfToken": {before}, "json": {"true"}})
	if res.StatusCode != 403 {
		t.Errorf("sign-out with the pre-sign-in token: got %d, want 403", res.StatusCode)
	}
}

func TestCSRFTokenForServerRenderedForms(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	// A server-rendered login page: CSRFToken sets the cookie and returns
	// the token for a hidden field.
	w := httptest.NewRecorder()
	token := a.auth.CSRFToken(w, request("GET", "/login"))
	c := a.client()
	u, _ := url.Parse(a.url)
	c.hc.Jar.SetCookies(u, w.Result().Cookies())
	res := c.postForm("/api/auth/callback/credentials", url.Values{
		"username": {"alice"}, "password": {"alice-password"}, "csrfToken": {token}, "json": {"true"}})
	if res.StatusCode != 200 {
		t.Fatalf("sign-in with CSRFToken's token: got %d %s, want 200", res.StatusCode, res.body)
	}
	// With a valid cookie on the request, the same token comes back and
	// no new cookie is set.
	w = httptest.NewRecorder()
	if got, want := a.auth.CSRFToken(w, request("GET", "/login", c.cookies()...)), c.csrf(); got != want || len(w.Result().Cookies()) != 0 {
		t.Errorf("CSRFToken with a valid cookie: got %q and %d cookies, want %q and none", got, len(w.Result().Cookies()), want)
	}
}

// FuzzCSRFCheck sends the credentials sign-in with alice's right password
// and an arbitrary CSRF cookie, body token, Origin and Sec-Fetch-Site. In
// the cookie and token "@TOKEN@" and "@MAC@" stand for the parts of the
// valid pair. Its seed corpus is in testdata/fuzz/FuzzCSRFCheck.
//
// Invariants: no panic, no 5xx; Authorize runs (and a session is issued)
// only when the request passes, and it passes only when the body token is
// the valid token, the cookie carries the valid token and its MAC, and the
// request is not cross-origin by Sec-Fetch-Site or Origin (an Origin equal
// to the configured URL is trusted whatever Sec-Fetch-Site says, as
// http.CrossOriginProtection does for trusted origins). A refused request
// sets no cookie.
func FuzzCSRFCheck(f *testing.F) {
	a := newFuzzApp(f)
	origin := a.url
	f.Add("@TOKEN@%7C@MAC@", "@TOKEN@", "", "")
	f.Add("@TOKEN@|@MAC@", "@TOKEN@", origin, "same-origin")
	f.Add("@TOKEN@%7C@MAC@", "@TOKEN@", "https://evil.example", "cross-site")
	f.Fuzz(func(t *testing.T, cookie, token, originHeader, secFetchSite string) {
		// The valid pair must pass, or the target proves nothing.
		mustPass := (cookie == "@TOKEN@%7C@MAC@" || cookie == "@TOKEN@|@MAC@") && token == "@TOKEN@" &&
			(originHeader == "" || originHeader == origin) && (secFetchSite == "" || secFetchSite == "same-origin")
		expand := strings.NewReplacer("@TOKEN@", a.token, "@MAC@", a.mac).Replace
		cookie, token = expand(cookie), expand(token)
		// Marshal replaces invalid UTF-8, so token then differs from
		// what was sent; it can never equal the valid (hex) token either way.
		body, _ := json.Marshal(map[string]string{"username": "alice", "password": "pw", "csrfToken": token, "json": "true"})
		r := httptest.NewRequest("POST", origin+"/api/auth/callback/credentials", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		r.Header["Cookie"] = []string{"__Host-" + csrfCookie + "=" + cookie}
		if originHeader != "" {
			r.Header["Origin"] = []string{originHeader}
		}
		if secFetchSite != "" {
			r.Header["Sec-Fetch-Site"] = []string{secFetchSite}
		}
		before := a.calls
		rec := a.serve(r)
		authorized := a.calls != before

		if rec.Code >= 500 {
			t.Fatalf("status %d", rec.Code)
		}
		// 413: a token so long that the body passes MaxBodyBytes is
		// refused before the CSRF check.
		passed := rec.Code != http.StatusForbidden && rec.Code != http.StatusRequestEntityTooLarge
		if mustPass && (!passed || rec.Code != 200) {
			t.Fatalf("the valid pair: got %d %s, want 200", rec.Code, rec.Body)
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
		if !utf8.ValidString(token) || token != a.token {
			t.Fatalf("passed with body token %q, want %q", token, a.token)
		}
		if !strings.Contains(cookie, a.token) || !strings.Contains(strings.ToLower(cookie), a.mac) {
			t.Fatalf("passed with cookie %q", cookie)
		}
		if originHeader == origin {
			// The configured origin is trusted whatever Sec-Fetch-Site
			// says: a browser sends it only from the app's own pages.
			return
		}
		switch secFetchSite {
		case "", "same-origin", "none":
		default:
			t.Fatalf("passed with Sec-Fetch-Site %q", secFetchSite)
		}
		if secFetchSite == "" && originHeader != "" {
			u, err := url.Parse(originHeader)
			if err != nil || u.Host != "app.example" {
				t.Fatalf("passed with Origin %q", originHeader)
			}
		}
	})
}
