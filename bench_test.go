package authgate

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// benchSink is an allocation-free ResponseWriter reused across iterations.
type benchSink struct {
	header http.Header
	code   int
}

func (s *benchSink) Header() http.Header { return s.header }
func (s *benchSink) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
}
func (s *benchSink) Write(b []byte) (int, error) { s.WriteHeader(http.StatusOK); return len(b), nil }
func (s *benchSink) WriteString(str string) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(str), nil
}
func (s *benchSink) reset() { clear(s.header); s.code = 0 }

// benchAuth returns an Auth as an app configures it, the guarded handler
// that reads the role through Auth.FromContext, and n distinct valid session
// cookies (each one cookie; n = 0 mints none).
func benchAuth(tb testing.TB, n int) (http.Handler, []*http.Cookie) {
	tb.Helper()
	a, err := New(Config[struct{}]{
		Secrets:   []string{"bench-secret-0123456789abcdefghijklmnop"},
		URL:       "http://localhost:3000",
		Authorize: func(context.Context, *Credentials) (*User[struct{}], error) { return nil, nil },
		Hasher:    BcryptHasher{Cost: 4},
	})
	if err != nil {
		tb.Fatal(err)
	}
	final := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := a.FromContext(r.Context())
		if !ok || s.User.Role != "admin" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, s.User.Role)
	})
	cookies := make([]*http.Cookie, n)
	for i := range cookies {
		cs, err := a.NewSessionCookies(context.Background(), &User[struct{}]{
			ID: "u_" + strconv.Itoa(i), Name: "Alice Example", Email: "alice@example.com", Role: "admin",
		})
		if err != nil || len(cs) != 1 {
			tb.Fatalf("NewSessionCookies: %d cookies, %v", len(cs), err)
		}
		cookies[i] = cs[0]
	}
	return a.Middleware(final), cookies
}

// benchRequests returns one GET /api/me per cookie (nil: one without any).
func benchRequests(cookies []*http.Cookie) []http.Request {
	if len(cookies) == 0 {
		cookies = []*http.Cookie{nil}
	}
	out := make([]http.Request, len(cookies))
	for i, c := range cookies {
		r := httptest.NewRequest(http.MethodGet, "http://localhost:3000/api/me", nil)
		r.Header.Set("Accept", "application/json")
		if c != nil {
			r.AddCookie(c)
		}
		out[i] = *r
	}
	return out
}

// BenchmarkMiddleware times one request through Middleware and a final
// handler that reads the role:
//
//   - warm: the same cookie again (the cache hit, the common case);
//   - cold: a cookie never seen before, from a ring of 4 × cacheEntries
//     distinct sessions, so every request misses the cache (FIFO per shard)
//     and pays the full decode plus the insert;
//   - anonymous: no cookie at all, which must not allocate.
func BenchmarkMiddleware(b *testing.B) {
	run := func(b *testing.B, h http.Handler, reqs []http.Request, want int) {
		b.Helper()
		req := new(http.Request)
		w := &benchSink{header: make(http.Header, 4)}
		// One pass first: the cold ring evicts itself, the warm cookie is cached.
		for i := range reqs {
			*req = reqs[i]
			w.reset()
			h.ServeHTTP(w, req)
			if w.code != want {
				b.Fatalf("request %d: got %d, want %d", i, w.code, want)
			}
		}
		b.ReportAllocs()
		j := 0
		for b.Loop() {
			*req = reqs[j]
			if j++; j == len(reqs) {
				j = 0
			}
			w.reset()
			h.ServeHTTP(w, req)
		}
		if w.code != want {
			b.Fatalf("got %d, want %d", w.code, want)
		}
	}
	b.Run("warm", func(b *testing.B) {
		h, cookies := benchAuth(b, 1)
		run(b, h, benchRequests(cookies), http.StatusOK)
	})
	b.Run("cold", func(b *testing.B) {
		h, cookies := benchAuth(b, 4*cacheEntries)
		run(b, h, benchRequests(cookies), http.StatusOK)
	})
	b.Run("anonymous", func(b *testing.B) {
		h, _ := benchAuth(b, 0)
		run(b, h, benchRequests(nil), http.StatusUnauthorized)
	})
}

// TestAnonymousRequestDoesNotAllocate pins the 0 allocs/op of the
// anonymous benchmark in the ordinary test run.
func TestAnonymousRequestDoesNotAllocate(t *testing.T) {
	h, _ := benchAuth(t, 0)
	reqs := benchRequests(nil)
	req := new(http.Request)
	w := &benchSink{header: make(http.Header, 4)}
	allocs := testing.AllocsPerRun(100, func() {
		*req = reqs[0]
		w.reset()
		h.ServeHTTP(w, req)
	})
	if allocs != 0 {
		t.Errorf("anonymous request through Middleware: got %v allocs, want 0", allocs)
	}
}

// BenchmarkTokenCache prices the cache itself: a hit (lookup of a
// 500-byte value) and a first sight (miss, then put with FIFO eviction in a
// full cache).
func BenchmarkTokenCache(b *testing.B) {
	tok := &Token[struct{}]{Subject: "u_01JD6X4F9Q2W8Z", Name: "Alice Example", Email: "alice@example.com", Role: "admin"}
	keys := make([]string, 4*cacheEntries)
	for i := range keys {
		keys[i] = strconv.Itoa(i) + strings.Repeat("k", 500)
	}
	b.Run("hit", func(b *testing.B) {
		c := newTokenCache[struct{}]()
		c.putValue(keys[0], tok)
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := c.getValue(keys[0]); !ok {
				b.Fatal("miss")
			}
		}
	})
	b.Run("miss-and-put", func(b *testing.B) {
		c := newTokenCache[struct{}]()
		for _, k := range keys {
			c.putValue(k, tok) // full: every put below evicts
		}
		b.ReportAllocs()
		j := 0
		for b.Loop() {
			k := keys[j]
			if j++; j == len(keys) {
				j = 0
			}
			if ck, _ := c.key(k); !hit(c.get(ck)) {
				c.put(ck, tok)
			}
		}
	})
}
