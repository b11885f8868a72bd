package authgate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
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
// slots at once, the others waiting their turn in one of two lanes.
//
// The device lane holds attempts that presented a valid device token for
// the account they name (returning users). It is served first, in arrival
// order, whenever a slot frees, so no number of strangers can delay a
// returning user by more than the comparisons already running plus the
// device attempts ahead of it.
//
// The stranger lane holds every other attempt, ordered by start-time fair
// queueing over their keys, the client address (IPv4, IPv6 /64) and the
// account: an attempt's tag is the later of the lane's virtual time and
// the tags its address and its account have already used, and the lane is
// served by tag (then arrival). A key with many attempts queued therefore
// gets one turn per round, however fast it sends, and a newcomer is served
// ahead of a flooder's backlog. No address may hold more than perAddr
// queued places, no account more than perAccount.
//
// Every queued attempt must expect to start within maxWait: its place
// (device lane first) × the measured duration of one comparison ÷ slots.
// When an arrival would break that for anyone (or the queues hold
// maxQueue), the stranger at the back of the order — the key that holds
// the most rounds — is pushed out and answered with 503 and its expected
// wait as Retry-After; an arrival that would itself be at the back is
// refused at once. A queued comparison also gives up when its request's
// context ends. The duration of one comparison is a moving average of real
// ones, seeded with the time New took to make the dummy hash, so maxWait
// means the same at cost 10 on a laptop as at cost 12 on a small VM.
type passwordChecker struct {
	now      func() time.Time // the Auth's clock, to measure comparisons
	hasher   PasswordHasher
	dummy    string
	slots    int
	maxWait  time.Duration
	maxQueue int
	perAddr  int // queued places one address may hold in the stranger lane
	perAcct  int // queued places one account may hold in each lane

	mu        sync.Mutex
	running   int       // comparisons holding a slot
	device    []*waiter // the device lane, FIFO
	strangers []*waiter // the stranger lane, sorted by (tag, seq)
	vtime     int64     // virtual time: the tag of the last stranger started
	seq       uint64
	keys      map[string]*keyState // queued attempts per address and account key
	avg       atomic.Int64         // nanoseconds per comparison (EWMA)
}

// lane says where a comparison waits and for whom: the device lane for a
// returning device, else the stranger lane under its address and account
// keys ("" for none).
type lane struct {
	device  bool
	addr    string // Attempt.AddrGroup()
	account string
}

// keyState is what the stranger lane knows of one address or account.
type keyState struct {
	queued int   // attempts of this key waiting in a lane
	finish int64 // the tag after its latest queued attempt's
}

// waiter is one queued comparison.
type waiter struct {
	done    chan struct{} // closed when it owns a slot or is pushed out
	l       lane
	tag     int64
	seq     uint64
	queued  bool          // in a lane (under mu)
	pushed  bool          // pushed out of the queue (under mu)
	retry   time.Duration // with pushed: its expected wait then
	shedded bool          // with pushed: its address had others queued
}

// maxHashQueue bounds the queue whatever maxWait and the measured duration
// say, so a flood cannot pile up goroutines even with a very fast hasher.
const maxHashQueue = 1024

func newPasswordChecker(now func() time.Time, h PasswordHasher, dummy string, slots int, maxWait, firstSample time.Duration) *passwordChecker {
	p := &passwordChecker{now: now, hasher: h, dummy: dummy, slots: slots, maxWait: maxWait, maxQueue: maxHashQueue,
		perAddr: DefaultMaxQueuedPerAddress, perAcct: DefaultMaxQueuedPerAccount, keys: map[string]*keyState{}}
	p.avg.Store(int64(max(firstSample, time.Microsecond)))
	return p
}

// errHashBusy reports a comparison refused by the queue.
var errHashBusy = errors.New("authgate: password checks saturated")

