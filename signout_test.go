package authgate_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

// Tests of sign-out and revocation: POST /signout, Auth.SignOut and
// Auth.SignOutEverywhere, through the RevocationStore.

func TestRevocation(t *testing.T) {
	t.Parallel()
	t.Run("A cookie replayed after sign-out is anonymous", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, nil)
		c := a.client()
		if res := c.signIn("alice", "alice-password"); res.StatusCode != 200 {
			t.Fatalf("sign-in: got %d, want 200", res.StatusCode)
		}
		captured := c.cookie(sessionCookie)
		if captured == "" {
			t.Fatal("no session cookie after sign-in")
		}
		if res := c.signOut(); res.StatusCode != 200 {
			t.Fatalf("sign-out: got %d %q, want 200", res.StatusCode, res.body)
		}
		thief := a.client()
		thief.setCookie(sessionCookie, captured)
		if res := thief.get("/whoami"); res.body != "anonymous" {
			t.Errorf("GET /whoami with the replayed cookie: got %q, want anonymous", res.body)
		}
		if res := thief.get("/api/auth/session"); strings.TrimSpace(res.body) != "{}" {
			t.Errorf("GET /session with the replayed cookie: got %q, want {}", res.body)
		}
		if res := thief.get("/private"); res.StatusCode != 401 {
			t.Errorf("GET /private with the replayed cookie: got %d, want 401", res.StatusCode)
		}
		if s, err := a.auth.Check(request("GET", "/", &http.Cookie{Name: sessionCookie, Value: captured})); s != nil || !errors.Is(err, authgate.ErrSessionRevoked) {
			t.Errorf("Check: got %v, %v; want nil and ErrSessionRevoked", s, err)
		}
	})

	t.Run("Sign out everywhere kills older sessions and spares newer ones and other users", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, nil)
		laptop, phone, bob := a.client(), a.client(), a.client()
		laptop.signIn("alice", "alice-password")
		bob.signIn("bob", "bob-password")
		a.clk.Advance(time.Minute)
		if err := a.auth.SignOutEverywhere(context.Background(), "u1"); err != nil {
			t.Fatal(err)
		}
		a.clk.Advance(time.Second)
		phone.signIn("alice", "alice-password")
		for _, tc := range []struct {
			name string
			c    *client
			want string
		}{
			{"Alice's older session", laptop, "anonymous"},
			{"Alice's newer session", phone, "u1 admin pro"},
			{"Bob's session", bob, "u2 user free"},
		} {
			if res := tc.c.get("/whoami"); res.body != tc.want {
				t.Errorf("%s: got %q, want %q", tc.name, res.body, tc.want)
			}
		}
	})

	t.Run("A thief's copy re-issued after the victim's last visit stays revoked after the victim's cookie expires", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, func(cfg *authgate.Config[claims]) {
			cfg.MaxAge = 30 * time.Minute
			cfg.UpdateAge = 5 * time.Minute
		})
		victim := a.client()
		victim.signIn("alice", "alice-password") // victim's cookie: exp 30m
		thief := a.client()
		thief.setCookie(sessionCookie, victim.cookie(sessionCookie))
		a.clk.Advance(6 * time.Minute)
		if res := thief.get("/whoami"); res.body != "u1 admin pro" { // re-issued: exp 36m
			t.Fatalf("thief before sign-out: got %q, want signed in", res.body)
		}
		stolen := thief.cookie(sessionCookie)
		a.clk.Advance(time.Minute)
		victim.signOut()
		for _, at := range []time.Duration{8 * time.Minute, 31 * time.Minute, 35 * time.Minute} {
			a.clk.Advance(clockStart.Add(at).Sub(a.clk.Now()))
			// Revocation writes prune expired entries: make one.
			a.auth.SignOutEverywhere(context.Background(), "someone-else")
			thief.setCookie(sessionCookie, stolen)
			if res := thief.get("/whoami"); res.body != "anonymous" {
				t.Errorf("thief %v after sign-in: got %q, want anonymous", at, res.body)
			}
		}
	})

	t.Run("Re-issued cookies of a revoked session stay revoked", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, func(cfg *authgate.Config[claims]) { cfg.UpdateAge = time.Minute })
		c := a.client()
		c.signIn("alice", "alice-password")
		a.clk.Advance(2 * time.Minute)
		c.get("/whoami") // re-issued: same session id, new cookie bytes
		old := c.cookie(sessionCookie)
		c.signOut()
		thief := a.client()
		thief.setCookie(sessionCookie, old)
		if res := thief.get("/whoami"); res.body != "anonymous" {
			t.Errorf("got %q, want anonymous", res.body)
		}
	})
}

