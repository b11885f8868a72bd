package authgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// Tests of faults (issue: a fault is not a sign-out): a revocation store
// or a callback that cannot answer fails the request closed, but never
// deletes the session cookie, and the same cookie works again once the
// fault is over.

// switchableStore is a memory RevocationStore whose lookups fail while
// down is set.
type switchableStore struct {
	authgate.RevocationStore
	down *atomic.Bool
}

var errDBTimeout = errors.New("database timeout")

func (s switchableStore) Revoked(ctx context.Context, sid, sub string, at time.Time) (bool, error) {
	if s.down.Load() {
		return false, errDBTimeout
	}
	return s.RevocationStore.Revoked(ctx, sid, sub, at)
}

// faultyApp is the test app with a switch that makes one dependency fail:
// the revocation store, the Session callback, or the JWT callback when it
// refreshes a session.
type faultyApp struct {
	*app
	fault atomic.Bool
}

func newFaultyApp(t *testing.T, what string) *faultyApp {
	t.Helper()
	f := &faultyApp{}
	f.app = newApp(t, func(c *authgate.Config[claims]) {
		c.MaxAge, c.UpdateAge = time.Hour, 10*time.Minute
		switch what {
		case "store":
			c.Revocations = switchableStore{authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{Now: c.Now}), &f.fault}
		case "session callback":
			next := c.Callbacks.Session
			c.Callbacks.Session = func(ctx context.Context, p authgate.SessionParams[claims]) (*authgate.Session[claims], error) {
				if f.fault.Load() {
					return nil, errDBTimeout
				}
				return next(ctx, p)
			}
		case "jwt callback on refresh":
			next := c.Callbacks.JWT
			c.Callbacks.JWT = func(ctx context.Context, p authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
				if f.fault.Load() && p.Trigger != authgate.TriggerSignIn {
					return nil, errDBTimeout
				}
				return next(ctx, p)
			}
		}
	})
	return f
}

// deletesSession reports whether res carries a Set-Cookie that removes a
// session cookie.
func deletesSession(res *http.Response) bool {
	for _, c := range sessionSetCookies(res) {
		if c.MaxAge < 0 || c.Value == "" {
			return true
		}
	}
	return false
}

func TestAFaultNeverDeletesTheSessionCookie(t *testing.T) {
	t.Parallel()
	for _, what := range []string{"store", "session callback", "jwt callback on refresh"} {
		t.Run("a failing "+what, func(t *testing.T) {
			t.Parallel()
			a := newFaultyApp(t, what)
			c := a.client()
			if res := c.signIn("alice", "alice-password"); !signedIn(res.Response) {
				t.Fatalf("sign-in: %d %s", res.StatusCode, res.body)
			}
			cookie := c.cookie(sessionCookie)
			// Past UpdateAge, so every path also tries to re-issue (the
			// JWT callback's refresh).
			a.clk.Advance(11 * time.Minute)
			a.fault.Store(true)

			csrf := c.csrf()
			for _, tt := range []struct {
				name       string
				send       func() response
				wantStatus int
				wantBody   string
			}{
				{"the middleware leaves the request anonymous", func() response { return c.get("/whoami") }, 200, "anonymous"},
				{"RequireAuth answers 503, not 401", func() response { return c.get("/private") }, 503, `{"error":"unavailable"}`},
				{"RequireRole answers 503 to a navigation, not a redirect to sign in", func() response {
					return c.get("/admin", "Accept", "text/html")
				}, 503, `{"error":"unavailable"}`},
				{"GET /api/auth/session answers 503", func() response { return c.get("/api/auth/session") }, 503, `{"error":"Busy"}`},
				{"POST /api/auth/session answers 503", func() response {
					return c.postJSON("/api/auth/session", map[string]any{"csrfToken": csrf, "data": map[string]string{"plan": "team"}})
				}, 503, `{"error":"Busy"}`},
			} {
				res := tt.send()
				if res.StatusCode != tt.wantStatus || !strings.Contains(res.body, tt.wantBody) {
					t.Errorf("%s: got %d %q, want %d with %q", tt.name, res.StatusCode, res.body, tt.wantStatus, tt.wantBody)
				}
				if deletesSession(res.Response) {
					t.Errorf("%s: the response deletes the session cookie: %v", tt.name, res.Header["Set-Cookie"])
				}
			}
			if got := c.cookie(sessionCookie); got != cookie {
				t.Fatal("the fault changed the session cookie in the browser")
			}
			_, err := a.auth.Check(request("GET", "/", &http.Cookie{Name: sessionCookie, Value: cookie}))
			switch what {
			case "store":
				if !errors.Is(err, authgate.ErrStore) || !errors.Is(err, errDBTimeout) {
					t.Errorf("Check: got %v, want ErrStore wrapping the store's error", err)
				}
			case "session callback":
				if !errors.Is(err, authgate.ErrCallback) || !errors.Is(err, errDBTimeout) {
					t.Errorf("Check: got %v, want ErrCallback wrapping the callback's error", err)
				}
			}
			for _, verdict := range []error{authgate.ErrSessionRevoked, authgate.ErrInvalidSession, authgate.ErrSessionExpired} {
				if errors.Is(err, verdict) {
					t.Errorf("Check: got %v, which wraps the verdict %v", err, verdict)
				}
			}
			if logs := a.logs.String(); !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "event=session_fault") {
				t.Errorf("the fault is not logged at error level:\n%s", logs)
			}

			a.fault.Store(false)
			if got := c.get("/whoami").body; got != "u1 admin pro" {
				t.Errorf("after the fault: /whoami = %q, want the same cookie accepted", got)
			}
		})
	}
}

