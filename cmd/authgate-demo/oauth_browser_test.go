package main

// "Sign in with …" in headless Chromium: the demo's /login button and the
// unmodified next-auth/react signIn("oidc"), each through mockoidc (an
// in-process OpenID Connect provider) and back, signed in.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestBrowserOAuth(t *testing.T) {
	dist := reactDist(t)
	newTab := newBrowser(t)
	idp := startIdP(t)
	d := startDemo(t, dist, withIdP(t, idp))

	t.Run("the demo's /login button signs in through the provider", func(t *testing.T) {
		ctx := newTab(t)
		if status := navigate(t, ctx, d.URL+"/login?callbackUrl=%2Fdashboard"); status != 200 {
			t.Fatalf("GET /login: %d", status)
		}
		if got := textOf(t, ctx, "#signin-oidc"); got != "Sign in with OpenID Connect" {
			t.Fatalf("the OIDC button reads %q", got)
		}
		do(t, ctx, "viewport", chromedp.EmulateViewport(900, 760))
		png := eval(t, ctx, "screenshot", chromedp.CaptureScreenshot())
		shot := filepath.Join(t.TempDir(), "login-providers.png")
		if *updateScreenshot {
			shot = filepath.Join("..", "..", "docs", "login-providers.png")
		}
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Fatal(err)
		}
		do(t, ctx, "click Sign in with OpenID Connect", chromedp.Click("#signin-oidc"))
		waitFor(t, ctx, "the dashboard of the OIDC user",
			`location.pathname === "/dashboard" && document.body.innerText.includes("jane.doe")`)
		// The account is linked to the user the adapter created for it,
		// whose id the dashboard shows.
		u, err := d.Store.Adapter().UserByAccount(context.Background(), "oidc", "1234567890")
		if err != nil {
			t.Fatalf("the OIDC account is not linked: %v", err)
		}
		if got := textOf(t, ctx, "#user-id"); got != u.ID {
			t.Errorf("the dashboard shows user id %q, want the linked user's %q", got, u.ID)
		}
		body := textOf(t, ctx, "body")
		for _, want := range []string{"jane.doe", `"role": "user"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the dashboard lacks %s:\n%s", want, body)
			}
		}
		for name := range cookies(t, ctx, d.URL) {
			if strings.Contains(name, "state") || strings.Contains(name, "pkce") || strings.Contains(name, "nonce") {
				t.Errorf("the check cookie %s outlived the callback", name)
			}
		}
	})

	t.Run(`next-auth/react signIn("oidc") comes back signed in`, func(t *testing.T) {
		ctx := newTab(t)
		if status := navigate(t, ctx, d.URL+"/"); status != 200 {
			t.Fatalf("GET / (the built React app): status %d", status)
		}
		waitFor(t, ctx, "useSession() to settle", `(document.querySelector("#status") || {}).textContent === "unauthenticated"`)
		waitFor(t, ctx, "the provider buttons from getProviders()", `!!document.querySelector("#signin-oidc")`)
		do(t, ctx, `click the button that calls signIn("oidc")`, chromedp.Click("#signin-oidc"))
		waitFor(t, ctx, "useSession() to be authenticated after the round trip",
			`location.pathname === "/" && (document.querySelector("#status") || {}).textContent === "authenticated"`)
		if got := textOf(t, ctx, "#name"); got != "jane.doe" {
			t.Errorf("useSession() user name: got %q, want jane.doe", got)
		}
		if got := textOf(t, ctx, "#role"); got != "user" {
			t.Errorf("useSession() role: got %q, want user", got)
		}
	})
}
