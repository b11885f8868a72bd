package authgate_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

func revoked(t *testing.T, s authgate.RevocationStore, sid, sub string, authTime time.Time) bool {
	t.Helper()
	r, err := s.Revoked(context.Background(), sid, sub, authTime)
	if err != nil {
		t.Fatalf("Revoked: %v", err)
	}
	return r
}

func TestMemoryRevocationStore(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, s *authgate.MemoryRevocationStore, clock *clock)
	}{
		{"a revoked session is revoked and another session of the same user is not", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock) {
			s.RevokeSession(ctx, "sid-1", "alice", c.Now().Add(time.Hour))
			if !revoked(t, s, "sid-1", "alice", t0) {
				t.Error("sid-1: got not revoked, want revoked")
			}
			if revoked(t, s, "sid-2", "alice", t0) {
				t.Error("sid-2: got revoked, want not revoked")
			}
		}},
		{"a revoked session is forgotten after its expiry", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock) {
			s.RevokeSession(ctx, "sid-1", "alice", c.Now().Add(2*time.Hour))
			c.Advance(2 * time.Hour)
			s.RevokeSession(ctx, "sid-2", "alice", c.Now().Add(2*time.Hour)) // writes prune
			if n, _ := s.Len(); n != 1 {
				t.Errorf("%d sessions held, want 1 (sid-1 expired)", n)
			}
		}},
		{"a revoked session is remembered MaxAge past its revocation even when the signing-out cookie expires sooner", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock) {
			// A thief's copy re-issued just before the sign-out expires
			// MaxAge (one hour here) after it.
			s.RevokeSession(ctx, "sid-1", "alice", c.Now().Add(time.Minute))
			c.Advance(time.Hour - time.Second)
			s.RevokeSession(ctx, "sid-2", "alice", c.Now().Add(time.Hour))
			if !revoked(t, s, "sid-1", "alice", t0) {
				t.Error("sid-1 an hour later: got not revoked, want revoked")
			}
			c.Advance(time.Minute)
			s.RevokeSession(ctx, "sid-3", "alice", c.Now().Add(time.Hour))
			if revoked(t, s, "sid-1", "alice", t0) {
				t.Error("sid-1 after MaxAge and the clock skew: got revoked, want forgotten")
			}
		}},
		{"sign out everywhere revokes sessions signed in before or in the same second, and spares later ones", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock) {
			mark := c.Now().Add(500 * time.Millisecond)
			s.RevokeUser(ctx, "alice", mark)
			for _, tc := range []struct {
				authTime time.Time
				want     bool
			}{
				{t0.Add(-time.Hour), true},
				{t0, true}, // auth_time has whole seconds: t0 may be t0.9
				{mark, true},
				{t0.Add(time.Second), false},
			} {
				if got := revoked(t, s, "sid", "alice", tc.authTime); got != tc.want {
					t.Errorf("auth time %v: revoked = %v, want %v", tc.authTime, got, tc.want)
				}
			}
			if revoked(t, s, "sid", "bob", t0.Add(-time.Hour)) {
				t.Error("bob: got revoked, want not revoked")
			}
		}},
		{"a later mark replaces an earlier one and an earlier one is ignored", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock) {
			s.RevokeUser(ctx, "alice", t0)
			s.RevokeUser(ctx, "alice", t0.Add(time.Minute))
			s.RevokeUser(ctx, "alice", t0.Add(-time.Minute))
			if !revoked(t, s, "sid", "alice", t0.Add(30*time.Second)) {
				t.Error("session between the two marks: got not revoked, want revoked")
			}
			if _, n := s.Len(); n != 1 {
				t.Errorf("%d marks held, want 1", n)
			}
		}},
		{"a user's mark is forgotten once every session it revokes is past MaxLifetime", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock) {
			s.RevokeUser(ctx, "alice", c.Now())
			c.Advance(authgate.DefaultMaxLifetime - time.Second)
			s.RevokeUser(ctx, "bob", c.Now())
			if _, n := s.Len(); n != 2 {
				t.Errorf("%d marks held before MaxLifetime, want 2", n)
			}
			c.Advance(time.Second)
			s.RevokeUser(ctx, "carol", c.Now())
			if _, n := s.Len(); n != 2 {
				t.Errorf("%d marks held after MaxLifetime, want 2 (alice's pruned)", n)
			}
		}},
		{"long ids are stored hashed and stay distinct", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock) {
			long := strings.Repeat("x", 10000)
			s.RevokeSession(ctx, long+"1", "alice", c.Now().Add(time.Hour))
			if !revoked(t, s, long+"1", "alice", t0) {
				t.Error("long id: got not revoked, want revoked")
			}
			if revoked(t, s, long+"2", "alice", t0) {
				t.Error("other long id: got revoked, want not revoked")
			}
		}},
		{"a session id and a subject with the same text do not mix", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock) {
			s.RevokeSession(ctx, "alice", "alice", c.Now().Add(time.Hour))
			if revoked(t, s, "sid", "alice", t0) {
				t.Error("got revoked, want not revoked")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{now: t0}
			tt.run(t, authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{MaxAge: time.Hour, Now: c.Now}), c)
		})
	}
}

