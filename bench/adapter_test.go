package bench_test

import (
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/bench"
	"github.com/authgate/authgate/sqlstore/pgtest"
)

// pg is the PostgreSQL server the package's tests share.
var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Close()
	os.Exit(code)
}

// adapterVariants builds the database-session variants on two new
// databases of the package's PostgreSQL server.
func adapterVariants(tb testing.TB) []bench.AdapterVariant {
	tb.Helper()
	srv := pg.Server(tb)
	vs, closeAll, err := bench.AdapterVariants(tb.Context(), time.Now(), srv.NewDatabase(tb), srv.NewDatabase(tb))
	if err != nil {
		tb.Fatalf("building the database-session variants: %v", err)
	}
	tb.Cleanup(closeAll)
	return vs
}

// TestAdapterVariants checks the database-session variants before they are
// timed, as TestVariants does the others.
func TestAdapterVariants(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds 16 384 sessions in PostgreSQL")
	}
	for _, v := range adapterVariants(t) {
		t.Run(v.Name, func(t *testing.T) {
			for _, c := range []*http.Cookie{v.Cookie, v.Cookie} {
				if code, body := bench.Serve(v.Handler, c); code != http.StatusOK || body != bench.WantRole {
					t.Errorf("valid cookie: got %d %q, want 200 %q", code, body, bench.WantRole)
				}
			}
			if code, _ := bench.Serve(v.Handler, bench.Tamper(v.Cookie)); code != http.StatusUnauthorized {
				t.Errorf("tampered cookie: got %d, want 401", code)
			}
			if code, _ := bench.Serve(v.Handler, nil); code != http.StatusUnauthorized {
				t.Errorf("no cookie: got %d, want 401", code)
			}
		})
	}
}

// BenchmarkAdapter runs each variant from 8 goroutines at once (the
// database's round trips overlap, as a server's requests do) and reports
// requests per second, the 99th-percentile latency of one request and the
// database statements per request, beside ns/op.
func BenchmarkAdapter(b *testing.B) {
	for _, v := range adapterVariants(b) {
		b.Run(v.Name, func(b *testing.B) {
			cookies := v.Cookies
			if len(cookies) == 0 {
				cookies = []*http.Cookie{v.Cookie}
			}
			bases := make([]http.Request, len(cookies))
			for i, c := range cookies {
				bases[i] = *bench.NewRequest(c)
			}
			bench.Serve(v.Handler, v.Cookie) // untimed: a warm variant's cookie gets cached
			var mu sync.Mutex
			var lat []time.Duration
			var next sync.Mutex
			j := 0
			q0 := v.Queries.Load()
			b.SetParallelism(4)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				w := bench.NewSink()
				req := new(http.Request)
				var mine []time.Duration
				for pb.Next() {
					next.Lock()
					*req = bases[j]
					if j++; j == len(bases) {
						j = 0
					}
					next.Unlock()
					w.Reset()
					t0 := time.Now()
					v.Handler.ServeHTTP(w, req)
					mine = append(mine, time.Since(t0))
					if w.Code != http.StatusOK {
						b.Errorf("got %d, want 200", w.Code)
						return
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
				b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
				b.ReportMetric(float64(v.Queries.Load()-q0)/float64(len(lat)), "queries/op")
			}
		})
	}
}
