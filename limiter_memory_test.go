package authgate_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

var t0 = time.Date(2026, 11, 29, 4, 0, 0, 0, time.UTC)

// attempt builds an Attempt at t0+offset.
func attempt(account, addr string, offset time.Duration) authgate.Attempt {
	return authgate.Attempt{Account: account, Addr: addr, Time: t0.Add(offset)}
}

// mustAllow fails the test unless l allows a.
func mustAllow(t testing.TB, l authgate.Limiter, a authgate.Attempt) {
	t.Helper()
	wait, err := l.Allow(context.Background(), a)
	if err != nil || wait != 0 {
		t.Fatalf("Allow(%+v) = %v, %v; want 0, nil", a, wait, err)
	}
}

// refused returns how long l asks a to wait, failing the test when it allows it.
func refused(t testing.TB, l authgate.Limiter, a authgate.Attempt) time.Duration {
	t.Helper()
	wait, err := l.Allow(context.Background(), a)
	if err != nil {
		t.Fatalf("Allow(%+v) error: %v", a, err)
	}
	if wait <= 0 {
		t.Fatalf("Allow(%+v) = %v; want a refusal", a, wait)
	}
	return wait
}

// fail makes n attempts that fail (Allow then Record(AttemptFailed)), all allowed.
func fail(t testing.TB, l authgate.Limiter, a authgate.Attempt, n int) {
	t.Helper()
	for i := range n {
		wait, err := l.Allow(context.Background(), a)
		if err != nil || wait != 0 {
			t.Fatalf("attempt %d: Allow = %v, %v; want 0, nil", i+1, wait, err)
		}
		if err := l.Record(context.Background(), a, authgate.AttemptFailed); err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
}

func TestMemoryLimiterDefaults(t *testing.T) {
	t.Parallel()
	l := authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{})

	t.Run("the eleventh failure against one account from one address is refused for 90 seconds", func(t *testing.T) {
		fail(t, l, attempt("alice", "198.51.100.7", 0), 10)
		if got := refused(t, l, attempt("alice", "198.51.100.7", time.Second)); got != 89*time.Second {
			t.Errorf("Retry-After = %v, want 89s (one token every 90s, one second already passed)", got)
		}
		mustAllow(t, l, attempt("alice", "198.51.100.7", 90*time.Second))
		refused(t, l, attempt("alice", "198.51.100.7", 91*time.Second))
	})

	t.Run("the same account from another address is unaffected", func(t *testing.T) {
		mustAllow(t, l, attempt("alice", "203.0.113.9", time.Second))
	})

	t.Run("another account from another address is unaffected", func(t *testing.T) {
		mustAllow(t, l, attempt("bob", "192.0.2.1", time.Second))
	})

	t.Run("the bucket refills completely in 15 minutes", func(t *testing.T) {
		fail(t, l, attempt("alice", "198.51.100.7", 17*time.Minute), 10)
		refused(t, l, attempt("alice", "198.51.100.7", 17*time.Minute))
	})
}

