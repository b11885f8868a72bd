package authgate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// These tests live inside the package so they can see that the cache is
// warm (a.cache.len) before they try to get something past it.

const (
	cacheTestURL = "https://app.example.com"
	cacheOldKey  = "cache-test-secret-old-0123456789abcdef"
	cacheNewKey  = "cache-test-secret-new-0123456789abcdef"
)

// cacheClock is an injectable clock safe for concurrent reads.
type cacheClock struct{ t atomic.Int64 }

func newCacheClock() *cacheClock {
	c := &cacheClock{}
	c.t.Store(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *cacheClock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *cacheClock) advance(d time.Duration) { c.t.Add(int64(d)) }

type cacheAuthOpts struct {
	secrets     []string
	url         string
	maxLifetime time.Duration
	callbacks   Callbacks[struct{}]
	codec       Codec
}

func newCacheAuth(t testing.TB, clock *cacheClock, revs RevocationStore, o cacheAuthOpts) *Auth[struct{}] {
	t.Helper()
	if o.secrets == nil {
		o.secrets = []string{cacheOldKey}
	}
	if o.url == "" {
		o.url = cacheTestURL
	}
	a, err := New(Config[struct{}]{
		Secrets:     o.secrets,
		URL:         o.url,
		Authorize:   func(context.Context, *Credentials) (*User[struct{}], error) { return nil, nil },
		Callbacks:   o.callbacks,
		Codec:       o.codec,
		MaxLifetime: o.maxLifetime,
		Hasher:      BcryptHasher{Cost: 4},
		Logger:      slog.New(slog.DiscardHandler),
		Revocations: revs,
		Now:         clock.now,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func mintCookie(t testing.TB, a *Auth[struct{}], id string) *http.Cookie {
	t.Helper()
	cs, err := a.NewSessionCookies(context.Background(), &User[struct{}]{ID: id, Name: "Alice", Email: "alice@example.com", Role: "admin"})
	if err != nil || len(cs) != 1 {
		t.Fatalf("NewSessionCookies: %d cookies, %v", len(cs), err)
	}
	return cs[0]
}

func checkCookie(a *Auth[struct{}], c *http.Cookie) (*Session[struct{}], error) {
	r := httptest.NewRequest(http.MethodGet, cacheTestURL+"/api/me", nil)
	if c != nil {
		r.AddCookie(c)
	}
	return a.Check(r)
}

// tamper changes one character in the middle of the cookie's value.
func tamper(c *http.Cookie) *http.Cookie {
	v := []byte(c.Value)
	i := len(v) / 2
	if v[i] == 'A' {
		v[i] = 'B'
	} else {
		v[i] = 'A'
	}
	return &http.Cookie{Name: c.Name, Value: string(v)}
}

// TestCacheNeverAcceptsWhatColdDecodeRejects warms the cache with a valid
// cookie, then changes one thing and checks that the warm Auth answers
// exactly as a cold one (a new Auth, empty cache, same clock and store)
// does: tampered, expired, future-dated, revoked and rotated-out cookies
// are refused with the cache warm.
func TestCacheNeverAcceptsWhatColdDecodeRejects(t *testing.T) {
	t.Parallel()
	type env struct {
		clock  *cacheClock
		revs   *MemoryRevocationStore
		opts   cacheAuthOpts
		warm   *Auth[struct{}]
		cookie *http.Cookie
		sess   *Session[struct{}]
	}
	tests := []struct {
		name string
		opts cacheAuthOpts
		// change returns the Auth to ask (nil: the warm one) and the cookie
		// to send, after changing the world.
		change func(t *testing.T, e *env) (*Auth[struct{}], *http.Cookie)
		want   error
	}{
		{"the same cookie again is accepted from the cache", cacheAuthOpts{},
			func(t *testing.T, e *env) (*Auth[struct{}], *http.Cookie) { return nil, e.cookie }, nil},
		{"a tampered copy of the cached cookie is refused", cacheAuthOpts{},
			func(t *testing.T, e *env) (*Auth[struct{}], *http.Cookie) { return nil, tamper(e.cookie) }, ErrInvalidSession},
		{"a truncated copy of the cached cookie is refused", cacheAuthOpts{},
			func(t *testing.T, e *env) (*Auth[struct{}], *http.Cookie) {
				return nil, &http.Cookie{Name: e.cookie.Name, Value: e.cookie.Value[:len(e.cookie.Value)-1]}
			}, ErrInvalidSession},
		{"the cached cookie past its idle timeout is refused", cacheAuthOpts{},
			func(t *testing.T, e *env) (*Auth[struct{}], *http.Cookie) {
				e.clock.advance(DefaultMaxAge + time.Second)
				return nil, e.cookie
			}, ErrSessionExpired},
		{"the cached cookie past its absolute lifetime is refused", cacheAuthOpts{maxLifetime: time.Hour},
			func(t *testing.T, e *env) (*Auth[struct{}], *http.Cookie) {
				e.clock.advance(time.Hour + time.Second)
				return nil, e.cookie
			}, ErrSessionExpired},
		{"the cached cookie is refused when the clock is moved before its issue time", cacheAuthOpts{},
			func(t *testing.T, e *env) (*Auth[struct{}], *http.Cookie) {
				e.clock.advance(-time.Minute)
				return nil, e.cookie
			}, ErrInvalidSession},
		{"the cached cookie is refused after its session is signed out", cacheAuthOpts{},
			func(t *testing.T, e *env) (*Auth[struct{}], *http.Cookie) {
				if err := e.revs.RevokeSession(context.Background(), e.sess.ID(), "u1", e.sess.AuthTime(), e.sess.Expires); err != nil {
					t.Fatal(err)
				}
				return nil, e.cookie
			}, ErrSessionRevoked},
		{"the cached cookie is refused after sign out everywhere", cacheAuthOpts{},
			func(t *testing.T, e *env) (*Auth[struct{}], *http.Cookie) {
				if err := e.warm.SignOutEverywhere(context.Background(), "u1"); err != nil {
					t.Fatal(err)
				}
				return nil, e.cookie
			}, ErrSessionRevoked},
		{"the cached cookie is refused once its key is rotated out", cacheAuthOpts{},
			func(t *testing.T, e *env) (*Auth[struct{}], *http.Cookie) {
				e.opts.secrets = []string{cacheNewKey}
				return newCacheAuth(t, e.clock, e.revs, e.opts), e.cookie
			}, ErrInvalidSession},
		{"the cached cookie is still accepted while its key stays in the rotation", cacheAuthOpts{},
			func(t *testing.T, e *env) (*Auth[struct{}], *http.Cookie) {
				e.opts.secrets = []string{cacheNewKey, cacheOldKey}
				return newCacheAuth(t, e.clock, e.revs, e.opts), e.cookie
			}, nil},
		{"the cached cookie is refused by another origin sharing the secret", cacheAuthOpts{},
			func(t *testing.T, e *env) (*Auth[struct{}], *http.Cookie) {
				e.opts.url = "https://other.example.com"
				return newCacheAuth(t, e.clock, e.revs, e.opts), e.cookie
			}, ErrInvalidSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &env{clock: newCacheClock(), opts: tt.opts}
			e.revs = NewMemoryRevocationStore(MemoryRevocationOptions{Now: e.clock.now})
			e.warm = newCacheAuth(t, e.clock, e.revs, e.opts)
			e.cookie = mintCookie(t, e.warm, "u1")
			// Warm: the first request decodes and stores, the second is a hit.
			for i := range 2 {
				s, err := checkCookie(e.warm, e.cookie)
				if err != nil {
					t.Fatalf("warming request %d: %v", i, err)
				}
				e.sess = s
			}
			if _, ok := e.warm.cache.getValue(e.cookie.Value); !ok || e.warm.cache.len() != 1 {
				t.Fatalf("cache not warm: %d entries", e.warm.cache.len())
			}

			ask, cookie := tt.change(t, e)
			if ask == nil {
				ask = e.warm
			}
			_, err := checkCookie(ask, cookie)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("warm: got %v, want %v", err, tt.want)
			}
			// The same request against a cold Auth (empty cache) agrees.
			cold := newCacheAuth(t, e.clock, e.revs, e.opts)
			_, coldErr := checkCookie(cold, cookie)
			if !errors.Is(coldErr, tt.want) || (tt.want == nil) != (coldErr == nil) {
				t.Errorf("cold: got %v, want %v", coldErr, tt.want)
			}
			// And asking again (now from the cache, if it was stored) too.
			if _, err := checkCookie(ask, cookie); (err == nil) != (tt.want == nil) {
				t.Errorf("second request: got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestCacheStoresOnlyVerifiedValues checks that refused cookies never enter
// the cache, so a flood of forged cookies cannot fill it.
func TestCacheStoresOnlyVerifiedValues(t *testing.T) {
	t.Parallel()
	clock := newCacheClock()
	a := newCacheAuth(t, clock, nil, cacheAuthOpts{})
	c := mintCookie(t, a, "u1")
	for i := range 100 {
		forged := &http.Cookie{Name: c.Name, Value: fmt.Sprintf("%s%d", c.Value[:len(c.Value)/2], i)}
		if _, err := checkCookie(a, forged); !errors.Is(err, ErrInvalidSession) {
			t.Fatalf("forged cookie %d: got %v, want ErrInvalidSession", i, err)
		}
	}
	if _, err := checkCookie(a, tamper(c)); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("tampered cookie: got %v, want ErrInvalidSession", err)
	}
	if n := a.cache.len(); n != 0 {
		t.Errorf("got %d cached entries after only refused cookies, want 0", n)
	}
}

// TestCacheRunsSessionCallbackOnEveryHit checks that a hit still runs the
// Session callback, and that a callback modifying the Token it is given
// does not change what the next request sees.
func TestCacheRunsSessionCallbackOnEveryHit(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	cb := Callbacks[struct{}]{
		Session: func(_ context.Context, p SessionParams[struct{}]) (*Session[struct{}], error) {
			n := calls.Add(1)
			if p.Token.Name != "Alice" {
				return nil, fmt.Errorf("call %d saw token name %q, want Alice", n, p.Token.Name)
			}
			p.Token.Name = "mutated by the callback"
			p.Token.Role = "root"
			p.Session.User.Name = fmt.Sprintf("Alice #%d", n)
			return p.Session, nil
		},
	}
	a := newCacheAuth(t, newCacheClock(), nil, cacheAuthOpts{callbacks: cb})
	c := mintCookie(t, a, "u1")
	for i := 1; i <= 3; i++ {
		s, err := checkCookie(a, c)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if want := fmt.Sprintf("Alice #%d", i); s.User.Name != want {
			t.Errorf("request %d: got name %q, want %q", i, s.User.Name, want)
		}
		if s.User.Role != "admin" {
			t.Errorf("request %d: got role %q, want admin", i, s.User.Role)
		}
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("Session callback ran %d times for 3 requests, want 3", got)
	}
	if a.cache.len() != 1 {
		t.Errorf("got %d cache entries, want 1", a.cache.len())
	}
}

// TestCacheIsOffWithACustomCodec checks that a custom Codec, which may
// change what it accepts over time, is consulted on every request.
func TestCacheIsOffWithACustomCodec(t *testing.T) {
	t.Parallel()
	def := newCacheAuth(t, newCacheClock(), nil, cacheAuthOpts{})
	a := newCacheAuth(t, newCacheClock(), nil, cacheAuthOpts{codec: def.codec})
	if a.cache != nil {
		t.Fatal("got a cache with a custom Codec, want none")
	}
	c := mintCookie(t, a, "u1")
	for range 2 {
		if _, err := checkCookie(a, c); err != nil {
			t.Fatalf("custom codec: %v", err)
		}
	}
}

// describedCodec is a custom codec that describes itself.
type describedCodec struct {
	Codec
	info CodecInfo
}

func (d describedCodec) CodecInfo() CodecInfo { return d.info }

// TestCacheIsOnWithAPureCustomCodec checks that a custom Codec reporting
// CodecInfo.Pure (as the nextauth codecs do) gets the cache, and that a
// hit then skips the codec.
func TestCacheIsOnWithAPureCustomCodec(t *testing.T) {
	t.Parallel()
	def := newCacheAuth(t, newCacheClock(), nil, cacheAuthOpts{})
	counting := &countingCodec{Codec: def.codec}
	a := newCacheAuth(t, newCacheClock(), nil, cacheAuthOpts{codec: describedCodec{Codec: counting, info: CodecInfo{Pure: true}}})
	if a.cache == nil {
		t.Fatal("no cache with a pure custom Codec")
	}
	c := mintCookie(t, a, "u1")
	for range 3 {
		if _, err := checkCookie(a, c); err != nil {
			t.Fatal(err)
		}
	}
	if n := counting.decodes.Load(); n != 1 {
		t.Errorf("the codec decoded %d times for 3 requests with one cookie, want 1", n)
	}
	if impure := newCacheAuth(t, newCacheClock(), nil, cacheAuthOpts{codec: describedCodec{Codec: counting, info: CodecInfo{Shared: true}}}); impure.cache != nil {
		t.Error("a cache with a custom Codec that is not Pure")
	}
}

// countingCodec counts Decode calls.
type countingCodec struct {
	Codec
	decodes atomic.Int32
}

func (c *countingCodec) Decode(name, value string, dst any) error {
	c.decodes.Add(1)
	return c.Codec.Decode(name, value, dst)
}

// TestCacheMemoryIsBounded fills the cache far past its capacity and checks
// the entry bound, the value-length limit, that a stored key never pins the
// request's Cookie header, and the heap held by a full cache of typical
// sessions.
func TestCacheMemoryIsBounded(t *testing.T) {
	tok := Token[struct{}]{Subject: "u_01JD6X4F9Q2W8Z", Name: "Alice Example", Email: "alice@example.com",
		Role: "admin", ID: "AAAAAAAAAAAAAAAAAAAAAA", IssuedAt: 1, ExpiresAt: 2, AuthTime: 1, Audience: cacheTestURL}
	value := func(i int) string { return fmt.Sprintf("%0500d", i) } // a typical 500-byte cookie value

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := newTokenCache[struct{}]()
	for i := range 3 * cacheEntries {
		c.putValue(value(i), &tok)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := c.len(); n > cacheEntries || n < cacheEntries*9/10 {
		t.Errorf("after %d puts: got %d entries, want about %d and at most that", 3*cacheEntries, n, cacheEntries)
	}
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("a full cache of %d 500-byte sessions holds %.1f MiB", c.len(), float64(held)/(1<<20))
	if held > 8<<20 {
		t.Errorf("a full cache of typical sessions holds %d bytes, want under 8 MiB", held)
	}
	// The most recent entries are there, the oldest were evicted.
	if _, ok := c.getValue(value(3*cacheEntries - 1)); !ok {
		t.Error("the newest entry is missing")
	}
	// Each set evicts its oldest first, so after three times the capacity
	// only a set that few of the later values fell into keeps an early one.
	survivors := 0
	for i := range cacheEntries {
		if _, ok := c.getValue(value(i)); ok {
			survivors++
		}
	}
	if survivors > cacheEntries/10 { // about 3 % expected
		t.Errorf("%d of the first %d entries survived three times the capacity, want almost none", survivors, cacheEntries)
	}
	runtime.KeepAlive(c)

	long := strings.Repeat("x", maxCachedValue+1)
	c.putValue(long, &tok)
	if _, ok := c.getValue(long); ok {
		t.Errorf("a %d-byte value was cached, want values over %d bytes never stored", len(long), maxCachedValue)
	}

	// An entry holds the value's 16-byte tag, never the value: nothing of
	// the request's Cookie header is kept.
	if k, _ := c.key(value(7)); k == (cacheKey{}) {
		t.Error("a value's tag is all zero")
	}
}

// TestCacheConcurrentUse runs requests, evictions and revocations at once;
// run it with -race.
func TestCacheConcurrentUse(t *testing.T) {
	t.Parallel()
	clock := newCacheClock()
	revs := NewMemoryRevocationStore(MemoryRevocationOptions{Now: clock.now})
	a := newCacheAuth(t, clock, revs, cacheAuthOpts{})
	cookies := make([]*http.Cookie, 20)
	for i := range cookies {
		cookies[i] = mintCookie(t, a, fmt.Sprintf("u%d", i))
	}
	if err := a.SignOutEverywhere(context.Background(), "u0"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				c := cookies[(g+i)%len(cookies)]
				_, err := checkCookie(a, c)
				if revoked := c == cookies[0]; revoked != errors.Is(err, ErrSessionRevoked) || (!revoked && err != nil) {
					t.Errorf("goroutine %d, request %d: got %v", g, i, err)
					return
				}
			}
		})
	}
	// Meanwhile a small cache is churned by concurrent puts and gets.
	tok := Token[struct{}]{Subject: "s"}
	for g := range 4 {
		wg.Go(func() {
			for i := range 2 * cacheEntries {
				k := fmt.Sprintf("%d-%d", g, i%(cacheEntries+7))
				a.cache.putValue(k, &tok)
				if got, ok := a.cache.getValue(k); ok && got.Subject != "s" {
					t.Errorf("got subject %q", got.Subject)
				}
			}
		})
	}
	wg.Wait()
	if n := a.cache.len(); n > cacheEntries {
		t.Errorf("got %d entries, want at most %d", n, cacheEntries)
	}
}

// putValue and getValue are put and get by cookie value, for tests.
func (c *tokenCache[T]) putValue(value string, tok *Token[T]) {
	if k, ok := c.key(value); ok {
		c.put(k, tok)
	}
}

func (c *tokenCache[T]) getValue(value string) (*Token[T], bool) {
	k, ok := c.key(value)
	if !ok {
		return nil, false
	}
	return c.get(k)
}

// hit reports get's second result.
func hit[T any](_ *Token[T], ok bool) bool { return ok }
