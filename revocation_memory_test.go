package authgate_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
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
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, s *authgate.MemoryRevocationStore, clock *clock)
	}{
		{"a revoked session is revoked and another session of the same user is not", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock) {
			s.RevokeSession(ctx, "sid-1", "alice", t0, c.Now().Add(time.Hour))
			if !revoked(t, s, "sid-1", "alice", t0) {
				t.Error("sid-1: got not revoked, want revoked")
			}
			if revoked(t, s, "sid-2", "alice", t0) {
				t.Error("sid-2: got revoked, want not revoked")
			}
		}},
		{"a revoked session is forgotten after its expiry", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock) {
			s.RevokeSession(ctx, "sid-1", "alice", t0, c.Now().Add(2*time.Hour))
			c.Advance(2 * time.Hour)
			s.RevokeSession(ctx, "sid-2", "alice", t0, c.Now().Add(2*time.Hour)) // writes prune
			if n, _ := s.Len(); n != 1 {
				t.Errorf("%d sessions held, want 1 (sid-1 expired)", n)
			}
		}},
		{"a revoked session is remembered MaxAge past its revocation even when the signing-out cookie expires sooner", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock) {
			// A thief's copy re-issued just before the sign-out expires
			// MaxAge (one hour here) after it.
			s.RevokeSession(ctx, "sid-1", "alice", t0, c.Now().Add(time.Minute))
			c.Advance(time.Hour - time.Second)
			s.RevokeSession(ctx, "sid-2", "alice", t0, c.Now().Add(time.Hour))
			if !revoked(t, s, "sid-1", "alice", t0) {
				t.Error("sid-1 an hour later: got not revoked, want revoked")
			}
			c.Advance(time.Minute)
			s.RevokeSession(ctx, "sid-3", "alice", t0, c.Now().Add(time.Hour))
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
		{"a user's mark is forgotten once every session it revokes is past MaxLifetime and the clock allowances", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock) {
			s.RevokeUser(ctx, "alice", c.Now())
			c.Advance(authgate.DefaultMaxLifetime + time.Minute - time.Second)
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
			s.RevokeSession(ctx, long+"1", "alice", t0, c.Now().Add(time.Hour))
			if !revoked(t, s, long+"1", "alice", t0) {
				t.Error("long id: got not revoked, want revoked")
			}
			if revoked(t, s, long+"2", "alice", t0) {
				t.Error("other long id: got revoked, want not revoked")
			}
		}},
		{"a session id and a subject with the same text do not mix", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock) {
			s.RevokeSession(ctx, "alice", "alice", t0, c.Now().Add(time.Hour))
			if revoked(t, s, "sid", "alice", t0) {
				t.Error("got revoked, want not revoked")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{now: t0}
			tt.run(t, authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{MaxAge: time.Hour, Now: c.Now, Logger: slog.New(slog.DiscardHandler)}), c)
		})
	}
}

func TestMemoryRevocationStoreFullNeverRevivesASession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &clock{now: t0}
	s := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{MaxSessions: 3, MaxUsers: 2, Now: c.Now, Logger: slog.New(slog.DiscardHandler)})

	// Four sessions, each signed out in the second it signed in, a second
	// apart; sid-0 expires first.
	for i := range 4 {
		s.RevokeSession(ctx, fmt.Sprintf("sid-%d", i), "alice", c.Now(), c.Now().Add(time.Duration(i+1)*time.Hour))
		c.Advance(time.Second)
	}
	if n, _ := s.Len(); n != 3 {
		t.Fatalf("%d sessions held, want 3", n)
	}
	for i := range 4 {
		// Each session signed in at t0+i.
		if !revoked(t, s, fmt.Sprintf("sid-%d", i), "alice", t0.Add(time.Duration(i)*time.Second)) {
			t.Errorf("sid-%d: got not revoked, want revoked", i)
		}
	}
	// The evicted sid-0 signed in at t0: later sign-ins are unaffected.
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