func TestMemoryLimiterBudgets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// run makes attempts on a limiter with the default options.
		run func(t *testing.T, l authgate.Limiter)
	}{
		{"a successful sign-in resets the count for its account and address", func(t *testing.T, l authgate.Limiter) {
			a := attempt("alice", "198.51.100.7", 0)
			fail(t, l, a, 9)
			mustAllow(t, l, a)
			if err := l.Record(context.Background(), a, authgate.AttemptSucceeded); err != nil {
				t.Fatal(err)
			}
			fail(t, l, a, 10)
			refused(t, l, a)
		}},
		{"a success from another address does not reset an attacker's count", func(t *testing.T, l authgate.Limiter) {
			attacker, victim := attempt("alice", "198.51.100.7", 0), attempt("alice", "203.0.113.9", 0)
			fail(t, l, attacker, 10)
			mustAllow(t, l, victim)
			if err := l.Record(context.Background(), victim, authgate.AttemptSucceeded); err != nil {
				t.Fatal(err)
			}
			refused(t, l, attacker)
		}},
		{"one account is capped at 50 attempts from all addresses, then one every 72 seconds", func(t *testing.T, l authgate.Limiter) {
			for i := range 50 {
				fail(t, l, attempt("alice", fmt.Sprintf("10.0.%d.%d", i/250, i%250), 0), 1)
			}
			if got := refused(t, l, attempt("alice", "192.0.2.200", 0)); got != 72*time.Second {
				t.Errorf("Retry-After = %v, want 72s", got)
			}
			mustAllow(t, l, attempt("bob", "192.0.2.200", 0))
		}},
		{"no more than 100 attempts against one account pass in any hour", func(t *testing.T, l authgate.Limiter) {
			passed := 0
			for s := 0; s < 3600; s++ {
				a := attempt("alice", fmt.Sprintf("10.1.%d.%d", s/250, s%250), time.Duration(s)*time.Second)
				if wait, _ := l.Allow(context.Background(), a); wait == 0 {
					passed++
				}
			}
			if passed > 100 {
				t.Errorf("%d attempts passed in one hour, want at most 100 (ASVS V2.2.1)", passed)
			}
		}},
		{"one address is capped at 50 attempts over all accounts, then one every 18 seconds", func(t *testing.T, l authgate.Limiter) {
			for i := range 50 {
				fail(t, l, attempt(fmt.Sprintf("user%d", i), "198.51.100.7", 0), 1)
			}
			if got := refused(t, l, attempt("fresh", "198.51.100.7", 0)); got != 18*time.Second {
				t.Errorf("Retry-After = %v, want 18s", got)
			}
			mustAllow(t, l, attempt("fresh", "198.51.100.8", 0))
		}},
		{"a refused attempt takes nothing from the other budgets", func(t *testing.T, l authgate.Limiter) {
			for i := range 50 {
				fail(t, l, attempt(fmt.Sprintf("user%d", i), "198.51.100.7", 0), 1)
			}
			// The blocked address keeps trying alice: her budgets stay full.
			for range 100 {
				refused(t, l, attempt("alice", "198.51.100.7", 0))
			}
			fail(t, l, attempt("alice", "203.0.113.9", 0), 10)
		}},
		{"IPv6 addresses in one /64 share a budget", func(t *testing.T, l authgate.Limiter) {
			for i := range 50 {
				fail(t, l, attempt(fmt.Sprintf("user%d", i), fmt.Sprintf("2001:db8:1:2::%x", i+1), 0), 1)
			}
			refused(t, l, attempt("fresh", "2001:db8:1:2:ffff:ffff:ffff:ffff", 0))
			mustAllow(t, l, attempt("fresh", "2001:db8:1:3::1", 0))
		}},
		{"an IPv4-mapped IPv6 address counts as its IPv4 address", func(t *testing.T, l authgate.Limiter) {
			fail(t, l, attempt("alice", "192.0.2.10", 0), 10)
			refused(t, l, attempt("alice", "::ffff:192.0.2.10", 0))
		}},
		{"a zone does not make a new address", func(t *testing.T, l authgate.Limiter) {
			fail(t, l, attempt("alice", "fe80::1%eth0", 0), 10)
			refused(t, l, attempt("alice", "fe80::1%eth1", 0))
		}},
		{"an empty account is budgeted per address only", func(t *testing.T, l authgate.Limiter) {
			fail(t, l, attempt("", "198.51.100.7", 0), 50)
			refused(t, l, attempt("", "198.51.100.7", 0))
			mustAllow(t, l, attempt("", "198.51.100.8", 0))
		}},
		{"a clock that goes backwards neither panics nor frees tokens", func(t *testing.T, l authgate.Limiter) {
			fail(t, l, attempt("alice", "198.51.100.7", time.Hour), 10)
			refused(t, l, attempt("alice", "198.51.100.7", 0))
			refused(t, l, attempt("alice", "198.51.100.7", time.Hour))
		}},
		{"accounts that differ only in how their parts split do not collide", func(t *testing.T, l authgate.Limiter) {
			fail(t, l, attempt("ab", "c", 0), 10)
			mustAllow(t, l, attempt("a", "bc", 0))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{}))
		})
	}
}

