package main

// The second factor in headless Chromium: the seed's form on the
// unmodified next-auth/react 4.24.15 client (examples/nextauth-react) signs
// a TOTP user in in two steps, and the demo's own pages enrol a user with
// the QR code and then ask for the code at login. The demo runs on the real
// clock; codes are computed from the enrolled secret.

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestBrowserNextAuthReactSignsInInTwoSteps(t *testing.T) {
	dist := reactDist(t)
	newTab := newBrowser(t)
	d := startDemo(t, dist)

	// alice enrols (over HTTP: this test is about the sign-in).
	c := d.client(t)
	mustSignIn(t, c, d.URL, "alice", d.Passwords["alice"])
	_, body := postPage(t, c, d.URL+"/account/2fa/setup", nil)
	m := secretOnPage.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("setup:\n%s", body)
	}
	secret := m[1]
	if _, body := postPage(t, c, d.URL+"/account/2fa/confirm", url.Values{"code": {previousStepCode(t, secret)}}); !strings.Contains(body, `id="totp-on"`) {
		t.Fatalf("confirm:\n%s", body)
	}

	ctx := newTab(t)
	navigate(t, ctx, d.URL+"/")
	has := func(sel, want string) string {
		return `(document.querySelector(` + jsString(sel) + `) || {textContent: ""}).textContent.trim() === ` + jsString(want)
	}
	waitFor(t, ctx, "useSession() to settle", has("#status", "unauthenticated"))
	do(t, ctx, "sign in with the password",
		chromedp.WaitVisible("#username"),
		chromedp.SetValue("#username", "alice"),
		chromedp.SetValue("#password", d.Passwords["alice"]),
		chromedp.Click("#signin"),
	)
	waitFor(t, ctx, "the code field", `!!document.querySelector("#code")`)
	if got := textOf(t, ctx, "#signin-result"); got != `{"error":"TwoFactorRequired","status":401,"ok":false,"url":null}` {
		t.Errorf("signIn() after the password resolved to %s, want {error: TwoFactorRequired, status: 401, ok: false, url: null}", got)
	}
	if got := textOf(t, ctx, "#status"); got != "unauthenticated" {
		t.Errorf("useSession() after the password alone: %q", got)
	}
	if _, ok := cookies(t, ctx, d.URL)["authgate.device"]; ok {
		t.Error("the password alone gave the browser a device token")
	}
	do(t, ctx, "send the code",
		chromedp.SetValue("#code", totpCode(t, secret, time.Now())),
		chromedp.Click("#signin"),
	)
	waitFor(t, ctx, "useSession() to be authenticated", has("#status", "authenticated"))
	if got := textOf(t, ctx, "#signin-result"); !strings.Contains(got, `"ok":true`) || !strings.Contains(got, `"error":null`) {
		t.Errorf("signIn() with the code resolved to %s, want ok:true", got)
	}
	if got := textOf(t, ctx, "#name"); got != "alice" {
		t.Errorf("session user: %q", got)
	}
	if _, ok := cookies(t, ctx, d.URL)["authgate.device"]; !ok {
		t.Error("no device token after both steps")
	}
	navigate(t, ctx, d.URL+"/account/2fa")
	if got := textOf(t, ctx, "#session-amr"); got != "pwd otp mfa" {
		t.Errorf("the session's AMR: %q, want pwd otp mfa", got)
	}
}

func TestBrowserDemoEnrolsAndAsksForTheCode(t *testing.T) {
	newTab := newBrowser(t)
	d := startDemo(t, "")
	ctx := newTab(t)

	navigate(t, ctx, d.URL+"/login?callbackUrl=%2Faccount%2F2fa")
	fillLogin(t, ctx, "alice", d.Passwords["alice"])
	do(t, ctx, "submit the login form", chromedp.Click("#submit"))
	waitFor(t, ctx, "the two-factor page", `!!document.querySelector("#totp-setup")`)
	if status := clickAndLoad(t, ctx, "#totp-setup"); status != 200 {
		t.Fatalf("set up: %d", status)
	}
	secret := textOf(t, ctx, "#totp-secret")
	if len(secret) != 32 {
		t.Fatalf("secret on the page: %q", secret)
	}
	if w := eval(t, ctx, "the QR code", chromedp.Evaluate[int](`document.querySelector("#totp-qr").naturalWidth`)); w != 256 {
		t.Errorf("the QR code image is %d pixels wide, want 256 (loaded, allowed by the CSP)", w)
	}
	png := eval(t, ctx, "screenshot", chromedp.CaptureScreenshot())
	shot := filepath.Join(t.TempDir(), "totp.png")
	if *updateScreenshot {
		shot = filepath.Join("..", "..", "docs", "totp.png")
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "type the code", chromedp.SendKeys("#totp-code", previousStepCode(t, secret)))
	if status := clickAndLoad(t, ctx, "#totp-confirm"); status != 200 {
		t.Fatalf("confirm: %d", status)
	}
	if n := eval(t, ctx, "the recovery codes", chromedp.Evaluate[int](`document.querySelectorAll("#recovery-codes li").length`)); n != 10 {
		t.Fatalf("%d recovery codes shown, want 10", n)
	}

	do(t, ctx, "sign out", chromedp.Click("#signout"))
	waitFor(t, ctx, "the login page", `location.pathname === "/login"`)
	fillLogin(t, ctx, "alice", d.Passwords["alice"])
	do(t, ctx, "submit the password", chromedp.Click("#submit"))
	waitFor(t, ctx, "the code field", `!document.querySelector("#step-fields").hidden && document.querySelector("#password-fields").hidden`)
	if got := textOf(t, ctx, "#error"); !strings.Contains(got, "authenticator app") {
		t.Errorf("the form says %q, want it to ask for the code", got)
	}
	do(t, ctx, "a wrong code", chromedp.SendKeys("#code", "000000"), chromedp.Click("#submit"))
	waitFor(t, ctx, "the wrong-code message", `document.querySelector("#error").textContent.includes("not right")`)
	eval(t, ctx, "clear the code", chromedp.Evaluate[string](`document.querySelector("#code").value = ""`))
	do(t, ctx, "the right code",
		chromedp.SendKeys("#code", totpCode(t, secret, time.Now())),
		chromedp.Click("#submit"))
	waitFor(t, ctx, "the dashboard", `location.pathname === "/dashboard"`)
	navigate(t, ctx, d.URL+"/account/2fa")
	if got := textOf(t, ctx, "#session-amr"); got != "pwd otp mfa" {
		t.Errorf("the session's AMR: %q, want pwd otp mfa", got)
	}
}
