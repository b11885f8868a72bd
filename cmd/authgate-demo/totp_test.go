package main

// The demo's second factor over HTTP: the two-factor page (enrol with the
// QR code, recovery codes, turning it off), the login in two steps with and
// without JavaScript, and -require-2fa. Codes are computed from the
// enrolled secret as an authenticator app does.

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	otptotp "github.com/pquerna/otp/totp"
)

// totpCode is the code of secret (base32) at t.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := otptotp.GenerateCodeCustom(secret, at, otptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	secretOnPage   = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7]+)</code>`)
	recoveryOnPage = regexp.MustCompile(`<li>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</li>`)
	amrOnPage      = regexp.MustCompile(`<code id="session-amr">([^<]*)</code>`)
)

// postPage posts a same-origin form (as the browser does) and returns the
// response and its body.
func postPage(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, html.UnescapeString(b.String())
}

// enrolOnPage sets TOTP up for the signed-in client on the two-factor
// page and confirms it with the code of at; it returns the secret and the
// recovery codes.
func enrolOnPage(t *testing.T, c *http.Client, base string, at time.Time) (string, []string) {
	t.Helper()
	resp, body := postPage(t, c, base+"/account/2fa/setup", nil)
	m := secretOnPage.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil || !strings.Contains(body, `id="totp-qr" src="data:image/png;base64,`) {
		t.Fatalf("setup: %d, want the secret and the QR code:\n%s", resp.StatusCode, body)
	}
	resp, body = postPage(t, c, base+"/account/2fa/confirm", url.Values{"code": {totpCode(t, m[1], at)}})
	var codes []string
	for _, rc := range recoveryOnPage.FindAllStringSubmatch(body, -1) {
		codes = append(codes, rc[1])
	}
	if resp.StatusCode != 200 || len(codes) != 10 || !strings.Contains(body, `id="totp-on"`) {
		t.Fatalf("confirm: %d, %d recovery codes:\n%s", resp.StatusCode, len(codes), body)
	}
	return m[1], codes
}

