package authgate_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

// TestRevokedSessionsSignedInAheadStayRevoked covers sessions whose
// sign-in time is after the store's clock when they are signed out: one
// signed in during the second of a "sign out everywhere" (dated a second
// later), and one minted by an instance whose clock is ahead (its iat is
// accepted up to 15 s ahead). When the store replaces their exact entries
// by a coarser one (a subject's fold, the store-wide cutoff), they must
// stay revoked, and a session signed in afterwards must not be.
func TestRevokedSessionsSignedInAheadStayRevoked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type setup struct {
		a     *app                   // the instance that signs out and checks
		ahead *authgate.Auth[claims] // the same site on a clock 10 s ahead
		store *authgate.MemoryRevocationStore
	}
	build := func(t *testing.T, opts authgate.MemoryRevocationOptions) setup {
		var s setup
		s.a, s.store = newAppWithStore(t, opts, nil)
		cfg := newConfig(appURL, s.a.clk)
		cfg.Now = func() time.Time { return s.a.clk.Now().Add(10 * time.Second) }
		cfg.Revocations = s.store
		ahead, err := authgate.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.ahead = ahead
		return s
	}
	signOut := func(t *testing.T, a *app, cookies []*http.Cookie) {
		t.Helper()
		if err := a.auth.SignOut(httptest.NewRecorder(), request("POST", "/", cookies...)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		run  func(t *testing.T) (*app, []*http.Cookie)
	}{
		{"A session signed in during the second of a sign-out-everywhere, signed out, then folded", func(t *testing.T) (*app, []*http.Cookie) {
			s := build(t, authgate.MemoryRevocationOptions{MaxSessionsPerSubject: 2})
			s.a.clk.Advance(200 * time.Millisecond)
			if err := s.a.auth.SignOutEverywhere(ctx, "u1"); err != nil {
				t.Fatal(err)
			}
			s.a.clk.Advance(100 * time.Millisecond)
			x := authgatetest.Cookies(t, s.a.auth, authgate.User[claims]{ID: "u1"}) // dated a second later
			signOut(t, s.a, x)
			for range 2 { // the third sign-out of u1 folds its entries
				signOut(t, s.a, authgatetest.Cookies(t, s.a.auth, authgate.User[claims]{ID: "u1"}))
			}
			if st := s.store.Stats(); st.Sessions != 0 {
				t.Fatalf("%d exact entries left, want the fold", st.Sessions)
			}
			return s.a, x
		}},
		{"A session minted by an instance 10 s ahead, signed out, then folded", func(t *testing.T) (*app, []*http.Cookie) {
			s := build(t, authgate.MemoryRevocationOptions{MaxSessionsPerSubject: 2})
			x := authgatetest.Cookies(t, s.ahead, authgate.User[claims]{ID: "u1"})
			signOut(t, s.a, x)
			for range 2 {
				signOut(t, s.a, authgatetest.Cookies(t, s.a.auth, authgate.User[claims]{ID: "u1"}))
			}
			return s.a, x
		}},
		{"A session minted by an instance 10 s ahead, signed out, then replaced by the store-wide cutoff", func(t *testing.T) (*app, []*http.Cookie) {
			s := build(t, authgate.MemoryRevocationOptions{MaxSessions: 1, FilterCapacity: 1})
			// Two sign-outs fill the exact table and the filter.
			for i := range 2 {
				signOut(t, s.a, authgatetest.Cookies(t, s.a.auth, authgate.User[claims]{ID: fmt.Sprintf("other-%d", i)}))
			}
			x := authgatetest.Cookies(t, s.ahead, authgate.User[claims]{ID: "u1"})
			signOut(t, s.a, x)
			// One more pushes x's entry out: nowhere left but the cutoff.
			signOut(t, s.a, authgatetest.Cookies(t, s.a.auth, authgate.User[claims]{ID: "u2"}))
			if st := s.store.Stats(); st.Cutoff.IsZero() || st.Sessions != 1 || st.Filtered != 1 {
				t.Fatalf("store %+v, want one exact entry, one filtered and a cutoff", st)
			}
			return s.a, x
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, x := tt.run(t)
			if _, err := a.auth.Check(request("GET", "/", x...)); !errors.Is(err, authgate.ErrSessionRevoked) {
				t.Fatalf("Check: %v, want ErrSessionRevoked", err)
			}
			// The mark or cutoff is exactly at x's sign-in time, ahead of
			// this instance's clock: a sign-in here now is dated past it
			// and works.
			if _, err := a.auth.Check(request("GET", "/", authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1"})...)); err != nil {
				t.Fatalf("a session signed in now: Check = %v, want it valid", err)
			}
			a.clk.Advance(time.Hour)
			if _, err := a.auth.Check(request("GET", "/", x...)); !errors.Is(err, authgate.ErrSessionRevoked) {
				t.Fatalf("an hour later, Check: %v, want ErrSessionRevoked", err)
			}
		})
	}
}

// TestASignInAfterAFoldOrCutoffWorksAtOnce: a fold's mark and the
// store-wide cutoff are placed at the latest sign-in time they replace, and
// a new session is dated past any mark or cutoff covering its second. So a
// user past the fold threshold who signs out and signs in again at once,
// or anyone signing in right after the cutoff was raised, gets a session
// that works on the next request; the signed-out copies stay refused.
// (With marks placed 30 s after the revocation, such a sign-in answered
// 200 with a cookie that was revoked already.)
func TestASignInAfterAFoldOrCutoffWorksAtOnce(t *testing.T) {
	t.Parallel()
	type env struct {
		a     *app
		store *authgate.MemoryRevocationStore
	}
	build := func(t *testing.T, opts authgate.MemoryRevocationOptions) env {
		var e env
		e.a, e.store = newAppWithStore(t, opts, nil)
		return e
	}
	// cycle signs c in as user, checks the next request, and signs out,
	// returning the signed-out cookies.
	cycle := func(t *testing.T, c *client, user, want string) []*http.Cookie {
		t.Helper()
		if res := c.signIn(user, user+"-password"); res.StatusCode != http.StatusOK || !signedIn(res.Response) {
			t.Fatalf("%s signs in: %d %s", user, res.StatusCode, res.body)
		}
		if got := c.get("/whoami").body; got != want {
			t.Fatalf("%s's next request: %q, want %q", user, got, want)
		}
		old := c.cookies()
		if res := c.signOut(); res.StatusCode != http.StatusOK {
			t.Fatalf("%s signs out: %d %s", user, res.StatusCode, res.body)
		}
		return old
	}
	refused := func(t *testing.T, a *app, cookies []*http.Cookie) {
		t.Helper()
		if _, err := a.auth.Check(request("GET", "/", cookies...)); !errors.Is(err, authgate.ErrSessionRevoked) {
			t.Errorf("a signed-out copy: Check = %v, want ErrSessionRevoked", err)
		}
	}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"A user past the fold threshold signs out and signs in again at once, in the same second, fold after fold", func(t *testing.T) {
			e := build(t, authgate.MemoryRevocationOptions{MaxSessionsPerSubject: 2})
			c := e.a.client()
			var copies [][]*http.Cookie
			for range 12 { // four folds, the clock standing still
				copies = append(copies, cycle(t, c, "alice", "u1 admin pro"))
				if st := e.store.Stats(); !st.Cutoff.IsZero() {
					t.Fatalf("cutoff raised: %+v", st)
				}
			}
			if st := e.store.Stats(); st.Users != 1 || st.Sessions != 0 {
				t.Fatalf("store %+v, want alice's sessions folded into her mark", st)
			}
			cycle(t, c, "alice", "u1 admin pro")
			for _, old := range copies {
				refused(t, e.a, old)
			}
			if got := e.a.client().signIn("bob", "bob-password"); !signedIn(got.Response) {
				t.Error("another user cannot sign in")
			}
		}},
		{"A user past the fold threshold signs out and signs in again at once, as the clock moves", func(t *testing.T) {
			e := build(t, authgate.MemoryRevocationOptions{MaxSessionsPerSubject: 2})
			c := e.a.client()
			var copies [][]*http.Cookie
			for range 20 {
				copies = append(copies, cycle(t, c, "alice", "u1 admin pro"))
				e.a.clk.Advance(400 * time.Millisecond)
			}
			for _, old := range copies {
				refused(t, e.a, old)
			}
		}},
		{"After the store-wide cutoff, users sign in at once", func(t *testing.T) {
			// One exact entry and one filter slot: the third sign-out
			// replaces the second by the cutoff.
			e := build(t, authgate.MemoryRevocationOptions{MaxSessions: 1, FilterCapacity: 1})
			var copies [][]*http.Cookie
			for _, u := range []struct{ name, want string }{{"alice", "u1 admin pro"}, {"bob", "u2 user free"}, {"long", "u4  "}} {
				pw := u.name + "-password"
				if u.name == "long" {
					pw = password72
				}
				c := e.a.client()
				if res := c.signIn(u.name, pw); !signedIn(res.Response) {
					t.Fatalf("%s signs in: %d %s", u.name, res.StatusCode, res.body)
				}
				copies = append(copies, c.cookies())
				c.signOut()
			}
			if st := e.store.Stats(); !st.Cutoff.Equal(e.a.clk.Now().Truncate(time.Second)) {
				t.Fatalf("store %+v, want a cutoff at the sign-in time of bob's session (now)", st)
			}
			for _, old := range copies {
				refused(t, e.a, old)
			}
			cycle(t, e.a.client(), "alice", "u1 admin pro")
			cycle(t, e.a.client(), "bob", "u2 user free")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}

// TestASignInThatWouldBeBornRevokedIsRefused: when a mark covers every
// sign-in time authgate may give a new session (up to 15 s ahead of its
// clock: a token's iat is not accepted further ahead), the sign-in is
// refused with 503 Busy and Retry-After on every path, instead of a cookie
// that is revoked already. A mark within those 15 s only dates the session
// past it.
func TestASignInThatWouldBeBornRevokedIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	build := func(t *testing.T, markAhead time.Duration) (*app, *authgate.MemoryRevocationStore) {
		a, store := newAppWithStore(t, authgate.MemoryRevocationOptions{}, func(c *authgate.Config[claims]) {
			c.Providers = []authgate.OAuthProvider{newFake("fake")}
		})
		// A mark set by an instance whose clock is ahead (or by hand).
		for _, sub := range []string{"u1", "fake:42"} {
			if err := store.RevokeUser(ctx, sub, a.clk.Now().Add(markAhead)); err != nil {
				t.Fatal(err)
			}
		}
		return a, store
	}
	busy := func(t *testing.T, res response) {
		t.Helper()
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || signedIn(res.Response) {
			t.Errorf("got %d, Retry-After %q, session set %v; want 503 with Retry-After and no session",
				res.StatusCode, res.Header.Get("Retry-After"), signedIn(res.Response))
		}
	}
	tests := []struct {
		name      string
		markAhead time.Duration
		run       func(t *testing.T, a *app)
	}{
		{"Credentials, a mark 16 s ahead: 503 Busy", 16 * time.Second, func(t *testing.T, a *app) {
			c := a.client()
			res := c.signIn("alice", "alice-password")
			busy(t, res)
			if !strings.Contains(res.body, "error=Busy") {
				t.Errorf("body %s, want the Busy error URL", res.body)
			}
			if got := c.get("/whoami").body; got != "anonymous" {
				t.Errorf("next request: %q", got)
			}
			// Two seconds later the mark is within reach: the session is
			// dated past it and works.
			a.clk.Advance(2 * time.Second)
			if res := c.signIn("alice", "alice-password"); !signedIn(res.Response) {
				t.Fatalf("two seconds later: %d %s", res.StatusCode, res.body)
			}
			if got := c.get("/whoami").body; got != "u1 admin pro" {
				t.Errorf("two seconds later, the next request: %q", got)
			}
		}},
		{"OAuth, a mark 16 s ahead: 503 Busy", 16 * time.Second, func(t *testing.T, a *app) {
			c := a.client()
			busy(t, c.oauthSignIn("fake", url.Values{"callbackUrl": {"/whoami"}}))
			if got := c.get("/whoami").body; got != "anonymous" {
				t.Errorf("next request: %q", got)
			}
		}},
		{"Auth.SignIn, a mark 16 s ahead: ErrStore, no cookie", 16 * time.Second, func(t *testing.T, a *app) {
			w := httptest.NewRecorder()
			err := a.auth.SignIn(w, request("POST", "/"), &authgate.User[claims]{ID: "u1"})
			if !errors.Is(err, authgate.ErrStore) || len(w.Result().Cookies()) != 0 {
				t.Errorf("SignIn: %v, cookies %v; want ErrStore and none", err, w.Result().Cookies())
			}
		}},
		{"Credentials, a mark 10 s ahead: signed in, dated past the mark", 10 * time.Second, func(t *testing.T, a *app) {
			c := a.client()
			if res := c.signIn("alice", "alice-password"); !signedIn(res.Response) {
				t.Fatalf("sign-in: %d %s", res.StatusCode, res.body)
			}
			s, err := a.auth.Check(request("GET", "/", c.cookies()...))
			if err != nil || s.AuthTime().Unix() != a.clk.Now().Unix()+11 {
				t.Fatalf("Check: %v, %v; want a session signed in 11 s ahead", s, err)
			}
			a.clk.Advance(time.Hour)
			if got := c.get("/whoami").body; got != "u1 admin pro" {
				t.Errorf("an hour later: %q", got)
			}
		}},
		{"OAuth, a mark 10 s ahead: signed in", 10 * time.Second, func(t *testing.T, a *app) {
			c := a.client()
			if res := c.oauthSignIn("fake", url.Values{"callbackUrl": {"/whoami"}}); res.StatusCode != http.StatusFound {
				t.Fatalf("callback: %d %s", res.StatusCode, res.body)
			}
			if got := c.get("/whoami").body; !strings.HasPrefix(got, "fake:42") {
				t.Errorf("next request: %q", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _ := build(t, tt.markAhead)
			tt.run(t, a)
		})
	}
	t.Run("A user who walks their own mark ahead, folding in the same second, is refused, not given a dead cookie", func(t *testing.T) {
		t.Parallel()
		a, _ := newAppWithStore(t, authgate.MemoryRevocationOptions{MaxSessionsPerSubject: 1}, nil)
		// Each fold's mark is at the latest folded session's sign-in
		// time, which was dated a second past the previous mark: with the
		// clock standing still, the mark moves a second every two
		// sign-outs.
		c := a.client()
		for i := 0; ; i++ {
			res := c.signIn("alice", "alice-password")
			if res.StatusCode == http.StatusServiceUnavailable {
				if i < 30 {
					t.Fatalf("refused after %d sign-ins, want the mark 15 s ahead first", i)
				}
				if c.get("/whoami").body != "anonymous" || signedIn(res.Response) {
					t.Fatal("a refused sign-in set a session")
				}
				return
			}
			if !signedIn(res.Response) || c.get("/whoami").body != "u1 admin pro" {
				t.Fatalf("sign-in %d: %d %s; the session does not work", i, res.StatusCode, res.body)
			}
			if i > 40 {
				t.Fatal("never refused")
			}
			c.signOut()
		}
	})
}

// newAppWithStore builds the test app over a memory revocation store
// configured by opts (the app's clock and MaxAge, a silent logger), then
// applies edit, if any.
func newAppWithStore(t *testing.T, opts authgate.MemoryRevocationOptions, edit func(*authgate.Config[claims])) (*app, *authgate.MemoryRevocationStore) {
	t.Helper()
	var store *authgate.MemoryRevocationStore
	a := newApp(t, func(c *authgate.Config[claims]) {
		opts.Now, opts.MaxAge, opts.Logger = c.Now, c.MaxAge, slog.New(slog.DiscardHandler)
		store = authgate.NewMemoryRevocationStore(opts)
		c.Revocations = store
		if edit != nil {
			edit(c)
		}
	})
	return a, store
}

// TestNewRefusesARevocationStoreWithAShortHorizon: a store that forgets
// revocations before sessions expire would accept signed-out sessions
// again.
func TestNewRefusesARevocationStoreWithAShortHorizon(t *testing.T) {
	t.Parallel()
	const lifetime = 180 * 24 * time.Hour
	tests := []struct {
		name    string
		store   authgate.RevocationStore
		wantErr bool
	}{
		{"A memory store with the default MaxLifetime (90 days) under a 180-day MaxLifetime is refused", authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{}), true},
		{"A store wrapping one with a short horizon is refused", failingStore{authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{MaxLifetime: 24 * time.Hour}), false}, true},
		{"A memory store given the same MaxLifetime is accepted", authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{MaxLifetime: lifetime}), false},
		{"A memory store with a longer MaxLifetime is accepted", authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{MaxLifetime: 2 * lifetime}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newConfig(appURL, newClock())
			cfg.MaxLifetime, cfg.Revocations = lifetime, tt.store
			_, err := authgate.New(cfg)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if !errors.Is(err, authgate.ErrConfig) || !strings.Contains(err.Error(), "MaxLifetime") {
				t.Fatalf("New: %v, want ErrConfig naming MaxLifetime", err)
			}
		})
	}
	t.Run("The default store is given the Config's MaxLifetime", func(t *testing.T) {
		cfg := newConfig(appURL, newClock())
		cfg.MaxLifetime = lifetime
		if _, err := authgate.New(cfg); err != nil {
			t.Fatalf("New: %v", err)
		}
	})
}

func TestMemoryRevocationStoreHorizonIsItsMaxLifetime(t *testing.T) {
	t.Parallel()
	if h := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{}).Horizon(); h != authgate.DefaultMaxLifetime {
		t.Errorf("default Horizon %v, want DefaultMaxLifetime", h)
	}
	if h := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{MaxLifetime: time.Hour}).Horizon(); h != time.Hour {
		t.Errorf("Horizon %v, want the MaxLifetime given", h)
	}
}
