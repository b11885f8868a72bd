package authgate_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// Tests of the known-device lane (device.go) and of fair sharing among
// strangers, through the protocol: device tokens, their budgets, their
// revocation, and who pays for a refusal.

// spyLimiter is a Limiter that records every outcome it is told.
type spyLimiter struct {
	authgate.Limiter
	mu       sync.Mutex
	outcomes []string // "account addr device: outcome"
}

func (s *spyLimiter) Record(ctx context.Context, a authgate.Attempt, o authgate.Outcome) error {
	s.mu.Lock()
	s.outcomes = append(s.outcomes, a.Account+" "+a.Addr+" "+a.Device+": "+o.String())
	s.mu.Unlock()
	return s.Limiter.Record(ctx, a, o)
}

func (s *spyLimiter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.outcomes, "\n")
}

// tightBudgets makes the limiter's budgets small enough to spend in a
// test: three failures per account, per address and per (account,
// address), two per known device.
func tightBudgets(c *authgate.Config[claims]) {
	three := authgate.AttemptBudget{Burst: 3, Every: time.Hour}
	c.Limiter = authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{
		PerAccountAddress: three, PerAccount: three, PerAddress: three,
		PerAccountDevice: authgate.AttemptBudget{Burst: 2, Every: time.Hour},
	})
}

// returningAlice signs alice in from 192.0.2.1 and out again: her browser
// keeps the device token, as a browser does after "sign out".
func returningAlice(t *testing.T, a *app) *client {
	t.Helper()
	alice := a.client()
	if res := alice.signIn("alice", "alice-password"); !signedIn(res.Response) {
		t.Fatalf("first sign-in: %d %s", res.StatusCode, res.body)
	}
	if alice.cookie("authgate.device") == "" {
		t.Fatal("a successful sign-in set no device token")
	}
	alice.signOut()
	if alice.cookie("authgate.device") == "" {
		t.Fatal("signing out removed the device token")
	}
	return alice
}

// exhaust spends alice's account budget from other addresses and
// 192.0.2.1's address budget on other accounts, as strangers do.
func exhaust(t *testing.T, a *app) {
	t.Helper()
	attacker := a.client()
	for _, addr := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		attacker.from(addr).signIn("alice", "guess")
	}
	for _, who := range []string{"bob", "carol", "nobody"} {
		attacker.from("192.0.2.1").signIn(who, "guess")
	}
	if res := a.client().from("192.0.2.1").signIn("alice", "alice-password"); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a stranger signing in as alice after the flood: got %d, want 429", res.StatusCode)
	}
}

func TestKnownDevices(t *testing.T) {
	t.Parallel()
	t.Run("a returning device signs in although strangers spent the account's and the address's budgets", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, tightBudgets)
		alice := returningAlice(t, a)
		exhaust(t, a)
		if res := alice.signIn("alice", "alice-password"); !signedIn(res.Response) {
			t.Fatalf("alice's own browser: got %d %s, want signed in", res.StatusCode, res.body)
		}
	})
	t.Run("a device that keeps failing loses its standing", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, tightBudgets)
		alice := returningAlice(t, a)
		exhaust(t, a)
		for i := range 2 {
			if res := alice.signIn("alice", "typo"); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d from the device: got %d, want 401 (its own budget)", i+1, res.StatusCode)
			}
		}
		if res := alice.signIn("alice", "alice-password"); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("after the device's budget: got %d, want 429 (a stranger now, under the spent budgets)", res.StatusCode)
		}
		if !strings.Contains(a.logs.String(), "event=device_demoted") {
			t.Error("the demotion is not logged")
		}
	})
	// Each case spoils alice's device token in some way, spends the
	// strangers' budgets, then signs in with the browser: a stranger now.
	for _, tt := range []struct {
		name, as string
		spoil    func(a *app, alice *client)
	}{
		{"a device token counts only for its own account", "bob", func(*app, *client) {}},
		{"SignOutEverywhere revokes the user's device tokens", "alice", func(a *app, _ *client) {
			a.clk.Advance(time.Second)
			if err := a.auth.SignOutEverywhere(context.Background(), "u1"); err != nil {
				t.Fatal(err)
			}
		}},
		{"a tampered device token is a stranger's", "alice", func(_ *app, alice *client) {
			v := []byte(alice.cookie("authgate.device"))
			v[len(v)/2] ^= 1
			alice.setCookie("authgate.device", string(v))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, tightBudgets)
			alice := returningAlice(t, a)
			tt.spoil(a, alice)
			exhaust(t, a)
			if res := alice.signIn(tt.as, tt.as+"-password"); res.StatusCode != http.StatusTooManyRequests {
				t.Errorf("signing in as %s: got %d, want 429 (a stranger under the spent budgets)", tt.as, res.StatusCode)
			}
		})
	}
	t.Run("the device token is HttpOnly and lives MaxLifetime", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, nil)
		res := a.client().signIn("alice", "alice-password")
		var dev *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == "authgate.device" {
				dev = c
			}
		}
		if dev == nil || !dev.HttpOnly || dev.MaxAge != int(authgate.DefaultMaxLifetime/time.Second) || dev.Path != "/" {
			t.Errorf("device cookie: %+v", dev)
		}
		if strings.Contains(a.logs.String(), dev.Value) {
			t.Error("the device token reached the log")
		}
	})
}