// stepJSON sends the second step as signIn("credentials", {code}) does.
func stepJSON(t *testing.T, c *http.Client, base, field, value string) (int, string) {
	t.Helper()
	_, body := get(t, c, base+"/api/auth/csrf", "")
	var csrf struct {
		CSRFToken string `json:"csrfToken"`
	}
	json.Unmarshal([]byte(body), &csrf)
	resp, err := c.PostForm(base+"/api/auth/callback/credentials", url.Values{
		field: {value}, "csrfToken": {csrf.CSRFToken}, "callbackUrl": {"/dashboard"}, "json": {"true"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		URL string `json:"url"`
	}
	json.NewDecoder(resp.Body).Decode(&answer)
	return resp.StatusCode, answer.URL
}

// sessionAMR reads how the client's session signed in from the page.
func sessionAMR(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	resp, body := get(t, c, base+"/account/2fa", "text/html")
	m := amrOnPage.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("GET /account/2fa: %d", resp.StatusCode)
	}
	return m[1]
}

func signOutJSON(t *testing.T, c *http.Client, base string) {
	t.Helper()
	_, body := get(t, c, base+"/api/auth/csrf", "")
	var csrf struct {
		CSRFToken string `json:"csrfToken"`
	}
	json.Unmarshal([]byte(body), &csrf)
	resp, err := c.PostForm(base+"/api/auth/signout", url.Values{"csrfToken": {csrf.CSRFToken}, "json": {"true"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestTwoFactorPageAndTwoStepSignIn(t *testing.T) {
	clk := &clock{t: time.Now()}
	d := startDemo(t, "", func(o *Options) { o.Now = clk.Now })
	c := d.client(t)
	mustSignIn(t, c, d.URL, "alice", d.Passwords["alice"])
	if _, body := get(t, c, d.URL+"/account/2fa", "text/html"); !strings.Contains(body, `id="totp-off"`) || !strings.Contains(body, `id="totp-setup"`) {
		t.Fatalf("the page before enrolling shows no set-up button:\n%s", body)
	}

	t.Run("confirming needs the right code", func(t *testing.T) {
		postPage(t, c, d.URL+"/account/2fa/setup", nil)
		resp, body := postPage(t, c, d.URL+"/account/2fa/confirm", url.Values{"code": {"000000"}})
		if resp.StatusCode != 200 || !strings.Contains(body, `id="error"`) || !strings.Contains(body, `id="totp-confirm"`) || strings.Contains(body, `id="totp-on"`) {
			t.Fatalf("a wrong code: %d, want the error and the code form again:\n%s", resp.StatusCode, body)
		}
	})
	secret, recovery := enrolOnPage(t, c, d.URL, clk.Now())
	clk.Add(30 * time.Second)
	signOutJSON(t, c, d.URL)

	t.Run("the password answers TwoFactorRequired, the code signs in", func(t *testing.T) {
		status, u := signInJSON(t, c, d.URL, "alice", d.Passwords["alice"])
		if status != 401 || !strings.HasSuffix(u, "/api/auth/error?error=TwoFactorRequired") {
			t.Fatalf("password: %d %s, want 401 TwoFactorRequired", status, u)
		}
		if status, _ := stepJSON(t, c, d.URL, "code", "123456"); status != 401 {
			t.Fatalf("a wrong code: %d, want 401", status)
		}
		status, u = stepJSON(t, c, d.URL, "code", totpCode(t, secret, clk.Now()))
		if status != 200 || u != d.URL+"/dashboard" {
			t.Fatalf("the code: %d %s, want 200 and the dashboard", status, u)
		}
		if got := sessionAMR(t, c, d.URL); got != "pwd otp mfa" {
			t.Errorf("AMR %q, want \"pwd otp mfa\"", got)
		}
	})

	t.Run("new recovery codes replace the old ones", func(t *testing.T) {
		resp, body := postPage(t, c, d.URL+"/account/2fa/regenerate", nil)
		fresh := recoveryOnPage.FindAllStringSubmatch(body, -1)
		if resp.StatusCode != 200 || len(fresh) != 10 || fresh[0][1] == recovery[0] {
			t.Fatalf("regenerate: %d, %d codes:\n%s", resp.StatusCode, len(fresh), body)
		}
		recovery = nil
		for _, m := range fresh {
			recovery = append(recovery, m[1])
		}
	})

	t.Run("without JavaScript the login form asks for the code", func(t *testing.T) {
		b := d.client(t)
		_, page := get(t, b, d.URL+"/login", "text/html")
		csrf := csrfInput.FindStringSubmatch(page)[1]
		resp, err := b.PostForm(d.URL+"/api/auth/callback/credentials", url.Values{
			"csrfToken": {csrf}, "callbackUrl": {"/devices"}, "username": {"alice"}, "password": {d.Passwords["alice"]}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// authgate's /error → /signin → the demo's /login, as a browser
		// follows it.
		for hops := 0; resp.StatusCode == 302 && !strings.Contains(resp.Header.Get("Location"), "/login?") && hops < 3; hops++ {
			loc, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
			resp, _ = get(t, b, loc.String(), "text/html")
		}
		if resp.StatusCode != 302 || !strings.Contains(resp.Header.Get("Location"), "error=TwoFactorRequired") {
			t.Fatalf("the password form post ends at %d %q, want the login page with TwoFactorRequired", resp.StatusCode, resp.Header.Get("Location"))
		}
		loc, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
		_, page = get(t, b, loc.String(), "text/html")
		if !strings.Contains(page, `<fieldset id="password-fields" class="plain" hidden disabled>`) || !strings.Contains(page, `<fieldset id="step-fields" class="plain">`) {
			t.Fatalf("the login page does not ask for the code:\n%s", page)
		}
		csrf = csrfInput.FindStringSubmatch(page)[1]
		resp, err = b.PostForm(d.URL+"/api/auth/callback/credentials", url.Values{
			"csrfToken": {csrf}, "callbackUrl": {"/devices"}, "recoveryCode": {recovery[0]}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 302 || resp.Header.Get("Location") != d.URL+"/devices" {
			t.Fatalf("the recovery code form post: %d %q, want 302 to /devices", resp.StatusCode, resp.Header.Get("Location"))
		}
		if got := sessionAMR(t, b, d.URL); got != "pwd recovery mfa" {
			t.Errorf("AMR %q", got)
		}
	})

	t.Run("changes need a recent sign-in", func(t *testing.T) {
		clk.Add(16 * time.Minute)
		resp, _ := postPage(t, c, d.URL+"/account/2fa/disable", url.Values{"recoveryCode": {recovery[1]}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/login?error=FreshSignIn&callbackUrl=%2Faccount%2F2fa" {
			t.Fatalf("disable with a stale sign-in: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("turning it off needs a code, then the password alone signs in", func(t *testing.T) {
		signInJSON(t, c, d.URL, "alice", d.Passwords["alice"])
		if status, _ := stepJSON(t, c, d.URL, "recoveryCode", recovery[2]); status != 200 {
			t.Fatalf("recovery code: %d", status)
		}
		if _, body := postPage(t, c, d.URL+"/account/2fa/disable", nil); !strings.Contains(body, `id="error"`) || strings.Contains(body, `id="totp-off"`) {
			t.Fatalf("disable without a code: want an error and still on:\n%s", body)
		}
		resp, body := postPage(t, c, d.URL+"/account/2fa/disable", url.Values{"recoveryCode": {recovery[3]}})
		if resp.StatusCode != 200 || !strings.Contains(body, `id="totp-off"`) {
			t.Fatalf("disable: %d:\n%s", resp.StatusCode, body)
		}
		mustSignIn(t, d.client(t), d.URL, "alice", d.Passwords["alice"])
	})
}

func TestRequire2FASendsAdminsToEnrol(t *testing.T) {
	clk := &clock{t: time.Now()}
	d := startDemo(t, "", func(o *Options) { o.Now, o.RequireSecondFactor = clk.Now, []string{"admin"} })
	c := d.client(t)
	mustSignIn(t, c, d.URL, "alice", d.Passwords["alice"])
	resp, _ := get(t, c, d.URL+"/admin", "text/html")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/account/2fa?callbackUrl=%2Fadmin" {
		t.Fatalf("alice without a second factor at /admin: %d %q, want 303 to the two-factor page", resp.StatusCode, resp.Header.Get("Location"))
	}
	bob := d.client(t)
	mustSignIn(t, bob, d.URL, "bob", d.Passwords["bob"])
	if resp, _ := get(t, bob, d.URL+"/admin", "text/html"); resp.StatusCode != 403 {
		t.Errorf("bob at /admin: %d, want 403 as before", resp.StatusCode)
	}
	if _, body := get(t, c, d.URL+"/account/2fa?callbackUrl=%2Fadmin", "text/html"); !strings.Contains(body, `name="callbackUrl" value="/admin"`) {
		t.Errorf("the two-factor page does not carry the way back to /admin")
	}

	secret, _ := enrolOnPage(t, c, d.URL, clk.Now())
	clk.Add(30 * time.Second)
	// Enrolled, but this session signed in with the password only.
	if resp, _ := get(t, c, d.URL+"/admin", "text/html"); resp.StatusCode != 302 || !strings.Contains(resp.Header.Get("Location"), "/login?callbackUrl=") {
		t.Fatalf("after enrolling, the old session at /admin: %d %q, want the login form", resp.StatusCode, resp.Header.Get("Location"))
	}
	signInJSON(t, c, d.URL, "alice", d.Passwords["alice"])
	stepJSON(t, c, d.URL, "code", totpCode(t, secret, clk.Now()))
	if resp, body := get(t, c, d.URL+"/admin", "text/html"); resp.StatusCode != 200 || !strings.Contains(body, "bob@example.com") {
		t.Fatalf("after signing in with the code: %d", resp.StatusCode)
	}
}