// TestMemoryRevocationStoreSignInOutFloodSignsOutOnlyTheAttacker is the
// attack: one account signs in and out through the HTTP API far more often
// than the exact table holds. Nobody else's session is refused, every
// earlier revocation still holds, and the attacker's own sessions signed
// in before its last sign-out are refused.
func TestMemoryRevocationStoreSignInOutFloodSignsOutOnlyTheAttacker(t *testing.T) {
	t.Parallel()
	var store *authgate.MemoryRevocationStore
	logs := &logBuffer{}
	a := newApp(t, func(c *authgate.Config[claims]) {
		store = authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{
			MaxSessions: 10, MaxSessionsPerSubject: 4, FilterCapacity: 20, MaxUsers: 10,
			Now: c.Now, MaxAge: c.MaxAge, Logger: logs.logger(),
		})
		c.Revocations = store
	})

	victim := a.client() // alice, signed in an hour before the attack
	if res := victim.signIn("alice", "alice-password"); res.StatusCode != 200 {
		t.Fatalf("alice signs in: %d %s", res.StatusCode, res.body)
	}
	// carol signs out, but a thief kept a copy of her cookie.
	carol := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "carol"})
	signOutWith(t, a, carol)
	a.clk.Advance(time.Hour)

	// bob keeps one session open on another device, then signs in and
	// out 200 times (20 times the exact table).
	bobsOther := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u2"})
	for range 200 {
		a.clk.Advance(time.Second)
		signOutWith(t, a, authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u2"}))
	}
	// At once, in the second of his last sign-out: dated a second past
	// the mark of his folded sessions.
	bobsNext := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u2"})

	if got := victim.get("/whoami").body; got != "u1 admin pro" {
		t.Errorf("alice after the flood: %q, want her session", got)
	}
	for _, tt := range []struct {
		name    string
		cookies []*http.Cookie
		wantErr error
	}{
		{"carol's signed-out copy stays refused", carol, authgate.ErrSessionRevoked},
		{"bob's session signed in before his sign-outs is refused", bobsOther, authgate.ErrSessionRevoked},
		{"bob's session signed in after them is valid", bobsNext, nil},
	} {
		if _, err := a.auth.Check(request("GET", "/", tt.cookies...)); (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
			t.Errorf("%s: Check = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	st := store.Stats()
	if !st.Cutoff.IsZero() || strings.Contains(logs.String(), "revocation_cutoff") {
		t.Errorf("the flood raised the store-wide cutoff to %v", st.Cutoff)
	}
	if st.Sessions > 4 || st.Users != 1 {
		t.Errorf("store holds %d exact sessions and %d marks, want at most 4 and bob's one mark", st.Sessions, st.Users)
	}
	if !strings.Contains(logs.String(), "event=revocation_fold") {
		t.Error("folding bob's revocations was not logged")
	}
}

// signOutWith posts /signout with the given session cookies, as the
// browser holding them would.
func signOutWith(t *testing.T, a *app, cookies []*http.Cookie) {
	t.Helper()
	c := a.client()
	u, _ := url.Parse(a.url)
	c.hc.Jar.SetCookies(u, cookies)
	if res := c.signOut(); res.StatusCode != 200 {
		t.Fatalf("sign-out: %d %s", res.StatusCode, res.body)
	}
}

func TestMemoryRevocationStoreDegradesStepByStep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock, logs *logBuffer)
	}{
		{"a subject's revocations beyond the limit fold into a mark at their latest sign-in time, which spares later sign-ins and other subjects", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock, logs *logBuffer) {
			signedIn := c.Now()
			c.Advance(time.Minute)
			// bob-1 was minted by an instance whose clock is 10 s ahead:
			// its sign-in time is after this store's clock.
			ahead := c.Now().Add(10 * time.Second).Truncate(time.Second)
			for i, auth := range []time.Time{signedIn, ahead, signedIn} {
				s.RevokeSession(ctx, fmt.Sprintf("bob-%d", i), "bob", auth, c.Now().Add(time.Hour))
			}
			if revoked(t, s, "bob-live", "bob", signedIn) {
				t.Fatal("three revocations (the limit): bob's other session refused")
			}
			c.Advance(time.Minute)
			s.RevokeSession(ctx, "bob-3", "bob", signedIn, c.Now().Add(time.Hour))
			for _, tc := range []struct {
				sid, sub string
				auth     time.Time
				want     bool
			}{
				{"bob-0", "bob", signedIn, true},
				{"bob-1", "bob", ahead, true},
				{"bob-3", "bob", signedIn, true},
				{"bob-live", "bob", signedIn, true},
				{"bob-between", "bob", ahead.Add(-time.Second), true},
				// Exactly the folded sessions' latest sign-in time: no
				// margin, so a session signed in after it is spared,
				// also one signed in before the fold.
				{"bob-later", "bob", ahead.Add(time.Second), false},
				{"bob-now", "bob", c.Now().Truncate(time.Second), false},
				{"bob-unknown", "bob", time.Time{}, true}, // no auth_time: every mark covers it
				{"alice-1", "alice", signedIn, false},
			} {
				if got := revoked(t, s, tc.sid, tc.sub, tc.auth); got != tc.want {
					t.Errorf("%s of %s: revoked = %v, want %v", tc.sid, tc.sub, got, tc.want)
				}
			}
			if st := s.Stats(); st.Sessions != 0 || st.Users != 1 {
				t.Errorf("%d exact entries and %d marks after the fold, want 0 and 1", st.Sessions, st.Users)
			}
			if !strings.Contains(logs.String(), "event=revocation_fold sub=bob sessions=4") {
				t.Errorf("fold not logged: %s", logs)
			}
		}},
		{"a session revoked without a sign-in time folds as signed in at its revocation, and the mark lasts as long as its entry would", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock, logs *logBuffer) {
			signedIn := c.Now().Add(-time.Hour)
			s.RevokeSession(ctx, "bob-unknown", "bob", time.Time{}, c.Now().Add(authgate.DefaultMaxLifetime))
			revokedAt := c.Now()
			c.Advance(time.Minute)
			for i := range 3 {
				s.RevokeSession(ctx, fmt.Sprintf("bob-%d", i), "bob", signedIn, c.Now().Add(time.Hour))
			}
			if st := s.Stats(); st.Sessions != 0 || st.Users != 1 {
				t.Fatalf("%d exact entries and %d marks, want the fold", st.Sessions, st.Users)
			}
			if !revoked(t, s, "bob-other", "bob", revokedAt) || revoked(t, s, "bob-other", "bob", revokedAt.Add(time.Nanosecond)) {
				t.Error("the mark is not at the revocation of the session without a sign-in time")
			}
			c.Advance(authgate.DefaultMaxLifetime - 2*time.Minute)
			s.RevokeSession(ctx, "x", "carol", c.Now(), c.Now().Add(time.Hour)) // writes prune
			if !revoked(t, s, "bob-unknown", "bob", time.Time{}) {
				t.Error("the session without a sign-in time revived before its entry would have expired")
			}
		}},
		{"a full exact table moves the revocation that expires first to the filter, without a cutoff", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock, logs *logBuffer) {
			for i := range 30 {
				s.RevokeSession(ctx, fmt.Sprintf("sid-%d", i), fmt.Sprintf("user-%d", i), t0, c.Now().Add(time.Duration(i+1)*time.Minute))
			}
			for i := range 30 {
				if !revoked(t, s, fmt.Sprintf("sid-%d", i), fmt.Sprintf("user-%d", i), t0) {
					t.Errorf("sid-%d: forgotten", i)
				}
			}
			if revoked(t, s, "sid-other", "user-0", t0) {
				t.Error("another session of user-0: refused")
			}
			if st := s.Stats(); st.Sessions != 10 || st.Filtered != 20 || !st.Cutoff.IsZero() {
				t.Errorf("stats %+v, want 10 exact, 20 filtered, no cutoff", st)
			}
		}},
		{"the store-wide cutoff is the last resort, at the replaced session's sign-in time, logged, and lifted after MaxLifetime", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock, logs *logBuffer) {
			before := c.Now()
			// The first twenty sessions sign out an hour after they
			// signed in; the next ones were minted by an instance whose
			// clock is 10 s ahead, and sign out at once.
			signedIn := func(i int) time.Time {
				if i >= 20 {
					return c.Now().Add(10 * time.Second)
				}
				return c.Now().Add(-time.Hour)
			}
			for i := range 31 {
				c.Advance(time.Second)
				s.RevokeSession(ctx, fmt.Sprintf("sid-%d", i), fmt.Sprintf("user-%d", i), signedIn(i), c.Now().Add(time.Hour))
			}
			// 10 exact + 20 filtered (sid-0..19): the 31st revocation
			// pushed sid-20 (signed in at before+31s) out of the exact
			// table, and the filter had no room.
			cutoff := before.Add(31 * time.Second)
			st := s.Stats()
			if !st.Cutoff.Equal(cutoff) {
				t.Fatalf("cutoff %v, want %v", st.Cutoff, cutoff)
			}
			if !revoked(t, s, "sid-20", "user-20", cutoff) || !revoked(t, s, "any", "anyone", before) {
				t.Error("sessions signed in by the cutoff: not refused")
			}
			if revoked(t, s, "any", "anyone", cutoff.Add(time.Second)) {
				t.Error("a session signed in after the cutoff: refused")
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "event=revocation_cutoff") {
				t.Errorf("cutoff not logged at ERROR: %s", logs)
			}
			// Further raises within a minute (each pushing out one of
			// sid-21..29, signed in later than the cutoff) are counted,
			// not logged, until the next line.
			for i := 31; i < 40; i++ {
				s.RevokeSession(ctx, fmt.Sprintf("sid-%d", i), fmt.Sprintf("user-%d", i), signedIn(i), c.Now().Add(time.Hour))
			}
			if n := strings.Count(logs.String(), "event=revocation_cutoff"); n != 1 {
				t.Errorf("%d cutoff lines within a minute, want 1", n)
			}
			c.Advance(time.Minute)
			s.RevokeSession(ctx, "sid-40", "user-40", c.Now().Add(time.Hour), c.Now().Add(time.Hour))
			if !strings.Contains(logs.String(), "raises=10") {
				t.Errorf("the next line does not count the 10 raises since the first: %s", logs)
			}
			// The cutoff is lifted MaxLifetime (and a minute of clock
			// allowances) after its time: every session it refuses has
			// expired.
			last := s.Stats().Cutoff
			c.Advance(last.Add(authgate.DefaultMaxLifetime + time.Minute - time.Second).Sub(c.Now()))
			s.RevokeSession(ctx, "late", "user-x", c.Now(), c.Now().Add(time.Hour)) // writes prune
			if s.Stats().Cutoff.IsZero() {
				t.Error("cutoff lifted before MaxLifetime and the clock allowances")
			}
			c.Advance(time.Second)
			s.RevokeSession(ctx, "later", "user-x", c.Now(), c.Now().Add(time.Hour))
			if !s.Stats().Cutoff.IsZero() {
				t.Error("cutoff still in force after MaxLifetime and the clock allowances")
			}
		}},
		{"revoking an empty session id stays exact and never reaches the filter's lookup", func(t *testing.T, s *authgate.MemoryRevocationStore, c *clock, logs *logBuffer) {
			for i := range 20 {
				s.RevokeSession(ctx, fmt.Sprintf("sid-%d", i), fmt.Sprintf("user-%d", i), c.Now(), c.Now().Add(time.Hour))
			}
			// Sign-in asks with an empty id whether the subject's mark
			// covers this second; the filter must not answer for "".
			if revoked(t, s, "", "newcomer", c.Now()) {
				t.Error("an empty session id of an unmarked subject: refused")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{now: t0}
			logs := &logBuffer{}
			s := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{
				MaxSessions: 10, MaxSessionsPerSubject: 3, FilterCapacity: 20, MaxUsers: 10,
				MaxAge: time.Hour, Now: c.Now, Logger: logs.logger(),
			})
			tt.run(t, s, c, logs)
		})
	}
}

func TestMemoryRevocationStoreRevokedDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: t0}
	s := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{MaxSessions: 10, FilterCapacity: 1000, Now: c.Now, Logger: slog.New(slog.DiscardHandler)})
	for i := range 100 { // 10 exact, 90 in the filter
		s.RevokeSession(ctx, fmt.Sprintf("%022d", i), fmt.Sprintf("user-%d", i), t0, c.Now().Add(time.Hour))
	}
	s.RevokeUser(ctx, "user-1", t0)
	if n := testing.AllocsPerRun(100, func() {
		s.Revoked(ctx, "AAAAAAAAAAAAAAAAAAAAAA", "user-1", t0.Add(time.Hour))
		s.Revoked(ctx, fmt.Sprintf("%022d", 0), "user-0", t0)
	}); n > 1 { // the Sprintf above
		t.Errorf("Revoked allocates: %v allocations per run", n)
	}
}

func TestMemoryRevocationStoreRepeatedRevocationsStayBounded(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: t0}
	s := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{Now: c.Now, Logger: slog.New(slog.DiscardHandler)})
	before := heapInUse()
	for i := range 100_000 {
		s.RevokeSession(ctx, "sid", "alice", t0, c.Now().Add(time.Duration(i)*time.Second+time.Hour))
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
	s := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{Now: c.Now, Logger: slog.New(slog.DiscardHandler)})
	for i := range 2 * n {
		sid := fmt.Sprintf("%022d", i) // as long as a real session id
		s.RevokeSession(ctx, sid, fmt.Sprintf("user-%d", i), t0, c.Now().Add(time.Hour+time.Duration(i)*time.Millisecond))
		s.RevokeUser(ctx, fmt.Sprintf("user-%d-%s", i, strings.Repeat("x", 100)), c.Now())
	}
	after := heapInUse()
	runtime.KeepAlive(s)
	sessions, users := s.Len()
	if sessions != n || users != n {
		t.Fatalf("store holds %d sessions and %d marks, want %d each", sessions, users, n)
	}
	// The sessions that did not fit moved to the filter, allocated whole.
	st := s.Stats()
	if st.Filtered != n || st.FilterBytes == 0 {
		t.Fatalf("filter holds %d ids in %d bytes, want %d", st.Filtered, st.FilterBytes, n)
	}
	exact := int64(after-before) - int64(st.FilterBytes)
	perEntry := float64(exact) / float64(2*n)
	t.Logf("default revocation store, full (2×%d exact entries + filter of %d ids): %.1f MB exact, %.0f bytes per entry, filter %.1f MB",
		n, n, float64(exact)/1e6, perEntry, float64(st.FilterBytes)/1e6)
	if perEntry > 300 {
		t.Errorf("%.0f bytes per entry; the documentation promises about 170", perEntry)
	}
}

func TestMemoryRevocationStoreConcurrentUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &clock{now: t0}
	s := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{MaxSessions: 100, Now: c.Now, Logger: slog.New(slog.DiscardHandler)})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				sid := fmt.Sprintf("g%d-%d", g, i)
				s.RevokeSession(ctx, sid, "alice", t0, c.Now().Add(time.Minute))
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
	s := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{Now: c.Now, Logger: slog.New(slog.DiscardHandler)})
	for i := range 10_000 {
		s.RevokeSession(ctx, fmt.Sprintf("%022d", i), fmt.Sprintf("user-%d", i), t0, t0.Add(time.Hour))
		s.RevokeUser(ctx, fmt.Sprintf("user-%d", i), t0)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Revoked(ctx, "AAAAAAAAAAAAAAAAAAAAAA", "user-42", t0.Add(time.Hour))
		}
	})
}

// FuzzMemoryRevocationStoreNeverRevives drives a tiny store (4 exact
// entries, 2 per subject, a filter of 6, 3 marks) through sign-outs,
// "sign out everywhere" and clock steps, and checks against an exact model
// that no revocation is ever lost before it expires, whichever tiers it
// went through (folding, the filter, the cutoff). Sign-in times are drawn
// from 50 minutes before the store's clock to 30 seconds after it (a
// session signed in while a mark covers its second is dated past it, a
// token's iat is accepted 15 s ahead, instances' clocks differ), and some
// sessions have none (a token without auth_time).
//
// It checks the converse too: a sign-in after every revocation of its
// subject, and after the store-wide cutoff, is refused by no mark, and
// the cutoff is never later than the latest sign-in time the store was
// told of. So folds and cutoffs are placed exactly, and authgate can date
// a new session past them (it asks with an empty session id, which no
// filter false positive can answer).
func FuzzMemoryRevocationStoreNeverRevives(f *testing.F) {
	f.Add([]byte{0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 3, 7, 2, 6})
	f.Add([]byte{1, 1, 1, 1, 5, 5, 5, 5, 9, 9, 9, 9, 255, 13, 17, 21})
	f.Add([]byte{2, 6, 10, 14, 0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60, 64, 68})
	f.Add([]byte{24, 48, 72, 96, 128, 152, 176, 200, 224, 252, 0, 4, 199, 2, 26, 50})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 500 {
			return
		}
		const maxAge, maxLifetime = time.Hour, 3 * time.Hour
		ctx := context.Background()
		c := &clock{now: t0}
		s := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{
			MaxSessions: 4, MaxSessionsPerSubject: 2, FilterCapacity: 6, MaxUsers: 3,
			MaxAge: maxAge, MaxLifetime: maxLifetime, Now: c.Now, Logger: slog.New(slog.DiscardHandler),
		})
		type session struct {
			sub      string
			authTime time.Time // zero: unknown
			until    time.Time // revoked until
		}
		live := func(ss *session) bool {
			if ss.authTime.IsZero() {
				return c.Now().Before(ss.until)
			}
			return c.Now().Before(ss.authTime.Add(maxLifetime))
		}
		sessions := map[string]*session{}
		marks := map[string]time.Time{}  // subject -> latest "signed in at or before"
		latest := map[string]time.Time{} // subject -> latest sign-in time told to the store
		var latestAll time.Time
		told := func(sub string, at time.Time) {
			if at.After(latest[sub]) {
				latest[sub] = at
			}
			if at.After(latestAll) {
				latestAll = at
			}
		}
		for _, op := range ops {
			arg := int(op >> 2)
			switch op & 3 {
			case 0, 1: // sign out session arg%24 of subject arg%5
				sid := fmt.Sprintf("sid-%d", arg%24)
				ss, ok := sessions[sid]
				if !ok || !live(ss) {
					// A new session, signed in up to 50 minutes ago, up
					// to 30 seconds ahead of the store's clock, or at a
					// time unknown.
					var authTime time.Time
					switch {
					case arg >= 32:
						authTime = c.Now().Truncate(time.Second).Add(time.Duration((arg-32)%31) * time.Second)
					case arg%7 < 6:
						authTime = c.Now().Truncate(time.Second).Add(-time.Duration(arg%7) * 10 * time.Minute)
					}
					ss = &session{sub: fmt.Sprintf("user-%d", arg%5), authTime: authTime}
					sessions[sid] = ss
				}
				// As authgate does: MaxAge, or the longest lifetime for
				// a session whose sign-in time is unknown.
				until, at := c.Now().Add(maxAge), ss.authTime
				if at.IsZero() {
					until, at = c.Now().Add(maxLifetime), c.Now()
				}
				s.RevokeSession(ctx, sid, ss.sub, ss.authTime, until)
				ss.until = until
				told(ss.sub, at)
			case 2: // sign subject arg%5 out everywhere
				sub := fmt.Sprintf("user-%d", arg%5)
				s.RevokeUser(ctx, sub, c.Now())
				marks[sub] = c.Now()
				told(sub, c.Now())
			case 3: // time passes: 1 to 48 minutes, or 1 to 16 seconds
				if arg < 48 {
					c.Advance(time.Duration(arg+1) * time.Minute)
				} else {
					c.Advance(time.Duration(arg-47) * time.Second)
				}
			}
			for sid, ss := range sessions {
				if !live(ss) {
					continue // past its lifetime: nothing to check
				}
				mark, marked := marks[ss.sub]
				want := c.Now().Before(ss.until) || (marked && !ss.authTime.IsZero() && !ss.authTime.After(mark))
				if want && !revoked(t, s, sid, ss.sub, ss.authTime) {
					t.Fatalf("at +%v: %s of %s (signed in at %v) revived; store %+v",
						c.Now().Sub(t0), sid, ss.sub, ss.authTime, s.Stats())
				}
			}
			st := s.Stats()
			if !st.Cutoff.IsZero() && st.Cutoff.After(latestAll) {
				t.Fatalf("at +%v: cutoff %v is after every sign-in time the store was told of (%v)", c.Now().Sub(t0), st.Cutoff, latestAll)
			}
			for i := range 5 {
				sub := fmt.Sprintf("user-%d", i)
				after := latest[sub]
				if !st.Cutoff.IsZero() && st.Cutoff.After(after) {
					after = st.Cutoff
				}
				if after.IsZero() {
					after = c.Now()
				}
				signIn := after.Truncate(time.Second).Add(time.Second)
				if revoked(t, s, "", sub, signIn) {
					t.Fatalf("at +%v: a sign-in of %s at %v, after all its revocations and the cutoff, is refused; store %+v",
						c.Now().Sub(t0), sub, signIn, st)
				}
			}
		}
	})
}
