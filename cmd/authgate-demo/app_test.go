package main

// HTTP-level tests of the demo's pages and wiring, without a browser.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// get requests path with an Accept header and returns the response and body.
func get(t *testing.T, c *http.Client, u, accept string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signInJSON signs in the way next-auth/react does (csrf, then a form POST
// with json=true) and returns the status and the {url} answer.
func signInJSON(t *testing.T, c *http.Client, base, username, password string) (int, string) {
	t.Helper()
	_, body := get(t, c, base+"/api/auth/csrf", "")
	var csrf struct {
		CSRFToken string `json:"csrfToken"`
	}
	if err := json.Unmarshal([]byte(body), &csrf); err != nil || csrf.CSRFToken == "" {
		t.Fatalf("GET /api/auth/csrf: %q (%v)", body, err)
	}
	resp, err := c.PostForm(base+"/api/auth/callback/credentials", url.Values{
		"username": {username}, "password": {password}, "csrfToken": {csrf.CSRFToken},
		"callbackUrl": {"/dashboard"}, "json": {"true"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		URL string `json:"url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		t.Fatalf("sign-in answer is not JSON: %v", err)
	}
	return resp.StatusCode, answer.URL
}

// mustSignIn signs in and fails the test unless it worked.
func mustSignIn(t *testing.T, c *http.Client, base, username, password string) {
	t.Helper()
	if status, u := signInJSON(t, c, base, username, password); status != 200 || u != base+"/dashboard" {
		t.Fatalf("sign in as %s: status %d, url %q; want 200 and %s/dashboard", username, status, u, base)
	}
}

var csrfInput = regexp.MustCompile(`name="csrfToken" value="([0-9a-f]+)"`)

func TestPagesForAnonymousVisitors(t *testing.T) {
	d := startDemo(t, "")
	c := d.client(t)
	const html, js = "text/html,application/xhtml+xml", "application/json"
	tests := []struct {
		name, path, accept string
		wantStatus         int
		wantLocation       string // for redirects
		wantBody           string // a substring
	}{
		{"a browser at /dashboard goes to the login form", "/dashboard", html, 302, "/login?callbackUrl=ORIGIN%2Fdashboard", ""},
		{"a browser at /admin goes to the login form", "/admin", html, 302, "/login?callbackUrl=ORIGIN%2Fadmin", ""},
		{"the callbackUrl keeps the query", "/dashboard?tab=1", html, 302, "/login?callbackUrl=ORIGIN%2Fdashboard%3Ftab%3D1", ""},
		{"an API client at /dashboard gets 401 JSON", "/dashboard", js, 401, "", `{"error":"unauthenticated"}`},
		{"an API client at /admin gets 401 JSON", "/admin", js, 401, "", `{"error":"unauthenticated"}`},
		{"/api/me is 401 JSON even for a browser", "/api/me", html, 401, "", `{"error":"unauthenticated"}`},
		{"/login shows the form", "/login", html, 200, "", `id="login-form"`},
		{"/login shows a known error code's message", "/login?error=CredentialsSignin", html, 200, "", "Wrong username or password."},
		{"/login explains SessionRequired (next-auth's useSession({required: true}))", "/login?error=SessionRequired", html, 200, "", "Sign in to see that page."},
		{"/login never echoes an unknown error code", "/login?error=%3Cscript%3Ealert(1)%3C/script%3E", html, 200, "", "Sign-in failed. Try again."},
		{"/ goes to the dashboard", "/", html, 302, "/dashboard", ""},
		{"the login script is served", "/static/login.js", "", 200, "", "signIn"},
		{"the session endpoint answers {} for nobody", "/api/auth/session", js, 200, "", "{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, c, d.URL+tt.path, tt.accept)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("GET %s: got status %d, want %d; body %q", tt.path, resp.StatusCode, tt.wantStatus, body)
			}
			// Guards redirect to absolute URLs on the demo's origin.
			want := strings.ReplaceAll(tt.wantLocation, "ORIGIN", url.QueryEscape(d.URL))
			if strings.Contains(tt.wantLocation, "ORIGIN") {
				want = d.URL + want
			}
			if got := resp.Header.Get("Location"); got != want {
				t.Errorf("GET %s: got Location %q, want %q", tt.path, got, want)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("GET %s: body lacks %q:\n%s", tt.path, tt.wantBody, body)
			}
			if strings.Contains(body, "<script>alert") {
				t.Errorf("GET %s: the page echoes markup from the URL", tt.path)
			}
		})
	}
}

func TestSessionJSONHasTheSeedsShape(t *testing.T) {
	d := startDemo(t, "")
	c := d.client(t)
	mustSignIn(t, c, d.URL, "alice", d.Passwords["alice"])
	for _, path := range []string{"/api/me", "/api/auth/session"} {
		resp, body := get(t, c, d.URL+path, "application/json")
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: status %d", path, resp.StatusCode)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		expires, _ := got["expires"].(string)
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", expires); err != nil {
			t.Errorf("GET %s: expires %q is not an ISO time like JavaScript's: %v", path, expires, err)
		}
		delete(got, "expires")
		want := map[string]any{"user": map[string]any{"id": userID(t, d, "alice"), "name": "alice", "email": "alice@example.com", "role": "admin"}}
		if g, w := mustJSON(got), mustJSON(want); g != w {
			t.Errorf("GET %s: got %s, want %s plus expires", path, g, w)
		}
	}
}

// userID is the id the demo's store gave username.
func userID(t *testing.T, d *demo, username string) string {
	t.Helper()
	u, err := d.Store.UserByUsername(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestGuardsForSignedInUsers(t *testing.T) {
	d := startDemo(t, "")
	alice, bob := d.client(t), d.client(t)
	mustSignIn(t, alice, d.URL, "alice", d.Passwords["alice"])
	mustSignIn(t, bob, d.URL, "bob", d.Passwords["bob"])
	const html, js = "text/html", "application/json"
	tests := []struct {
		name       string
		c          *http.Client
		path       string
		accept     string
		wantStatus int
		wantBody   string
	}{
		{"alice sees her dashboard", alice, "/dashboard", html, 200, `id="role" class="badge badge-admin">admin<`},
		{"alice sees the admin page", alice, "/admin", html, 200, "bob@example.com"},
		{"bob sees his dashboard", bob, "/dashboard", html, 200, `id="role" class="badge badge-user">user<`},
		{"bob's browser gets the HTML 403 page at /admin", bob, "/admin", html, 403, "403 · Forbidden"},
		{"bob's API client gets 403 JSON at /admin", bob, "/admin", js, 403, `{"error":"forbidden"}`},
		{"bob's /api/me names him", bob, "/api/me", js, 200, `"name":"bob"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, tt.c, d.URL+tt.path, tt.accept)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("GET %s: got %d, want %d with %q; body:\n%s", tt.path, resp.StatusCode, tt.wantStatus, tt.wantBody, body)
			}
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("GET %s: Cache-Control %q, want no-store", tt.path, cc)
				}
				if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
					t.Errorf("GET %s: Content-Security-Policy %q", tt.path, csp)
				}
			}
		})
	}
}

