package authgate_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
// stay revoked.
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
		s.a = newApp(t, func(c *authgate.Config[claims]) {
			opts.Now, opts.MaxAge, opts.Logger = c.Now, c.MaxAge, slog.New(slog.DiscardHandler)
			s.store = authgate.NewMemoryRevocationStore(opts)
			c.Revocations = s.store
		})
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
			a.clk.Advance(time.Hour)
			if _, err := a.auth.Check(request("GET", "/", x...)); !errors.Is(err, authgate.ErrSessionRevoked) {
				t.Fatalf("an hour later, Check: %v, want ErrSessionRevoked", err)
			}
		})
	}
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
