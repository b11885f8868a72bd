package authgate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// These tests drive the password-check queue directly, so they can see
// who holds a slot and who waits without timing anything.

// gatedHasher blocks every Compare until release receives, and reports
// the password it compares on entered.
type gatedHasher struct {
	entered chan string
	release chan struct{}
}

func newGatedHasher() *gatedHasher {
	return &gatedHasher{entered: make(chan string, 100), release: make(chan struct{})}
}

func (h *gatedHasher) Hash(pw string) (string, error) { return "gated:" + pw, nil }

func (h *gatedHasher) Compare(hash, pw string) error {
	h.entered <- pw
	<-h.release
	if hash == "gated:"+pw {
		return nil
	}
	return ErrPasswordMismatch
}

// queueLen returns how many comparisons wait.
func (p *passwordChecker) queueLen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.device) + len(p.strangers)
}

// waitQueued spins until n comparisons wait.
func waitQueued(t *testing.T, p *passwordChecker, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); p.queueLen() != n; {
		if time.Now().After(deadline) {
			t.Fatalf("got %d queued comparisons, want %d", p.queueLen(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func fixedClock() func() time.Time {
	t := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	return func() time.Time { return t }
}

func TestPasswordQueueServesInArrivalOrder(t *testing.T) {
	t.Parallel()
	h := newGatedHasher()
	p := newPasswordChecker(fixedClock(), h, "gated:dummy", 1, time.Hour, time.Second)
	var wg sync.WaitGroup
	results := make(chan error, 5)
	start := func(pw string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := p.compare(context.Background(), lane{}, "gated:"+pw, pw)
			results <- err
		}()
	}
	start("first")
	if got := <-h.entered; got != "first" {
		t.Fatalf("got %q in the slot, want first", got)
	}
	for i, pw := range []string{"second", "third", "fourth", "fifth"} {
		start(pw)
		waitQueued(t, p, i+1)
	}
	for _, want := range []string{"second", "third", "fourth", "fifth"} {
		h.release <- struct{}{}
		if got := <-h.entered; got != want {
			t.Fatalf("got %q in the slot next, want %q (first in, first out)", got, want)
		}
	}
	h.release <- struct{}{}
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Errorf("a queued comparison failed: %v", err)
		}
	}
	if p.running != 0 || p.queueLen() != 0 {
		t.Errorf("after all: %d running, %d queued; want 0, 0", p.running, p.queueLen())
	}
}

func TestPasswordQueueRefusesPastTheExpectedWait(t *testing.T) {
	t.Parallel()
	h := newGatedHasher()
	// One comparison takes 2 s (the first sample), one slot, at most 5 s
	// of expected wait: places 1 and 2 (2 s, 4 s) queue, place 3 (6 s)
	// is refused at once with a Retry-After of 6 s.
	p := newPasswordChecker(fixedClock(), h, "gated:dummy", 1, 5*time.Second, 2*time.Second)
	var wg sync.WaitGroup
	for _, pw := range []string{"holder", "queued1", "queued2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.compare(context.Background(), lane{}, "", pw)
		}()
		if pw == "holder" {
			<-h.entered
		}
	}
	waitQueued(t, p, 2)
	ok, err := p.compare(context.Background(), lane{}, "", "refused")
	var be *busyError
	if ok || !errors.Is(err, errHashBusy) || !errors.As(err, &be) || be.retry != 6*time.Second {
		t.Errorf("third in the queue: got (%v, %v), want (false, errHashBusy with a Retry-After of 6s)", ok, err)
	}
	for range 3 {
		h.release <- struct{}{}
	}
	wg.Wait()
}

func TestPasswordQueueWithTwoSlotsHalvesTheWait(t *testing.T) {
	t.Parallel()
	p := newPasswordChecker(fixedClock(), newGatedHasher(), "", 2, time.Hour, 2*time.Second)
	if got := p.expectedWait(3); got != 3*time.Second {
		t.Errorf("place 3 with 2 slots at 2 s a check: got %v, want 3s", got)
	}
}

func TestPasswordQueueIsBounded(t *testing.T) {
	t.Parallel()
	h := newGatedHasher()
	p := newPasswordChecker(fixedClock(), h, "", 1, time.Hour, time.Nanosecond)
	p.maxQueue = 3
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.compare(context.Background(), lane{}, "", "holder") }()
	<-h.entered
	for i := range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); p.compare(context.Background(), lane{}, "", "queued") }()
		waitQueued(t, p, i+1)
	}
	if _, err := p.compare(context.Background(), lane{}, "", "one too many"); !errors.Is(err, errHashBusy) {
		t.Errorf("a fourth waiter: got %v, want errHashBusy (the queue holds 3)", err)
	}
	for range 4 {
		h.release <- struct{}{}
	}
	wg.Wait()
}

