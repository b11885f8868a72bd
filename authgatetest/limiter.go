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
// states: three budgets taken all or nothing before the password check,
// failures counted, successes and unchecked attempts given back, time read only from
// [authgate.Attempt.Time], IPv6 addresses grouped by /64, and no overshoot
// under concurrent attempts. newLimiter must return an empty limiter that
// applies the given budgets (a Burst of attempts, then one per Every); it
// is called once per subtest, so a shared store must be emptied or keyed
// apart for each call. Run it from a test of the implementation, in the
// way [testing/fstest.TestFS] is run:
//
//	func TestMyLimiter(t *testing.T) {
//		authgatetest.TestLimiter(t, func(t *testing.T, pair, account, addr authgate.AttemptBudget) authgate.Limiter {
//			return newMyLimiter(t, pair, account, addr)
//		})
//	}
func TestLimiter(t *testing.T, newLimiter func(t *testing.T, perAccountAddress, perAccount, perAddress authgate.AttemptBudget) authgate.Limiter) {
	t.Helper()
	big := authgate.AttemptBudget{Burst: 1000, Every: time.Second}
	three := authgate.AttemptBudget{Burst: 3, Every: time.Hour}
	start := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

	fail := func(account, addr string, at time.Duration, allowed bool) step {
		return step{account: account, addr: addr, at: at, outcome: authgate.AttemptFailed, allowed: allowed}
	}
	ok := func(account, addr string, at time.Duration) step {
		return step{account: account, addr: addr, at: at, outcome: authgate.AttemptSucceeded, allowed: true}
	}
	unchecked := func(account, addr string, at time.Duration) step {
		return step{account: account, addr: addr, at: at, outcome: authgate.AttemptNotChecked, allowed: true}
	}
	var oneAccount, manyAccounts []step
	for i := range 60 {
		oneAccount = append(oneAccount, ok("alice", "192.0.2.1", 0))
		manyAccounts = append(manyAccounts, ok(fmt.Sprintf("user%d", i), "192.0.2.1", 0))
	}
	tests := []struct {
		name                string
		pair, account, addr authgate.AttemptBudget
		steps               []step
	}{
		{"failures use up the budget of one account from one address", three, big, big, []step{
			fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true),
			fail("alice", "192.0.2.1", 0, false),
			fail("alice", "192.0.2.2", 0, true), // another address has its own budget
			fail("bob", "192.0.2.1", 0, true),   // another account too
		}},
		{"a refused attempt takes nothing, and the budget refills one per Every", three, big, big, []step{
			fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true),
			fail("alice", "192.0.2.1", time.Minute, false), fail("alice", "192.0.2.1", 2*time.Minute, false),
			fail("alice", "192.0.2.1", time.Hour, true),
			fail("alice", "192.0.2.1", time.Hour, false),
		}},
		{"correct passwords are never refused", three, three, three, oneAccount},
		{"many accounts signing in correctly from one address are never refused", three, three, three, manyAccounts},
		{"a success resets the budget of its account and address", three, big, big, []step{
			fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true),
			ok("alice", "192.0.2.1", 0),
			fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true),
			fail("alice", "192.0.2.1", 0, false),
		}},
		{"a success gives back what it took from the account's budget", big, authgate.AttemptBudget{Burst: 2, Every: time.Hour}, big, []step{
			fail("alice", "192.0.2.1", 0, true),
			ok("alice", "192.0.2.2", 0),
			fail("alice", "192.0.2.3", 0, true),
			fail("alice", "192.0.2.4", 0, false),
		}},
		{"a success gives back what it took from the address's budget", big, big, authgate.AttemptBudget{Burst: 2, Every: time.Hour}, []step{
			fail("alice", "192.0.2.1", 0, true),
			ok("bob", "192.0.2.1", 0),
			fail("carol", "192.0.2.1", 0, true),
			fail("dave", "192.0.2.1", 0, false),
		}},
		{"failures against one account from many addresses share its budget", big, three, big, []step{
			fail("alice", "192.0.2.1", 0, true), fail("alice", "198.51.100.7", 0, true), fail("alice", "203.0.113.9", 0, true),
			fail("alice", "192.0.2.200", 0, false),
			fail("bob", "192.0.2.200", 0, true),
		}},
		{"failures from one address against many accounts share its budget", big, big, three, []step{
			fail("alice", "192.0.2.1", 0, true), fail("bob", "192.0.2.1", 0, true), fail("carol", "192.0.2.1", 0, true),
			fail("dave", "192.0.2.1", 0, false),
			fail("dave", "192.0.2.2", 0, true),
		}},
		{"IPv6 addresses in one /64 share a budget", big, big, authgate.AttemptBudget{Burst: 2, Every: time.Hour}, []step{
			fail("alice", "2001:db8::1", 0, true), fail("bob", "2001:db8::2", 0, true),
			fail("carol", "2001:db8::ffff:1", 0, false),
			fail("carol", "2001:db8:0:1::1", 0, true),
		}},
		{"an IPv4-mapped IPv6 address counts as its IPv4 address", big, big, authgate.AttemptBudget{Burst: 2, Every: time.Hour}, []step{
			fail("alice", "192.0.2.1", 0, true), fail("bob", "::ffff:192.0.2.1", 0, true),
			fail("carol", "192.0.2.1", 0, false),
		}},
		{"attempts refused before their password check use up no budget", three, three, three, []step{
			fail("alice", "192.0.2.1", 0, true), fail("alice", "192.0.2.1", 0, true),
			unchecked("alice", "192.0.2.1", 0), unchecked("alice", "192.0.2.1", 0), unchecked("alice", "192.0.2.1", 0),
			fail("alice", "192.0.2.1", 0, true),
			fail("alice", "192.0.2.1", 0, false),
		}},
		{"an attempt without an account is budgeted by its address", three, three, three, []step{
			fail("", "192.0.2.1", 0, true), fail("", "192.0.2.1", 0, true), fail("", "192.0.2.1", 0, true),
			fail("", "192.0.2.1", 0, false), fail("alice", "192.0.2.1", 0, false),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(t, tt.pair, tt.account, tt.addr)
			ctx := context.Background()
			for i, s := range tt.steps {
				a := authgate.Attempt{Account: s.account, Addr: s.addr, Time: start.Add(s.at)}
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
		l := newLimiter(t, authgate.AttemptBudget{Burst: 10, Every: time.Hour}, big, big)
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
	at            time.Duration
	outcome       authgate.Outcome
	allowed       bool
}