func TestMemoryRevocationStoreFullNeverRevivesASession(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: t0}
	s := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{MaxSessions: 3, MaxUsers: 2, Now: c.Now})

	// Four sign-outs a second apart; sid-0 expires first.
	for i := range 4 {
		s.RevokeSession(ctx, fmt.Sprintf("sid-%d", i), "alice", c.Now().Add(time.Duration(i+1)*time.Hour))
		c.Advance(time.Second)
	}
	if n, _ := s.Len(); n != 3 {
		t.Fatalf("%d sessions held, want 3", n)
	}
	for i := range 4 {
		// Each session signed in before it signed out, at or before t0+i.
		if !revoked(t, s, fmt.Sprintf("sid-%d", i), "alice", t0.Add(time.Duration(i)*time.Second)) {
			t.Errorf("sid-%d: got not revoked, want revoked", i)
		}
	}
	// The evicted sid-0 was revoked at t0: later sign-ins are unaffected.
	if revoked(t, s, "sid-new", "alice", t0.Add(time.Second)) {
		t.Error("a session signed in after the evicted revocation: got revoked, want not revoked")
	}

	// The user table degrades the same way.
	s.RevokeUser(ctx, "u1", t0.Add(10*time.Second))
	s.RevokeUser(ctx, "u2", t0.Add(20*time.Second))
	s.RevokeUser(ctx, "u3", t0.Add(30*time.Second))
	if !revoked(t, s, "sid", "u1", t0.Add(5*time.Second)) {
		t.Error("evicted mark of u1: got not revoked, want revoked")
	}
	if revoked(t, s, "sid", "u1", t0.Add(11*time.Second)) {
		t.Error("u1 signed in after the mark: got revoked, want not revoked")
	}
}

func TestMemoryRevocationStoreRepeatedRevocationsStayBounded(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: t0}
	s := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{Now: c.Now})
	before := heapInUse()
	for i := range 100_000 {
		s.RevokeSession(ctx, "sid", "alice", c.Now().Add(time.Duration(i)*time.Second+time.Hour))
		s.RevokeUser(ctx, "alice", c.Now().Add(time.Duration(i)*time.Nanosecond))
	}
	if grown := int64(heapInUse()) - int64(before); grown > 1<<20 {
		t.Errorf("repeating one revocation 100000 times grew the heap by %d bytes", grown)
	}
	runtime.KeepAlive(s)
}

// TestMemoryRevocationStoreMemoryIsBounded fills a default store and
// measures the heap it holds: the figure documented for
// DefaultRevocationEntries.
func TestMemoryRevocationStoreMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("fills 2×100000 entries")
	}
	ctx := context.Background()
	c := &clock{now: t0}
	const n = authgate.DefaultRevocationEntries
	before := heapInUse()
	s := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{Now: c.Now})
	for i := range 2 * n {
		sid := fmt.Sprintf("%022d", i) // as long as a real session id
		s.RevokeSession(ctx, sid, "alice", c.Now().Add(time.Hour+time.Duration(i)*time.Millisecond))
		s.RevokeUser(ctx, fmt.Sprintf("user-%d-%s", i, strings.Repeat("x", 100)), c.Now())
	}
	after := heapInUse()
	runtime.KeepAlive(s)
	sessions, users := s.Len()
	if sessions != n || users != n {
		t.Fatalf("store holds %d sessions and %d marks, want %d each", sessions, users, n)
	}
	perEntry := float64(after-before) / float64(2*n)
	t.Logf("default revocation store, full (2×%d entries): %.1f MB, %.0f bytes per entry", n, float64(after-before)/1e6, perEntry)
	if perEntry > 300 {
		t.Errorf("%.0f bytes per entry; the documentation promises about 150", perEntry)
	}
}

func TestMemoryRevocationStoreConcurrentUse(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: t0}
	s := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{MaxSessions: 100, Now: c.Now})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				sid := fmt.Sprintf("g%d-%d", g, i)
				s.RevokeSession(ctx, sid, "alice", c.Now().Add(time.Minute))
				if !revoked(t, s, sid, "alice", t0) {
					t.Errorf("%s: got not revoked right after revoking it", sid)
					return
				}
				s.RevokeUser(ctx, fmt.Sprintf("u%d", i%10), t0)
				c.Advance(time.Millisecond)
			}
		})
	}
	wg.Wait()
}

func BenchmarkMemoryRevocationStoreRevoked(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	c := &clock{now: t0}
	s := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{Now: c.Now})
	for i := range 10_000 {
		s.RevokeSession(ctx, fmt.Sprintf("%022d", i), "alice", t0.Add(time.Hour))
		s.RevokeUser(ctx, fmt.Sprintf("user-%d", i), t0)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Revoked(ctx, "AAAAAAAAAAAAAAAAAAAAAA", "user-42", t0.Add(time.Hour))
		}
	})
}
