package authgate

import (
	"container/list"
	"context"
	"hash/maphash"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// AttemptBudget is one token bucket of a [MemoryLimiter]: Burst attempts
// may be made at once, and one more becomes available every Every, up to
// Burst again. In any window of length W at most Burst + W/Every attempts
// pass. A zero field takes the budget's default; a negative Burst turns the
// budget off.
type AttemptBudget struct {
	Burst int
	Every time.Duration
}

// The default budgets of [MemoryLimiterOptions], documented on its fields.
// They are not exported variables, so no package can change them for all.
var (
	defaultPerAccountAddress = AttemptBudget{Burst: 10, Every: 90 * time.Second}
	defaultPerAccount        = AttemptBudget{Burst: 50, Every: 72 * time.Second}
	defaultPerAddress        = AttemptBudget{Burst: 50, Every: 18 * time.Second}
	defaultPerAccountDevice  = AttemptBudget{Burst: 10, Every: 90 * time.Second}
	defaultPerAccountSuccess = AttemptBudget{Burst: 600, Every: 6 * time.Second}
)

// DefaultLimiterEntries is the default [MemoryLimiterOptions.MaxEntries]:
// the number of buckets each of the five tables keeps. A bucket takes about
// 205 bytes whatever the length of the username, so with the defaults the
// limiter holds at most about 67 MB (measured by
// TestMemoryLimiterMemoryIsBounded).
const DefaultLimiterEntries = 65536

// MemoryLimiterOptions configures [NewMemoryLimiter]. The zero value is the
// documented default.
type MemoryLimiterOptions struct {
	// PerAccountAddress budgets failed sign-ins against one account from
	// one client address; a successful sign-in from that address resets
	// it. The default allows 10, then one every 90 seconds: the bucket
	// refills completely in 15 minutes.
	PerAccountAddress AttemptBudget
	// PerAccount budgets attempts against one account from every address
	// together, against a botnet spreading its guesses. The default allows
	// 50, then one every 72 seconds (50 an hour): at most 100 in any hour,
	// the ASVS V2.2.1 ceiling.
	PerAccount AttemptBudget
	// PerAddress budgets attempts from one client address (an IPv4
	// address or an IPv6 /64) against every account together, against
	// password spraying; it also bounds how fast one client can mint
	// limiter entries. The default allows 50, then one every 18 seconds
	// (200 an hour, the long-run rate of Rails' "10 per 3 minutes").
	PerAddress AttemptBudget
	// PerAccountDevice budgets the sign-ins of one account's known
	// devices together (browsers that signed in to it before and present
	// their device token), failed or not: it is the only budget such an
	// attempt falls under, and what bounds the returning users' lane, so
	// it counts successes too (whoever holds an account could otherwise
	// make its devices jump every queue). The default allows 10, then one
	// every 90 seconds; past it, a known device signs in as a stranger.
	PerAccountDevice AttemptBudget
	// PerAccountSuccess budgets successful sign-ins of one account by
	// strangers (attempts without a device token), so that a valid
	// account does not make password checks free for whoever holds it.
	// The default allows 600, then one every 6 seconds (600 an hour): a
	// robot signing in 500 times in a row, or an office sharing an
	// account, still gets in.
	PerAccountSuccess AttemptBudget
	// MaxEntries bounds each of the five tables (per account and address,
	// per account, per address, per account and device, successes per
	// account). When a table is full, the bucket used least recently is
	// forgotten. The default is [DefaultLimiterEntries].
	MaxEntries int
}

// MemoryLimiter is the default [Limiter]: five families of token buckets
// from golang.org/x/time/rate, kept in memory: failures per (account,
// client address), per account and per client address for strangers,
// sign-ins of an account's known devices, and successes per account for
// strangers. It keeps the Limiter contract: an attempt is
// allowed only when each failure bucket it falls under has a token (and,
// for a stranger, its account's success bucket); it then takes one from
// each failure bucket, before any password work, so concurrent attempts
// cannot overshoot a budget; a refused attempt takes nothing; Record gives
// back what only a failure should cost.
//
// Memory is bounded: each table keeps at most MaxEntries buckets and forgets
// the least recently used one when full. Keys are 128-bit keyed hashes of
// the account and address, so a long username costs no more than a
// short one. IPv6 addresses are grouped by /64 (one customer's allocation)
// and IPv4-mapped IPv6 addresses count as their IPv4 address, so minting
// addresses inside one network does not escape the per-address budget.
//
// Forgetting a bucket forgives its attempts: an attacker who can make
// MaxEntries attempts from fresh keys between two of their guesses can
// reset a victim's count. The per-address budget makes that cost MaxEntries
// attempts from many networks; deployments facing larger botnets should
// raise MaxEntries or use a shared store.
//
// The limiter reads time only from [Attempt.Time], never the wall clock.
// Its answers do not depend on whether the account exists. It is safe for
// concurrent use.
type MemoryLimiter struct {
	mu                  sync.Mutex // guards the tables together
	pair, account, addr bucketTable
	device, success     bucketTable
	seed1, seed2        maphash.Seed
}

var _ Limiter = (*MemoryLimiter)(nil)

// NewMemoryLimiter returns an in-memory [Limiter] configured by opts, whose
// zero value is the documented default.
func NewMemoryLimiter(opts MemoryLimiterOptions) *MemoryLimiter {
	n := opts.MaxEntries
	if n <= 0 {
		n = DefaultLimiterEntries
	}
	return &MemoryLimiter{
		pair:    newBucketTable(opts.PerAccountAddress, defaultPerAccountAddress, n),
		account: newBucketTable(opts.PerAccount, defaultPerAccount, n),
		addr:    newBucketTable(opts.PerAddress, defaultPerAddress, n),
		device:  newBucketTable(opts.PerAccountDevice, defaultPerAccountDevice, n),
		success: newBucketTable(opts.PerAccountSuccess, defaultPerAccountSuccess, n),
		seed1:   maphash.MakeSeed(),
		seed2:   maphash.MakeSeed(),
	}
}

// Allow reports 0 when a has a token in each of its buckets, taking one
// from each failure bucket; otherwise it takes none and returns how long
// until every bucket has one again, in whole seconds. A known device's
// attempt falls under its account's device bucket only; a stranger's
// under the (account, address), account and address buckets and the
// account's success bucket (checked, not taken: Record takes it on a
// success). An empty Account is budgeted per address only. It never
// returns an error.
func (l *MemoryLimiter) Allow(_ context.Context, a Attempt) (time.Duration, error) {
	k := l.keys(a)
	hasAccount := a.Account != ""

	// The check and the take are one step for every table.
	l.mu.Lock()
	defer l.mu.Unlock()

	if a.Device != "" {
		if wait := l.device.waitLocked(k.device, a.Time); wait > 0 {
			return wait, nil
		}
		l.device.takeLocked(k.device, a.Time)
		return 0, nil
	}
	var wait time.Duration
	if hasAccount {
		wait = max(wait, l.pair.waitLocked(k.pair, a.Time))
		wait = max(wait, l.account.waitLocked(k.account, a.Time))
		wait = max(wait, l.success.waitLocked(k.account, a.Time))
	}
	wait = max(wait, l.addr.waitLocked(k.addr, a.Time))
	if wait > 0 {
		return wait, nil
	}
	if hasAccount {
		l.pair.takeLocked(k.pair, a.Time)
		l.account.takeLocked(k.account, a.Time)
	}
	l.addr.takeLocked(k.addr, a.Time)
	return 0, nil
}

// Record does nothing for a failure: Allow already counted it. For a
// stranger's success it gives back the tokens Allow took from the
// account's and the address's buckets, resets the (account, address)
// bucket, and takes a token from the account's success bucket; a known
// device's success keeps its token taken. For
// an attempt that was not checked it gives back every token Allow took;
// for a shed one, every token but the address's. So only failures, and
// the floods of a flooding address, count against a failure budget. It
// never returns an error.
func (l *MemoryLimiter) Record(_ context.Context, a Attempt, o Outcome) error {
	if o != AttemptSucceeded && o != AttemptNotChecked && o != AttemptShed {
		return nil
	}
	k := l.keys(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	if a.Device != "" {
		if o != AttemptSucceeded {
			l.device.giveBackLocked(k.device, a.Time)
		}
		return nil
	}
	if a.Account != "" {
		if o == AttemptSucceeded {
			l.pair.removeLocked(k.pair)
			l.success.takeLocked(k.account, a.Time)
		} else {
			l.pair.giveBackLocked(k.pair, a.Time)
		}
		l.account.giveBackLocked(k.account, a.Time)
	}
	if o != AttemptShed {
		l.addr.giveBackLocked(k.addr, a.Time)
	}
	return nil
}

// Len returns how many buckets the three failure tables of strangers hold:
// per (account, address), per account and per address. It is meant for
// tests and metrics.
func (l *MemoryLimiter) Len() (pairs, accounts, addrs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pair.m), len(l.account.m), len(l.addr.m)
}

// bucketKey is a 128-bit keyed hash: collisions cannot be chosen without
// the random seeds, and every key costs the same memory.
type bucketKey struct{ a, b uint64 }

const (
	tagPair    = "p\x00"
	tagAccount = "a\x00"
	tagAddr    = "i\x00"
	tagDevice  = "d\x00"
)

// attemptKeys are the bucket keys of one attempt. The success table is
// keyed like the account table, in a table of its own.
type attemptKeys struct{ pair, account, addr, device bucketKey }

func (l *MemoryLimiter) keys(a Attempt) attemptKeys {
	ip := a.AddrGroup()
	h := func(parts ...string) bucketKey {
		var h1, h2 maphash.Hash
		h1.SetSeed(l.seed1)
		h2.SetSeed(l.seed2)
		for _, p := range parts {
			// Length-prefix each part so ("ab","c") and ("a","bc") differ.
			var n [8]byte
			for i := range n {
				n[i] = byte(len(p) >> (8 * i))
			}
			h1.Write(n[:])
			h2.Write(n[:])
			h1.WriteString(p)
			h2.WriteString(p)
		}
		return bucketKey{h1.Sum64(), h2.Sum64()}
	}
	if a.Device != "" {
		return attemptKeys{device: h(tagDevice, a.Account)}
	}
	return attemptKeys{pair: h(tagPair, a.Account, ip), account: h(tagAccount, a.Account), addr: h(tagAddr, ip)}
}

// bucketTable is a fixed-size LRU of token buckets. Its owner's mutex
// guards it.
type bucketTable struct {
	off   bool
	limit rate.Limit
	burst int
	max   int
	m     map[bucketKey]*list.Element
	lru   list.List // front = most recently used; values are *bucket
}

type bucket struct {
	key bucketKey
	lim *rate.Limiter
}

func newBucketTable(b, def AttemptBudget, maxEntries int) bucketTable {
	if b.Burst < 0 {
		return bucketTable{off: true}
	}
	if b.Burst == 0 {
		b.Burst = def.Burst
	}
	if b.Every <= 0 {
		b.Every = def.Every
	}
	return bucketTable{
		limit: rate.Every(b.Every),
		burst: b.Burst,
		max:   maxEntries,
		m:     make(map[bucketKey]*list.Element),
	}
}

// waitLocked returns 0 when key has a token at t, otherwise how long until
// it has one, rounded up to whole seconds (Retry-After's unit). A key
// without a bucket has a full one.
func (t *bucketTable) waitLocked(key bucketKey, now time.Time) time.Duration {
	if t.off {
		return 0
	}
	e, ok := t.m[key]
	if !ok {
		return 0
	}
	// The tolerance absorbs float rounding, so a client that waits exactly
	// the Retry-After it was given is let in.
	const eps = 1e-9
	tokens := e.Value.(*bucket).lim.TokensAt(now)
	if tokens >= 1-eps {
		return 0
	}
	secs := math.Ceil((1-tokens)/float64(t.limit) - 1e-6)
	return time.Duration(max(secs, 1)) * time.Second
}

// takeLocked takes one token from key's bucket at t, creating the bucket
// (and forgetting the least recently used one when full) if needed.
func (t *bucketTable) takeLocked(key bucketKey, now time.Time) {
	if t.off {
		return
	}
	e, ok := t.m[key]
	if ok {
		t.lru.MoveToFront(e)
	} else {
		if len(t.m) >= t.max {
			old := t.lru.Back()
			t.lru.Remove(old)
			delete(t.m, old.Value.(*bucket).key)
		}
		e = t.lru.PushFront(&bucket{key: key, lim: rate.NewLimiter(t.limit, t.burst)})
		t.m[key] = e
	}
	// ReserveN always takes the token (waitLocked has checked there is
	// one, up to rounding), where AllowN could refuse a bucket at
	// 0.999999999 and leave it untouched.
	e.Value.(*bucket).lim.ReserveN(now, 1)
}

// giveBackLocked returns one token to key's bucket at now, up to its
// burst. rate.Limiter has no "add a token", so the bucket is rebuilt: a
// limiter emptied at the moment from which it refills to exactly the
// wanted count by now holds that count at now and refills as before.
func (t *bucketTable) giveBackLocked(key bucketKey, now time.Time) {
	if t.off {
		return
	}
	e, ok := t.m[key]
	if !ok {
		return // forgotten, hence full
	}
	b := e.Value.(*bucket)
	want := min(b.lim.TokensAt(now)+1, float64(t.burst))
	lim := rate.NewLimiter(t.limit, t.burst)
	lim.ReserveN(now.Add(-time.Duration(want/float64(t.limit)*float64(time.Second))), t.burst)
	b.lim = lim
}

func (t *bucketTable) removeLocked(key bucketKey) {
	if t.off {
		return
	}
	if e, ok := t.m[key]; ok {
		t.lru.Remove(e)
		delete(t.m, key)
	}
}