// TestReturningUsersGoFirst: with every slot busy and strangers queued
// from many addresses, a returning device's sign-in gets the next slot.
func TestReturningUsersGoFirst(t *testing.T) {
	t.Parallel()
	h := newBlockingHasher()
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Hasher = h
		c.MaxConcurrentHashes = 1
		c.MaxHashWait = time.Hour
	})
	alice := returningAlice(t, a)
	holder := make(chan response)
	go func() { holder <- a.client().from("203.0.113.1").signIn("bob", "block") }()
	<-h.entered
	order := make(chan string, 10)
	var wg sync.WaitGroup
	for i, addr := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		wg.Go(func() {
			a.client().from(addr).signIn("nobody", "guess")
			order <- "stranger"
		})
		waitQueued(t, a, i+1)
	}
	wg.Go(func() {
		if res := alice.signIn("alice", "alice-password"); !signedIn(res.Response) {
			t.Errorf("alice: %d %s", res.StatusCode, res.body)
		}
		order <- "alice"
	})
	waitQueued(t, a, 4)
	close(h.release)
	<-holder
	wg.Wait()
	close(order)
	if first := <-order; first != "alice" {
		t.Errorf("the first answered after the holder: %s, want the returning device", first)
	}
}

// TestAFloodingAddressPaysForItsRefusals: a sign-in refused because its
// address already holds every place it may is recorded as shed (its
// address's limiter token is not given back); a refusal of an address
// with nothing queued is not checked (everything given back).
func TestAFloodingAddressPaysForItsRefusals(t *testing.T) {
	t.Parallel()
	h := newBlockingHasher()
	spy := &spyLimiter{Limiter: authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{})}
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Hasher = h
		c.Limiter = spy
		c.MaxConcurrentHashes = 1
		c.MaxQueuedPerAddress = 1
		c.MaxHashWait = time.Hour
	})
	holder := make(chan response)
	go func() { holder <- a.client().from("203.0.113.1").signIn("bob", "block") }()
	<-h.entered
	queued := make(chan response)
	go func() { queued <- a.client().from("198.51.100.7").signIn("carol", "guess") }()
	waitQueued(t, a, 1)
	if res := a.client().from("198.51.100.7").signIn("dave", "guess"); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a second place for one address: got %d, want 503", res.StatusCode)
	}
	close(h.release)
	<-holder
	<-queued
	if !strings.Contains(spy.String(), "dave 198.51.100.7 : shed") {
		t.Errorf("outcomes:\n%s\nwant dave's refusal recorded as shed", spy)
	}
}

// TestSuccessfulSignInsHaveABudget: a valid account no longer makes
// password checks free: its strangers' successes are budgeted (here 2),
// while its own known device still signs in.
func TestSuccessfulSignInsHaveABudget(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Limiter = authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{PerAccountSuccess: authgate.AttemptBudget{Burst: 2, Every: time.Hour}})
	})
	alice := returningAlice(t, a) // the first success
	if res := a.client().from("198.51.100.1").signIn("alice", "alice-password"); !signedIn(res.Response) {
		t.Fatalf("the second success: %d", res.StatusCode)
	}
	if res := a.client().from("198.51.100.2").signIn("alice", "alice-password"); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a third stranger's success: got %d, want 429", res.StatusCode)
	}
	if res := alice.signIn("alice", "alice-password"); !signedIn(res.Response) {
		t.Errorf("alice's known device: got %d, want signed in", res.StatusCode)
	}
	if res := a.client().from("198.51.100.2").signIn("bob", "bob-password"); !signedIn(res.Response) {
		t.Errorf("another account: got %d, want signed in", res.StatusCode)
	}
}