func TestLoginFormWorksWithoutJavaScript(t *testing.T) {
	d := startDemo(t, "")
	post := func(t *testing.T, c *http.Client, username, password string) *http.Response {
		t.Helper()
		_, page := get(t, c, d.URL+"/login?callbackUrl=%2Fadmin", "text/html")
		m := csrfInput.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("the login form has no csrfToken field:\n%s", page)
		}
		// Exactly the fields the HTML form submits: no json=true.
		resp, err := c.PostForm(d.URL+"/api/auth/callback/credentials", url.Values{
			"csrfToken": {m[1]}, "callbackUrl": {"/admin"}, "username": {username}, "password": {password},
		})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	t.Run("the right password is answered with 302 to the callbackUrl", func(t *testing.T) {
		c := d.client(t)
		resp := post(t, c, "alice", d.Passwords["alice"])
		if resp.StatusCode != 302 || resp.Header.Get("Location") != d.URL+"/admin" {
			t.Fatalf("got %d to %q, want 302 to %s/admin", resp.StatusCode, resp.Header.Get("Location"), d.URL)
		}
		if r, _ := get(t, c, d.URL+"/admin", "text/html"); r.StatusCode != 200 {
			t.Errorf("GET /admin after the form sign-in: %d", r.StatusCode)
		}
	})

	t.Run("a callbackUrl off the site is replaced by the site's origin", func(t *testing.T) {
		c := d.client(t)
		_, page := get(t, c, d.URL+"/login?callbackUrl=https%3A%2F%2Fevil.example%2Fsteal", "text/html")
		m := csrfInput.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("the login form has no csrfToken field")
		}
		resp, err := c.PostForm(d.URL+"/api/auth/callback/credentials", url.Values{
			"csrfToken": {m[1]}, "callbackUrl": {"https://evil.example/steal"},
			"username": {"alice"}, "password": {d.Passwords["alice"]},
		})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || !strings.HasPrefix(loc, d.URL) {
			t.Errorf("got %d to %q, want 302 to the demo's origin %s", resp.StatusCode, loc, d.URL)
		}
	})

	t.Run("a wrong password ends on the login form with the error", func(t *testing.T) {
		c := d.client(t)
		resp := post(t, c, "alice", "wrong")
		u := d.URL + resp.Header.Get("Location")
		if abs := resp.Header.Get("Location"); strings.HasPrefix(abs, "http") {
			u = abs
		}
		// Follow the redirects (error page → sign-in page → /login) by hand.
		for i := 0; i < 5 && resp.StatusCode == 302; i++ {
			resp, _ = get(t, c, u, "text/html")
			if loc := resp.Header.Get("Location"); loc != "" {
				u = loc
				if !strings.HasPrefix(loc, "http") {
					u = d.URL + loc
				}
			}
		}
		if resp.StatusCode != 200 || !strings.Contains(u, "/login?") || !strings.Contains(u, "error=CredentialsSignin") {
			t.Fatalf("the redirects ended at %s with %d, want /login?…error=CredentialsSignin", u, resp.StatusCode)
		}
		_, page := get(t, c, u, "text/html")
		if !strings.Contains(page, "Wrong username or password.") {
			t.Errorf("the login page does not show the error:\n%s", page)
		}
		if r, _ := get(t, c, d.URL+"/api/me", ""); r.StatusCode != 401 {
			t.Errorf("GET /api/me after a failed sign-in: %d, want 401", r.StatusCode)
		}
	})
}

