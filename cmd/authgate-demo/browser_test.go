package main

// Browser end-to-end tests: headless Chromium (Debian's chromium package)
// driven by chromedp against the demo on a loopback port. Without Chromium
// they skip, except under CI=true, where they fail.

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

var updateScreenshot = flag.Bool("update-screenshot", false,
	"also write the dashboard screenshot to docs/dashboard.png")

// chromiumPath finds Chromium: $CHROMIUM, then the usual names on $PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	const why = "no Chromium found (looked at $CHROMIUM, /usr/bin/chromium and chromium, chromium-browser, google-chrome on $PATH); install it with `apt-get install -y chromium`"
	if os.Getenv("CI") == "true" {
		t.Fatal(why + "; CI=true requires the browser tests to run")
	}
	t.Skip(why)
	return ""
}

// newBrowser starts one headless Chromium for the test and returns a
// function that opens a tab in a fresh browser context (its own cookies),
// bounded by a timeout.
func newBrowser(t *testing.T) func(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 800),
		// This machine has no network but loopback: keep Chromium from
		// trying to reach Google's services at all.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	start := time.Now()
	if err := chromedp.Do(browserCtx); err != nil { // starts the browser
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	t.Logf("Chromium started in %v", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })

	return func(t *testing.T) context.Context {
		t.Helper()
		ctx, cancelTimeout := context.WithTimeout(browserCtx, 90*time.Second)
		ctx, cancelTab := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
		t.Cleanup(func() { cancelTab(); cancelTimeout() })
		if err := chromedp.Do(ctx); err != nil {
			t.Fatalf("open a tab: %v", err)
		}
		return ctx
	}
}

// do runs the steps or fails the test.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// run runs one action and returns its value, or fails the test.
func eval[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// navigate loads u and returns the final HTTP status of the document
// (after redirects).
func navigate(t *testing.T, ctx context.Context, u string) int64 {
	t.Helper()
	return eval(t, ctx, "navigate to "+u, chromedp.NavigateResponse(u)).Status
}

// clickAndLoad clicks sel and waits for the page it leads to; it returns
// that document's HTTP status.
func clickAndLoad(t *testing.T, ctx context.Context, sel string) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
	if err != nil {
		t.Fatalf("click %s and wait for the next page: %v", sel, err)
	}
	return resp.Status
}

// waitFor polls the JavaScript expression until it is true. Polling (not a
// fixed sleep) survives navigations and returns as soon as the page is ready.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	t.Fatalf("timed out waiting for %s (%s); last error %v; the page shows:\n%s", what, expr, last, body)
}

// textOf returns the text content of the first element matching the CSS
// selector, or "" when there is none.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent.trim()`, sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// location returns the tab's current URL.
func location(t *testing.T, ctx context.Context) *url.URL {
	t.Helper()
	u, err := url.Parse(eval(t, ctx, "location", chromedp.Location()))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// cookies returns the browser's cookies for base, including HttpOnly ones.
func cookies(t *testing.T, ctx context.Context, base string) map[string]*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		t.Fatalf("get cookies: %v", err)
	}
	m := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		m[c.Name] = c
	}
	return m
}

// sessionCookie is the demo's session cookie name on http (https adds the
// __Host- prefix).
const sessionCookie = "authgate.session-token"

// signIn fills the login form (the tab must show /login) and submits it.
func fillLogin(t *testing.T, ctx context.Context, username, password string) {
	t.Helper()
	do(t, ctx, "fill the login form",
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", username),
		chromedp.SendKeys("#password", password),
	)
}

