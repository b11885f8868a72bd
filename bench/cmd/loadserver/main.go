// Command loadserver is the target of scripts/load.sh: a tiny app that uses
// authgate the way the demo does (credentials sign-in with bcrypt at the
// default cost, a Session callback, the protocol handler at /api/auth/), with
// the same JSON route twice:
//
//	GET /api/me    guarded: RequireAuth, then the session as JSON
//	GET /api/open  unguarded: the same handler and JSON, no authgate at all
//
// It listens on loopback only and writes a valid session cookie
// ("name=value") to -cookie-out, so the load generator needs no sign-in of
// its own for the guarded route.
//
// Sign-in throttling is off by default (-throttle=false): every sign-in
// attempt of the flood then costs a full bcrypt comparison, the worst case
// for the CPU, which is what the /session latency measurement is about. With
// -throttle the default in-memory limiter refuses most of a flood from one
// address before any bcrypt work.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/authgate/authgate"
)

// Password of the one user, alice; the flood sends wrong ones.
const Password = "load-test-password-not-secret"

type noLimit struct{}

func (noLimit) Allow(context.Context, authgate.Attempt) (time.Duration, error)   { return 0, nil }
func (noLimit) Record(context.Context, authgate.Attempt, authgate.Outcome) error { return nil }

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "loopback `host:port` to listen on")
	cookieOut := flag.String("cookie-out", "", "write a valid session cookie (name=value) to this `file`")
	throttle := flag.Bool("throttle", false, "keep authgate's default sign-in limiter (off: every attempt costs a bcrypt)")
	hashes := flag.Int("hashes", 0, "Config.MaxConcurrentHashes (0: authgate's default, GOMAXPROCS)")
	flag.Parse()
	if err := run(*addr, *cookieOut, *throttle, *hashes); err != nil {
		fmt.Fprintln(os.Stderr, "loadserver:", err)
		os.Exit(1)
	}
}

func run(addr, cookieOut string, throttle bool, hashes int) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("refusing to listen on %q: loopback only", addr)
	}
	hash, err := authgate.HashPassword(Password)
	if err != nil {
		return err
	}
	alice := &authgate.User[struct{}]{ID: "u_01JD6X4F9Q2W8Z", Name: "Alice Example", Email: "alice@example.com", Role: "admin"}
	cfg := authgate.Config[struct{}]{
		Secrets: []string{"load-test-secret-0123456789abcdefghijkl"},
		URL:     "http://" + addr,
		Authorize: func(_ context.Context, c *authgate.Credentials) (*authgate.User[struct{}], error) {
			h := ""
			if c.Username() == "alice" {
				h = hash
			}
			if !c.PasswordMatches(h) || h == "" {
				return nil, nil
			}
			return alice, nil
		},
		Callbacks: authgate.Callbacks[struct{}]{
			Session: func(_ context.Context, p authgate.SessionParams[struct{}]) (*authgate.Session[struct{}], error) {
				p.Session.User.ID = p.Token.Subject
				p.Session.User.Role = p.Token.Role
				return p.Session, nil
			},
		},
		Logger:              slog.New(slog.DiscardHandler), // one line per refused sign-in would be the bottleneck
		MaxConcurrentHashes: hashes,
	}
	if !throttle {
		cfg.Limiter = noLimit{}
	}
	auth, err := authgate.New(cfg)
	if err != nil {
		return err
	}

	me := func(w http.ResponseWriter, s *authgate.Session[struct{}]) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(s)
	}
	fixed := &authgate.Session[struct{}]{
		User:    authgate.SessionUser{ID: alice.ID, Name: alice.Name, Email: alice.Email, Role: alice.Role},
		Expires: time.Now().Add(30 * 24 * time.Hour),
	}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", auth.Handler())
	mux.Handle("GET /api/me", auth.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := auth.FromContext(r.Context())
		me(w, s)
	})))
	mux.HandleFunc("GET /api/open", func(w http.ResponseWriter, r *http.Request) { me(w, fixed) })

	if cookieOut != "" {
		cs, err := auth.NewSessionCookies(context.Background(), alice)
		if err != nil {
			return err
		}
		if len(cs) != 1 {
			return fmt.Errorf("%d session cookies, want 1", len(cs))
		}
		if err := os.WriteFile(cookieOut, []byte(cs[0].Name+"="+cs[0].Value+"\n"), 0o600); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	fmt.Printf("loadserver listening on http://%s (throttle=%v, hashes=%d)\n", ln.Addr(), throttle, hashes)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
