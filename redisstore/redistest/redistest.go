// Package redistest starts a real redis-server for tests: on a free loopback
// port, in a temporary directory, stopped when the test ends. Fault tests
// kill it and start it again on the same port and data directory.
//
// When redis-server is not on PATH the test is skipped with the reason,
// unless the environment variable CI is "true": then it fails, so a CI
// machine without Redis cannot pass by skipping.
//
// The server persists every write to an append-only file before answering
// (appendfsync always), so a kill -9 loses nothing that was acknowledged:
// the state a production Redis with AOF keeps (see the redisstore README).
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is one redis-server process. Its methods are safe for concurrent
// use.
type Server struct {
	// Addr is the server's host:port on 127.0.0.1; it stays the same
	// across Kill and Restart.
	Addr string

	tb   testing.TB
	bin  string
	dir  string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts a redis-server for tb and registers its stop with
// tb.Cleanup. It skips tb (or fails it under CI=true) when redis-server is
// missing, and fails it when the server does not answer within 10 seconds.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "redistest: redis-server not found on PATH (Debian: apt-get install redis-server)"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg + "; CI=true requires it")
		}
		tb.Skip(msg)
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir()}
	var lastErr error
	// A free port found by listening on :0 can be taken by another
	// process before redis-server binds it; try a few.
	for range 5 {
		s.port, lastErr = freePort()
		if lastErr != nil {
			continue
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		tb.Fatalf("redistest: start redis-server: %v", lastErr)
	}
	tb.Cleanup(s.Kill)
	return s
}

// URL returns the server's redis:// URL for database 0.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Kill stops the server with SIGKILL, as a crash would, and waits until it
// is gone. It does nothing when the server is not running.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // a paused process dies only once continued
	<-s.done
	s.cmd = nil
}

// Pause stops the server with SIGSTOP: connections stay open but nothing
// is answered, as with a hung server or a network partition. Resume
// undoes it; Kill works on a paused server too.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server with SIGCONT.
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.tb.Fatalf("redistest: %v to a server that is not running", sig)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.tb.Fatalf("redistest: %v: %v", sig, err)
	}
}

// Restart starts the server again on the same port and data directory,
// after a Kill; it fails the test when it does not answer within 10 seconds.
func (s *Server) Restart() {
	s.tb.Helper()
	if err := s.start(); err != nil {
		s.tb.Fatalf("redistest: restart redis-server: %v", err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("already running")
	}
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "yes",
		"--appendfsync", "always",
		"--logfile", filepath.Join(s.dir, "redis.log"),
		"--daemonize", "no",
	)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := ping(s.Addr); err == nil {
			break
		} else if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			return fmt.Errorf("no answer on %s: %v; log:\n%s", s.Addr, err, log)
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			return fmt.Errorf("redis-server exited; log:\n%s", log)
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.cmd, s.done = cmd, done
	return nil
}

// ping sends an inline PING and expects +PONG (not -LOADING while the
// append-only file is replayed).
func ping(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if string(buf[:n]) != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", buf[:n])
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