// revocationSpy records what sign-out asks the store for.
type revocationSpy struct {
	authgate.RevocationStore
	until atomic.Int64
}

func (s *revocationSpy) RevokeSession(ctx context.Context, id, subject string, authTime, until time.Time) error {
	s.until.Store(until.Unix())
	return s.RevocationStore.RevokeSession(ctx, id, subject, authTime, until)
}

func TestSignOutRevokesForEveryCopy(t *testing.T) {
	t.Parallel()
	var spy *revocationSpy
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.MaxAge, c.UpdateAge = time.Hour, 10*time.Minute
		spy = &revocationSpy{RevocationStore: authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{Now: c.Now})}
		c.Revocations = spy
	})
	c := a.client()
	c.signIn("alice", "alice-password")
	a.clk.Advance(40 * time.Minute) // the cookie expires 20 minutes from now; a copy re-issued now, in 60
	c.signOut()
	if got, want := time.Unix(spy.until.Load(), 0), a.clk.Now().Add(time.Hour); got.Before(want) {
		t.Errorf("sign-out revoked until: got %v, want at least now + MaxAge (%v)", got, want)
	}
}

func TestSignOutEverywhereThenSignInAtOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	ctx := context.Background()
	old := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1"})
	a.clk.Advance(300 * time.Millisecond) // same second
	if err := a.auth.SignOutEverywhere(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	// A password change that keeps this device signed in: a new session
	// minted at once, in the same second as the revocation.
	fresh := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1"})
	other := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u2"})
	tests := []struct {
		name    string
		cookies []*http.Cookie
		wantErr error
	}{
		{"The session signed in before the call is revoked", old, authgate.ErrSessionRevoked},
		{"The session minted right after it, in the same second, is valid", fresh, nil},
		{"Another user's session is untouched", other, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.auth.Check(request("GET", "/", tt.cookies...))
			if (tt.wantErr == nil) != (err == nil) || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Check: got %v, want %v", err, tt.wantErr)
			}
		})
	}
	a.clk.Advance(time.Hour) // still valid later, with its sign-in time one second after the revocation
	if s, err := a.auth.Check(request("GET", "/", fresh...)); err != nil || s.AuthTime().Unix() != a.clk.Now().Add(-time.Hour).Unix()+1 {
		t.Fatalf("an hour later: got %v, %v; want the session signed in a second after the revocation", s, err)
	}
}

// failingStore is a RevocationStore whose writes fail, and its reads too
// when readsFail; otherwise reads go to a memory store.
type failingStore struct {
	authgate.RevocationStore
	readsFail bool
}

var errStoreDown = errors.New("store down")

func (failingStore) RevokeSession(context.Context, string, string, time.Time, time.Time) error {
	return errStoreDown
}
func (failingStore) RevokeUser(context.Context, string, time.Time) error { return errStoreDown }
func (s failingStore) Revoked(ctx context.Context, sid, sub string, at time.Time) (bool, error) {
	if s.readsFail {
		return false, errStoreDown
	}
	return s.RevocationStore.Revoked(ctx, sid, sub, at)
}

// withFailingStore makes an app's store fail its writes (and its reads
// when readsFail).
func withFailingStore(readsFail bool) func(*authgate.Config[claims]) {
	return func(c *authgate.Config[claims]) {
		c.Revocations = failingStore{authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{Now: c.Now}), readsFail}
	}
}