// update posts next-auth/react's update(data): POST /api/auth/session.
func update(t *testing.T, c *http.Client, base string, data any) map[string]any {
	t.Helper()
	_, body := get(t, c, base+"/api/auth/csrf", "")
	var csrf struct {
		CSRFToken string `json:"csrfToken"`
	}
	json.Unmarshal([]byte(body), &csrf)
	payload, _ := json.Marshal(map[string]any{"csrfToken": csrf.CSRFToken, "data": data})
	resp, err := c.Post(base+"/api/auth/session", "application/json", strings.NewReader(string(payload)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /api/auth/session: %d, %v", resp.StatusCode, err)
	}
	return s
}

func TestUpdateCopiesOnlyTheNote(t *testing.T) {
	d := startDemo(t, "")
	c := d.client(t)
	mustSignIn(t, c, d.URL, "bob", d.Passwords["bob"])
	s := update(t, c, d.URL, map[string]any{"note": "hi", "role": "admin", "id": userID(t, d, "alice"), "name": "alice"})
	got := mustJSON(map[string]any{"user": s["user"], "claims": s["claims"]})
	want := `{"claims":{"note":"hi","updateTrigger":"update"},"user":{"email":"bob@example.com","id":"` + userID(t, d, "bob") + `","name":"bob","role":"user"}}`
	if got != want {
		t.Errorf("session after update():\n got %s\nwant %s", got, want)
	}
	if r, _ := get(t, c, d.URL+"/admin", "application/json"); r.StatusCode != 403 {
		t.Errorf("GET /admin after update({role:admin}): %d, want 403", r.StatusCode)
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestRefreshReloadsTheRoleFromTheDatabase(t *testing.T) {
	clk := &clock{t: time.Now()}
	d := startDemo(t, "", func(o *Options) {
		o.Now = clk.Now
		o.UpdateAge = time.Hour
		o.MaxAge = 24 * time.Hour
	})
	ctx := context.Background()
	c := d.client(t)
	mustSignIn(t, c, d.URL, "bob", d.Passwords["bob"])
	bob, err := d.Store.UserByUsername(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	ad := d.Store.Adapter()
	stored, err := ad.User(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored.Role = "admin"
	if err := ad.UpdateUser(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if r, _ := get(t, c, d.URL+"/admin", "application/json"); r.StatusCode != 403 {
		t.Fatalf("GET /admin right after the promotion: %d, want 403 (the cookie still says user)", r.StatusCode)
	}
	clk.Add(time.Hour + time.Minute) // past UpdateAge: the next request re-issues and runs TriggerRefresh
	if r, body := get(t, c, d.URL+"/admin", "application/json"); r.StatusCode != 200 {
		t.Fatalf("GET /admin after the refresh: %d, want 200; %s", r.StatusCode, body)
	}

	if err := ad.DeleteUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour + time.Minute)
	if r, _ := get(t, c, d.URL+"/api/me", "application/json"); r.StatusCode != 401 {
		t.Errorf("GET /api/me after the user was deleted and the session refreshed: %d, want 401", r.StatusCode)
	}
}

func TestSignOutEverywhereNeedsAFreshSignInAndEndsEverySession(t *testing.T) {
	clk := &clock{t: time.Now()}
	d := startDemo(t, "", func(o *Options) { o.Now = clk.Now })
	phone, laptop := d.client(t), d.client(t)
	mustSignIn(t, phone, d.URL, "alice", d.Passwords["alice"])
	mustSignIn(t, laptop, d.URL, "alice", d.Passwords["alice"])
	signOutEverywhere := func(c *http.Client) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, d.URL+"/account/signout-everywhere", nil)
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	status := func(c *http.Client) int {
		t.Helper()
		r, _ := get(t, c, d.URL+"/api/me", "application/json")
		return r.StatusCode
	}

	clk.Add(16 * time.Minute) // the sign-ins are no longer fresh
	if r := signOutEverywhere(laptop); r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login?error=FreshSignIn") {
		t.Fatalf("with a 16-minute-old sign-in: got %d to %q, want 303 to the login form", r.StatusCode, r.Header.Get("Location"))
	}
	if status(phone) != 200 || status(laptop) != 200 {
		t.Fatal("a refused sign-out-everywhere ended a session")
	}

	req, _ := http.NewRequest(http.MethodPost, d.URL+"/account/signout-everywhere", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r, err := laptop.Do(req); err != nil || r.StatusCode != 403 {
		t.Fatalf("a cross-site post: got %v %v, want 403", r.StatusCode, err)
	}

	mustSignIn(t, laptop, d.URL, "alice", d.Passwords["alice"]) // fresh again
	if r := signOutEverywhere(laptop); r.StatusCode != 303 || r.Header.Get("Location") != "/login?signedOut=everywhere" {
		t.Fatalf("with a fresh sign-in: got %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	if status(phone) != 401 || status(laptop) != 401 {
		t.Errorf("after signing out everywhere: phone %d, laptop %d, want both 401", status(phone), status(laptop))
	}
	// A new sign-in, even in the same second, is not revoked.
	mustSignIn(t, phone, d.URL, "alice", d.Passwords["alice"])
	if status(phone) != 200 {
		t.Errorf("a new sign-in after signing out everywhere: %d, want 200", status(phone))
	}
}
