package cuckoo_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/authgate/authgate/internal/cuckoo"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

// filter is a Filter with its clock, as MemoryRevocationStore uses it.
type filter struct {
	*cuckoo.Filter
	c *clock
}

func newFilter(c *clock, capacity int) filter {
	return filter{cuckoo.New(cuckoo.Options{Capacity: capacity, Horizon: 96 * time.Hour}), c}
}

func (f filter) Add(id string, expires time.Time) error {
	return f.Filter.Add(id, expires.UnixNano(), f.c.Now().UnixNano())
}

func mustAdd(t *testing.T, f filter, id string, expires time.Time) {
	t.Helper()
	if err := f.Add(id, expires); err != nil {
		t.Fatalf("Add(%q): %v", id, err)
	}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(t *testing.T, c *clock)
	}{
		{"every id added is reported until it expires (no false negatives), filled to capacity", func(t *testing.T, c *clock) {
			const n = 100_000
			f := newFilter(c, n)
			for i := range n {
				mustAdd(t, f, fmt.Sprintf("sid-%d", i), c.Now().Add(time.Hour))
			}
			for i := range n {
				if !f.MayContain(fmt.Sprintf("sid-%d", i)) {
					t.Fatalf("sid-%d: added, not reported", i)
				}
			}
			// Two ids whose 24-bit fingerprints meet in one bucket pair
			// share a slot (MayContain cannot tell them apart anyway):
			// about one run in forty has such a pair among 100 000 ids,
			// more than a handful would mean a broken hash.
			if f.Len() > n || f.Len() < n-5 {
				t.Errorf("Len = %d, want %d (less at most a few shared slots)", f.Len(), n)
			}
		}},
		{"a full filter refuses a new id with ErrFull and keeps every entry", func(t *testing.T, c *clock) {
			f := newFilter(c, 100)
			for i := range 100 {
				mustAdd(t, f, fmt.Sprintf("sid-%d", i), c.Now().Add(time.Hour))
			}
			if err := f.Add("one-more", c.Now().Add(time.Hour)); !errors.Is(err, cuckoo.ErrFull) {
				t.Fatalf("Add on a full filter: %v, want ErrFull", err)
			}
			for i := range 100 {
				if !f.MayContain(fmt.Sprintf("sid-%d", i)) {
					t.Fatalf("sid-%d lost when the filter was full", i)
				}
			}
		}},
		{"expired entries make room, and an entry that lives longer survives", func(t *testing.T, c *clock) {
			f := newFilter(c, 100)
			mustAdd(t, f, "long", c.Now().Add(50*time.Hour))
			for i := range 99 {
				mustAdd(t, f, fmt.Sprintf("old-%d", i), c.Now().Add(time.Hour))
			}
			c.Advance(3 * time.Hour)
			for i := range 99 {
				mustAdd(t, f, fmt.Sprintf("new-%d", i), c.Now().Add(time.Hour))
			}
			if !f.MayContain("long") {
				t.Error("long: lost when expired entries were replaced")
			}
			for i := range 99 {
				if !f.MayContain(fmt.Sprintf("new-%d", i)) {
					t.Fatalf("new-%d: added, not reported", i)
				}
			}
		}},
		{"adding an id again keeps the later expiry", func(t *testing.T, c *clock) {
			f := newFilter(c, 10)
			mustAdd(t, f, "sid", c.Now().Add(10*time.Hour))
			mustAdd(t, f, "sid", c.Now().Add(time.Hour)) // earlier: ignored
			if f.Len() != 1 {
				t.Errorf("Len = %d after adding one id twice, want 1", f.Len())
			}
			c.Advance(5 * time.Hour)
			for i := range 9 {
				mustAdd(t, f, fmt.Sprintf("other-%d", i), c.Now().Add(time.Hour))
			}
			if !f.MayContain("sid") {
				t.Error("sid: forgotten at its earlier expiry")
			}
		}},
		{"an expiry already past records nothing", func(t *testing.T, c *clock) {
			f := newFilter(c, 10)
			mustAdd(t, f, "sid", c.Now())
			if f.Len() != 0 || f.MayContain("sid") {
				t.Error("an already expired id was recorded")
			}
		}},
		{"an expiry beyond the horizon is refused with ErrHorizon", func(t *testing.T, c *clock) {
			f := newFilter(c, 10)
			if err := f.Add("sid", c.Now().Add(100*time.Hour)); !errors.Is(err, cuckoo.ErrHorizon) {
				t.Errorf("Add 100 h ahead with a 96 h horizon: %v, want ErrHorizon", err)
			}
			mustAdd(t, f, "sid", c.Now().Add(96*time.Hour))
		}},
		{"after a horizon without additions everything has expired and is cleared", func(t *testing.T, c *clock) {
			f := newFilter(c, 1000)
			for i := range 1000 {
				mustAdd(t, f, fmt.Sprintf("sid-%d", i), c.Now().Add(time.Duration(i%96+1)*time.Hour))
			}
			c.Advance(200 * time.Hour)
			mustAdd(t, f, "fresh", c.Now().Add(time.Hour))
			if f.Len() != 1 {
				t.Errorf("Len = %d, want 1", f.Len())
			}
		}},
		{"entries added steadily for many horizons are cleared as they expire", func(t *testing.T, c *clock) {
			// Epoch numbers wrap around every 256 epochs (about 2.7
			// horizons): run through several wraps.
			f := newFilter(c, 500)
			for step := range 1000 {
				for j := range 10 {
					mustAdd(t, f, fmt.Sprintf("sid-%d-%d", step, j), c.Now().Add(24*time.Hour))
				}
				c.Advance(time.Hour)
			}
			// Ten ids an hour for 24 hours, plus at most the epochs of
			// rounding and the sweep lag.
			if n := f.Len(); n > 500 {
				t.Errorf("Len = %d after 1000 hours, want at most the capacity", n)
			}
			for j := range 10 {
				if !f.MayContain(fmt.Sprintf("sid-999-%d", j)) {
					t.Errorf("sid-999-%d: added, not reported", j)
				}
			}
		}},
		{"ids never added are rarely reported", func(t *testing.T, c *clock) {
			const n = 100_000
			f := newFilter(c, n)
			for i := range n {
				mustAdd(t, f, fmt.Sprintf("sid-%d", i), c.Now().Add(time.Hour))
			}
			// 1e6 lookups expect about 0.5 false positives (the bench
			// module measures 10 million); 10 or more has a probability
			// below 1e-10 unless the bound is wrong.
			fp := 0
			for i := range 1_000_000 {
				if f.MayContain(fmt.Sprintf("never-%d", i)) {
					fp++
				}
			}
			if fp >= 10 {
				t.Errorf("%d false positives in 1e6 lookups, bound %.2g per lookup", fp, cuckoo.FalsePositiveRate)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, &clock{now: t0})
		})
	}
}

