// Package cuckoo is the compact tier of authgate's in-memory revocation
// store: a set of revoked session ids whose entries expire, kept in a
// cuckoo filter (Fan, Andersen, Kaminsky and Mitzenmacher, "Cuckoo Filter:
// Practically Better Than Bloom", 2014) whose 32-bit slots each hold a
// 24-bit fingerprint of an id and a coarse expiry time.
//
// [Filter.MayContain] answers "certainly not added" (false) or "perhaps
// added" (true). It has no false negatives: an id added and not yet expired
// is always reported. An id never added is reported with probability at
// most [FalsePositiveRate], about one lookup in two million. An expired id
// stays reported until its slot is reused or swept, which only costs the
// space it holds.
//
// Unlike a Bloom filter, it needs no per-day generations to forget: each
// slot carries its own expiry, expired slots are reused in place, and a
// lookup reads two buckets (two cache lines) whatever the filter holds.
// Memory is fixed at construction, about 4.2 bytes per id of capacity.
// Fingerprints use a random per-filter seed, so which ids collide cannot
// be predicted from outside the process.
//
// It is internal: authgate.MemoryRevocationStore is its only user, and
// holds its own lock around it.
package cuckoo

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"math/rand/v2"
	"time"
)

// Errors returned by [Filter.Add]. The caller must then keep the
// revocation some other way (an exact entry, or a coarser cutoff): a
// revocation that is dropped would revive a signed-out session.
var (
	// ErrFull reports that the filter holds its capacity of live entries
	// and cannot take another until some expire.
	ErrFull = errors.New("revocation filter full")
	// ErrHorizon reports an expiry further ahead than the filter's
	// horizon.
	ErrHorizon = errors.New("revocation expiry beyond the filter's horizon")
)

// FalsePositiveRate bounds the probability that [Filter.MayContain]
// answers true for an id that was never added, whatever the filter holds:
// a lookup compares a 24-bit fingerprint with at most nine stored ones, so
// the rate is at most 9/(2^24-1), about 5.4e-7 (measured by the bench
// module over 10 million ids).
const FalsePositiveRate = 9.0 / (1<<fingerprintBits - 1)

// DefaultCapacity is the capacity [New] gives a zero Options.Capacity:
// four million ids in about 17 MB.
const DefaultCapacity = 4_000_000

// Cuckoo filter layout: buckets of four 32-bit slots; a slot holds a
// 24-bit fingerprint (never 0, so 0 is an empty slot) and an 8-bit expiry
// epoch. Epochs compare modulo 256: a live slot expires at most
// horizonEpochs ahead, and the sweeps below clear every expired slot
// before it is horizonEpochs+sweepEpochs behind, well inside the ±128 an
// int8 difference tells apart: a live slot is at most horizonEpochs+1
// ahead (rounding up), an expired one is swept at most
// horizonEpochs+1+sweepEpochs behind.
const (
	slotsPerBucket  = 4
	fingerprintBits = 24
	horizonEpochs   = 96
	sweepEpochs     = 16
	maxKicks        = 500
	// maxLoad is the share of slots a full filter uses: four-slot cuckoo
	// filters place items reliably up to about 95%.
	maxLoad = 0.95
)

// Options configures [New].
type Options struct {
	// Capacity is how many live ids the filter holds; Add fails with
	// [ErrFull] beyond it. Memory is allocated up front: 4/0.95 ≈ 4.2
	// bytes per id. Zero means [DefaultCapacity]; more than [MaxCapacity]
	// panics.
	Capacity int
	// Horizon is the longest time between an Add and the expiry it is
	// given; Add fails with [ErrHorizon] beyond it. Expiries are rounded
	// up to Horizon/96, so an entry may be kept that much longer than
	// asked. It must be positive.
	Horizon time.Duration
}

// MaxCapacity is the largest Options.Capacity: bucket numbers stay below
// 1<<32 (see hash).
const MaxCapacity uint64 = math.MaxUint32