func TestMemoryLimiterOptions(t *testing.T) {
	t.Parallel()
	t.Run("custom budgets replace the defaults", func(t *testing.T) {
		l := authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{
			PerAccountAddress: authgate.AttemptBudget{Burst: 3, Every: time.Minute},
		})
		fail(t, l, attempt("alice", "192.0.2.1", 0), 3)
		if got := refused(t, l, attempt("alice", "192.0.2.1", 0)); got != time.Minute {
			t.Errorf("Retry-After = %v, want 1m", got)
		}
	})
	t.Run("a negative burst turns a budget off", func(t *testing.T) {
		l := authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{
			PerAccountAddress: authgate.AttemptBudget{Burst: -1},
			PerAccount:        authgate.AttemptBudget{Burst: -1},
			PerAddress:        authgate.AttemptBudget{Burst: -1},
		})
		fail(t, l, attempt("alice", "192.0.2.1", 0), 1000)
	})
}

func TestMemoryLimiterStateIsBounded(t *testing.T) {
	t.Parallel()
	const max = 1000
	l := authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{
		MaxEntries: max,
		PerAddress: authgate.AttemptBudget{Burst: -1},
	})
	// An attacker mints usernames and IPv6 addresses without end.
	for i := range 20 * max {
		a := attempt(fmt.Sprintf("minted-%d-%s", i, make([]byte, 1000)), fmt.Sprintf("2001:db8:%x::1", i), 0)
		mustAllow(t, l, a)
	}
	pairs, accounts, addrs := l.Len()
	if pairs > max || accounts > max || addrs > max {
		t.Errorf("tables hold %d, %d, %d buckets; want at most %d each", pairs, accounts, addrs, max)
	}
}

// TestMemoryLimiterMemoryIsBounded fills every table of a default limiter
// with hostile keys and measures the heap it holds: the figure documented
// for DefaultLimiterEntries.
func TestMemoryLimiterMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("fills 3×65536 buckets")
	}
	const n = authgate.DefaultLimiterEntries
	before := heapInUse()
	l := authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{PerAddress: authgate.AttemptBudget{Burst: -1}})
	long := string(make([]byte, 200))
	for i := range 2 * n {
		l.Allow(context.Background(), attempt(fmt.Sprintf("%d%s", i, long), fmt.Sprintf("2001:db8:%x:%x::1", i>>16, i&0xffff), 0))
	}
	l2 := authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{}) // the address table, filled by itself
	for i := range 2 * n {
		l2.Allow(context.Background(), attempt("", fmt.Sprintf("2001:db8:%x:%x::1", i>>16, i&0xffff), 0))
	}
	after := heapInUse()
	runtime.KeepAlive(l)
	runtime.KeepAlive(l2)
	pairs, accounts, _ := l.Len()
	_, _, addrs := l2.Len()
	if pairs != n || accounts != n || addrs != n {
		t.Fatalf("tables hold %d, %d, %d; want %d each", pairs, accounts, addrs, n)
	}
	perEntry := float64(after-before) / float64(3*n)
	t.Logf("default limiter, all tables full (3×%d buckets): %.1f MB, %.0f bytes per bucket", n, float64(after-before)/1e6, perEntry)
	if perEntry > 400 {
		t.Errorf("%.0f bytes per bucket; the documentation promises about 205", perEntry)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestMemoryLimiterConcurrentAttemptsCannotOvershoot(t *testing.T) {
	t.Parallel()
	l := authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{})
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			a := attempt("alice", "198.51.100.7", 0)
			if wait, _ := l.Allow(context.Background(), a); wait == 0 {
				allowed.Add(1)
				l.Record(context.Background(), a, authgate.AttemptFailed)
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 10 {
		t.Errorf("%d concurrent attempts allowed, want exactly 10", got)
	}
}

func BenchmarkMemoryLimiterAllow(b *testing.B) {
	b.ReportAllocs()
	l := authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{})
	i := 0
	for b.Loop() {
		i++
		a := authgate.Attempt{Account: "alice", Addr: "2001:db8::1", Time: t0.Add(time.Duration(i) * time.Minute)}
		l.Allow(context.Background(), a)
	}
}
