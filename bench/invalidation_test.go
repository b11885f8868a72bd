package bench_test

// How soon a session ended on one instance is refused on another that
// serves it from its cache: authgate's database sessions on PostgreSQL
// (sqlstore), each instance with its own redisstore revocation view on one
// Redis; and, for comparison, the delay of PostgreSQL's own LISTEN/NOTIFY
// between two connections, the other way to tell instances.
//
//   go test -run '^$' -bench 'DeviceEndedDelay|PostgresNotifyDelay' ./bench/

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/bench"
	"github.com/authgate/authgate/redisstore/redistest"
	"github.com/authgate/authgate/sqlstore"
	"github.com/jackc/pgx/v5"
)

// quantiles reports p50, p99 and max of delays in milliseconds.
func quantiles(b *testing.B, delays []time.Duration) {
	slices.Sort(delays)
	q := func(p float64) float64 {
		return float64(delays[min(len(delays)-1, int(p*float64(len(delays))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(delays[len(delays)-1])/float64(time.Millisecond), "max-ms")
	b.ReportMetric(float64(len(delays)), "samples")
}

func pgURL(b *testing.B) string {
	return pg.Server(b).NewDatabase(b)
}

// BenchmarkDeviceEndedDelay: per iteration, a new user's "phone" session is
// served (and cached) by instance B; instance A ends it from the "laptop"
// through Auth.SignOutDevice; the time until B refuses the phone's cookie
// is one sample.
func BenchmarkDeviceEndedDelay(b *testing.B) {
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, pgURL(b), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	rsrv := redistest.Start(b)
	instance := func(prefix string) *authgate.Auth[struct{}] {
		a, err := authgate.New(authgate.Config[struct{}]{
			Secrets: []string{"bench-secret-0123456789abcdefghijklmnopqrstuvwxyz"}, URL: "http://localhost:3000",
			Authorize:        func(context.Context, *authgate.Credentials) (*authgate.User[struct{}], error) { return nil, nil },
			Hasher:           authgate.BcryptHasher{Cost: 4},
			Logger:           slog.New(slog.DiscardHandler),
			Adapter:          store,
			Revocations:      redisRevocations(b, redisClient(b, rsrv), prefix),
			DatabaseSessions: true,
		})
		if err != nil {
			b.Fatal(err)
		}
		return a
	}
	a, o := instance("bench:ended:"), instance("bench:ended:")
	guarded := func(x *authgate.Auth[struct{}]) http.Handler {
		return x.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := x.Session(r); !ok {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
	}
	ha, ho := guarded(a), guarded(o)
	mint := func(user string) *http.Cookie {
		cs, err := a.NewSessionCookies(ctx, &authgate.User[struct{}]{ID: user, Role: "admin"})
		if err != nil {
			b.Fatal(err)
		}
		return cs[0]
	}
	var laptop *http.Cookie
	var delays []time.Duration
	for b.Loop() {
		b.StopTimer()
		// A user of its own each time: a store folds many revocations of
		// one subject into a per-user mark.
		user := fmt.Sprintf("user-%d", len(delays))
		laptop = mint(user)
		phone := mint(user)
		if code, _ := bench.Serve(ho, phone); code != http.StatusOK {
			b.Fatalf("phone on the other instance: %d", code)
		}
		devs, err := a.Devices(bench.NewRequest(laptop))
		if err != nil {
			b.Fatalf("iteration %d: %v", len(delays), err)
		}
		var id string
		for _, d := range devs {
			if !d.Current {
				id = d.ID
			}
		}
		b.StartTimer()
		start := time.Now()
		if err := a.SignOutDevice(httptest.NewRecorder(), bench.NewRequest(laptop), id); err != nil {
			b.Fatal(err)
		}
		for {
			if code, _ := bench.Serve(ho, phone); code == http.StatusUnauthorized {
				break
			}
			runtime.Gosched()
			if time.Since(start) > 5*time.Second {
				b.Fatal("the ended session was still served after 5 s")
			}
		}
		delays = append(delays, time.Since(start))
	}
	if code, _ := bench.Serve(ha, laptop); code != http.StatusOK {
		b.Fatalf("the laptop was signed out too: %d", code)
	}
	quantiles(b, delays)
}

// BenchmarkPostgresNotifyDelay: one NOTIFY on one connection, the time
// until another connection that LISTENs receives it.
func BenchmarkPostgresNotifyDelay(b *testing.B) {
	ctx := context.Background()
	url := pgURL(b)
	listener, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer listener.Close(ctx)
	if _, err := listener.Exec(ctx, "LISTEN authgate_sessions"); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var delays []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := db.ExecContext(ctx, "SELECT pg_notify('authgate_sessions', 'ended')"); err != nil {
			b.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := listener.WaitForNotification(wctx)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		delays = append(delays, time.Since(start))
	}
	quantiles(b, delays)
}
