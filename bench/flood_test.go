package bench_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// BenchmarkSessionUnderSignInFlood (moved here from the root package's
// tests: it is a measurement, not a test) measures GET /api/auth/session latency
// for a signed-in user while 16 goroutines flood the credentials sign-in of
// the same httptest server with wrong passwords at the default bcrypt cost
// (10). It reports the latency's p50 and p99 and what the flood got
// (sign-ins/s answered 401, 429 and 503). It is a measurement, not an
// assertion:
//
//	go test -run='^$' -bench=SessionUnderSignInFlood -benchtime=3s ./bench
//
// "no-flood" is the baseline; "limiter-off" leaves only the bounded bcrypt
// concurrency (MaxConcurrentHashes, default GOMAXPROCS) between the flood
// and the CPU, as a botnet spread over many addresses would; "defaults"
// also has the default limiter, which throttles a flood from one address.
// "limiter-off-1-hash-slot" shows what leaving a core free of bcrypt buys.
func BenchmarkSessionUnderSignInFlood(b *testing.B) {
	for _, bc := range []struct {
		name      string
		flooders  int
		noLimiter bool
		slots     int // MaxConcurrentHashes; 0 is the default
	}{
		{"no-flood", 0, false, 0},
		{"limiter-off", 16, true, 0},
		{"limiter-off-1-hash-slot", 16, true, 1},
		{"defaults", 16, false, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			benchmarkFlood(b, bc.flooders, bc.noLimiter, bc.slots)
		})
	}
}

func benchmarkFlood(b *testing.B, flooders int, noLimit bool, slots int) {
	hash, err := authgate.HashPassword("alice-password")
	if err != nil {
		b.Fatal(err)
	}
	cfg := authgate.Config[struct{}]{
		Secrets: []string{"flood-secret-0123456789abcdefghijklmnop"},
		Logger:  slog.New(slog.DiscardHandler),
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[struct{}], error) {
			h := ""
			if c.Username() == "alice" {
				h = hash
			}
			if !c.PasswordMatches(h) {
				return nil, nil
			}
			return &authgate.User[struct{}]{ID: "u1", Name: "alice"}, nil
		},
	}
	if noLimit {
		cfg.Limiter = authgate.NoLimiter()
	}
	cfg.MaxConcurrentHashes = slots
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg.URL = srv.URL
	a, err := authgate.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	mux.Handle("/api/auth/", a.Handler())

	transport := &http.Transport{MaxIdleConnsPerHost: flooders + 4}
	defer transport.CloseIdleConnections()
	newClient := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	csrf := func(c *http.Client) string {
		res, err := c.Get(srv.URL + "/api/auth/csrf")
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		var v struct{ CsrfToken string }
		if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
			b.Fatal(err)
		}
		return v.CsrfToken
	}
	signIn := func(c *http.Client, token, user, pw string) (int, error) {
		form := url.Values{"username": {user}, "password": {pw}, "csrfToken": {token}, "json": {"true"}}
		res, err := c.Post(srv.URL+"/api/auth/callback/credentials", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	}

	user := newClient()
	if code, err := signIn(user, csrf(user), "alice", "alice-password"); err != nil || code != 200 {
		b.Fatalf("sign-in: %d %v", code, err)
	}

	var codes sync.Map // status -> *atomic.Int64
	count := func(code int) {
		v, _ := codes.LoadOrStore(code, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range flooders {
		c := newClient()
		token := csrf(c)
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				// Half the flood guesses alice, half unknown users.
				name := "alice"
				if n%2 == 1 {
					name = "user" + string(rune('a'+i))
				}
				code, err := signIn(c, token, name, "guess")
				if err != nil {
					return
				}
				count(code)
			}
		})
	}
	time.Sleep(200 * time.Millisecond) // let the flood build up

	b.ReportAllocs()
	lat := make([]time.Duration, 0, 1024)
	start := time.Now()
	for b.Loop() {
		began := time.Now()
		res, err := user.Get(srv.URL + "/api/auth/session")
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		lat = append(lat, time.Since(began))
		if res.StatusCode != 200 || !strings.Contains(string(body), `"id":"u1"`) {
			b.Fatalf("GET /session: %d %s", res.StatusCode, body)
		}
	}
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()

	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	for _, code := range []int{401, 429, 503} {
		n := int64(0)
		if v, ok := codes.Load(code); ok {
			n = v.(*atomic.Int64).Load()
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "flood-"+strconv.Itoa(code)+"/s")
	}
}