func TestAuthSignOut(t *testing.T) {
	t.Parallel()
	t.Run("Without a session it only clears the cookies and reports the sign-out", func(t *testing.T) {
		t.Parallel()
		var ev events
		a := newApp(t, ev.config)
		w := httptest.NewRecorder()
		if err := a.auth.SignOut(w, request("POST", "/account/delete", &http.Cookie{Name: sessionCookie, Value: "garbage"})); err != nil {
			t.Fatalf("SignOut: got %v, want nil", err)
		}
		if sc := sessionSetCookies(w.Result()); len(sc) != 1 || sc[0].MaxAge >= 0 {
			t.Errorf("Set-Cookie: got %+v, want the session cookie cleared", sc)
		}
		if got, want := ev.String(), "sign-ins ; sign-outs "; got != want {
			t.Errorf("events: got %q, want %q (one sign-out without a token)", got, want)
		}
	})

	t.Run("A store that cannot revoke is reported with ErrStore and the cookies are cleared all the same", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, withFailingStore(false))
		ck := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1"})
		w := httptest.NewRecorder()
		if err := a.auth.SignOut(w, request("POST", "/", ck...)); !errors.Is(err, authgate.ErrStore) || !errors.Is(err, errStoreDown) {
			t.Fatalf("SignOut: got %v, want ErrStore wrapping the store's error", err)
		}
		if sc := sessionSetCookies(w.Result()); len(sc) != 1 || sc[0].MaxAge >= 0 {
			t.Errorf("Set-Cookie: got %+v, want the session cookie cleared", sc)
		}
	})
}

// TestSignOutOfABearerSession: Auth.SignOut on a request authenticated by
// "Authorization: Bearer" revokes that session (every copy of the token,
// as header or cookie, is refused afterwards) and sets no cookie; a bearer
// token that is no valid session is an error, never a success for nothing.
func TestSignOutOfABearerSession(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *authgate.Config[claims]) { c.AcceptBearer = true })
	ck := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1"})
	bearer := func(token string) *http.Request {
		r := request("POST", "/api/logout")
		r.Header.Set("Authorization", "Bearer "+token)
		return r
	}
	if _, err := a.auth.Check(bearer(ck[0].Value)); err != nil {
		t.Fatalf("Check of the bearer token before the sign-out: %v", err)
	}
	w := httptest.NewRecorder()
	if err := a.auth.SignOut(w, bearer(ck[0].Value)); err != nil {
		t.Fatalf("SignOut of a bearer session: %v", err)
	}
	if sc := w.Result().Cookies(); len(sc) != 0 {
		t.Errorf("SignOut of a bearer session set cookies: %v", sc)
	}
	if _, err := a.auth.Check(bearer(ck[0].Value)); !errors.Is(err, authgate.ErrSessionRevoked) {
		t.Errorf("the bearer token after its sign-out: got %v, want ErrSessionRevoked", err)
	}
	if _, err := a.auth.Check(request("GET", "/", ck...)); !errors.Is(err, authgate.ErrSessionRevoked) {
		t.Errorf("the same session as a cookie after the sign-out: got %v, want ErrSessionRevoked", err)
	}
	for _, tt := range []struct {
		name, token string
		want        error
	}{
		{"a revoked token", ck[0].Value, authgate.ErrSessionRevoked},
		{"a forged token", "forged", authgate.ErrInvalidSession},
	} {
		if err := a.auth.SignOut(httptest.NewRecorder(), bearer(tt.token)); !errors.Is(err, tt.want) {
			t.Errorf("SignOut with %s: got %v, want an error wrapping %v", tt.name, err, tt.want)
		}
	}
}

// TestSignOutRevokesWhenTheStoreCannotBeRead: a store whose lookups fail
// must not turn SignOut into a success that revoked nothing: the token
// verified, so it is revoked all the same.
func TestSignOutRevokesWhenTheStoreCannotBeRead(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Revocations = switchableStore{authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{Now: c.Now}), &down}
	})
	ck := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1"})
	down.Store(true)
	if err := a.auth.SignOut(httptest.NewRecorder(), request("POST", "/", ck...)); err != nil {
		t.Fatalf("SignOut: %v", err)
	}
	down.Store(false)
	if _, err := a.auth.Check(request("GET", "/", ck...)); !errors.Is(err, authgate.ErrSessionRevoked) {
		t.Errorf("after SignOut during a read fault: got %v, want ErrSessionRevoked", err)
	}
}
