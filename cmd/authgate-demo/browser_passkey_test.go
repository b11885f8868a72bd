package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// TestBrowserPasskey drives the demo in real Chromium with a virtual
// CTAP2 authenticator (the DevTools WebAuthn domain: resident keys, user
// verification) on http://localhost, a secure context whose host name is
// the RP ID: alice signs in with her password and adds a passkey from
// the dashboard, signs out, and signs in again with "Sign in with a
// passkey" without typing her name; the store's sign counter follows the
// authenticator's.
func TestBrowserPasskey(t *testing.T) {
	newTab := newBrowser(t)
	var base string
	d := startDemo(t, "", func(o *Options) {
		o.URL = strings.Replace(o.URL, "http://127.0.0.1:", "http://localhost:", 1)
		base = o.URL
	})
	ctx := newTab(t)
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	added, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	counter := func() float64 {
		t.Helper()
		res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams(added))
		if err != nil || len(res.Credentials) != 1 || !res.Credentials[0].IsResidentCredential {
			t.Fatalf("the authenticator's credentials: %+v, %v; want one resident credential", res, err)
		}
		return res.Credentials[0].SignCount
	}
	alice, err := d.Store.UserByUsername(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	stored := func() *authgate.Passkey {
		t.Helper()
		list, err := d.Store.Adapter().Passkeys(t.Context(), alice.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("alice's stored passkeys: %d, %v; want 1", len(list), err)
		}
		return &list[0]
	}

	// Signed in with her password, alice adds a passkey on the dashboard.
	if status := navigate(t, ctx, base+"/login?callbackUrl=%2Fdashboard"); status != 200 {
		t.Fatalf("GET /login: %d", status)
	}
	fillLogin(t, ctx, "alice", d.Passwords["alice"])
	if status := clickAndLoad(t, ctx, "#submit"); status != 200 || location(t, ctx).Path != "/dashboard" {
		t.Fatalf("password sign-in: %d at %s", status, location(t, ctx))
	}
	do(t, ctx, "click Add a passkey", chromedp.Click("#add-passkey"))
	waitFor(t, ctx, "the passkey list after adding one", `location.pathname === "/passkeys" && document.querySelectorAll("#passkeys tr.passkey").length === 1`)
	if got := textOf(t, ctx, "#notice"); !strings.Contains(got, "passkey is added") {
		t.Errorf("the notice after adding: %q", got)
	}
	atRegistration := stored().SignCount
	if got := counter(); float64(atRegistration) != got {
		t.Errorf("after the registration the store has counter %d, the authenticator %v", atRegistration, got)
	}

	// Signed out, she signs in with the passkey: no name typed.
	if status := clickAndLoad(t, ctx, "#signout"); status != 200 || location(t, ctx).Path != "/login" {
		t.Fatalf("sign-out: %d at %s", status, location(t, ctx))
	}
	if _, ok := cookies(t, ctx, base)[sessionCookie]; ok {
		t.Fatal("the session cookie survived the sign-out")
	}
	do(t, ctx, "click Sign in with a passkey", chromedp.Click("#passkey-signin"))
	waitFor(t, ctx, "the dashboard after the passkey sign-in", `location.pathname === "/dashboard" && !!document.querySelector("#username")`)
	if got := textOf(t, ctx, "#username"); got != "alice" {
		t.Errorf("signed in as %q, want alice", got)
	}
	if got := eval(t, ctx, "the username field", chromedp.Evaluate[bool](`!document.querySelector("#password")`)); !got {
		t.Error("the dashboard shows a password field")
	}
	k := stored()
	if float64(k.SignCount) != counter() || k.SignCount <= atRegistration {
		t.Errorf("after the passkey sign-in the store has counter %d (registration: %d), the authenticator %v; want it advanced to the authenticator's",
			k.SignCount, atRegistration, counter())
	}
	t.Logf("sign counter: %d at the registration, %d after the passkey sign-in", atRegistration, k.SignCount)
	if time.Since(k.LastUsed) > time.Minute {
		t.Errorf("last used %v", k.LastUsed)
	}

	// The list renames it.
	navigate(t, ctx, base+"/passkeys")
	do(t, ctx, "rename", chromedp.SetValue(".rename-passkey input[name=name]", "Chromium's authenticator"))
	if status := clickAndLoad(t, ctx, ".rename-passkey button"); status != 200 || textOf(t, ctx, ".passkey-name") != "Chromium's authenticator" {
		t.Errorf("after renaming: %d, name %q", status, textOf(t, ctx, ".passkey-name"))
	}
	if png := eval(t, ctx, "screenshot", chromedp.CaptureScreenshot()); *updateScreenshot {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "passkeys.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
