package redisstore

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/authgate/authgate"
	"github.com/redis/go-redis/v9"
)

// The default budgets, the same as [authgate.MemoryLimiterOptions]'s
// (TestLimiterMatchesMemoryLimiter checks that both answer alike).
var (
	defaultPerAccountAddress = authgate.AttemptBudget{Burst: 10, Every: 90 * time.Second}
	defaultPerAccount        = authgate.AttemptBudget{Burst: 50, Every: 72 * time.Second}
	defaultPerAddress        = authgate.AttemptBudget{Burst: 50, Every: 18 * time.Second}
)

// LimiterOptions configures [NewLimiter]. The zero value is the documented
// default; the budgets mean what they mean for
// [authgate.MemoryLimiterOptions], and their defaults are the same.
type LimiterOptions struct {
	// PerAccountAddress budgets failed sign-ins against one account from
	// one client address. The default allows 10, then one every 90 seconds.
	PerAccountAddress authgate.AttemptBudget
	// PerAccount budgets failed sign-ins against one account from every
	// address together. The default allows 50, then one every 72 seconds.
	PerAccount authgate.AttemptBudget
	// PerAddress budgets failed sign-ins from one client address (an IPv4
	// address or an IPv6 /64) against every account together. The default
	// allows 50, then one every 18 seconds.
	PerAddress authgate.AttemptBudget
	// KeyPrefix starts every key. The default is [DefaultKeyPrefix].
	KeyPrefix string
	// Timeout bounds each call to Redis. The default is [DefaultTimeout].
	Timeout time.Duration
}

// Limiter is an [authgate.Limiter] whose three families of token buckets
// (per account and address, per account, per address) live in Redis, so
// every instance sharing the Redis database draws on the same budgets.
//
// Each bucket is one Redis string holding its theoretical arrival time
// (GCRA, the token bucket of golang.org/x/time/rate written as one
// number): the time at which the bucket would be full again. Allow runs
// one Lua script that checks all of an attempt's buckets and takes a token
// from each only when every one has a token, so concurrent attempts on any
// number of instances never overshoot a budget and a refused attempt takes
// nothing. Record runs another script that gives tokens back (see
// [Limiter.Record]); after a failure it makes no call.
//
// Every key expires when its bucket would be full again (at most Burst ×
// Every: 15 minutes, 1 hour and 15 minutes with the defaults), so Redis
// holds only recent failures. Key names are [DefaultKeyPrefix] + "l:" + a
// letter + 22 characters of SHA-256 over the account and address, so no
// username or address is stored and every key has the same size.
//
// Time comes from [authgate.Attempt.Time] (the instance's clock), so the
// instances' clocks must agree (NTP): a clock s seconds fast refills its
// buckets s seconds early.
//
// Every call is bounded by Timeout. When Redis does not answer, Allow
// returns an error wrapping [ErrUnavailable] and authgate refuses the
// sign-in with 503 (error=Busy): the limiter fails closed. It is safe for
// concurrent use.
type Limiter struct {
	client          *redis.Client
	prefix          string
	timeout         time.Duration
	pair, acct, ip  budget
	allowS, recordS *redis.Script
}

var _ authgate.Limiter = (*Limiter)(nil)

// budget is an [authgate.AttemptBudget] in milliseconds; off when its Burst
// was negative.
type budget struct {
	off   bool
	burst int64
	every int64 // milliseconds
}

func newBudget(b, def authgate.AttemptBudget) budget {
	if b.Burst < 0 {
		return budget{off: true}
	}
	if b.Burst == 0 {
		b.Burst = def.Burst
	}
	if b.Every <= 0 {
		b.Every = def.Every
	}
	return budget{burst: int64(b.Burst), every: max(b.Every.Milliseconds(), 1)}
}

//go:embed allow.lua
var allowLua string

//go:embed refund.lua
var refundLua string

