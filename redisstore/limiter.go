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
	defaultPerAccountDevice  = authgate.AttemptBudget{Burst: 10, Every: 90 * time.Second}
	defaultPerAccountSuccess = authgate.AttemptBudget{Burst: 600, Every: 6 * time.Second}
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
	// PerAccountDevice budgets the sign-ins of one account's known
	// devices together, failed or not: the only budget such an attempt
	// falls under. The default allows 10, then one every 90 seconds.
	PerAccountDevice authgate.AttemptBudget
	// PerAccountSuccess budgets successful sign-ins of one account by
	// strangers. The default allows 600, then one every 6 seconds.
	PerAccountSuccess authgate.AttemptBudget
	// KeyPrefix starts every key. The default is [DefaultKeyPrefix].
	KeyPrefix string
	// Timeout bounds each call to Redis. The default is [DefaultTimeout].
	Timeout time.Duration
}

// Limiter is an [authgate.Limiter] whose five families of token buckets
// (failures per account and address, per account and per address;
// sign-ins of an account's known devices; successes per account) live in
// Redis, so every instance sharing the Redis database draws on the same
// budgets.
//
// Each bucket is one Redis string holding its theoretical arrival time
// (GCRA, the token bucket of golang.org/x/time/rate written as one
// number): the time at which the bucket would be full again. Allow runs
// one Lua script that checks all of an attempt's buckets and takes a token
// from each only when every one has a token, so concurrent attempts on any
// number of instances never overshoot a failure budget and a refused
// attempt takes nothing (the success bucket is only checked there). Record
// runs another script that gives tokens back and counts a success (see
// [Limiter.Record]); after a failure it makes no call. The known-device
// check itself costs nothing here: authgate verifies the device token in
// the instance and passes its id as [authgate.Attempt.Device].
//
// Every key expires when its bucket would be full again (at most Burst ×
// Every: 15 minutes, 1 hour, 15 minutes, 15 minutes and 1 hour with the
// defaults), so Redis holds only recent failures and successes. Key names are [DefaultKeyPrefix] + "l:" + a
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
	client                          *redis.Client
	prefix                          string
	timeout                         time.Duration
	pair, acct, ip, device, success budget
	allowS, recordS                 *redis.Script
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

//go:embed settle.lua
var settleLua string

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
		device:  newBudget(opts.PerAccountDevice, defaultPerAccountDevice),
		success: newBudget(opts.PerAccountSuccess, defaultPerAccountSuccess),
		allowS:  redis.NewScript(allowLua),
		recordS: redis.NewScript(settleLua),
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

// bucket is one of an attempt's buckets: its kind ('p' per account and
// address, 'a' per account, 'i' per address, 'd' per account and device,
// 's' successes per account), key and budget.
type bucket struct {
	kind byte
	key  string
	b    budget
}

// buckets returns a's buckets whose budget is on: its (account, device)
// bucket for a known device; else its (account, address), account and
// address buckets, and last its account's success bucket (the failure
// buckets only when a has an account).
func (l *Limiter) buckets(a authgate.Attempt) (failures []bucket, success *bucket) {
	ip := a.AddrGroup()
	add := func(kind byte, on budget, parts ...string) {
		if !on.off {
			failures = append(failures, bucket{kind, l.prefix + "l:" + string(kind) + ":" + hashKey(parts...), on})
		}
	}
	if a.Device != "" {
		add('d', l.device, a.Account) // an account's known devices share one budget
		return failures, nil
	}
	if a.Account != "" {
		add('p', l.pair, a.Account, ip)
		add('a', l.acct, a.Account)
		if !l.success.off {
			success = &bucket{'s', l.prefix + "l:s:" + hashKey(a.Account), l.success}
		}
	}
	add('i', l.ip, ip)
	return failures, success
}

func attemptMillis(a authgate.Attempt) int64 {
	if a.Time.IsZero() {
		return time.Now().UnixMilli()
	}
	return a.Time.UnixMilli()
}

// Allow takes one token from each of a's failure buckets when all of them
// have one (and a stranger's account success bucket has one too) and
// returns 0; otherwise it takes none and returns how long until every
// bucket has one again, rounded up to whole seconds. A known device's
// attempt falls under its account's device bucket only; an empty Account
// is budgeted per address only. A Redis failure or timeout is an error
// wrapping [ErrUnavailable] (fail closed).
func (l *Limiter) Allow(ctx context.Context, a authgate.Attempt) (time.Duration, error) {
	failures, success := l.buckets(a)
	keys := make([]string, 0, len(failures)+1)
	args := make([]any, 0, 1+3*(len(failures)+1))
	args = append(args, attemptMillis(a))
	for _, b := range failures {
		keys = append(keys, b.key)
		args = append(args, b.b.burst, b.b.every, 1)
	}
	if success != nil {
		keys = append(keys, success.key)
		args = append(args, success.b.burst, success.b.every, 0)
	}
	if len(keys) == 0 {
		return 0, nil
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

// Record settles an attempt Allow let through, as the [authgate.Limiter]
// contract says. After a stranger's [authgate.AttemptSucceeded] it deletes
// the (account, address) bucket, gives back the tokens Allow took from the
// account's and the address's, and takes one from the account's success
// bucket (a known device's success changes nothing); after [authgate.AttemptNotChecked] it gives back
// every token Allow took; after [authgate.AttemptShed] every one but the
// address's; after [authgate.AttemptFailed] it does nothing and makes no
// call. A Redis failure is an error wrapping [ErrUnavailable]; authgate
// logs it, and the tokens stay as they were.
func (l *Limiter) Record(ctx context.Context, a authgate.Attempt, o authgate.Outcome) error {
	if o != authgate.AttemptSucceeded && o != authgate.AttemptNotChecked && o != authgate.AttemptShed {
		return nil
	}
	failures, success := l.buckets(a)
	var keys []string
	args := []any{attemptMillis(a)}
	op := func(b bucket, what string) {
		keys = append(keys, b.key)
		args = append(args, what, b.b.every)
	}
	for _, b := range failures {
		switch {
		case o == authgate.AttemptSucceeded && b.kind == 'p':
			op(b, "del") // a success resets the pair's failures
		case o == authgate.AttemptSucceeded && b.kind == 'd':
			// A known device's sign-in counts, success or not.
		case o == authgate.AttemptShed && b.kind == 'i':
			// The address floods the queue: its token stays taken.
		default:
			op(b, "give")
		}
	}
	if o == authgate.AttemptSucceeded && success != nil {
		op(*success, "take")
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