// Filter is the set. Create it with [New]. It is not safe for concurrent
// use: MayContain may run concurrently with other MayContain calls, and
// Add needs exclusive access.
type Filter struct {
	seed     maphash.Seed
	slots    []uint32
	buckets  uint64
	capacity int
	count    int
	horizon  time.Duration
	epoch    int64 // epoch length in nanoseconds
	victim   uint32
	victimAt uint64 // the bucket the victim was last placed from

	lastAdd, lastSweep int64 // absolute epochs
}

// New returns an empty filter configured by opts, its table allocated.
func New(opts Options) *Filter {
	f := &Filter{capacity: opts.Capacity, horizon: opts.Horizon}
	if f.capacity <= 0 {
		f.capacity = DefaultCapacity
	}
	if uint64(f.capacity) > MaxCapacity {
		panic(fmt.Sprintf("cuckoo: capacity %d exceeds %d", f.capacity, MaxCapacity))
	}
	if f.horizon <= 0 {
		panic("cuckoo: the horizon must be positive")
	}
	f.epoch = int64(f.horizon)/horizonEpochs + 1
	// A few spare buckets keep small filters, whose load varies more,
	// from refusing entries below their capacity.
	f.buckets = uint64(float64(f.capacity)/(slotsPerBucket*maxLoad)) + 16
	f.slots = make([]uint32, f.buckets*slotsPerBucket)
	f.seed = maphash.MakeSeed()
	return f
}

// Len returns how many slots are in use, including expired entries not
// yet cleared.
func (f *Filter) Len() int { return f.count }

// SizeBytes returns the memory the filter's table takes, fixed by New.
func (f *Filter) SizeBytes() int { return len(f.slots) * 4 }

// hash returns id's fingerprint (24 bits, never 0) and first bucket.
func (f *Filter) hash(id string) (fp uint32, i uint64) {
	h := maphash.String(f.seed, id)
	fp = uint32(h >> (64 - fingerprintBits))
	if fp == 0 {
		fp = 1
	}
	return fp, (h & 0xffffffff) * f.buckets >> 32 // buckets < 1<<32
}

// alt returns the other bucket of fingerprint fp stored in bucket i: the
// map i -> (g(fp) - i) mod buckets is its own inverse for any table size.
func (f *Filter) alt(fp uint32, i uint64) uint64 {
	g, _ := bits.Mul64(uint64(fp)*0x9e3779b97f4a7c15, f.buckets)
	return (g + f.buckets - i) % f.buckets
}

func (f *Filter) bucket(i uint64) []uint32 {
	return f.slots[i*slotsPerBucket : (i+1)*slotsPerBucket : (i+1)*slotsPerBucket]
}

// MayContain reports whether id may have been added: false means it
// certainly was not (or its entry expired and was cleared); true means it
// was, or a false positive (see [FalsePositiveRate]). It never allocates.
func (f *Filter) MayContain(id string) bool {
	fp, i := f.hash(id)
	for _, s := range f.bucket(i) {
		if s>>8 == fp {
			return true
		}
	}
	for _, s := range f.bucket(f.alt(fp, i)) {
		if s>>8 == fp {
			return true
		}
	}
	return f.victim>>8 == fp
}

// epochOf returns the absolute epoch of t (Unix nanoseconds), rounded up.
func (f *Filter) epochOf(t int64) int64 {
	e := t / f.epoch
	if t%f.epoch > 0 {
		e++
	}
	return e
}

// live reports whether slot s holds an entry not expired at epoch now.
func live(s uint32, now int64) bool {
	return s != 0 && int8(uint8(s)-uint8(now)) >= 0
}

