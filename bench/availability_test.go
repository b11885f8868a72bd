package bench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// The availability tests: every legitimate sign-in is served, with the
// defaults (default limiter, BcryptHasher at cost 10, MaxConcurrentHashes
// GOMAXPROCS-1, MaxHashWait 3 s), under GOMAXPROCS=2, through the real
// handler on a loopback httptest server, CSRF and all. They assert what must
// hold (nothing legitimate refused, the queue's bound, /session latency)
// and log their figures. Timing under the race detector means nothing, so
// they skip under -race; .ci/run runs them in a separate step without it:
//
//	go test -run TestAvailability -v ./bench

// availabilitySite is a site whose users all share one password hash at
// cost 10: every sign-in costs one real bcrypt comparison, without making
// hundreds of hashes first.
type availabilitySite struct {
	srv  *httptest.Server
	auth *authgate.Auth[struct{}]
	tr   *http.Transport
}

func newAvailabilitySite(t *testing.T, edit func(*authgate.Config[struct{}])) *availabilitySite {
	t.Helper()
	if raceEnabled {
		t.Skip("availability figures under the race detector mean nothing; run without -race (.ci/run does)")
	}
	if testing.Short() {
		t.Skip("bcrypt at cost 10 for a minute; run without -short")
	}
	prev := runtime.GOMAXPROCS(2)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	hash, err := authgate.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := authgate.Config[struct{}]{
		Secrets: []string{"availability-secret-0123456789abcdefghij"},
		URL:     srv.URL,
		Logger:  slog.New(slog.DiscardHandler),
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[struct{}], error) {
			h := ""
			if strings.HasPrefix(c.Username(), "user") {
				h = hash
			}
			if !c.PasswordMatches(h) {
				return nil, nil
			}
			return &authgate.User[struct{}]{ID: c.Username()}, nil
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := authgate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/api/auth/", a.Handler())
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &availabilitySite{srv: srv, auth: a, tr: tr}
}

// browser is one client with its own cookie jar and CSRF token.
type browser struct {
	site  *availabilitySite
	hc    *http.Client
	token string
	xff   string // X-Forwarded-For, when the site trusts loopback as a proxy
}

func (s *availabilitySite) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{site: s, hc: &http.Client{Jar: jar, Transport: s.tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	b.renewCSRF(t)
	return b
}

// renewCSRF fetches a new CSRF token into b's jar, as next-auth/react does
// before every sign-in (a sign-in rotates it).
func (b *browser) renewCSRF(t *testing.T) {
	res, err := b.hc.Get(b.site.srv.URL + "/api/auth/csrf")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v struct{ CsrfToken string }
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	b.token = v.CsrfToken
}

// signIn posts credentials as next-auth/react does and returns the status
// and how long the answer took.
func (b *browser) signIn(user, password string) (int, time.Duration, error) {
	form := url.Values{"username": {user}, "password": {password}, "csrfToken": {b.token}, "json": {"true"}}
	req, _ := http.NewRequest("POST", b.site.srv.URL+"/api/auth/callback/credentials", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.xff != "" {
		req.Header.Set("X-Forwarded-For", b.xff)
	}
	start := time.Now()
	res, err := b.hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, time.Since(start), nil
}

// tally counts answers by status and keeps their durations.
type tally struct {
	mu    sync.Mutex
	codes map[int]int
	took  map[int][]time.Duration
}

func (t *tally) add(code int, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.codes == nil {
		t.codes, t.took = map[int]int{}, map[int][]time.Duration{}
	}
	t.codes[code]++
	t.took[code] = append(t.took[code], d)
}

// percentile returns the p-th percentile of the durations of code.
func (t *tally) percentile(code int, p float64) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return percentile(t.took[code], p)
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// signInAll signs users in through n concurrent browsers (one browser,
// with its own jar and CSRF token, per sign-in) and tallies the answers.
func (s *availabilitySite) signInAll(t *testing.T, users []string, n int) *tally {
	var tl tally
	next := make(chan string)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for u := range next {
				code, d, err := s.browser(t).signIn(u, "correct horse")
				if err != nil {
					t.Error(err)
					return
				}
				tl.add(code, d)
			}
		})
	}
	for _, u := range users {
		next <- u
	}
	close(next)
	wg.Wait()
	return &tl
}