// TestFaultLogsAreRateLimited: every request meets an outage, so its log
// lines are rate-limited like a flood of bad cookies, on their own budget:
// a flood of bad cookies cannot hide a fault.
func TestFaultLogsAreRateLimited(t *testing.T) {
	t.Parallel()
	a := newFaultyApp(t, "store")
	c := a.client()
	c.signIn("alice", "alice-password")
	good := c.cookie(sessionCookie)
	a.fault.Store(true)
	for range 100 {
		c.setCookie(sessionCookie, "garbage")
		c.get("/whoami")
	}
	for range 100 {
		c.setCookie(sessionCookie, good)
		c.get("/whoami")
	}
	logs := a.logs.String()
	if n := strings.Count(logs, "event=session_fault"); n != 5 {
		t.Errorf("got %d fault lines for 100 faults in a second, want 5", n)
	}
	if n := strings.Count(logs, "event=session_rejected"); n != 5 {
		t.Errorf("got %d rejection lines for 100 bad cookies in a second, want 5", n)
	}
}

// TestBadCookieErrorsAreStillVerdicts: a cookie that is wrong in itself is
// still cleared; the fault rule does not keep it.
func TestBadCookieErrorsAreStillVerdicts(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := a.client()
	c.signIn("alice", "alice-password")
	c.signOut()
	c.setCookie(sessionCookie, "garbage")
	if res := c.get("/whoami"); !deletesSession(res.Response) {
		t.Errorf("an invalid cookie was not cleared: %v", res.Header["Set-Cookie"])
	}
	if res := c.get("/api/auth/session"); res.StatusCode != 200 || res.body != "{}\n" {
		t.Errorf("GET /session without a session: %d %q, want 200 {}", res.StatusCode, res.body)
	}
}

// TestSessionAnswerOnAFaultIsJSON documents what
// next-auth/react makes of the fault answer: anything but a 2xx with a
// non-empty object is "no session" for getSession, and update() keeps the
// session it had; the answer is JSON, so the client's res.json() never
// throws.
func TestSessionAnswerOnAFaultIsJSON(t *testing.T) {
	t.Parallel()
	a := newFaultyApp(t, "session callback")
	c := a.client()
	c.signIn("alice", "alice-password")
	a.fault.Store(true)
	res := c.get("/api/auth/session")
	var v map[string]string
	if err := json.Unmarshal([]byte(res.body), &v); err != nil || res.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("GET /session on a fault: %q (%v), want JSON", res.body, err)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q: a fault answer must not be cached", cc)
	}
}