func TestPasswordQueueLeavesWhenTheRequestEnds(t *testing.T) {
	t.Parallel()
	h := newGatedHasher()
	p := newPasswordChecker(fixedClock(), h, "", 1, time.Hour, time.Second)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.compare(context.Background(), lane{}, "", "holder") }()
	<-h.entered

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := p.compare(ctx, lane{}, "", "gives up")
		done <- err
	}()
	waitQueued(t, p, 1)
	cancel()
	if err := <-done; !errors.Is(err, errHashBusy) || !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want errHashBusy wrapping context.Canceled", err)
	}
	if n := p.queueLen(); n != 0 {
		t.Errorf("got %d queued after the request ended, want 0", n)
	}
	// The slot is not lost: the next comparison gets it once the holder
	// is done.
	h.release <- struct{}{}
	wg.Wait()
	go p.compare(context.Background(), lane{}, "", "next")
	if got := <-h.entered; got != "next" {
		t.Errorf("got %q, want next", got)
	}
	h.release <- struct{}{}
}

func TestPasswordQueueMeasuresRealComparisons(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	// A hasher that takes 10 s of the injected clock per comparison.
	h := clockHasher{advance: func() { mu.Lock(); now = now.Add(10 * time.Second); mu.Unlock() }}
	p := newPasswordChecker(clock, h, "", 1, time.Hour, time.Second)
	for range 40 {
		p.compare(context.Background(), lane{}, "", "pw")
	}
	if got := time.Duration(p.avg.Load()); got < 9*time.Second || got > 10*time.Second {
		t.Errorf("after 40 comparisons of 10 s from a first sample of 1 s: got an average of %v, want close to 10s", got)
	}
}

type clockHasher struct{ advance func() }

func (clockHasher) Hash(pw string) (string, error) { return pw, nil }
func (h clockHasher) Compare(hash, pw string) error {
	h.advance()
	return ErrPasswordMismatch
}

// queueRun drives a checker with one slot held by a gated comparison:
// start queues a comparison in a lane and reports its outcome on a
// channel of its own.
type queueRun struct {
	t *testing.T
	p *passwordChecker
	h *gatedHasher
}

func newQueueRun(t *testing.T, maxWait time.Duration) *queueRun {
	t.Helper()
	h := newGatedHasher()
	// One comparison takes 1 s of expected time; MaxHashWait maxWait.
	r := &queueRun{t: t, p: newPasswordChecker(fixedClock(), h, "gated:dummy", 1, maxWait, time.Second), h: h}
	r.start(lane{addr: "holder"}, "holder")
	if got := <-h.entered; got != "holder" {
		t.Fatalf("got %q in the slot, want the holder", got)
	}
	return r
}

// start runs a comparison of password pw in lane l; its result arrives
// on the returned channel.
func (r *queueRun) start(l lane, pw string) chan error {
	done := make(chan error, 1)
	go func() {
		_, err := r.p.compare(context.Background(), l, "gated:"+pw, pw)
		done <- err
	}()
	return done
}

// queue starts a comparison and waits until it is queued (n in all).
func (r *queueRun) queue(l lane, pw string, n int) chan error {
	r.t.Helper()
	done := r.start(l, pw)
	waitQueued(r.t, r.p, n)
	return done
}

// next releases the slot and returns who gets it.
func (r *queueRun) next() string {
	r.h.release <- struct{}{}
	return <-r.h.entered
}

// busy waits for a refusal on done and returns it.
func busy(t *testing.T, done chan error) *busyError {
	t.Helper()
	var be *busyError
	if err := <-done; !errors.As(err, &be) {
		t.Fatalf("got %v, want the queue's refusal", err)
	}
	return be
}

func TestPasswordQueueServesReturningDevicesFirst(t *testing.T) {
	t.Parallel()
	r := newQueueRun(t, time.Hour)
	for i, addr := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		r.queue(lane{addr: addr, account: "u" + addr}, "stranger"+addr, i+1)
	}
	r.queue(lane{device: true, addr: "203.0.113.9", account: "alice"}, "alice", 4)
	r.queue(lane{device: true, addr: "203.0.113.8", account: "bob"}, "bob", 5)
	for _, want := range []string{"alice", "bob", "stranger192.0.2.1", "stranger192.0.2.2", "stranger192.0.2.3"} {
		if got := r.next(); got != want {
			t.Fatalf("got %q in the slot, want %q (the device lane first, in arrival order)", got, want)
		}
	}
	r.h.release <- struct{}{}
}

