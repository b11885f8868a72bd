package redisstore_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
	"github.com/authgate/authgate/redisstore"
	"github.com/authgate/authgate/redisstore/redistest"
)

// TestARedisOutageSignsNobodyOut is the outage of the fault issue against a
// real redis-server: while Redis is down past the staleness window every
// session is refused (the guard answers 503, GET /api/auth/session 503,
// Check a fault wrapping ErrStore and ErrStale), no response carries a
// Set-Cookie that deletes the session, and once Redis is back the very
// same cookie is accepted again.
func TestARedisOutageSignsNobodyOut(t *testing.T) {
	srv := redistest.Start(t)
	c := &clock{}
	store := instance(t, srv, c, redisstore.RevocationOptions{})
	auth, err := authgate.New(authgate.Config[struct{}]{
		Secrets:     []string{"redisstore-fault-test-secret-0123456789"},
		URL:         "https://app.example",
		Authorize:   func(context.Context, *authgate.Credentials) (*authgate.User[struct{}], error) { return nil, nil },
		Hasher:      authgate.BcryptHasher{Cost: 4},
		Revocations: store,
		Now:         c.Now,
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	cookies := authgatetest.Cookies(t, auth, authgate.User[struct{}]{ID: "alice"})
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", auth.Handler())
	mux.Handle("/private", auth.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "private")
	})))
	h := auth.Middleware(mux)
	get := func(path string) *http.Response {
		r := httptest.NewRequest("GET", "https://app.example"+path, nil)
		for _, ck := range cookies {
			r.AddCookie(ck)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result()
	}
	noDeletion := func(when, path string, res *http.Response) {
		t.Helper()
		for _, ck := range res.Cookies() {
			if ck.Name == cookies[0].Name && (ck.MaxAge < 0 || ck.Value == "") {
				t.Errorf("%s: GET %s answered a Set-Cookie deleting the session: %v", when, path, ck)
			}
		}
	}
	accepted := func(when string) {
		t.Helper()
		for _, path := range []string{"/private", "/api/auth/session"} {
			res := get(path)
			noDeletion(when, path, res)
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s: GET %s = %d, want 200", when, path, res.StatusCode)
			}
		}
	}
	accepted("before the outage")

	srv.Kill()
	eventually(t, "the store notices the outage", func() bool { return !store.Synced() })
	accepted("within the staleness window")

	c.Advance(redisstore.DefaultStaleness + time.Second)
	for range 3 {
		for _, path := range []string{"/private", "/api/auth/session"} {
			res := get(path)
			noDeletion("past the staleness window", path, res)
			if res.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("past the staleness window: GET %s = %d, want 503", path, res.StatusCode)
			}
		}
	}
	r := httptest.NewRequest("GET", "https://app.example/", nil)
	for _, ck := range cookies {
		r.AddCookie(ck)
	}
	if _, err := auth.Check(r); !errors.Is(err, authgate.ErrStore) || !errors.Is(err, redisstore.ErrStale) ||
		errors.Is(err, authgate.ErrSessionRevoked) {
		t.Errorf("Check past the staleness window: got %v, want a fault wrapping ErrStore and ErrStale, not ErrSessionRevoked", err)
	}

	srv.Restart()
	eventually(t, "the store reloads from Redis", store.Synced)
	accepted("after Redis is back")
}
