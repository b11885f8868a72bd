package authgatetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// TestLimiter checks that a [authgate.Limiter] keeps the contract its doc
// states: a stranger's three failure budgets taken all or nothing before
// the password check, a known device's own budget instead of them,
// failures counted, successes, unchecked and shed attempts given back as
// the contract says, the success budget, time read only from
// [authgate.Attempt.Time], IPv6 addresses grouped by /64, and no overshoot
// under concurrent attempts. newLimiter must return an empty limiter that
// applies the budgets of opts (each a Burst of attempts, then one per
// Every; MaxEntries does not matter); it is called once per subtest, so a
// shared store must be emptied or keyed apart for each call. Run it from a
// test of the implementation, in the way [testing/fstest.TestFS] is run:
//
//	func TestMyLimiter(t *testing.T) {
//		authgatetest.TestLimiter(t, func(t *testing.T, b authgate.MemoryLimiterOptions) authgate.Limiter {
//			return newMyLimiter(t, b.PerAccountAddress, b.PerAccount, b.PerAddress, b.PerAccountDevice, b.PerAccountSuccess)
//		})
//	}
func TestLimiter(t *testing.T, newLimiter func(t *testing.T, budgets authgate.MemoryLimiterOptions) authgate.Limiter) {
	t.Helper()
	big := authgate.AttemptBudget{Burst: 1000, Every: time.Second}
	three := authgate.AttemptBudget{Burst: 3, Every: time.Hour}
	two := authgate.AttemptBudget{Burst: 2, Every: time.Hour}
	start := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	// budgets are the five budgets of a case: the three failure budgets
	// of strangers given, the device and success budgets big unless set.
	budgets := func(pair, account, addr authgate.AttemptBudget) authgate.MemoryLimiterOptions {
		return authgate.MemoryLimiterOptions{PerAccountAddress: pair, PerAccount: account, PerAddress: addr,
			PerAccountDevice: big, PerAccountSuccess: big}
	}

	fail := func(account, addr string, at time.Duration, allowed bool) step {
		return step{account: account, addr: addr, at: at, outcome: authgate.AttemptFailed, allowed: allowed}
	}
	ok := func(account, addr string, at time.Duration) step {
		return step{account: account, addr: addr, at: at, outcome: authgate.AttemptSucceeded, allowed: true}
	}
	unchecked := func(account, addr string, at time.Duration) step {
		return step{account: account, addr: addr, at: at, outcome: authgate.AttemptNotChecked, allowed: true}
	}
	shed := func(account, addr string, at time.Duration) step {
		return step{account: account, addr: addr, at: at, outcome: authgate.AttemptShed, allowed: true}
	}
	// device returns s as an attempt from the known device dev.
	device := func(dev string, s step) step { s.device = dev; return s }
	var oneAccount, manyAccounts []step
	for i := range 60 {
		oneAccount = append(oneAccount, ok("alice", "192.0.2.1", 0))
		manyAccounts = append(manyAccounts, ok(fmt.Sprintf("user%d", i), "192.0.2.1", 0))
	}
	tests := []struct {
		name                string
		pair, account, addr authgate.AttemptBudget
		steps               []step
		edit                func(*authgate.MemoryLimiterOptions)
	}{
		{"failures use up the budget of one account from one address", three, big, big, []step{
			fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true),
			fail("alice", "192.0.2.1", 0, false),
			fail("alice", "192.0.2.2", 0, true), // another address has its own budget
			fail("bob", "192.0.2.1", 0, true),   // another account too
		}, nil},
		{"a refused attempt takes nothing, and the budget refills one per Every", three, big, big, []step{
			fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true),
			fail("alice", "192.0.2.1", time.Minute, false), fail("alice", "192.0.2.1", 2*time.Minute, false),
			fail("alice", "192.0.2.1", time.Hour, true),
			fail("alice", "192.0.2.1", time.Hour, false),
		}, nil},
		{"correct passwords are never refused", three, three, three, oneAccount, nil},
		{"many accounts signing in correctly from one address are never refused", three, three, three, manyAccounts, nil},
		{"a success resets the budget of its account and address", three, big, big, []step{
			fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true),
			ok("alice", "192.0.2.1", 0),
			fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true),
			fail("alice", "192.0.2.1", 0, false),
		}, nil},
		{"a success gives back what it took from the account's budget", big, authgate.AttemptBudget{Burst: 2, Every: time.Hour}, big, []step{
			fail("alice", "192.0.2.1", 0, true),
			ok("alice", "192.0.2.2", 0),
			fail("alice", "192.0.2.3", 0, true),
			fail("alice", "192.0.2.4", 0, false),
		}, nil},
		{"a success gives back what it took from the address's budget", big, big, authgate.AttemptBudget{Burst: 2, Every: time.Hour}, []step{
			fail("alice", "192.0.2.1", 0, true),
			ok("bob", "192.0.2.1", 0),
			fail("carol", "192.0.2.1", 0, true),
			fail("dave", "192.0.2.1", 0, false),
		}, nil},
		{"failures against one account from many addresses share its budget", big, three, big, []step{
			fail("alice", "192.0.2.1", 0, true), fail("alice", "198.51.100.7", 0, true), fail("alice", "203.0.113.9", 0, true),
			fail("alice", "192.0.2.200", 0, false),
			fail("bob", "192.0.2.200", 0, true),
		}, nil},
		{"failures from one address against many accounts share its budget", big, big, three, []step{
			fail("alice", "192.0.2.1", 0, true), fail("bob", "192.0.2.1", 0, true), fail("carol", "192.0.2.1", 0, true),
			fail("dave", "192.0.2.1", 0, false),
			fail("dave", "192.0.2.2", 0, true),
		}, nil},
		{"IPv6 addresses in one /64 share a budget", big, big, authgate.AttemptBudget{Burst: 2, Every: time.Hour}, []step{
			fail("alice", "2001:db8::1", 0, true), fail("bob", "2001:db8::2", 0, true),
			fail("carol", "2001:db8::ffff:1", 0, false),
			fail("carol", "2001:db8:0:1::1", 0, true),
		}, nil},
		{"an IPv4-mapped IPv6 address counts as its IPv4 address", big, big, authgate.AttemptBudget{Burst: 2, Every: time.Hour}, []step{
			fail("alice", "192.0.2.1", 0, true), fail("bob", "::ffff:192.0.2.1", 0, true),
			fail("carol", "192.0.2.1", 0, false),
		}, nil},
		{"attempts refused before their password check use up no budget", three, three, three, []step{
			fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true),
			unchecked("alice", "192.0.2.1", 0), unchecked("alice", "192.0.2.1", 0), unchecked("alice", "192.0.2.1", 0),
			fail("alice", "192.0.2.1", 0, true),
			fail("alice", "192.0.2.1", 0, false),
		}, nil},
		{"an attempt without an account is budgeted by its address", three, three, three, []step{
			fail("", "192.0.2.1", 0, true), fail("", "192.0.2.1", 0, true), fail("", "192.0.2.1", 0, true),
			fail("", "192.0.2.1", 0, false), fail("alice", "192.0.2.1", 0, false),
		}, nil},
		{"shed attempts use up their address's budget and nothing else", big, three, three, []step{
			shed("alice", "192.0.2.1", 0), shed("alice", "192.0.2.1", 0), shed("alice", "192.0.2.1", 0),
			fail("bob", "192.0.2.1", 0, false),   // the address's budget is spent
			fail("alice", "192.0.2.2", 0, true),  // the account's was given back
			fail("alice", "192.0.2.2", 0, true),  // twice
			fail("alice", "192.0.2.3", 0, true),  // three times
			fail("alice", "192.0.2.4", 0, false), // now the account's failures count
		}, nil},
		{"a known device is budgeted by its own failures only", three, three, three, []step{
			fail("alice", "192.0.2.1", 0, true), fail("bob", "192.0.2.1", 0, true), fail("carol", "192.0.2.1", 0, true),
			fail("alice", "198.51.100.1", 0, true), fail("alice", "198.51.100.2", 0, true),
			fail("dave", "192.0.2.1", 0, false),                  // the address's budget is spent
			fail("alice", "198.51.100.3", 0, false),              // and the account's
			device("dev-1", fail("alice", "192.0.2.1", 0, true)), // neither applies to alice's device
			device("dev-1", fail("alice", "192.0.2.1", 0, true)),
			device("dev-1", ok("alice", "192.0.2.1", 0)),
		}, nil},
		{"an account's known devices share one budget of sign-ins, failed or not", big, big, big, []step{
			device("dev-1", fail("alice", "192.0.2.1", 0, true)), device("dev-2", ok("alice", "192.0.2.2", 0)),
			device("dev-3", fail("alice", "192.0.2.1", 0, false)),        // spent, the success included
			device("dev-1", fail("bob", "192.0.2.1", 0, true)),           // another account has its own
			fail("alice", "192.0.2.1", 0, true),                          // strangers are not refused by it
			device("dev-1", fail("alice", "192.0.2.1", time.Hour, true)), // it refills one per Every
			device("dev-1", fail("alice", "192.0.2.1", time.Hour, false)),
		}, func(o *authgate.MemoryLimiterOptions) { o.PerAccountDevice = two }},
		{"a known device's unchecked and shed attempts are given back", big, big, big, []step{
			device("dev-1", unchecked("alice", "192.0.2.1", 0)), device("dev-1", shed("alice", "192.0.2.1", 0)),
			device("dev-1", unchecked("alice", "192.0.2.1", 0)),
			device("dev-1", fail("alice", "192.0.2.1", 0, true)), device("dev-1", fail("alice", "192.0.2.1", 0, true)),
			device("dev-1", fail("alice", "192.0.2.1", 0, false)),
		}, func(o *authgate.MemoryLimiterOptions) { o.PerAccountDevice = two }},
		{"successes of strangers use up the account's success budget", big, big, big, []step{
			ok("alice", "192.0.2.1", 0), ok("alice", "192.0.2.2", 0),
			fail("alice", "192.0.2.3", 0, false),         // no room for another success
			fail("bob", "192.0.2.1", 0, true),            // another account has its own
			device("dev-1", ok("alice", "192.0.2.1", 0)), // a known device does not count
			fail("alice", "192.0.2.3", time.Hour, true),  // one more per Every
			ok("alice", "192.0.2.3", time.Hour),
			fail("alice", "192.0.2.3", time.Hour, false),
		}, func(o *authgate.MemoryLimiterOptions) { o.PerAccountSuccess = two }},
		{"failures do not use up the success budget", big, big, big, []step{
			fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true),
			ok("alice", "192.0.2.1", 0), ok("alice", "192.0.2.1", 0),
		}, func(o *authgate.MemoryLimiterOptions) { o.PerAccountSuccess = two }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := budgets(tt.pair, tt.account, tt.addr)
			if tt.edit != nil {
				tt.edit(&b)
			}
			l := newLimiter(t, b)
			ctx := context.Background()
			for i, s := range tt.steps {
				a := authgate.Attempt{Account: s.account, Addr: s.addr, Device: s.device, Time: start.Add(s.at)}
				retry, err := l.Allow(ctx, a)
				if err != nil {
					t.Fatalf("step %d: Allow(%q, %s): %v", i, s.account, s.addr, err)
				}
				if got := retry == 0; got != s.allowed {
					t.Fatalf("step %d: Allow(%q, %s) at +%v: got retryAfter %v, want allowed=%v", i, s.account, s.addr, s.at, retry, s.allowed)
				}
				if retry > 0 {
					if retry < time.Second || retry%time.Second != 0 {
						t.Errorf("step %d: retryAfter %v, want whole seconds, at least one", i, retry)
					}
					continue
				}
				if err := l.Record(ctx, a, s.outcome); err != nil {
					t.Fatalf("step %d: Record: %v", i, err)
				}
			}
		})
	}

	t.Run("concurrent attempts cannot overshoot a budget", func(t *testing.T) {
		l := newLimiter(t, budgets(authgate.AttemptBudget{Burst: 10, Every: time.Hour}, big, big))
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				retry, err := l.Allow(context.Background(), authgate.Attempt{Account: "alice", Addr: "192.0.2.1", Time: start})
				if err != nil {
					t.Error(err)
					return
				}
				if retry == 0 {
					allowed.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := allowed.Load(); n != 10 {
			t.Errorf("got %d of 50 concurrent attempts allowed, want exactly the burst of 10", n)
		}
	})
}

// step is one attempt of a [TestLimiter] case: who, from where, when
// (after the case's start), its outcome when allowed, and whether Allow
// must let it through.
type step struct {
	account, addr string
	device        string
	at            time.Duration
	outcome       authgate.Outcome
	allowed       bool
}
