package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/authgate/authgate"
	"github.com/authgate/authgate/redisstore"
	"github.com/authgate/authgate/redisstore/redistest"
	"github.com/redis/go-redis/v9"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// testTimeout replaces DefaultTimeout in tests: two cores shared with
// other test processes under -race can take longer than 250 ms to answer.
// Fault tests check that a dead Redis is reported well within it.
const testTimeout = 2 * time.Second

// connect returns a client of srv closed at the end of the test.
func connect(t testing.TB, url string) *redis.Client {
	t.Helper()
	c, err := redisstore.Connect(context.Background(), url, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newLimiter(t testing.TB, c *redis.Client, opts redisstore.LimiterOptions) *redisstore.Limiter {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = testTimeout
	}
	l, err := redisstore.NewLimiter(context.Background(), c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

type step struct {
	account, addr string
	at            time.Duration // since t0
	record        int           // 0: none, 1: success, -1: failure, 2: not checked
	want          time.Duration // Allow's answer
}

func TestLimiterBudgets(t *testing.T) {
	srv := redistest.Start(t)
	small := redisstore.LimiterOptions{
		PerAccountAddress: authgate.AttemptBudget{Burst: 3, Every: 10 * time.Second},
		PerAccount:        authgate.AttemptBudget{Burst: 5, Every: 20 * time.Second},
		PerAddress:        authgate.AttemptBudget{Burst: 6, Every: 30 * time.Second},
	}
	repeat := func(n int, s step) []step {
		out := make([]step, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	cat := func(parts ...[]step) (out []step) {
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name  string
		opts  redisstore.LimiterOptions
		steps []step
	}{
		{"the pair budget refuses the 4th failure and says when to come back", small, cat(
			repeat(3, step{"ann", "192.0.2.1", 0, -1, 0}),
			[]step{{"ann", "192.0.2.1", 0, 0, 10 * time.Second}},
			[]step{{"ann", "192.0.2.1", 10 * time.Second, -1, 0}},
			[]step{{"ann", "192.0.2.1", 10 * time.Second, 0, 10 * time.Second}},
		)},
		{"a client that waits a fraction less than Retry-After is still refused", small, cat(
			repeat(3, step{"ann", "192.0.2.1", 0, -1, 0}),
			[]step{{"ann", "192.0.2.1", 9500 * time.Millisecond, 0, time.Second}},
		)},
		{"a success resets the pair budget and gives back the other two", small, cat(
			repeat(2, step{"ann", "192.0.2.1", 0, -1, 0}),
			[]step{{"ann", "192.0.2.1", 0, 1, 0}},
			// Without the refund the account budget (5) would refuse the
			// third of these; with it, the fourth is refused by both.
			repeat(3, step{"ann", "192.0.2.1", 0, -1, 0}),
			[]step{{"ann", "192.0.2.1", 0, 0, 20 * time.Second}},
		)},
		{"an attempt refused before its password check gives back all three tokens", small, cat(
			repeat(3, step{"ann", "192.0.2.1", 0, 2, 0}),
			repeat(3, step{"ann", "192.0.2.1", 0, -1, 0}),
			[]step{{"ann", "192.0.2.1", 0, 0, 10 * time.Second}},
		)},
		{"the account budget spans addresses", small, cat(
			repeat(3, step{"ann", "192.0.2.1", 0, -1, 0}),
			repeat(2, step{"ann", "192.0.2.2", 0, -1, 0}),
			[]step{{"ann", "192.0.2.3", 0, 0, 20 * time.Second}},
			[]step{{"bob", "192.0.2.3", 0, -1, 0}},
		)},
		{"the address budget spans accounts, and an IPv6 /64 is one address", small, cat(
			[]step{
				{"a", "2001:db8::1", 0, -1, 0}, {"b", "2001:db8::2", 0, -1, 0},
				{"c", "2001:db8::3", 0, -1, 0}, {"d", "2001:db8::4", 0, -1, 0},
				{"e", "2001:db8::5", 0, -1, 0}, {"f", "2001:db8:0:0:ffff::6", 0, -1, 0},
				{"g", "2001:db8::7", 0, 0, 30 * time.Second},
				{"g", "2001:db8:0:1::7", 0, -1, 0},
			},
		)},
		{"an IPv4-mapped address counts as its IPv4 address", small, cat(
			repeat(3, step{"ann", "::ffff:192.0.2.9", 0, -1, 0}),
			[]step{{"ann", "192.0.2.9", 0, 0, 10 * time.Second}},
		)},
		{"an empty account is budgeted per address only", small, cat(
			repeat(6, step{"", "192.0.2.1", 0, -1, 0}),
			[]step{{"", "192.0.2.1", 0, 0, 30 * time.Second}},
		)},
		{"a budget with a negative burst is off", redisstore.LimiterOptions{
			PerAccountAddress: authgate.AttemptBudget{Burst: -1},
			PerAccount:        authgate.AttemptBudget{Burst: 2, Every: time.Minute},
			PerAddress:        authgate.AttemptBudget{Burst: -1},
		}, cat(
			repeat(2, step{"ann", "192.0.2.1", 0, -1, 0}),
			[]step{{"ann", "192.0.2.2", 0, 0, time.Minute}},
		)},
		{"the defaults allow 10 failures per account and address", redisstore.LimiterOptions{}, cat(
			repeat(10, step{"ann", "192.0.2.1", 0, -1, 0}),
			[]step{{"ann", "192.0.2.1", 0, 0, 90 * time.Second}},
		)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.KeyPrefix = fmt.Sprintf("t%d:", i)
			l := newLimiter(t, connect(t, srv.URL()), opts)
			ctx := context.Background()
			for j, s := range tt.steps {
				a := authgate.Attempt{Account: s.account, Addr: s.addr, Time: t0.Add(s.at)}
				got, err := l.Allow(ctx, a)
				if err != nil {
					t.Fatalf("step %d: Allow: %v", j, err)
				}
				if got != s.want {
					t.Fatalf("step %d (%s from %s at +%v): Allow = %v, want %v", j, s.account, s.addr, s.at, got, s.want)
				}
				if s.record != 0 {
					o := map[int]authgate.Outcome{1: authgate.AttemptSucceeded, -1: authgate.AttemptFailed, 2: authgate.AttemptNotChecked}[s.record]
					if err := l.Record(ctx, a, o); err != nil {
						t.Fatalf("step %d: Record: %v", j, err)
					}
				}
			}
		})
	}
}

// TestLimiterMatchesMemoryLimiter drives the Redis limiter and
// authgate's memory limiter with the same random attempts and outcomes
// (mostly failures) and expects the same answers, with the default
// budgets and with small ones.
func TestLimiterMatchesMemoryLimiter(t *testing.T) {
	srv := redistest.Start(t)
	c := connect(t, srv.URL())
	for i, budgets := range []redisstore.LimiterOptions{
		{},
		{
			PerAccountAddress: authgate.AttemptBudget{Burst: 2, Every: 3 * time.Second},
			PerAccount:        authgate.AttemptBudget{Burst: 4, Every: 5 * time.Second},
			PerAddress:        authgate.AttemptBudget{Burst: 3, Every: 7 * time.Second},
			PerAccountDevice:  authgate.AttemptBudget{Burst: 2, Every: 4 * time.Second},
			PerAccountSuccess: authgate.AttemptBudget{Burst: 3, Every: 6 * time.Second},
		},
	} {
		mem := authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{
			PerAccountAddress: budgets.PerAccountAddress, PerAccount: budgets.PerAccount, PerAddress: budgets.PerAddress,
			PerAccountDevice: budgets.PerAccountDevice, PerAccountSuccess: budgets.PerAccountSuccess,
		})
		budgets.KeyPrefix = fmt.Sprintf("diff%d:", i)
		red := newLimiter(t, c, budgets)
		rng := rand.New(rand.NewPCG(1, uint64(i)))
		accounts := []string{"ann", "bob", "", "eve"}
		addrs := []string{"192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2:1"}
		now := t0
		ctx := context.Background()
		for j := range 1000 {
			now = now.Add(time.Duration(rng.IntN(4000)) * time.Millisecond)
			a := authgate.Attempt{Account: accounts[rng.IntN(len(accounts))], Addr: addrs[rng.IntN(len(addrs))], Time: now}
			if a.Account != "" && rng.IntN(4) == 0 {
				a.Device = []string{"dev-1", "dev-2"}[rng.IntN(2)]
			}
			want, _ := mem.Allow(ctx, a)
			got, err := red.Allow(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("budgets %d, attempt %d (%+v): redis Allow = %v, memory Allow = %v", i, j, a, got, want)
			}
			if got == 0 {
				o := []authgate.Outcome{authgate.AttemptFailed, authgate.AttemptFailed, authgate.AttemptFailed,
					authgate.AttemptSucceeded, authgate.AttemptNotChecked, authgate.AttemptShed}[rng.IntN(6)]
				mem.Record(ctx, a, o)
				if err := red.Record(ctx, a, o); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestLimiterIsOneBudgetAcrossInstances runs concurrent failed attempts
// through two limiters with their own clients (two instances) and
// expects exactly the burst to pass.
func TestLimiterIsOneBudgetAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	opts := redisstore.LimiterOptions{PerAccountAddress: authgate.AttemptBudget{Burst: 25, Every: time.Hour}}
	ls := []*redisstore.Limiter{newLimiter(t, connect(t, srv.URL()), opts), newLimiter(t, connect(t, srv.URL()), opts)}
	var passed atomic.Int64
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			a := authgate.Attempt{Account: "ann", Addr: "192.0.2.1", Time: t0}
			wait, err := ls[i%2].Allow(context.Background(), a)
			if err != nil {
				t.Error(err)
				return
			}
			if wait == 0 {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	if got := passed.Load(); got != 25 {
		t.Fatalf("%d attempts passed through two instances, want the burst, 25", got)
	}
}

// TestLimiterKeysExpire checks that every key carries a TTL no longer than
// the time its bucket takes to refill.
func TestLimiterKeysExpire(t *testing.T) {
	srv := redistest.Start(t)
	c := connect(t, srv.URL())
	l := newLimiter(t, c, redisstore.LimiterOptions{KeyPrefix: "ttl:"})
	a := authgate.Attempt{Account: "ann", Addr: "192.0.2.1", Time: time.Now()}
	if _, err := l.Allow(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(context.Background(), "ttl:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Fatalf("one attempt made keys %q, want 3", keys)
	}
	for _, k := range keys {
		ttl, err := c.PTTL(context.Background(), k).Result()
		if err != nil {
			t.Fatal(err)
		}
		// One token of each default budget: 90 s, 72 s, 18 s.
		if ttl <= 0 || ttl > 90*time.Second {
			t.Errorf("key %s has TTL %v, want (0, 90s]", k, ttl)
		}
	}
}

// TestLimiterFailsClosedWithoutRedis kills Redis: Allow returns
// ErrUnavailable within the timeout, and works again once Redis is back
// (the scripts are loaded again).
func TestLimiterFailsClosedWithoutRedis(t *testing.T) {
	srv := redistest.Start(t)
	l := newLimiter(t, connect(t, srv.URL()), redisstore.LimiterOptions{})
	a := authgate.Attempt{Account: "ann", Addr: "192.0.2.1", Time: t0}
	ctx := context.Background()
	if _, err := l.Allow(ctx, a); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	start := time.Now()
	_, err := l.Allow(ctx, a)
	if !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Allow with Redis down: err = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > testTimeout {
		t.Errorf("Allow with Redis down took %v, want at most the timeout (%v)", d, testTimeout)
	}
	if err := l.Record(ctx, a, authgate.AttemptSucceeded); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Record with Redis down: err = %v, want ErrUnavailable", err)
	}
	srv.Restart()
	// The pool may hand out a dead connection once more; the next call
	// dials afresh.
	var wait time.Duration
	for range 3 {
		if wait, err = l.Allow(ctx, a); err == nil {
			break
		}
	}
	if err != nil || wait != 0 {
		t.Fatalf("Allow after Redis came back = %v, %v; want 0, nil", wait, err)
	}
}

func TestConnectToUnreachableRedis(t *testing.T) {
	_, err := redisstore.Connect(context.Background(), "redis://127.0.0.1:1/0", 0)
	if !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Connect to a closed port: err = %v, want ErrUnavailable", err)
	}
	_, err = redisstore.Connect(context.Background(), "redis://:s3cret@127.0.0.1:1/0", 0)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Connect error %q must exist and not show the password", err)
	}
	_, err = redisstore.Connect(context.Background(), "http://s3cret@x", 0)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Connect error %q must exist and not show the URL", err)
	}
}

// TestLimiterOnMiniredis is the fast unit test of the scripts, on an
// in-process fake; the tests above run them on a real redis-server.
func TestLimiterOnMiniredis(t *testing.T) {
	m := miniredis.RunT(t)
	c := connect(t, "redis://"+m.Addr()+"/0")
	l := newLimiter(t, c, redisstore.LimiterOptions{PerAccountAddress: authgate.AttemptBudget{Burst: 2, Every: time.Minute}})
	ctx := context.Background()
	a := authgate.Attempt{Account: "ann", Addr: "192.0.2.1", Time: t0}
	for i, want := range []time.Duration{0, 0, time.Minute} {
		if got, err := l.Allow(ctx, a); err != nil || got != want {
			t.Fatalf("attempt %d: Allow = %v, %v; want %v", i, got, err, want)
		}
	}
	if err := l.Record(ctx, a, authgate.AttemptSucceeded); err != nil {
		t.Fatal(err)
	}
	if got, err := l.Allow(ctx, a); err != nil || got != 0 {
		t.Fatalf("after a success: Allow = %v, %v; want 0", got, err)
	}
}
