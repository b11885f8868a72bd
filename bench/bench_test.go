package bench_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/authgate/authgate/bench"
)

// variants builds every variant once per test binary run.
func variants(tb testing.TB) []bench.Variant {
	tb.Helper()
	vs, err := bench.All(time.Now())
	if err != nil {
		tb.Fatalf("building variants: %v", err)
	}
	return vs
}

// TestVariants checks every variant before it is timed: a valid cookie is
// accepted and the final handler reads the role; a tampered cookie, a
// cookie under another name and no cookie are refused.
func TestVariants(t *testing.T) {
	for _, v := range variants(t) {
		t.Run(v.Name, func(t *testing.T) {
			if v.Anonymous {
				if code, _ := bench.Serve(v.Handler, nil); code != v.AnonymousStatus {
					t.Errorf("no cookie: got %d, want %d", code, v.AnonymousStatus)
				}
				return
			}
			cookies := v.Cookies
			if len(cookies) == 0 {
				cookies = []*http.Cookie{v.Cookie}
			}
			for _, c := range cookies[:min(len(cookies), 3)] {
				if code, body := bench.Serve(v.Handler, c); code != http.StatusOK || body != bench.WantRole {
					t.Errorf("valid cookie: got %d %q, want 200 %q", code, body, bench.WantRole)
				}
				// Twice: a second sight of the same cookie (a warm cache) must agree.
				if code, _ := bench.Serve(v.Handler, c); code != http.StatusOK {
					t.Errorf("valid cookie, second request: got %d, want 200", code)
				}
			}
			tampered := bench.Tamper(v.Cookie)
			for range 2 {
				if code, _ := bench.Serve(v.Handler, tampered); code != http.StatusUnauthorized {
					t.Errorf("tampered cookie %q: got %d, want 401", tampered.Value, code)
				}
			}
			renamed := &http.Cookie{Name: "other", Value: v.Cookie.Value}
			if code, _ := bench.Serve(v.Handler, renamed); code != http.StatusUnauthorized {
				t.Errorf("cookie under another name: got %d, want 401", code)
			}
			if code, _ := bench.Serve(v.Handler, nil); code != http.StatusUnauthorized {
				t.Errorf("no cookie: got %d, want 401", code)
			}
		})
	}
}

// BenchmarkRequest runs one full request per iteration through each variant.
// The request is reset from the same template before every iteration (some
// peers write into the *http.Request they are given).
func BenchmarkRequest(b *testing.B) {
	// Where each variant's cookie ring stands: if the testing package calls a
	// sub-benchmark more than once, the cold ring goes on where it stopped
	// instead of replaying cookies the cache has just seen.
	pos := map[string]int{}
	for _, v := range variants(b) {
		b.Run(v.Name, func(b *testing.B) {
			cookies := v.Cookies
			if len(cookies) == 0 {
				cookies = []*http.Cookie{v.Cookie}
			}
			if v.Anonymous {
				cookies = []*http.Cookie{nil}
			}
			bases := make([]http.Request, len(cookies))
			for i, c := range cookies {
				bases[i] = *bench.NewRequest(c)
			}
			req := new(http.Request)
			w := bench.NewSink()
			want := http.StatusOK
			if v.Anonymous {
				want = v.AnonymousStatus
			}
			j := pos[v.Name]
			defer func() { pos[v.Name] = j }()
			// One untimed request first (a warm variant's cookie gets cached).
			*req = bases[j]
			if j++; j == len(bases) {
				j = 0
			}
			w.Reset()
			v.Handler.ServeHTTP(w, req)
			b.ReportAllocs()
			var cpu0 time.Duration
			n := 0
			for b.Loop() {
				if n == 0 {
					cpu0 = bench.CPUTime()
				}
				n++
				*req = bases[j]
				if j++; j == len(bases) {
					j = 0
				}
				w.Reset()
				v.Handler.ServeHTTP(w, req)
			}
			b.StopTimer()
			b.ReportMetric(float64(bench.CPUTime()-cpu0)/float64(n), "cpu-ns/op")
			cookieBytes := 0
			if !v.Anonymous {
				cookieBytes = bench.CookieBytes(v.Cookie)
			}
			b.ReportMetric(float64(cookieBytes), "cookie-B")
			if w.Code != want {
				b.Fatalf("last response: got %d, want %d", w.Code, want)
			}
		})
	}
}
