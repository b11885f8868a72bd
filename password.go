package authgate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// maxPasswordBytes is bcrypt's input limit. x/crypto refuses longer
// passwords when hashing but silently ignores the excess when comparing, so
// authgate checks the length itself on both paths.
const maxPasswordBytes = 72

// DefaultBcryptCost is the bcrypt cost [HashPassword] and the default
// [BcryptHasher] use.
const DefaultBcryptCost = 10

// PasswordHasher hashes and checks passwords. [BcryptHasher] is the default;
// the interface lets tests count comparisons and lets apps move to another
// algorithm. Implementations must be safe for concurrent use.
type PasswordHasher interface {
	// Hash returns an encoded hash of password.
	Hash(password string) (string, error)
	// Compare returns nil when password matches hash, an error wrapping
	// [ErrPasswordMismatch] when it does not, and an error wrapping
	// [ErrPasswordTooLong] for over-long passwords.
	Compare(hash, password string) error
}

// BcryptHasher is the default [PasswordHasher]. The zero value uses
// [DefaultBcryptCost].
type BcryptHasher struct {
	// Cost is the bcrypt cost for new hashes, from bcrypt.MinCost (4) to
	// bcrypt.MaxCost (31). The default is 10. Set it to the cost of the
	// hashes you store, so that the dummy comparison for unknown users takes
	// as long as a real one.
	Cost int
}

// Hash hashes password with bcrypt. It returns an error wrapping
// [ErrPasswordTooLong] for a password over 72 bytes, and one wrapping
// [ErrConfig] when bcrypt refuses Cost (outside 4 to 31).
func (h BcryptHasher) Hash(password string) (string, error) {
	if len(password) > maxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	cost := h.Cost
	if cost == 0 {
		cost = DefaultBcryptCost
	}
	b, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("%w: bcrypt cost %d: %w", ErrConfig, cost, err)
	}
	return string(b), nil
}

// Compare checks password against a bcrypt hash in constant time. Passwords
// over 72 bytes never match: bcrypt would otherwise compare only their
// first 72 bytes.
func (h BcryptHasher) Compare(hash, password string) error {
	if len(password) > maxPasswordBytes {
		return ErrPasswordTooLong
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return ErrPasswordMismatch
	default:
		return fmt.Errorf("%w: %w", ErrPasswordMismatch, err)
	}
}

// HashPassword hashes password with bcrypt at [DefaultBcryptCost]. It
// returns an error wrapping [ErrPasswordTooLong] for passwords over 72
// bytes.
func HashPassword(password string) (string, error) {
	return BcryptHasher{}.Hash(password)
}

// CheckPassword reports whether password matches a bcrypt hash: nil when it
// does, an error wrapping [ErrPasswordMismatch] or [ErrPasswordTooLong]
// otherwise. Inside [Config.Authorize], use [Credentials.PasswordMatches]
// instead, which also bounds concurrency and keeps unknown users
// indistinguishable.
func CheckPassword(hash, password string) error {
	return BcryptHasher{}.Compare(hash, password)
}

// passwordChecker runs bounded, enumeration-safe comparisons: at most
// len(slots) at once, the others waiting their turn in a FIFO queue.
//
// A comparison that finds every slot busy queues when its expected wait —
// its place in the queue × the measured duration of one comparison ÷ the
// number of slots — is at most maxWait, and the queue is shorter than
// maxQueue; otherwise it is refused at once with that expected wait as its
// Retry-After. A queued comparison also gives up when its request's context
// ends. The duration of one comparison is a moving average of real ones,
// seeded with the time New took to make the dummy hash, so maxWait means
// the same at cost 10 on a laptop as at cost 12 on a small VM.
type passwordChecker struct {
	now      func() time.Time // the Auth's clock, to measure comparisons
	hasher   PasswordHasher
	dummy    string
	slots    int
	maxWait  time.Duration
	maxQueue int

	mu      sync.Mutex
	running int             // comparisons holding a slot
	queue   []chan struct{} // FIFO; a closed channel owns a slot
	avg     atomic.Int64    // nanoseconds per comparison (EWMA)
}

// maxHashQueue bounds the queue whatever maxWait and the measured duration
// say, so a flood cannot pile up goroutines even with a very fast hasher.
const maxHashQueue = 1024

func newPasswordChecker(now func() time.Time, h PasswordHasher, dummy string, slots int, maxWait, firstSample time.Duration) *passwordChecker {
	p := &passwordChecker{now: now, hasher: h, dummy: dummy, slots: slots, maxWait: maxWait, maxQueue: maxHashQueue}
	p.avg.Store(int64(max(firstSample, time.Microsecond)))
	return p
}

// errHashBusy reports a comparison refused by the queue.
var errHashBusy = errors.New("authgate: password checks saturated")

// compare checks password against hash (the dummy hash when hash is ""),
// waiting for a slot. It returns errHashBusy with the expected wait when
// the queue refuses it, or ctx's error when ctx ends while queued.
func (p *passwordChecker) compare(ctx context.Context, hash, password string) (ok bool, retryAfter time.Duration, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if retryAfter, err := p.acquire(ctx); err != nil {
		return false, retryAfter, err
	}
	start := p.now()
	defer func() {
		p.observe(p.now().Sub(start))
		p.release()
	}()
	if hash == "" {
		p.hasher.Compare(p.dummy, password)
		return false, 0, nil
	}
	return p.hasher.Compare(hash, password) == nil, 0, nil
}

// expectedWait is how long the place-th comparison in the queue waits.
func (p *passwordChecker) expectedWait(place int) time.Duration {
	return time.Duration(int64(place) * p.avg.Load() / int64(p.slots))
}

// acquire takes a slot, queueing for one when all are busy.
func (p *passwordChecker) acquire(ctx context.Context) (time.Duration, error) {
	p.mu.Lock()
	if p.running < p.slots && len(p.queue) == 0 {
		p.running++
		p.mu.Unlock()
		return 0, nil
	}
	place := len(p.queue) + 1
	wait := p.expectedWait(place)
	if wait > p.maxWait || len(p.queue) >= p.maxQueue {
		p.mu.Unlock()
		return wait, errHashBusy
	}
	turn := make(chan struct{})
	p.queue = append(p.queue, turn)
	p.mu.Unlock()

	select {
	case <-turn:
		return 0, nil
	case <-ctx.Done():
		p.mu.Lock()
		defer p.mu.Unlock()
		for i, c := range p.queue {
			if c == turn {
				p.queue = append(p.queue[:i], p.queue[i+1:]...)
				return p.expectedWait(place), fmt.Errorf("%w: %w", errHashBusy, ctx.Err())
			}
		}
		// The slot was handed over as ctx ended: pass it on.
		p.releaseLocked()
		return p.expectedWait(place), fmt.Errorf("%w: %w", errHashBusy, ctx.Err())
	}
}

// release frees a slot, handing it to the first in the queue.
func (p *passwordChecker) release() {
	p.mu.Lock()
	p.releaseLocked()
	p.mu.Unlock()
}

func (p *passwordChecker) releaseLocked() {
	if len(p.queue) == 0 {
		p.running--
		return
	}
	next := p.queue[0]
	p.queue[0] = nil
	p.queue = p.queue[1:]
	close(next) // the slot passes to next; running is unchanged
}

// observe folds one comparison's duration into the moving average (weight
// 1/8).
func (p *passwordChecker) observe(d time.Duration) {
	for {
		old := p.avg.Load()
		next := old + (int64(d)-old)/8
		if p.avg.CompareAndSwap(old, max(next, 1)) {
			return
		}
	}
}
