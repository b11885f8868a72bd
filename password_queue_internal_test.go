package authgate

import (
	"context"
	"errors"
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
	return len(p.queue)
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
			_, _, err := p.compare(context.Background(), "gated:"+pw, pw)
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
			p.compare(context.Background(), "", pw)
		}()
		if pw == "holder" {
			<-h.entered
		}
	}
	waitQueued(t, p, 2)
	ok, retry, err := p.compare(context.Background(), "", "refused")
	if ok || !errors.Is(err, errHashBusy) || retry != 6*time.Second {
		t.Errorf("third in the queue: got (%v, %v, %v), want (false, 6s, errHashBusy)", ok, retry, err)
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
	go func() { defer wg.Done(); p.compare(context.Background(), "", "holder") }()
	<-h.entered
	for i := range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); p.compare(context.Background(), "", "queued") }()
		waitQueued(t, p, i+1)
	}
	if _, _, err := p.compare(context.Background(), "", "one too many"); !errors.Is(err, errHashBusy) {
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
	go func() { defer wg.Done(); p.compare(context.Background(), "", "holder") }()
	<-h.entered

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, _, err := p.compare(ctx, "", "gives up")
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
	go p.compare(context.Background(), "", "next")
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
		p.compare(context.Background(), "", "pw")
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