// Add records that id is revoked until expires, at time now (both Unix
// nanoseconds). It returns
// nil without recording anything when expires is not after now, an error
// wrapping [ErrHorizon] when expires is more than the horizon ahead, and
// an error wrapping [ErrFull] when the capacity of live ids is held; in
// both error cases nothing is recorded. Adding an id again keeps the later
// of its expiries. It is amortised O(1); about every Horizon/6 it sweeps
// the whole table (a few milliseconds per million ids of capacity) to
// clear expired slots.
func (f *Filter) Add(id string, expires, now int64) error {
	if expires <= now {
		return nil
	}
	if d := time.Duration(expires - now); expires-now < 0 || d > f.horizon {
		return fmt.Errorf("%w: %v ahead, horizon %v", ErrHorizon, d.Round(time.Second), f.horizon)
	}
	nowE := now / f.epoch
	expE := f.epochOf(expires) // at most horizonEpochs+1 ahead
	f.maintain(nowE)
	fp, i1 := f.hash(id)
	slot := fp<<8 | uint32(uint8(expE))
	i2 := f.alt(fp, i1)
	// Already present (this id, or another one with the same fingerprint
	// in the same buckets, which MayContain cannot tell apart): extend it.
	for _, i := range [2]uint64{i1, i2} {
		b := f.bucket(i)
		for k, s := range b {
			if s>>8 == fp {
				if !live(s, nowE) || !live(s, expE) { // s expires before expE
					b[k] = slot
				}
				return nil
			}
		}
	}
	if f.victim>>8 == fp {
		if !live(f.victim, nowE) || !live(f.victim, expE) {
			f.victim = slot
		}
		return nil
	}
	if f.count >= f.capacity || f.victim != 0 {
		if f.lastSweep < nowE { // at most one full sweep per epoch
			f.sweep(nowE)
		}
		if f.count >= f.capacity || f.victim != 0 {
			return fmt.Errorf("%w: %d live entries", ErrFull, f.count)
		}
	}
	f.count++
	f.place(slot, i1, i2, nowE)
	return nil
}

// place stores slot in bucket i1 or i2, moving other entries to their
// alternate buckets when both are full; an entry left without a place
// after maxKicks moves is kept as the victim, which MayContain checks too.
func (f *Filter) place(slot uint32, i1, i2 uint64, nowE int64) {
	if f.put(slot, i1, nowE) || f.put(slot, i2, nowE) {
		return
	}
	i := i1
	if rand.IntN(2) == 0 {
		i = i2
	}
	for range maxKicks {
		b := f.bucket(i)
		k := rand.IntN(slotsPerBucket)
		slot, b[k] = b[k], slot
		i = f.alt(slot>>8, i)
		if f.put(slot, i, nowE) {
			return
		}
	}
	f.victim, f.victimAt = slot, i
}

// put stores slot in a free or expired slot of bucket i.
func (f *Filter) put(slot uint32, i uint64, nowE int64) bool {
	b := f.bucket(i)
	for k, s := range b {
		if s == 0 {
			b[k] = slot
			return true
		}
	}
	for k, s := range b {
		if !live(s, nowE) {
			b[k] = slot
			f.count-- // an expired entry gives its place
			return true
		}
	}
	return false
}

// maintain clears expired slots often enough that no slot's epoch wraps
// around: the whole table when nothing was added for a horizon (every
// entry has expired), a sweep every sweepEpochs otherwise.
func (f *Filter) maintain(nowE int64) {
	switch {
	case f.count == 0 && f.victim == 0:
		f.lastSweep = nowE
	case nowE-f.lastAdd > horizonEpochs+1:
		clear(f.slots)
		f.count, f.victim, f.lastSweep = 0, 0, nowE
	case nowE-f.lastSweep >= sweepEpochs:
		f.sweep(nowE)
	}
	f.lastAdd = nowE
}

// sweep clears every expired slot and tries to place the victim again.
func (f *Filter) sweep(nowE int64) {
	for k, s := range f.slots {
		if s != 0 && !live(s, nowE) {
			f.slots[k] = 0
			f.count--
		}
	}
	f.lastSweep = nowE
	if v := f.victim; v != 0 {
		f.victim = 0
		if !live(v, nowE) {
			f.count--
			return
		}
		f.place(v, f.victimAt, f.alt(v>>8, f.victimAt), nowE)
	}
}
