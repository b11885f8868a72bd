package main

// The unmodified next-auth/react client (examples/nextauth-react, built with
// Vite) against the demo, same-origin, in headless Chromium.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// skipOrFail skips the test with why, or fails it under CI=true, where
// every browser test must really run.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why + "; CI=true requires this test to run")
	}
	t.Skip(why)
}

// reactDist returns the built example app. ./test.sh builds it (npm ci,
// npm run build) before any Go test runs; no test runs npm itself.
func reactDist(t *testing.T) string {
	t.Helper()
	dist, err := filepath.Abs(filepath.Join("..", "..", "examples", "nextauth-react", "dist"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dist, "index.html")); err != nil {
		skipOrFail(t, "examples/nextauth-react is not built: run ./test.sh, which builds it, "+
			"or cd examples/nextauth-react && npm ci && npm run build")
	}
	return dist
}

// signInResult is what signIn("credentials", {redirect: false}) resolves to.
type signInResult struct {
	Error  *string `json:"error"`
	Status int     `json:"status"`
	OK     bool    `json:"ok"`
	URL    *string `json:"url"`
}

func TestBrowserNextAuthReact(t *testing.T) {
	dist := reactDist(t)
	newTab := newBrowser(t)
	d := startDemo(t, dist)
	ctx := newTab(t)
	do(t, ctx, "viewport", chromedp.EmulateViewport(1000, 900))
	began := time.Now()
	t.Cleanup(func() { t.Logf("next-auth/react flow took %v", time.Since(began).Round(time.Millisecond)) })

	readResult := func(sel string) signInResult {
		t.Helper()
		var r signInResult
		if err := json.Unmarshal([]byte(textOf(t, ctx, sel)), &r); err != nil {
			t.Fatalf("%s is not a signIn result: %q: %v", sel, textOf(t, ctx, sel), err)
		}
		return r
	}
	has := func(sel, want string) string {
		return `(document.querySelector(` + jsString(sel) + `) || {textContent: ""}).textContent.trim() === ` + jsString(want)
	}

	// The app loads and SessionProvider's GET /api/auth/session says {}.
	if status := navigate(t, ctx, d.URL+"/"); status != 200 {
		t.Fatalf("GET / (the built React app): status %d", status)
	}
	waitFor(t, ctx, "useSession() to settle", has("#status", "unauthenticated"))

	t.Run("a wrong password resolves to ok:false and error CredentialsSignin", func(t *testing.T) {
		do(t, ctx, "sign in with a wrong password",
			chromedp.WaitVisible("#username"),
			chromedp.SetValue("#username", "bob"),
			chromedp.SetValue("#password", "wrong-password"),
			chromedp.Click("#signin"),
		)
		waitFor(t, ctx, "the signIn() result", `document.querySelector("#signin-result").textContent !== "-"`)
		r := readResult("#signin-result")
		if r.OK || r.Error == nil || *r.Error != "CredentialsSignin" || r.Status != 401 || r.URL != nil {
			t.Errorf("signIn result: got %s, want ok:false, error:CredentialsSignin, status:401, url:null", textOf(t, ctx, "#signin-result"))
		}
		if got := textOf(t, ctx, "#status"); got != "unauthenticated" {
			t.Errorf("useSession() status after a failed sign-in: %q", got)
		}
	})

	t.Run("alice signs in: ok:true and useSession() shows her name and role", func(t *testing.T) {
		do(t, ctx, "sign in as alice",
			chromedp.SetValue("#username", "alice"),
			chromedp.SetValue("#password", d.Passwords["alice"]),
			chromedp.Click("#signin"),
		)
		waitFor(t, ctx, "useSession() to be authenticated", has("#status", "authenticated"))
		waitFor(t, ctx, "the signIn() result", `document.querySelector("#signin-result").textContent.includes('"ok":true')`)
		r := readResult("#signin-result")
		if !r.OK || r.Error != nil || r.Status != 200 || r.URL == nil || !strings.HasPrefix(*r.URL, d.URL+"/") {
			t.Errorf("signIn result: got %s, want ok:true, error:null, status:200 and a url on %s", textOf(t, ctx, "#signin-result"), d.URL)
		}
		if got := textOf(t, ctx, "#name"); got != "alice" {
			t.Errorf("session user name: got %q, want alice", got)
		}
		if got := textOf(t, ctx, "#role"); got != "admin" {
			t.Errorf("session user role: got %q, want admin", got)
		}
		docCookie := eval(t, ctx, "document.cookie", chromedp.Evaluate[string](`document.cookie`))
		if strings.Contains(docCookie, sessionCookie) {
			t.Errorf("document.cookie exposes the session cookie: %q", docCookie)
		}
	})

	t.Run("update() reaches the jwt callback with trigger update", func(t *testing.T) {
		do(t, ctx, "call update()", chromedp.Click("#update"))
		waitFor(t, ctx, "the updated session", has("#update-trigger", "update"))
		if got := textOf(t, ctx, "#update-note"); got != "hello from update()" {
			t.Errorf("note copied by the jwt callback: got %q", got)
		}
		if got := textOf(t, ctx, "#update-result"); !strings.Contains(got, `"updateTrigger":"update"`) {
			t.Errorf("update() resolved to %s, want the new session with claims.updateTrigger", got)
		}
		if got := textOf(t, ctx, "#role"); got != "admin" {
			t.Errorf("role after update(): got %q, want admin", got)
		}
		png := eval(t, ctx, "screenshot", chromedp.CaptureScreenshot())
		shot := filepath.Join(t.TempDir(), "nextauth-react.png")
		if *updateScreenshot {
			shot = filepath.Join("..", "..", "docs", "nextauth-react.png")
		}
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("signOut({redirect:false}) returns to unauthenticated", func(t *testing.T) {
		do(t, ctx, "sign out", chromedp.Click("#signout"))
		waitFor(t, ctx, "useSession() to be unauthenticated", has("#status", "unauthenticated"))
		if got := textOf(t, ctx, "#signout-result"); !strings.Contains(got, `"url":"`+d.URL) {
			t.Errorf("signOut() resolved to %s, want {url} on %s", got, d.URL)
		}
		if _, ok := cookies(t, ctx, d.URL)[sessionCookie]; ok {
			t.Errorf("the session cookie is still set after signOut()")
		}
		// A reload confirms it: the server has no session for this browser.
		navigate(t, ctx, d.URL+"/")
		waitFor(t, ctx, "useSession() after a reload", has("#status", "unauthenticated"))
	})
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