func TestAvailabilityOfficeMorning(t *testing.T) {
	// 300 people behind one NAT address sign in at 9:00 through 8
	// concurrent clients.
	s := newAvailabilitySite(t, nil)
	users := make([]string, 300)
	for i := range users {
		users[i] = fmt.Sprintf("user%03d", i)
	}
	start := time.Now()
	tl := s.signInAll(t, users, 8)
	took := time.Since(start)
	t.Logf("300 users from one address, 8 clients: %v in %.1f s; answer p50 %v, p99 %v",
		tl.codes, took.Seconds(), tl.percentile(200, 0.5).Round(time.Millisecond), tl.percentile(200, 0.99).Round(time.Millisecond))
	if tl.codes[200] != 300 {
		t.Errorf("got %v, want all 300 signed in (no 429, no 503)", tl.codes)
	}
}

func TestAvailabilityOneAccountFiveHundredTimes(t *testing.T) {
	// A CI robot signing in with the right password, again and again.
	s := newAvailabilitySite(t, nil)
	tl := s.signInAll(t, slices.Repeat([]string{"user-robot"}, 500), 8)
	t.Logf("one account, one address, 500 correct sign-ins: %v; p50 %v, p99 %v",
		tl.codes, tl.percentile(200, 0.5).Round(time.Millisecond), tl.percentile(200, 0.99).Round(time.Millisecond))
	if tl.codes[200] != 500 {
		t.Errorf("got %v, want all 500 signed in", tl.codes)
	}
}

func TestAvailabilitySixteenAtOnce(t *testing.T) {
	// 16 users press "sign in" at the same instant.
	s := newAvailabilitySite(t, nil)
	browsers := make([]*browser, 16)
	for i := range browsers {
		browsers[i] = s.browser(t)
	}
	var tl tally
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i, b := range browsers {
		wg.Go(func() {
			<-gate
			code, d, err := b.signIn(fmt.Sprintf("user%02d", i), "correct horse")
			if err != nil {
				t.Error(err)
				return
			}
			tl.add(code, d)
		})
	}
	close(gate)
	wg.Wait()
	t.Logf("16 simultaneous sign-ins: %v; time to answer p50 %v, p99 (the last) %v",
		tl.codes, tl.percentile(200, 0.5).Round(time.Millisecond), tl.percentile(200, 0.99).Round(time.Millisecond))
	if tl.codes[200] != 16 {
		t.Errorf("got %v, want all 16 signed in", tl.codes)
	}
}

func TestAvailabilityFloodIsBounded(t *testing.T) {
	// 500 concurrent wrong-password attempts from 500 addresses against
	// 500 accounts (a botnet: the limiter lets each through), while a
	// signed-in user polls GET /session. The queue takes what it can
	// answer within MaxHashWait; the rest is refused at once with 503.
	s := newAvailabilitySite(t, func(cfg *authgate.Config[struct{}]) {
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	user := s.browser(t)
	if code, _, err := user.signIn("user-polling", "correct horse"); err != nil || code != 200 {
		t.Fatalf("sign-in: %d %v", code, err)
	}
	flood := make([]*browser, 500)
	for i := range flood {
		flood[i] = s.browser(t)
		flood[i].xff = fmt.Sprintf("198.18.%d.%d", i/250, i%250+1)
	}
	baseline := runtime.NumGoroutine()

	var polls []time.Duration
	var peak atomic.Int64
	stop := make(chan struct{})
	var poller sync.WaitGroup
	poller.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			peak.Store(max(peak.Load(), int64(runtime.NumGoroutine())))
			start := time.Now()
			res, err := user.hc.Get(s.srv.URL + "/api/auth/session")
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			polls = append(polls, time.Since(start))
			time.Sleep(5 * time.Millisecond)
		}
	})

	var tl tally
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i, b := range flood {
		wg.Go(func() {
			<-gate
			code, d, err := b.signIn(fmt.Sprintf("nobody%03d", i), "guess")
			if err != nil {
				t.Error(err)
				return
			}
			tl.add(code, d)
		})
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	took := time.Since(start)
	close(stop)
	poller.Wait()

	p99 := percentile(polls, 0.99)
	t.Logf("500 concurrent attempts: %v in %.1f s; 503 answered in p50 %v, p99 %v; 401 p99 %v; goroutines %d before, peak %d; GET /session during the flood: %d polls, p50 %v, p99 %v",
		tl.codes, took.Seconds(), tl.percentile(503, 0.5).Round(100*time.Microsecond), tl.percentile(503, 0.99).Round(100*time.Microsecond),
		tl.percentile(401, 0.99).Round(time.Millisecond), baseline, peak.Load(), len(polls),
		percentile(polls, 0.5).Round(100*time.Microsecond), p99.Round(100*time.Microsecond))
	if tl.codes[401]+tl.codes[503] != 500 {
		t.Errorf("got %v, want every attempt answered 401 (checked) or 503 (refused by the queue)", tl.codes)
	}
	if tl.codes[503] == 0 {
		t.Errorf("got no 503: the queue took all 500 attempts, want it bounded by MaxHashWait")
	}
	if q := tl.codes[401]; q > 60 {
		t.Errorf("got %d attempts checked, want about MaxHashWait / one check (40 at 75 ms) plus the slot", q)
	}
	if p := tl.percentile(503, 0.99); p > 500*time.Millisecond {
		t.Errorf("503 p99 %v, want refusals within milliseconds", p)
	}
	if p99 > 50*time.Millisecond {
		t.Errorf("GET /session p99 during the flood %v, want at most 50 ms", p99)
	}
}