// An Authorize that cannot answer (its database is down) is a fault: the
// client is told the server is busy, not that the password is wrong, and
// the attempt still counts, so an Authorize that reports wrong passwords
// as errors cannot be used to guess without limit.
func TestAnAuthorizeFaultIs503AndStillCounted(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Limiter = authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{
			PerAccountAddress: authgate.AttemptBudget{Burst: 3, Every: time.Hour},
		})
		c.Authorize = func(ctx context.Context, cr *authgate.Credentials) (*authgate.User[claims], error) {
			if down.Load() {
				return nil, errDBTimeout
			}
			return authorize(ctx, cr)
		}
	})
	c := a.client()
	down.Store(true)
	for i := range 3 {
		res := c.signIn("alice", "alice-password")
		if res.StatusCode != 503 || !strings.Contains(res.body, "error=Busy") || res.Header.Get("Retry-After") == "" {
			t.Fatalf("attempt %d during the outage: got %d %q (Retry-After %q), want 503 error=Busy with a Retry-After", i+1, res.StatusCode, res.body, res.Header.Get("Retry-After"))
		}
		if deletesSession(res.Response) || signedIn(res.Response) {
			t.Fatalf("attempt %d: got a session cookie change on a fault", i+1)
		}
	}
	if res := c.signIn("alice", "alice-password"); res.StatusCode != 429 {
		t.Errorf("fourth attempt: got %d, want 429: faulted attempts must count", res.StatusCode)
	}
	down.Store(false)
	a.clk.Advance(time.Hour)
	if res := c.signIn("alice", "alice-password"); !signedIn(res.Response) {
		t.Errorf("after the outage: got %d %q, want a session", res.StatusCode, res.body)
	}
}

// A callback may end a session (its user was deleted) by returning an
// error wrapping ErrSessionRevoked: a verdict that clears the cookie,
// unlike a fault. At sign-in the same error is a failed callback.
func TestACallbackCanEndASession(t *testing.T) {
	t.Parallel()
	deleted := fmt.Errorf("user deleted: %w", authgate.ErrSessionRevoked)
	for _, what := range []string{"jwt callback on refresh", "session callback"} {
		t.Run(what, func(t *testing.T) {
			t.Parallel()
			var gone atomic.Bool
			a := newApp(t, func(c *authgate.Config[claims]) {
				c.MaxAge, c.UpdateAge = time.Hour, 10*time.Minute
				if what == "session callback" {
					next := c.Callbacks.Session
					c.Callbacks.Session = func(ctx context.Context, p authgate.SessionParams[claims]) (*authgate.Session[claims], error) {
						if gone.Load() {
							return nil, deleted
						}
						return next(ctx, p)
					}
					return
				}
				next := c.Callbacks.JWT
				c.Callbacks.JWT = func(ctx context.Context, p authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
					if gone.Load() {
						return nil, deleted
					}
					return next(ctx, p)
				}
			})
			c := a.client()
			if res := c.signIn("alice", "alice-password"); !signedIn(res.Response) {
				t.Fatalf("sign-in: %d %s", res.StatusCode, res.body)
			}
			cookie := c.cookie(sessionCookie)
			a.clk.Advance(11 * time.Minute) // due for a refresh
			gone.Store(true)
			res := c.get("/private")
			if res.StatusCode != 401 || !deletesSession(res.Response) {
				t.Errorf("after the callback ended the session: got %d (cookie deleted: %v), want 401 and the cookie deleted", res.StatusCode, deletesSession(res.Response))
			}
			if what != "session callback" {
				return // Check only reads: it runs no refresh, so no JWT callback
			}
			req := httptest.NewRequest("GET", "/", nil)
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
			_, err := a.auth.Check(req)
			if !errors.Is(err, authgate.ErrSessionRevoked) {
				t.Errorf("Check: got %v, want ErrSessionRevoked", err)
			}
			if errors.Is(err, authgate.ErrCallback) {
				t.Errorf("Check: got %v, a fault; want a verdict", err)
			}
		})
	}
}