// busyError is errHashBusy with the refused attempt's expected wait and
// whether its address had other attempts queued (the refusal is then its
// address's to pay: AttemptShed).
type busyError struct {
	retry time.Duration
	shed  bool
	cause error
}

func (e *busyError) Error() string {
	if e.cause != nil {
		return errHashBusy.Error() + ": " + e.cause.Error()
	}
	return errHashBusy.Error()
}

func (e *busyError) Is(target error) bool { return target == errHashBusy }
func (e *busyError) Unwrap() error        { return e.cause }

// compare checks password against hash (the dummy hash when hash is ""),
// waiting for a slot in lane l. It returns a *busyError (errHashBusy) when
// the queue refuses it or pushes it out, or when ctx ends while it is
// queued.
func (p *passwordChecker) compare(ctx context.Context, l lane, hash, password string) (ok bool, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := p.acquire(ctx, l); err != nil {
		return false, err
	}
	start := p.now()
	defer func() {
		p.observe(p.now().Sub(start))
		p.release()
	}()
	if hash == "" {
		p.hasher.Compare(p.dummy, password)
		return false, nil
	}
	return p.hasher.Compare(hash, password) == nil, nil
}

// expectedWait is how long the place-th comparison in the queue waits.
func (p *passwordChecker) expectedWait(place int) time.Duration {
	return time.Duration(int64(place) * p.avg.Load() / int64(p.slots))
}

// The keys of the places one attempt holds: its address's and its
// account's in the stranger lane, or its account's in the device lane
// (counted apart, so strangers cannot use up a device's places).
func addrKey(l lane) string { return "i\x00" + l.addr }
func accountKey(l lane) string {
	if l.device {
		return "d\x00" + l.account
	}
	return "a\x00" + l.account
}

// keyLocked returns the state of key k, creating it.
func (p *passwordChecker) keyLocked(k string) *keyState {
	st := p.keys[k]
	if st == nil {
		st = &keyState{}
		p.keys[k] = st
	}
	return st
}

// queuedLocked returns how many attempts of key k are queued.
func (p *passwordChecker) queuedLocked(k string) int {
	if st := p.keys[k]; st != nil {
		return st.queued
	}
	return 0
}

// shedLocked reports whether an attempt in lane l is refused while other
// attempts of its address are queued.
func (p *passwordChecker) shedLocked(l lane) bool {
	return !l.device && l.addr != "" && p.queuedLocked(addrKey(l)) > 0
}

// acquire takes a slot, queueing for one when all are busy.
func (p *passwordChecker) acquire(ctx context.Context, l lane) error {
	p.mu.Lock()
	if p.running < p.slots && len(p.device) == 0 && len(p.strangers) == 0 {
		p.running++
		p.mu.Unlock()
		return nil
	}
	w := &waiter{done: make(chan struct{}), l: l}
	if err := p.enqueueLocked(w); err != nil {
		p.mu.Unlock()
		return err
	}
	p.mu.Unlock()

	select {
	case <-w.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		if w.pushed {
			return &busyError{retry: w.retry, shed: w.shedded}
		}
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		defer p.mu.Unlock()
		if w.queued {
			place := p.placeLocked(w)
			p.removeLocked(w)
			return &busyError{retry: p.expectedWait(place), shed: p.shedLocked(w.l), cause: ctx.Err()}
		}
		if w.pushed {
			return &busyError{retry: w.retry, shed: w.shedded, cause: ctx.Err()}
		}
		// The slot was handed over as ctx ended: pass it on.
		p.releaseLocked()
		return &busyError{retry: p.expectedWait(1), cause: ctx.Err()}
	}
}