// NewLimiter returns a Limiter on client configured by opts, after loading
// its scripts into Redis within opts.Timeout: an unreachable Redis is an
// error wrapping [ErrUnavailable].
func NewLimiter(ctx context.Context, client *redis.Client, opts LimiterOptions) (*Limiter, error) {
	if client == nil {
		return nil, errors.New("redisstore: NewLimiter: nil client")
	}
	l := &Limiter{
		client:  client,
		prefix:  opts.KeyPrefix,
		timeout: opts.Timeout,
		pair:    newBudget(opts.PerAccountAddress, defaultPerAccountAddress),
		acct:    newBudget(opts.PerAccount, defaultPerAccount),
		ip:      newBudget(opts.PerAddress, defaultPerAddress),
		allowS:  redis.NewScript(allowLua),
		recordS: redis.NewScript(refundLua),
	}
	if l.prefix == "" {
		l.prefix = DefaultKeyPrefix
	}
	if l.timeout <= 0 {
		l.timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	for _, s := range []*redis.Script{l.allowS, l.recordS} {
		if err := s.Load(ctx, client).Err(); err != nil {
			return nil, unavailable("load limiter script", err)
		}
	}
	return l, nil
}

// keys returns the Redis keys of a's buckets whose budget is on, with
// their budgets: (account, address) and account only when a has an
// account.
func (l *Limiter) keys(a authgate.Attempt) (keys []string, budgets []budget) {
	ip := a.AddrGroup()
	if a.Account != "" {
		if !l.pair.off {
			keys = append(keys, l.prefix+"l:p:"+hashKey(a.Account, ip))
			budgets = append(budgets, l.pair)
		}
		if !l.acct.off {
			keys = append(keys, l.prefix+"l:a:"+hashKey(a.Account))
			budgets = append(budgets, l.acct)
		}
	}
	if !l.ip.off {
		keys = append(keys, l.prefix+"l:i:"+hashKey(ip))
		budgets = append(budgets, l.ip)
	}
	return keys, budgets
}

func attemptMillis(a authgate.Attempt) int64 {
	if a.Time.IsZero() {
		return time.Now().UnixMilli()
	}
	return a.Time.UnixMilli()
}

// Allow takes one token from each of a's buckets when all of them have
// one and returns 0; otherwise it takes none and returns how long until
// every bucket has one again, rounded up to whole seconds. An empty
// Account is budgeted per address only. A Redis failure or timeout is an
// error wrapping [ErrUnavailable] (fail closed).
func (l *Limiter) Allow(ctx context.Context, a authgate.Attempt) (time.Duration, error) {
	keys, budgets := l.keys(a)
	if len(keys) == 0 {
		return 0, nil
	}
	args := make([]any, 0, 1+2*len(budgets))
	args = append(args, attemptMillis(a))
	for _, b := range budgets {
		args = append(args, b.burst, b.every)
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	waitMs, err := l.allowS.Run(ctx, l.client, keys, args...).Int64()
	if err != nil {
		return 0, unavailable("limiter allow", err)
	}
	if waitMs <= 0 {
		return 0, nil
	}
	secs := (waitMs + 999) / 1000
	return time.Duration(secs) * time.Second, nil
}

// Record settles an attempt Allow let through. After
// [authgate.AttemptSucceeded] it gives back the tokens Allow took from the
// per-account and per-address buckets and deletes the (account, address)
// bucket, so only failures count; after [authgate.AttemptNotChecked] (the
// attempt was refused before its password was checked) it gives back the
// tokens of all three, resetting nothing; after [authgate.AttemptFailed]
// it does nothing and makes no call. A Redis failure is an error wrapping
// [ErrUnavailable]; authgate logs it, and the tokens stay taken.
func (l *Limiter) Record(ctx context.Context, a authgate.Attempt, o authgate.Outcome) error {
	if o != authgate.AttemptSucceeded && o != authgate.AttemptNotChecked {
		return nil
	}
	ip := a.AddrGroup()
	var keys []string
	// refund.lua: ARGV[1] now, ARGV[2] how many leading keys to delete,
	// then the refill interval of each key given a token back.
	args := []any{attemptMillis(a), 0}
	if a.Account != "" {
		if !l.pair.off {
			keys = append(keys, l.prefix+"l:p:"+hashKey(a.Account, ip))
			if o == authgate.AttemptSucceeded {
				args[1] = 1
			} else {
				args = append(args, l.pair.every)
			}
		}
		if !l.acct.off {
			keys = append(keys, l.prefix+"l:a:"+hashKey(a.Account))
			args = append(args, l.acct.every)
		}
	}
	if !l.ip.off {
		keys = append(keys, l.prefix+"l:i:"+hashKey(ip))
		args = append(args, l.ip.every)
	}
	if len(keys) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	if err := l.recordS.Run(ctx, l.client, keys, args...).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return unavailable("limiter record", err)
	}
	return nil
}

// String describes the limiter for logs, without any secret.
func (l *Limiter) String() string {
	return fmt.Sprintf("redisstore.Limiter(%s, prefix %q)", l.client.Options().Addr, l.prefix)
}