// countingHasher is BcryptHasher counting its comparisons.
type countingHasher struct {
	authgate.BcryptHasher
	n atomic.Int64
}

func (h *countingHasher) Compare(hash, password string) error {
	h.n.Add(1)
	return h.BcryptHasher.Compare(hash, password)
}

func TestAvailabilityAttackersAreStillThrottled(t *testing.T) {
	// What counts failures still refuses guessing with the default
	// budgets: 10 per account and address, 50 per account across
	// addresses, 50 per address across accounts; each allowed attempt
	// costs exactly one bcrypt, and an unknown account is answered as a
	// known one.
	h := &countingHasher{}
	s := newAvailabilitySite(t, func(cfg *authgate.Config[struct{}]) {
		cfg.Hasher = h
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	type answer struct {
		code  int
		retry string
		body  string
	}
	attempt := func(addr, user string) answer {
		b := s.browser(t)
		b.xff = addr
		form := url.Values{"username": {user}, "password": {"guess"}, "csrfToken": {b.token}, "json": {"true"}}
		req, _ := http.NewRequest("POST", s.srv.URL+"/api/auth/callback/credentials", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", addr)
		res, err := b.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return answer{res.StatusCode, res.Header.Get("Retry-After"), string(body)}
	}
	tests := []struct {
		name      string
		allowed   int
		next      func(i int) (addr, user string)
		refusedBy string
	}{
		{"one account from one address", 10, func(int) (string, string) { return "203.0.113.1", "user-victim1" }, "the (account, address) budget"},
		{"one account from many addresses", 50, func(i int) (string, string) { return fmt.Sprintf("198.51.100.%d", i+1), "user-victim2" }, "the account's budget"},
		{"many accounts from one address", 50, func(i int) (string, string) { return "203.0.113.99", fmt.Sprintf("user-spray%02d", i) }, "the address's budget"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.n.Load()
			for i := range tt.allowed {
				if a := attempt(tt.next(i)); a.code != 401 {
					t.Fatalf("attempt %d: got %d %s, want 401", i+1, a.code, a.body)
				}
			}
			a := attempt(tt.next(tt.allowed))
			if a.code != 429 || a.retry == "" || !strings.Contains(a.body, "error=TooManyAttempts") {
				t.Errorf("attempt %d: got %d Retry-After %q %s, want 429 from %s", tt.allowed+1, a.code, a.retry, a.body, tt.refusedBy)
			}
			if n := h.n.Load() - before; n != int64(tt.allowed) {
				t.Errorf("got %d bcrypt comparisons for %d allowed attempts and one refused, want one per allowed attempt", n, tt.allowed)
			}
			t.Logf("%s: %d failures answered 401, then 429 with Retry-After %s s", tt.name, tt.allowed, a.retry)
		})
	}
	if known, unknown := attempt("192.0.2.77", "user-known"), attempt("192.0.2.78", "nobody"); known != unknown {
		t.Errorf("a known and an unknown account answered differently: %+v vs %+v", known, unknown)
	}
}