// enqueueLocked puts w in its lane, or refuses it with a *busyError: its
// key holds too many places, the device lane is too long, or w would be
// the stranger pushed out. Strangers pushed out to make room are answered.
func (p *passwordChecker) enqueueLocked(w *waiter) error {
	l := w.l
	if (l.account != "" && p.queuedLocked(accountKey(l)) >= p.perAcct) ||
		(!l.device && l.addr != "" && p.queuedLocked(addrKey(l)) >= p.perAddr) {
		return &busyError{retry: p.expectedWait(len(p.device) + len(p.strangers) + 1), shed: p.shedLocked(l)}
	}
	p.seq++
	w.seq = p.seq
	if l.device {
		place := len(p.device) + 1
		if wait := p.expectedWait(place); wait > p.maxWait || len(p.device) >= p.maxQueue {
			return &busyError{retry: wait}
		}
		p.device = append(p.device, w)
	} else {
		w.tag = p.vtime
		if l.addr != "" {
			w.tag = max(w.tag, p.keyLocked(addrKey(l)).finish)
		}
		if l.account != "" {
			w.tag = max(w.tag, p.keyLocked(accountKey(l)).finish)
		}
		i, _ := slices.BinarySearchFunc(p.strangers, w, func(a, b *waiter) int {
			if a.tag != b.tag {
				return cmp.Compare(a.tag, b.tag)
			}
			return cmp.Compare(a.seq, b.seq)
		})
		p.strangers = slices.Insert(p.strangers, i, w)
		if l.addr != "" {
			p.keyLocked(addrKey(l)).finish = w.tag + 1
		}
		if l.account != "" {
			p.keyLocked(accountKey(l)).finish = w.tag + 1
		}
	}
	w.queued = true
	p.countLocked(l, +1)
	// Trim the stranger lane from the back until every queued attempt
	// expects to start within maxWait.
	for n := len(p.strangers); n > 0; n = len(p.strangers) {
		place := len(p.device) + n
		wait := p.expectedWait(place)
		if wait <= p.maxWait && place <= p.maxQueue {
			break
		}
		last := p.strangers[n-1]
		p.removeLocked(last)
		if last == w {
			return &busyError{retry: wait, shed: p.shedLocked(l)}
		}
		last.pushed, last.retry, last.shedded = true, wait, p.shedLocked(last.l)
		close(last.done)
	}
	return nil
}

// countLocked adds d to the queued counts of l's keys, forgetting a key
// that has none left.
func (p *passwordChecker) countLocked(l lane, d int) {
	if l.addr != "" && !l.device {
		p.addLocked(addrKey(l), d)
	}
	if l.account != "" {
		p.addLocked(accountKey(l), d)
	}
}

func (p *passwordChecker) addLocked(k string, d int) {
	st := p.keyLocked(k)
	st.queued += d
	if st.queued <= 0 {
		delete(p.keys, k)
	}
}

// placeLocked returns w's place in the queue (1 is next).
func (p *passwordChecker) placeLocked(w *waiter) int {
	if w.l.device {
		return slices.Index(p.device, w) + 1
	}
	return len(p.device) + slices.Index(p.strangers, w) + 1
}

// removeLocked takes the queued w out of its lane.
func (p *passwordChecker) removeLocked(w *waiter) {
	if w.l.device {
		p.device = slices.DeleteFunc(p.device, func(x *waiter) bool { return x == w })
	} else {
		p.strangers = slices.DeleteFunc(p.strangers, func(x *waiter) bool { return x == w })
	}
	w.queued = false
	p.countLocked(w.l, -1)
}

// release frees a slot, handing it to the next in line.
func (p *passwordChecker) release() {
	p.mu.Lock()
	p.releaseLocked()
	p.mu.Unlock()
}

// releaseLocked hands the slot to the device lane's first, else to the
// stranger with the smallest tag, else frees it.
func (p *passwordChecker) releaseLocked() {
	var next *waiter
	switch {
	case len(p.device) > 0:
		next = p.device[0]
	case len(p.strangers) > 0:
		next = p.strangers[0]
		p.vtime = max(p.vtime, next.tag)
	default:
		p.running--
		return
	}
	p.removeLocked(next)
	close(next.done) // the slot passes to next; running is unchanged
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