func TestPasswordQueueStrangersCannotCrowdOutADevice(t *testing.T) {
	t.Parallel()
	// At 1 s a comparison and 5 s of wait, five places: strangers from
	// five addresses fill them. A returning device still gets a place, at
	// the front, and the stranger at the back is pushed out to keep every
	// queued attempt within the wait bound.
	r := newQueueRun(t, 5*time.Second)
	var strangers []chan error
	for i := range 5 {
		strangers = append(strangers, r.queue(lane{addr: fmt.Sprintf("198.51.100.%d", i), account: fmt.Sprintf("x%d", i)}, fmt.Sprintf("s%d", i), i+1))
	}
	if be := busy(t, r.start(lane{addr: "198.51.100.99", account: "x99"}, "late")); be.retry != 6*time.Second || be.shed {
		t.Errorf("a sixth stranger: got Retry-After %v shed %v, want 6s and not shed (nothing of its address queued)", be.retry, be.shed)
	}
	dev := r.start(lane{device: true, addr: "198.51.100.1", account: "alice"}, "alice")
	if be := busy(t, strangers[4]); be.retry != 6*time.Second {
		t.Errorf("the stranger pushed out by the device: Retry-After %v, want 6s", be.retry)
	}
	if got := r.next(); got != "alice" {
		t.Fatalf("got %q in the slot, want the returning device", got)
	}
	for i := range 4 {
		if got := r.next(); got != fmt.Sprintf("s%d", i) {
			t.Fatalf("got %q, want s%d", got, i)
		}
	}
	r.h.release <- struct{}{}
	if err := <-dev; err != nil {
		t.Errorf("the device's comparison: %v", err)
	}
}

func TestPasswordQueueSharesTurnsAmongAddressesAndAccounts(t *testing.T) {
	t.Parallel()
	r := newQueueRun(t, time.Hour)
	// A flooder queues four from one address (four accounts), then one
	// account from four addresses; newcomers are served after each
	// key's first turn, not after the whole backlog.
	n := 0
	q := func(l lane, pw string) { n++; r.queue(l, pw, n) }
	for i := range 4 {
		q(lane{addr: "203.0.113.66", account: fmt.Sprintf("spray%d", i)}, fmt.Sprintf("flood-addr%d", i))
	}
	for i := range 4 {
		q(lane{addr: fmt.Sprintf("198.18.0.%d", i), account: "victim"}, fmt.Sprintf("flood-acct%d", i))
	}
	q(lane{addr: "192.0.2.10", account: "carol"}, "carol")
	q(lane{addr: "192.0.2.11", account: "dave"}, "dave")
	want := []string{
		"flood-addr0", "flood-acct0", "carol", "dave", // round one: one turn per key
		"flood-addr1", "flood-acct1", "flood-addr2", "flood-acct2", "flood-addr3", "flood-acct3",
	}
	for _, w := range want {
		if got := r.next(); got != w {
			t.Fatalf("got %q in the slot, want %q", got, w)
		}
	}
	r.h.release <- struct{}{}
}

func TestPasswordQueueCapsPlacesPerAddressAndAccount(t *testing.T) {
	t.Parallel()
	r := newQueueRun(t, time.Hour)
	r.p.perAddr, r.p.perAcct = 3, 2
	n := 0
	q := func(l lane, pw string) { n++; r.queue(l, pw, n) }
	for i := range 3 {
		q(lane{addr: "203.0.113.1", account: fmt.Sprintf("a%d", i)}, fmt.Sprintf("p%d", i))
	}
	if be := busy(t, r.start(lane{addr: "203.0.113.1", account: "a9"}, "fourth")); !be.shed {
		t.Error("a fourth place for one address: refused, but not as shed (its address has three queued)")
	}
	q(lane{addr: "198.51.100.1", account: "bob"}, "bob1")
	q(lane{addr: "198.51.100.2", account: "bob"}, "bob2")
	if be := busy(t, r.start(lane{addr: "198.51.100.3", account: "bob"}, "bob3")); be.shed {
		t.Error("a third place for one account from a new address: shed, want not (nothing of its address queued)")
	}
	// The account's places in the device lane are its own: strangers
	// holding bob's stranger places do not keep bob's device out.
	q(lane{device: true, addr: "198.51.100.3", account: "bob"}, "bob-device")
	for range n {
		r.next()
	}
	r.h.release <- struct{}{}
	if len(r.p.keys) != 0 {
		t.Errorf("after the queue emptied it still tracks %d keys", len(r.p.keys))
	}
}
