package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserDevicesPage drives "Your devices" in real Chromium with two
// browser contexts (a laptop and a phone, each with its own cookies),
// signed in as alice with database sessions: the laptop sees both, signs
// the phone out, and the phone lands on the login page; then "sign out the
// other devices" does the same and keeps the laptop.
func TestBrowserDevicesPage(t *testing.T) {
	newTab := newBrowser(t)
	d := startDemo(t, "", func(o *Options) { o.SessionStrategy = "database" })
	began := time.Now()
	t.Cleanup(func() { t.Logf("browser cases took %v", time.Since(began).Round(time.Millisecond)) })
	laptop, phone := newTab(t), newTab(t)
	signIn := func(ctx context.Context, who string) {
		t.Helper()
		if status := navigate(t, ctx, d.URL+"/login?callbackUrl=%2Fdashboard"); status != 200 {
			t.Fatalf("%s: GET /login: %d", who, status)
		}
		fillLogin(t, ctx, "alice", d.Passwords["alice"])
		if status := clickAndLoad(t, ctx, "#submit"); status != 200 || location(t, ctx).Path != "/dashboard" {
			t.Fatalf("%s: after signing in: %d at %s", who, status, location(t, ctx))
		}
	}
	rows := func(ctx context.Context) int {
		t.Helper()
		return eval(t, ctx, "count the devices", chromedp.Evaluate[int](`document.querySelectorAll("#devices tr.device").length`))
	}
	signedOut := func(ctx context.Context, who string) {
		t.Helper()
		navigate(t, ctx, d.URL+"/dashboard")
		if u := location(t, ctx); u.Path != "/login" {
			t.Errorf("%s: /dashboard shows %s, want the login page", who, u)
		}
	}

	signIn(laptop, "laptop")
	signIn(phone, "phone")

	// The dashboard links to the page; it lists both browsers.
	if status := clickAndLoad(t, laptop, "#devices-link"); status != 200 || location(t, laptop).Path != "/devices" {
		t.Fatalf("the dashboard's devices link: %d at %s", status, location(t, laptop))
	}
	if n := rows(laptop); n != 2 {
		t.Fatalf("the laptop's devices page lists %d devices, want 2", n)
	}
	if got := textOf(t, laptop, "#devices tr.current td"); got == "" || !strings.Contains(got, "this device") {
		t.Errorf("the current device is not marked: %q", got)
	}
	do(t, laptop, "viewport", chromedp.EmulateViewport(1100, 640))
	png := eval(t, laptop, "screenshot", chromedp.CaptureScreenshot())
	shot := filepath.Join(t.TempDir(), "devices.png")
	if *updateScreenshot {
		shot = filepath.Join("..", "..", "docs", "devices.png")
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}

	// Sign the phone out from the laptop.
	if status := clickAndLoad(t, laptop, "#devices tr.device:not(.current) .signout-device"); status != 200 {
		t.Fatalf("sign the phone out: %d", status)
	}
	if got := textOf(t, laptop, "#notice"); got != "That device is signed out." {
		t.Errorf("notice %q", got)
	}
	if n := rows(laptop); n != 1 {
		t.Errorf("after signing the phone out the page lists %d devices, want 1", n)
	}
	signedOut(phone, "the phone")

	// "Sign out the other devices" keeps the laptop.
	signIn(phone, "phone again")
	navigate(t, laptop, d.URL+"/devices")
	if n := rows(laptop); n != 2 {
		t.Fatalf("with the phone back: %d devices, want 2", n)
	}
	if status := clickAndLoad(t, laptop, "#signout-others"); status != 200 || location(t, laptop).RawQuery != "ended=others" {
		t.Fatalf("sign the others out: %d at %s", status, location(t, laptop))
	}
	if n := rows(laptop); n != 1 {
		t.Errorf("after signing the others out: %d devices, want 1", n)
	}
	signedOut(phone, "the phone")
	navigate(t, laptop, d.URL+"/dashboard")
	if u := location(t, laptop); u.Path != "/dashboard" {
		t.Errorf("the laptop is at %s, want still signed in on /dashboard", u)
	}
}