func TestNewAllocatesTheDefaultCapacity(t *testing.T) {
	t.Parallel()
	f := cuckoo.New(cuckoo.Options{Horizon: time.Hour})
	if want := cuckoo.DefaultCapacity * 4; f.SizeBytes() < want {
		t.Errorf("SizeBytes = %d, want at least %d for the default capacity", f.SizeBytes(), want)
	}
}

func TestFilterMayContainDoesNotAllocate(t *testing.T) {
	c := &clock{now: t0}
	f := newFilter(c, 1000)
	mustAdd(t, f, "AAAAAAAAAAAAAAAAAAAAAA", c.Now().Add(time.Hour))
	if n := testing.AllocsPerRun(100, func() {
		f.MayContain("AAAAAAAAAAAAAAAAAAAAAA")
		f.MayContain("BBBBBBBBBBBBBBBBBBBBBB")
	}); n != 0 {
		t.Errorf("MayContain allocates %v times per run", n)
	}
}

// FuzzFilter checks the filter against an exact model: whatever
// the sequence of additions and clock steps, an id added and not yet
// expired is reported, and Len never exceeds the capacity.
func FuzzFilter(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 200, 4, 5, 255, 6})
	f.Add([]byte{10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10})
	f.Add([]byte{250, 251, 252, 253, 254, 1, 2, 250, 250, 250, 250, 3})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 2000 {
			return
		}
		const capacity = 16
		c := &clock{now: t0}
		flt := newFilter(c, capacity)
		model := map[string]time.Time{}
		for _, op := range ops {
			if op >= 240 { // advance 1..16 hours
				c.Advance(time.Duration(op-239) * time.Hour)
				continue
			}
			id := fmt.Sprintf("sid-%d", op%48)
			exp := c.Now().Add(time.Duration(op%97) * time.Hour)
			err := flt.Add(id, exp)
			switch {
			case err == nil:
				if exp.After(model[id]) {
					model[id] = exp
				}
			case !errors.Is(err, cuckoo.ErrFull):
				t.Fatalf("Add(%q, +%v): %v", id, exp.Sub(c.Now()), err)
			}
			if flt.Len() > capacity {
				t.Fatalf("Len %d > capacity %d", flt.Len(), capacity)
			}
			for id, exp := range model {
				if exp.After(c.Now()) && !flt.MayContain(id) {
					t.Fatalf("%s: added until %v, not reported at %v", id, exp, c.Now())
				}
			}
		}
	})
}
