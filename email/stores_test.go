package email_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/email"
	"github.com/authgate/authgate/email/smtptest"
	"github.com/authgate/authgate/redisstore"
	"github.com/authgate/authgate/redisstore/redistest"
	"github.com/authgate/authgate/sqlstore"
)

// The whole flow — a sign-up by link, the link used once, a password
// reset that ends the old sessions — on each real store.
func TestTheWholeFlowOnSQLiteAndPostgreSQL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		open func(testing.TB, *clock) *sqlstore.Store
	}{{"SQLite", openSQLite}, {"PostgreSQL", openPostgres}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			e := newEnv(t, options{clk: clk, store: tt.open(t, clk)})
			b := e.browser()
			if res := b.signInWithLink("Rosa@Example.com"); res.location() != e.url+"/dashboard" {
				t.Fatalf("sign-up by link: → %q", res.location())
			}
			u, err := e.store.UserByEmail(context.Background(), "rosa@example.com")
			if err != nil || u.EmailVerified.IsZero() {
				t.Fatalf("the new user: %+v %v", u, err)
			}
			if who := b.whoami(); who != u.ID+" rosa@example.com member email" {
				t.Errorf("whoami %q", who)
			}

			// A password through "forgot password" (the user has none).
			link := b.resetLink("rosa@example.com")
			if _, res := e.browser().submit(link, url.Values{"password": {"rosas-password-1"}}); res.location() != e.url+"/dashboard" {
				t.Fatalf("reset: → %q", res.location())
			}
			if who := b.whoami(); who != "anonymous" {
				t.Errorf("the first browser after the reset: %q, want signed out", who)
			}
			if !e.browser().signInWithPassword("rosa@example.com", "rosas-password-1") {
				t.Error("the password set by the reset does not sign in")
			}
			if _, res := e.browser().submit(link, url.Values{"password": {"rosas-password-2"}}); res.location() != e.url+"/api/auth/error?error=Verification" {
				t.Errorf("the reset link again: → %q", res.location())
			}
		})
	}
}

// Two instances behind one public URL share a PostgreSQL database (users,
// tokens) and a redis-server (the send budgets, revocations): a link used
// on one is dead on the other, the budgets are one, and a reset on one
// ends the sessions held on the other.
func TestTwoInstancesSharingRedisAndPostgreSQL(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	clk := newClock()
	store := openPostgres(t, clk)
	mail := smtptest.Start(t, smtptest.Options{})
	const public = "http://127.0.0.1:3999"
	perPair, perMailbox, perClient := email.SendBudgets()
	instance := func() *env {
		ctx := context.Background()
		client, err := redisstore.Connect(ctx, rs.URL(), 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { client.Close() })
		lim, err := redisstore.NewLimiter(ctx, client, redisstore.LimiterOptions{KeyPrefix: "authgate:email:",
			PerAccountAddress: perPair, PerAccount: perMailbox, PerAddress: perClient})
		if err != nil {
			t.Fatal(err)
		}
		revs, err := redisstore.NewRevocationStore(ctx, client, redisstore.RevocationOptions{Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { revs.Close() })
		return newEnv(t, options{clk: clk, store: store, smtp: mail, url: public, limiter: lim,
			editAuth: func(c *authgate.Config[claims]) { c.Revocations = revs }})
	}
	a, b := instance(), instance()
	b.addUser("sam@example.com", "sams-password-1")

	t.Run("a link used on one instance is dead on the other", func(t *testing.T) {
		onA := a.browser()
		onA.requestLink("sam@example.com")
		_, link := a.nextLink("/callback/email")
		if _, res := onA.on(b).submit(link, nil); res.location() != public+"/dashboard" {
			t.Fatalf("the link on B: → %q", res.location())
		}
		if _, res := a.browser().submit(link, nil); res.location() != public+"/api/auth/error?error=Verification" {
			t.Errorf("the link again on A: → %q, want Verification", res.location())
		}
	})

	t.Run("the send budget is one for both", func(t *testing.T) {
		x := a.browser()
		x.c.Transport = fromAddr("198.51.100.77")
		y := b.browser()
		y.c.Transport = fromAddr("198.51.100.77")
		for i := range perPair.Burst {
			if res := []*browser{x, y}[i%2].requestLink("tom@example.com"); res.status != http.StatusOK {
				t.Fatalf("mail %d: %d", i, res.status)
			}
		}
		if res := x.requestLink("tom@example.com"); res.status != http.StatusTooManyRequests {
			t.Errorf("one more on A after %d across both: %d, want 429", perPair.Burst, res.status)
		}
		if res := y.requestLink("tom@example.com"); res.status != http.StatusTooManyRequests {
			t.Errorf("one more on B: %d, want 429", res.status)
		}
		mail.Pending()
	})

	t.Run("a reset on one instance ends the sessions held on the other", func(t *testing.T) {
		held := b.browser()
		if !held.signInWithPassword("sam@example.com", "sams-password-1") {
			t.Fatal("sign-in on B")
		}
		r := a.browser()
		if res := r.forgot("sam@example.com"); res.status != http.StatusOK {
			t.Fatalf("forgot on A: %d", res.status)
		}
		_, link := a.nextLink("/reset-password")
		if _, res := r.submit(link, url.Values{"password": {"sams-password-2"}}); res.location() != public+"/dashboard" {
			t.Fatalf("reset on A: → %q", res.location())
		}
		// B learns of the revocation through Redis' pub/sub: bounded wait.
		deadline := time.Now().Add(5 * time.Second)
		for held.whoami() != "anonymous" {
			if time.Now().After(deadline) {
				t.Fatal("B still accepts the session 5s after the reset on A")
			}
		}
		if held.on(a).signInWithPassword("sam@example.com", "sams-password-1") {
			t.Error("the old password still works on A")
		}
		if !r.on(b).signInWithPassword("sam@example.com", "sams-password-2") {
			t.Error("the new password does not work on B")
		}
	})
}
