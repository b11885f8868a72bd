// Package pgtest starts a real PostgreSQL server for tests: initdb into a
// new temporary directory, then postgres on a free loopback port, stopped
// and removed when the test ends. Outage tests stop it and start it again
// on the same port and data directory.
//
// It uses the server binaries on PATH or in /usr/lib/postgresql/*/bin
// (Debian's postgresql package). PostgreSQL refuses to run as root, so
// when the tests run as root the server runs as the user "postgres" (or
// "nobody" when there is none). When no binaries are found the test is
// skipped with the reason, unless the environment variable CI is "true":
// then it fails, so a CI machine without PostgreSQL cannot pass by
// skipping.
//
// The server trusts every local connection and runs with fsync off: it is
// for tests only. A stop loses nothing the server acknowledged (the data
// stays in the operating system's cache).
package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// Server is one PostgreSQL server. Its methods are safe for concurrent
// use.
type Server struct {
	// Port is the server's port on 127.0.0.1; it stays the same across
	// Stop and Restart.
	Port int

	bin  string // directory of initdb and postgres
	dir  string // holds data/ and the socket
	cred *syscall.Credential

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	dbs  int
}

// ErrNoServer reports that no PostgreSQL server binaries were found.
var ErrNoServer = errors.New("pgtest: no PostgreSQL server binaries (initdb, postgres) on PATH or in /usr/lib/postgresql/*/bin (Debian: apt-get install postgresql)")

// Start initialises and starts a server for tb and registers its stop
// and removal with tb.Cleanup. It skips tb (or fails it under CI=true)
// when no PostgreSQL binaries are found, and fails it when the server does
// not start.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := New()
	Check(tb, err)
	tb.Cleanup(s.Close)
	return s
}

// Check ends tb as the result of [New] requires: a skip with the reason
// for [ErrNoServer] (a failure under CI=true), a failure for any other
// error, nothing for nil. A TestMain that starts one server for a whole
// package with New calls Check at the start of each test that uses it.
func Check(tb testing.TB, err error) {
	tb.Helper()
	switch {
	case errors.Is(err, ErrNoServer) && os.Getenv("CI") != "true":
		tb.Skip(err)
	case errors.Is(err, ErrNoServer):
		tb.Fatal(err.Error() + "; CI=true requires it")
	case err != nil:
		tb.Fatal(err)
	}
}

// New initialises and starts a server outside a test (for TestMain); the
// caller must Close it. It returns an error wrapping [ErrNoServer] when no
// PostgreSQL binaries are found.
func New() (*Server, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		if s.cred, err = unprivileged(); err != nil {
			return nil, fmt.Errorf("pgtest: running as root and %w", err)
		}
	}
	// Not a test's TempDir: the unprivileged user must be able to reach it.
	if s.dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
		return nil, err
	}
	if s.cred != nil {
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			os.RemoveAll(s.dir)
			return nil, err
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", s.data(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	initdb.Dir = s.dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(s.dir)
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	// A free port found by listening on :0 can be taken before postgres
	// binds it; try a few.
	for range 5 {
		if s.Port, err = freePort(); err != nil {
			continue
		}
		if err = s.start(); err == nil {
			return s, nil
		}
	}
	os.RemoveAll(s.dir)
	return nil, fmt.Errorf("pgtest: start postgres: %w", err)
}

// Shared is one server for a whole test binary, started when a test first
// asks for it: a package's tests share it through a package variable, and
// its TestMain closes it after m.Run. The zero value is ready to use.
type Shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Server returns the shared server, starting it on the first call; it ends
// tb as [Check] does when the server cannot start.
func (s *Shared) Server(tb testing.TB) *Server {
	tb.Helper()
	s.once.Do(func() { s.srv, s.err = New() })
	Check(tb, s.err)
	return s.srv
}

// Close stops the shared server, if it was started.
func (s *Shared) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
}

// Close stops the server and removes its directory.
func (s *Server) Close() {
	s.Stop()
	os.RemoveAll(s.dir)
}

// URL returns the connection URL of database name (as the superuser
// "postgres", without TLS).
func (s *Server) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, name)
}

// NewDatabase creates an empty database and returns its URL.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	s.mu.Lock()
	s.dbs++
	name := fmt.Sprintf("test%d", s.dbs)
	s.mu.Unlock()
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	return s.URL(name)
}

// Stop shuts the server down at once (fast shutdown: open connections are
// ended, nothing acknowledged is lost) and waits until it is gone. It does
// nothing when the server is not running.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	for _, pid := range append(children(s.cmd.Process.Pid), s.cmd.Process.Pid) {
		_ = syscall.Kill(pid, syscall.SIGCONT) // a paused server stops only once continued
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
	s.cmd = nil
}

// Pause stops every process of the server with SIGSTOP: connections stay
// open (and new ones are accepted by the kernel) but nothing is answered,
// as with a hung server or a network partition. Resume undoes it.
func (s *Server) Pause(tb testing.TB) { s.signal(tb, syscall.SIGSTOP) }

// Resume continues a paused server with SIGCONT.
func (s *Server) Resume(tb testing.TB) { s.signal(tb, syscall.SIGCONT) }

func (s *Server) signal(tb testing.TB, sig syscall.Signal) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		tb.Fatalf("pgtest: %v to a server that is not running", sig)
	}
	// Every backend is a process group of its own (postgres calls setsid
	// in each child), so the signal goes to each child of the postmaster.
	pids := append(children(s.cmd.Process.Pid), s.cmd.Process.Pid)
	if sig == syscall.SIGCONT {
		slices.Reverse(pids) // the postmaster first
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			tb.Fatalf("pgtest: %v: %v", sig, err)
		}
	}
}

// children returns the pids of the processes whose parent is pid (Linux's
// /proc).
func children(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so parse after ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// Restart starts the server again on the same port and data directory,
// after a Stop; it fails the test when it does not answer within 30
// seconds.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if err := s.start(); err != nil {
		tb.Fatalf("pgtest: restart postgres: %v", err)
	}
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }
func (s *Server) log() string  { return filepath.Join(s.dir, "postgres.log") }

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("already running")
	}
	logf, err := os.OpenFile(s.log(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), "-D", s.data(), "-p", strconv.Itoa(s.Port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+s.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB")
	cmd.Stdout, cmd.Stderr, cmd.Dir = logf, logf, s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := ping(s.URL("postgres"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			log, _ := os.ReadFile(s.log())
			return fmt.Errorf("no answer on port %d: %v; log:\n%s", s.Port, err, log)
		}
		select {
		case <-done:
			log, _ := os.ReadFile(s.log())
			return fmt.Errorf("postgres exited; log:\n%s", log)
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.cmd, s.done = cmd, done
	return nil
}

func ping(url string) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// findBinaries returns the directory holding initdb and postgres: PATH
// first, then the newest /usr/lib/postgresql/*/bin.
func findBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoServer
}

// unprivileged returns the credential of the user the server runs as
// when the tests run as root.
func unprivileged() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 == nil && err2 == nil {
			return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
		}
	}
	return nil, errors.New("found neither the user postgres nor nobody to run PostgreSQL as")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
