package redisstore_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/redisstore"
	"github.com/authgate/authgate/redisstore/redistest"
	"github.com/redis/go-redis/v9"
)

// countHook counts the commands a client sends to Redis, but the
// subscription's keep-alive pings.
type countHook struct{ n atomic.Int64 }

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() != "ping" {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// TestAKnownDeviceCostsNoRedisRoundTrip signs in through authgate with
// both Redis stores on a real redis-server: a returning device's sign-in
// sends Redis no more than a stranger's does (the limiter's Allow; a
// stranger's success adds a Record): its token is checked in the
// instance, its revocation in the store's local view. And the limiter budgets it by the account's
// devices.
func TestAKnownDeviceCostsNoRedisRoundTrip(t *testing.T) {
	srv := redistest.Start(t)
	c := &clock{}
	client := connect(t, srv.URL())
	hook := &countHook{}
	client.AddHook(hook)
	limiter := newLimiter(t, client, redisstore.LimiterOptions{KeyPrefix: "dev:"})
	revClient := connect(t, srv.URL())
	revHook := &countHook{}
	revClient.AddHook(revHook)
	revs, err := redisstore.NewRevocationStore(context.Background(), revClient,
		redisstore.RevocationOptions{KeyPrefix: "dev:", Now: c.Now, Timeout: testTimeout, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer revs.Close()
	hash, err := authgate.BcryptHasher{Cost: 4}.Hash("alice-password")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ts := httptest.NewServer(mux)
	defer ts.Close()
	auth, err := authgate.New(authgate.Config[struct{}]{
		Secrets: []string{"redisstore-device-test-secret-0123456789"},
		URL:     ts.URL,
		Hasher:  authgate.BcryptHasher{Cost: 4},
		Authorize: func(ctx context.Context, cr *authgate.Credentials) (*authgate.User[struct{}], error) {
			h := ""
			if cr.Username() == "alice" {
				h = hash
			}
			if !cr.PasswordMatches(h) {
				return nil, nil
			}
			return &authgate.User[struct{}]{ID: "u-alice"}, nil
		},
		Limiter: limiter, Revocations: revs, Now: c.Now,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/api/auth/", auth.Handler())
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(password string) int {
		res, err := hc.Get(ts.URL + "/api/auth/csrf")
		if err != nil {
			t.Fatal(err)
		}
		var v struct{ CsrfToken string }
		json.NewDecoder(res.Body).Decode(&v)
		res.Body.Close()
		form := url.Values{"username": {"alice"}, "password": {password}, "csrfToken": {v.CsrfToken}, "json": {"true"}}
		res, err = hc.Post(ts.URL+"/api/auth/callback/credentials", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	hook.n.Store(0)
	if code := signIn("alice-password"); code != 200 {
		t.Fatalf("first sign-in: %d", code)
	}
	stranger := hook.n.Load()
	hook.n.Store(0)
	revHook.n.Store(0)
	if code := signIn("alice-password"); code != 200 {
		t.Fatalf("returning sign-in: %d", code)
	}
	if n := revHook.n.Load(); n != 0 {
		t.Errorf("checking the device token sent %d commands to Redis through the revocation store, want 0", n)
	}
	if known := hook.n.Load(); stranger != 2 || known != 1 {
		t.Errorf("Redis commands: a stranger's sign-in %d, a known device's %d; want 2 (Allow, Record) and 1 (Allow: its success settles nothing)", stranger, known)
	}
	keys, err := client.Keys(context.Background(), "dev:l:d:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	hook.n.Store(0)
	if code := signIn("typo"); code != 401 {
		t.Fatalf("a failure from the device: %d", code)
	}
	if n := hook.n.Load(); n != 1 {
		t.Errorf("a failure from a known device sent %d Redis commands, want 1 (Allow)", n)
	}
	if err != nil || len(keys) != 1 {
		t.Errorf("device buckets after a known device's sign-in: %q (%v); want the account's one", keys, err)
	}
}
