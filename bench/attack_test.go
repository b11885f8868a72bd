package bench_test

import (
	"flag"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// The attack benchmark: sign-in under attack, row by row, with the
// availability tests' harness (the real handler over loopback, the default
// limiter, bcrypt at cost 10, GOMAXPROCS=2, one password-check slot). Each
// attack row runs for -attack.duration while honest users sign in; it
// reports the honest users' served fraction, their p50/p99, and how busy
// the password-check slots were. It measures and asserts nothing about
// time, so it is not a gate; CI runs it once for a second a row so that it
// cannot rot. The recorded runs live in bench/runs/*-attack/:
//
//	go test -count=1 -run '^TestAttack$' -attack.duration 10s -v ./bench/

var attackDuration = flag.Duration("attack.duration", 0, "how long each attack row of TestAttack runs (0 skips it)")

// timingHasher is BcryptHasher measuring the time spent comparing.
type timingHasher struct {
	authgate.BcryptHasher
	busy, n atomic.Int64
}

func (h *timingHasher) Compare(hash, password string) error {
	start := time.Now()
	err := h.BcryptHasher.Compare(hash, password)
	h.busy.Add(int64(time.Since(start)))
	h.n.Add(1)
	return err
}

// attackRow is one row of the table.
type attackRow struct {
	name     string
	attack   string            // what the attackers do, for the table
	honest   map[string]*tally // by kind of honest user
	attempts atomic.Int64      // attackers' requests
	elapsed  time.Duration
	busy     float64 // slot utilisation
	hash     time.Duration
	load     [2]string
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}

// attackSite is the availability site with loopback as a trusted proxy,
// so every simulated client sends from the address its X-Forwarded-For
// names, and a timing hasher.
func attackSite(t *testing.T) (*availabilitySite, *timingHasher) {
	h := &timingHasher{}
	s := newAvailabilitySite(t, func(cfg *authgate.Config[struct{}]) {
		cfg.Hasher = h
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	s.tr.MaxIdleConnsPerHost = 1024
	return s, h
}

// addr returns the i-th address of a /8 kept for one kind of client.
func addr(first byte, i int) string {
	return fmt.Sprintf("%d.%d.%d.%d", first, i>>16&255, i>>8&255, i&255)
}

// honestStream signs in a new honest user every 1/rate for d, each with
// an account and an address of their own (or from browsers, reused), and
// tallies their answers.
func honestStream(t *testing.T, s *availabilitySite, d time.Duration, rate int, tl *tally, next func(i int) (*browser, string)) *sync.WaitGroup {
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	deadline := time.Now().Add(d)
	wg.Go(func() {
		defer tick.Stop()
		for i := 0; time.Now().Before(deadline); i++ {
			b, user := next(i)
			wg.Go(func() {
				code, took, err := b.signIn(user, "correct horse")
				if err != nil {
					t.Error(err)
					return
				}
				tl.add(code, took)
			})
			<-tick.C
		}
	})
	return &wg
}

// attackers runs n loops for d, each sending sign-ins as fast as its
// answers come back; loop i sends what attempt(i, j) says.
func attackers(t *testing.T, s *availabilitySite, d time.Duration, n int, row *attackRow, attempt func(i, j int) (addr, user, password string)) *sync.WaitGroup {
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for i := range n {
		wg.Go(func() {
			b := s.browser(t)
			for j := 0; time.Now().Before(deadline); j++ {
				a, user, pw := attempt(i, j)
				b.xff = a
				code, _, err := b.signIn(user, pw)
				if err != nil {
					t.Error(err)
					return
				}
				row.attempts.Add(1)
				if code == 200 {
					b.renewCSRF(t) // a sign-in rotates it, as next-auth/react knows
				}
			}
		})
	}
	return &wg
}

// run measures one row: setup, then body for d with the slot counters
// reset at its start.
func (row *attackRow) run(t *testing.T, h *timingHasher, d time.Duration, body func()) {
	row.load[0] = loadAvg()
	busy0, n0 := h.busy.Load(), h.n.Load()
	start := time.Now()
	body()
	row.elapsed = time.Since(start)
	row.load[1] = loadAvg()
	busy, n := h.busy.Load()-busy0, h.n.Load()-n0
	// One slot (GOMAXPROCS-1 with GOMAXPROCS=2). The honest and attacking
	// requests still in flight at the end are included in elapsed.
	row.busy = float64(busy) / float64(row.elapsed)
	if n > 0 {
		row.hash = time.Duration(busy / n)
	}
}

func TestAttack(t *testing.T) {
	d := *attackDuration
	if d == 0 {
		t.Skip("set -attack.duration (10s for the recorded runs, 1s in CI)")
	}
	const honestRate = 10 // honest sign-ins a second, each its own account and address
	var rows []*attackRow
	newRow := func(name, attack string, kinds ...string) *attackRow {
		r := &attackRow{name: name, attack: attack, honest: map[string]*tally{}}
		for _, k := range kinds {
			r.honest[k] = &tally{}
		}
		rows = append(rows, r)
		return r
	}
	var honestSeq atomic.Int64
	newHonest := func(s *availabilitySite) func(int) (*browser, string) {
		return func(int) (*browser, string) {
			i := int(honestSeq.Add(1))
			b := s.browser(t)
			b.xff = addr(10, i)
			return b, fmt.Sprintf("user-h%06d", i)
		}
	}
	strangerRows := []struct {
		name, attack string
		loops        int
		attempt      func(i, j int) (string, string, string)
	}{
		{"no attack", "—", 0, nil},
		{"41 loops, one address, one valid account", "its own account, right password", 41,
			func(i, j int) (string, string, string) { return "203.0.113.66", "user-mallory", "correct horse" }},
		{"100 loops, two addresses, one valid account", "its own account, right password", 100,
			func(i, j int) (string, string, string) { return addr(203, 66+i%2), "user-mallory", "correct horse" }},
		{"41 loops, 41 addresses, unknown accounts", "wrong passwords", 41,
			func(i, j int) (string, string, string) {
				return addr(198, i), fmt.Sprintf("nobody-%d-%d", i, j), "guess"
			}},
	}
	for _, sr := range strangerRows {
		t.Run(sr.name, func(t *testing.T) {
			s, h := attackSite(t)
			row := newRow(sr.name, sr.attack, "honest")
			row.run(t, h, d, func() {
				var atk *sync.WaitGroup
				if sr.loops > 0 {
					atk = attackers(t, s, d, sr.loops, row, sr.attempt)
				}
				honestStream(t, s, d, honestRate, row.honest["honest"], newHonest(s)).Wait()
				if atk != nil {
					atk.Wait()
				}
			})
		})
	}
	t.Run("300 addresses, wrong passwords; 100 returning users", func(t *testing.T) {
		s, h := attackSite(t)
		row := newRow("300 addresses, wrong passwords; returning and new users", "wrong passwords, full speed", "returning", "new")
		returning := make([]*browser, 100)
		for i := range returning {
			returning[i] = s.browser(t)
			returning[i].xff = addr(11, i)
			if code, _, err := returning[i].signIn(fmt.Sprintf("user-r%03d", i), "correct horse"); err != nil || code != 200 {
				t.Fatalf("returning user %d's earlier sign-in: %d %v", i, code, err)
			}
		}
		row.run(t, h, d, func() {
			atk := attackers(t, s, d, 300, row, func(i, j int) (string, string, string) {
				return addr(198, 1000+i), fmt.Sprintf("nobody-%d-%d", i, j), "guess"
			})
			ret := honestStream(t, s, d, honestRate, row.honest["returning"], func(i int) (*browser, string) {
				b := returning[i%len(returning)]
				b.renewCSRF(t) // the browser's token rotated at its last sign-in
				return b, fmt.Sprintf("user-r%03d", i%len(returning))
			})
			fresh := honestStream(t, s, d, honestRate/2, row.honest["new"], newHonest(s))
			ret.Wait()
			fresh.Wait()
			atk.Wait()
		})
	})
	t.Run("office morning: 300 users behind one address", func(t *testing.T) {
		s, h := attackSite(t)
		row := newRow("office morning, no attack: 300 users, one address, 8 clients", "—", "office")
		users := make([]string, 300)
		for i := range users {
			users[i] = fmt.Sprintf("user%03d", i)
		}
		row.run(t, h, d, func() { row.honest["office"] = s.signInAll(t, users, 8) })
	})
	t.Run("one account, 500 sign-ins", func(t *testing.T) {
		s, h := attackSite(t)
		row := newRow("one account 500 times, no attack, 8 clients", "—", "robot")
		row.run(t, h, d, func() { row.honest["robot"] = s.signInAll(t, slices.Repeat([]string{"user-robot"}, 500), 8) })
	})

	var b strings.Builder
	fmt.Fprintf(&b, "\nattack rows of %v each; GOMAXPROCS=2, one password-check slot, bcrypt cost 10\n\n", d)
	fmt.Fprintln(&b, "| row | attacker req/s | honest users | served | refused | p50 | p99 | slot busy | one hash | load avg (start → end) |")
	fmt.Fprintln(&b, "|---|---:|---|---:|---|---:|---:|---:|---:|---|")
	for _, r := range rows {
		for _, kind := range slices.Sorted(maps.Keys(r.honest)) {
			tl := r.honest[kind]
			total := 0
			for _, n := range tl.codes {
				total += n
			}
			served := 0.0
			if total > 0 {
				served = float64(tl.codes[200]) / float64(total)
			}
			var refused []string
			for code, n := range tl.codes {
				if code != 200 {
					refused = append(refused, fmt.Sprintf("%d×%d", n, code))
				}
			}
			slices.Sort(refused)
			fmt.Fprintf(&b, "| %s | %.0f | %s (%d) | %.1f %% | %s | %v | %v | %.0f %% | %v | %s → %s |\n",
				r.name, float64(r.attempts.Load())/r.elapsed.Seconds(), kind, total, 100*served, strings.Join(refused, " "),
				tl.percentile(200, 0.5).Round(time.Millisecond), tl.percentile(200, 0.99).Round(time.Millisecond),
				100*r.busy, r.hash.Round(time.Millisecond), r.load[0], r.load[1])
		}
	}
	t.Log(b.String())
}
