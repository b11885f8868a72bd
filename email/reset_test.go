package email_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authgate/authgate/email"
)

// signInWithPassword is the credentials sign-in (json=true), true when it
// succeeded.
func (b *browser) signInWithPassword(address, password string) bool {
	b.e.t.Helper()
	res := b.postForm("/api/auth/callback/credentials", url.Values{"email": {address}, "password": {password},
		"csrfToken": {b.csrf()}, "json": {"true"}})
	return res.status == http.StatusOK && !strings.Contains(res.body, "error=")
}

// resetLink asks for a reset for address and returns the mailed link.
func (b *browser) resetLink(address string) string {
	b.e.t.Helper()
	if res := b.forgot(address); res.status != http.StatusOK || res.location() != b.e.url+"/api/auth/verify-request?provider=email&type=reset" {
		b.e.t.Fatalf("forgot password: %d %s", res.status, res.body)
	}
	_, link := b.e.nextLink("/reset-password")
	return link
}

func TestForgotPasswordResetsOnceEndsEverySessionAndSignsInAfresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	mallory := e.addUser("mia@example.com", "old-password-1")
	thief, laptop := e.browser(), e.browser()
	if !thief.signInWithPassword("mia@example.com", "old-password-1") || !laptop.signInWithPassword("mia@example.com", "old-password-1") {
		t.Fatal("password sign-ins failed")
	}

	b := e.browser()
	link := b.resetLink("MIA@example.com")
	u, _ := url.Parse(link)
	if u.Path != "/api/auth/reset-password" || u.Query().Get("email") != "mia@example.com" || len(u.Query().Get("token")) != 64 {
		t.Errorf("reset link %s", link)
	}
	// A HEAD and a scanner's GET leave it working.
	e.browser().method("HEAD", link)
	e.browser().get(link)

	// Too short a password: the form again, the link still usable.
	page, res := b.submit(link, url.Values{"password": {"short"}})
	if !strings.Contains(page.body, `autocomplete="new-password"`) || res.status != http.StatusBadRequest || !strings.Contains(res.body, "at least 8 characters") {
		t.Fatalf("a short password: %d %q", res.status, res.body)
	}
	_, res = b.submit(link, url.Values{"password": {"new-password-2"}})
	if res.status != http.StatusSeeOther || res.location() != e.url+"/dashboard" {
		t.Fatalf("reset: %d → %q, want the dashboard", res.status, res.location())
	}
	if who := b.whoami(); who != mallory.ID+" mia@example.com admin email" {
		t.Errorf("after the reset: %q, want mia signed in with AMR email", who)
	}
	for name, other := range map[string]*browser{"the thief": thief, "the laptop": laptop} {
		if who := other.whoami(); who != "anonymous" {
			t.Errorf("%s's session after the reset: %q, want it ended", name, who)
		}
	}
	if e.browser().signInWithPassword("mia@example.com", "old-password-1") {
		t.Error("the old password still works")
	}
	if !e.browser().signInWithPassword("mia@example.com", "new-password-2") {
		t.Error("the new password does not work")
	}
	// The link again: used.
	if _, res := e.browser().submit(link, url.Values{"password": {"third-password-3"}}); res.location() != e.url+"/api/auth/error?error=Verification" {
		t.Errorf("the link a second time: → %q, want Verification", res.location())
	}
}

func TestANewerResetRequestKillsTheOlderLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	e.addUser("ned@example.com", "old-password-1")
	b := e.browser()
	older := b.resetLink("ned@example.com")
	newer := b.resetLink("ned@example.com")
	if _, res := b.submit(older, url.Values{"password": {"new-password-2"}}); res.location() != e.url+"/api/auth/error?error=Verification" {
		t.Errorf("the older link: → %q, want Verification", res.location())
	}
	if _, res := b.submit(newer, url.Values{"password": {"new-password-2"}}); res.location() != e.url+"/dashboard" {
		t.Errorf("the newer link: → %q, want the dashboard", res.location())
	}
	// A sign-in link and a reset link of one address do not end each
	// other.
	b.requestLink("ned@example.com")
	_, signIn := e.nextLink("/callback/email")
	reset := b.resetLink("ned@example.com")
	if _, res := e.browser().submit(signIn, nil); res.location() != e.url+"/dashboard" {
		t.Errorf("the sign-in link after a reset request: → %q", res.location())
	}
	if _, res := e.browser().submit(reset, url.Values{"password": {"new-password-3"}}); res.location() != e.url+"/dashboard" {
		t.Errorf("the reset link after a sign-in link: → %q", res.location())
	}
}

func TestResetForAnUnknownAddressSendsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	e.addUser("olga@example.com", "pw-olga-123")
	if res := e.browser().forgot("nobody@example.com"); res.status != http.StatusOK {
		t.Fatalf("forgot: %d", res.status)
	}
	if err := e.ext.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.smtp.Transactions(); n != 0 {
		t.Errorf("%d SMTP transactions for an unknown address, want none", n)
	}
	if !strings.Contains(e.log(), "reset_unknown") {
		t.Errorf("the unknown address is not logged")
	}
	// A bad address is refused like the sign-in link's.
	if res := e.browser().forgot("a@b.co,evil@attacker.io"); res.status != http.StatusBadRequest || res.location() != e.url+"/api/auth/error?error=EmailSignin" {
		t.Errorf("a list: %d %s", res.status, res.body)
	}
}

func TestResetLinksExpireAndBelongToTheirUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	e.addUser("pat@example.com", "old-password-1")
	b := e.browser()
	link := b.resetLink("pat@example.com")
	e.clk.Advance(email.DefaultMaxAge)
	if _, res := b.submit(link, url.Values{"password": {"new-password-2"}}); res.location() != e.url+"/api/auth/error?error=Verification" {
		t.Errorf("an expired reset link: → %q, want Verification", res.location())
	}
	if !e.browser().signInWithPassword("pat@example.com", "old-password-1") {
		t.Error("a refused reset changed the password")
	}
}

func TestResetIsThrottledLikeTheLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{limiter: email.NewSendLimiter()})
	e.addUser("quinn@example.com", "pw-quinn-123")
	b := e.browser()
	perPair, _, _ := email.SendBudgets()
	for range perPair.Burst {
		b.requestLink("quinn@example.com")
	}
	if res := b.forgot("quinn@example.com"); res.status != http.StatusTooManyRequests {
		t.Errorf("a reset after the mailbox's budget went to links: %d, want 429 (one budget for both)", res.status)
	}
	if res := b.forgot("nobody@example.com"); res.status != http.StatusOK {
		t.Errorf("another mailbox: %d", res.status)
	}
}