func TestBrowserDemo(t *testing.T) {
	newTab := newBrowser(t)
	d := startDemo(t, "")
	began := time.Now()
	t.Cleanup(func() { t.Logf("browser cases took %v", time.Since(began).Round(time.Millisecond)) })

	t.Run("alice signs in through /login, sees her role, cannot read the cookie, and signs out", func(t *testing.T) {
		ctx := newTab(t)
		do(t, ctx, "viewport", chromedp.EmulateViewport(1200, 800))

		// An anonymous visit to a guarded page lands on the login form.
		if status := navigate(t, ctx, d.URL+"/dashboard"); status != 200 {
			t.Fatalf("GET /dashboard anonymously ended with status %d, want 200 (the login page)", status)
		}
		if u := location(t, ctx); u.Path != "/login" || u.Query().Get("callbackUrl") != d.URL+"/dashboard" {
			t.Fatalf("anonymous /dashboard went to %s, want /login?callbackUrl=%%2Fdashboard", u)
		}

		fillLogin(t, ctx, "alice", d.Passwords["alice"])
		if status := clickAndLoad(t, ctx, "#submit"); status != 200 {
			t.Fatalf("after signing in the page loaded with status %d, want 200", status)
		}
		if u := location(t, ctx); u.Path != "/dashboard" {
			t.Fatalf("after signing in the browser is at %s, want /dashboard", u)
		}
		if got := textOf(t, ctx, "#role"); got != "admin" {
			t.Errorf("dashboard role: got %q, want %q", got, "admin")
		}
		if got := textOf(t, ctx, "#username"); got != "alice" {
			t.Errorf("dashboard username: got %q, want %q", got, "alice")
		}
		if got := textOf(t, ctx, "#session-json"); !strings.Contains(got, `"role": "admin"`) || !strings.Contains(got, `"name": "alice"`) {
			t.Errorf("dashboard session JSON lacks name and role:\n%s", got)
		}

		// The session cookie is set, HttpOnly, and invisible to scripts.
		jar := cookies(t, ctx, d.URL)
		c, ok := jar[sessionCookie]
		if !ok {
			t.Fatalf("no %s cookie after sign-in; cookies: %v", sessionCookie, keys(jar))
		}
		if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax {
			t.Errorf("%s: HttpOnly=%v SameSite=%q, want HttpOnly and Lax", sessionCookie, c.HTTPOnly, c.SameSite)
		}
		docCookie := eval(t, ctx, "document.cookie", chromedp.Evaluate[string](`document.cookie`))
		if strings.Contains(docCookie, sessionCookie) {
			t.Errorf("document.cookie exposes the session cookie: %q", docCookie)
		}

		// What a person sees: one screenshot of the dashboard.
		png := eval(t, ctx, "screenshot", chromedp.CaptureScreenshot())
		if !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Fatalf("the screenshot is not a PNG (%d bytes)", len(png))
		}
		shot := filepath.Join(t.TempDir(), "dashboard.png")
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("dashboard screenshot: %s (%d bytes)", shot, len(png))
		if *updateScreenshot {
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "dashboard.png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}

		// Sign out through the navigation bar's button.
		if status := clickAndLoad(t, ctx, "#signout"); status != 200 {
			t.Fatalf("after signing out the page loaded with status %d, want 200", status)
		}
		if u := location(t, ctx); u.Path != "/login" {
			t.Errorf("after signing out the browser is at %s, want /login", u)
		}
		if got := textOf(t, ctx, "#notice"); got != "You are signed out." {
			t.Errorf("sign-out notice: got %q", got)
		}
		if _, ok := cookies(t, ctx, d.URL)[sessionCookie]; ok {
			t.Errorf("the session cookie is still set after signing out")
		}
		if status := navigate(t, ctx, d.URL+"/api/me"); status != 401 {
			t.Errorf("GET /api/me after signing out: status %d, want 401", status)
		}
		navigate(t, ctx, d.URL+"/dashboard")
		if u := location(t, ctx); u.Path != "/login" {
			t.Errorf("/dashboard after signing out went to %s, want /login", u)
		}
	})

	t.Run("bob signs in and is refused at /admin with 403", func(t *testing.T) {
		ctx := newTab(t)
		navigate(t, ctx, d.URL+"/login")
		fillLogin(t, ctx, "bob", d.Passwords["bob"])
		clickAndLoad(t, ctx, "#submit")
		if got := textOf(t, ctx, "#role"); got != "user" {
			t.Fatalf("dashboard role: got %q, want %q", got, "user")
		}
		if status := navigate(t, ctx, d.URL+"/admin"); status != 403 {
			t.Errorf("GET /admin as bob: status %d, want 403", status)
		}
		if got := textOf(t, ctx, "#forbidden"); !strings.Contains(got, "403") {
			t.Errorf("the 403 page shows %q", got)
		}
		if got := textOf(t, ctx, "#users"); got != "" {
			t.Errorf("bob sees the users table: %q", got)
		}
	})

	t.Run("a wrong password shows the error and sets no session cookie", func(t *testing.T) {
		ctx := newTab(t)
		navigate(t, ctx, d.URL+"/login")
		fillLogin(t, ctx, "alice", "not-her-password")
		do(t, ctx, "submit", chromedp.Click("#submit"))
		waitFor(t, ctx, "the error line", `document.querySelector("#error").textContent === "Wrong username or password."`)
		if u := location(t, ctx); u.Path != "/login" {
			t.Errorf("after a wrong password the browser is at %s, want /login", u)
		}
		if _, ok := cookies(t, ctx, d.URL)[sessionCookie]; ok {
			t.Errorf("a failed sign-in set the session cookie")
		}
		// An unknown user gets the very same message.
		do(t, ctx, "retype", chromedp.SetValue("#username", "mallory"), chromedp.SetValue("#password", "x"),
			chromedp.Evaluate[chromedp.Void](`document.querySelector("#error").textContent = ""`))
		do(t, ctx, "submit", chromedp.Click("#submit"))
		waitFor(t, ctx, "the error line", `document.querySelector("#error").textContent === "Wrong username or password."`)
	})

	t.Run("without JavaScript the form is a plain POST answered with 302", func(t *testing.T) {
		ctx := newTab(t)
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatalf("disable JavaScript: %v", err)
		}
		navigate(t, ctx, d.URL+"/login?callbackUrl=%2Fadmin")
		fillLogin(t, ctx, "alice", "wrong")
		clickAndLoad(t, ctx, "#submit")
		if u := location(t, ctx); u.Path != "/login" || u.Query().Get("error") != "CredentialsSignin" {
			t.Errorf("a wrong password without JavaScript went to %s, want /login?…error=CredentialsSignin", u)
		}
		if got := textOf(t, ctx, "#error"); got != "Wrong username or password." {
			t.Errorf("error line: got %q", got)
		}

		navigate(t, ctx, d.URL+"/login?callbackUrl=%2Fadmin")
		fillLogin(t, ctx, "alice", d.Passwords["alice"])
		if status := clickAndLoad(t, ctx, "#submit"); status != 200 {
			t.Errorf("sign-in without JavaScript ended with status %d", status)
		}
		if u := location(t, ctx); u.Path != "/admin" {
			t.Errorf("sign-in without JavaScript went to %s, want the callbackUrl /admin", u)
		}
		if got := textOf(t, ctx, "#users"); !strings.Contains(got, "bob") {
			t.Errorf("the admin page's users table: %q", got)
		}
	})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
