package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/authgate/authgate"
)

// testSecret is the AUTH_SECRET of the in-process test servers.
const testSecret = "test-secret-test-secret-test-secret-0123456789"

// demo is the demo app on a loopback test server with a fresh database
// holding the seeded users.
type demo struct {
	URL       string
	Store     *Store
	Passwords map[string]string // username → password of the seeded users
}

// startDemo serves the demo app (newApp, as `serve` builds it) on a
// loopback port, on a new SQLite file; staticDir is the -static folder, or
// "". Options may be adjusted by mod (nil for none).
func startDemo(t *testing.T, staticDir string, mod ...func(*Options)) *demo {
	t.Helper()
	return startDemoOn(t, filepath.Join(t.TempDir(), "demo.db"), staticDir, mod...)
}

// startDemoOn is startDemo on the database dsn (a SQLite file or a
// postgres:// URL), seeding its users when it has none.
func startDemoOn(t *testing.T, dsn, staticDir string, mod ...func(*Options)) *demo {
	t.Helper()
	ctx := context.Background()
	store, err := OpenStore(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// bcrypt's minimum cost keeps sign-ins fast under -race; the demo
	// itself hashes at cost 10.
	cheap := authgate.BcryptHasher{Cost: 4}
	store.hasher = cheap
	seeded, err := store.SeedDemoUsers(ctx)
	if err != nil {
		t.Fatalf("SeedDemoUsers: %v", err)
	}
	d := &demo{Store: store, Passwords: map[string]string{}}
	for _, u := range seeded {
		d.Passwords[u.Username] = u.Password
	}

	srv := httptest.NewUnstartedServer(nil)
	d.URL = "http://" + srv.Listener.Addr().String()
	o := Options{
		Secret:    testSecret,
		URL:       d.URL,
		StaticDir: staticDir,
		Logger:    slog.New(slog.NewTextHandler(t.Output(), nil)),
		Hasher:    cheap, // also the cost of the dummy hash for unknown users
	}
	for _, m := range mod {
		m(&o)
	}
	handler, err := newApp(store, o)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = handler
	srv.Start()
	t.Cleanup(srv.Close)
	return d
}

// client returns an HTTP client with a cookie jar that does not follow
// redirects, so tests see each 302.
func (d *demo) client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}
