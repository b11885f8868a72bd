package main

// The unmodified next-auth/react 4.24.15 client (examples/nextauth-react)
// in headless Chromium signs in with signIn("email") against the demo; the
// test reads the link from the mail the real SMTP server captured, opens
// it in the same browser and clicks the confirmation button.

import (
	"strings"
	"testing"

	"github.com/authgate/authgate/email/smtptest"
	"github.com/chromedp/chromedp"
)

func TestBrowserNextAuthReactSignsInWithAnEmailLink(t *testing.T) {
	dist := reactDist(t)
	newTab := newBrowser(t)
	mail := smtptest.Start(t, smtptest.Options{Username: "demo", Password: "mail-pw"})
	d := startDemo(t, dist, withEmail(t, mail))
	ctx := newTab(t)
	has := func(sel, want string) string {
		return `(document.querySelector(` + jsString(sel) + `) || {textContent: ""}).textContent.trim() === ` + jsString(want)
	}

	navigate(t, ctx, d.URL+"/")
	waitFor(t, ctx, "useSession() to settle", has("#status", "unauthenticated"))
	waitFor(t, ctx, "the e-mail form (the provider email in /providers)", `document.querySelector("#signin-email") !== null`)
	do(t, ctx, `signIn("email", {email, redirect: false})`,
		chromedp.SetValue("#email", "alice@example.com"),
		chromedp.Click("#signin-email"),
	)
	waitFor(t, ctx, "the signIn() result", `document.querySelector("#email-result").textContent !== "-"`)
	got := textOf(t, ctx, "#email-result")
	want := `{"error":null,"status":200,"ok":true,"url":"` + d.URL + `/api/auth/verify-request?provider=email&type=email"}`
	if got != want {
		t.Errorf("signIn(\"email\") resolved to %s, want %s", got, want)
	}

	m := mail.Next(t)
	link := m.Link("/api/auth/callback/email")
	if len(m.To) != 1 || m.To[0] != "alice@example.com" || !strings.HasPrefix(link, d.URL+"/") {
		t.Fatalf("the mail: to %q, link %q", m.To, link)
	}
	// The link opens the confirmation page; its one button signs in and
	// goes back to the callbackUrl ("/", the React app).
	navigate(t, ctx, link)
	waitFor(t, ctx, "the confirmation page", `document.querySelector("#confirm") !== null`)
	do(t, ctx, "click Sign in", chromedp.Click("#confirm"))
	waitFor(t, ctx, "useSession() to be authenticated", has("#status", "authenticated"))
	if got := textOf(t, ctx, "#name"); got != "alice" {
		t.Errorf("session user name: %q, want alice", got)
	}
	if got := textOf(t, ctx, "#session"); !strings.Contains(got, `"email": "alice@example.com"`) {
		t.Errorf("useSession().data: %s", got)
	}
}
