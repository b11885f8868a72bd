package main

// Black-box tests of the command-line contract: the test builds the binary
// once and runs it as a user would.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// binary is the demo built by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authgate-demo-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "authgate-demo")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	pg.Close() // the PostgreSQL server of devices_test.go, if one started
	os.RemoveAll(dir)
	os.Exit(code)
}

// cleanEnv is the environment without AUTH_* variables.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUTH_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runCLI runs the binary to completion and returns its exit code, stdout
// and stderr.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return code, stdout.String(), stderr.String()
}

// fileSum returns the SHA-256 of a file, or "absent".
func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "absent"
	}
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// usersIn lists the users of a database as "name/role/email".
func usersIn(t *testing.T, path string) []string {
	t.Helper()
	s, err := OpenStore(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	users, err := s.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, u := range users {
		out = append(out, u.Username+"/"+u.Role+"/"+u.Email)
	}
	return out
}

func TestAddUserAddsAUserWhosePasswordVerifies(t *testing.T) {
	db := filepath.Join(t.TempDir(), "users.db")
	tests := []struct {
		name, stdin, username, wantName, wantPassword string
	}{
		{"a password line ending in a newline", "correct horse 🐎 battery\n", "carol", "carol", "correct horse 🐎 battery"},
		{"a CRLF line ending is not part of the password", "pw-with-crlf\r\nsecond line ignored\n", "dave", "dave", "pw-with-crlf"},
		{"the last line needs no newline, and 72 bytes are allowed", strings.Repeat("x", 72), "erin", "erin", strings.Repeat("x", 72)},
		{"the username is stored lower-case", "pw\n", "  Frank ", "frank", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.stdin, "adduser", "-db", db, "-username", tt.username, "-email", tt.wantName+"@example.com", "-role", "admin")
			if code != 0 {
				t.Fatalf("exit %d, want 0; stderr %q", code, stderr)
			}
			if !strings.Contains(stdout, `added user "`+tt.wantName+`"`) {
				t.Errorf("stdout %q does not confirm the user", stdout)
			}
			s, err := OpenStore(context.Background(), db, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			u, err := s.UserByUsername(context.Background(), tt.wantName)
			if err != nil {
				t.Fatalf("user %q not in the database: %v", tt.wantName, err)
			}
			// (A bcrypt check at cost 10 takes seconds under -race: only
			// where the password's bytes are the point.)
			if tt.wantPassword != "" {
				if err := authgate.CheckPassword(u.PasswordHash, tt.wantPassword); err != nil {
					t.Errorf("the stored hash does not verify the password: %v", err)
				}
			}
			if u.Role != "admin" || u.Email != tt.wantName+"@example.com" || u.Created.IsZero() {
				t.Errorf("stored user: %+v", u)
			}
		})
	}
}

func TestAddUserRefusesBadInputAndWritesNothing(t *testing.T) {
	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantMsg  string
	}{
		{"a duplicate username", "pw\n", []string{"-username", "alice"}, 1, `user "alice" already exists`},
		{"a duplicate username in other letter case", "pw\n", []string{"-username", "ALICE"}, 1, `user "alice" already exists`},
		{"an empty password line", "\n", []string{"-username", "zoe"}, 1, "the password is empty"},
		{"no input at all", "", []string{"-username", "zoe"}, 1, "the password is empty"},
		{"a password of 73 bytes", strings.Repeat("p", 73) + "\n", []string{"-username", "zoe"}, 1, "longer than 72 bytes"},
		{"a password of 37 two-byte runes (74 bytes)", strings.Repeat("é", 37) + "\n", []string{"-username", "zoe"}, 1, "longer than 72 bytes"},
		{"an invalid username", "pw\n", []string{"-username", "zoe smith"}, 1, "the username must be"},
		{"an invalid email", "pw\n", []string{"-username", "zoe", "-email", "not-an-email"}, 1, "email address is not valid"},
		{"an invalid role", "pw\n", []string{"-username", "zoe", "-role", "Admin!"}, 1, "the role must be"},
		{"no -username", "pw\n", nil, 2, "-username is required"},
		{"an unknown flag", "pw\n", []string{"-username", "zoe", "-admin"}, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "users.db")
			if code, _, stderr := runCLI(t, "alice-pw\n", "adduser", "-db", db, "-username", "alice", "-role", "admin"); code != 0 {
				t.Fatalf("setup: adduser alice: exit %d: %s", code, stderr)
			}
			sumBefore, usersBefore := fileSum(t, db), usersIn(t, db)

			code, stdout, stderr := runCLI(t, tt.stdin, append([]string{"adduser", "-db", db}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(stderr, tt.wantMsg) {
				t.Errorf("stderr %q lacks %q", stderr, tt.wantMsg)
			}
			if code == 1 && !strings.Contains(stderr, "nothing was written") {
				t.Errorf("stderr %q does not say that nothing was written", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if sum := fileSum(t, db); sum != sumBefore {
				t.Errorf("the database file changed")
			}
			if got := usersIn(t, db); strings.Join(got, ",") != strings.Join(usersBefore, ",") {
				t.Errorf("users: got %v, want %v", got, usersBefore)
			}
		})
	}

	t.Run("bad input does not create a missing database", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "new.db")
		if code, _, _ := runCLI(t, "\n", "adduser", "-db", db, "-username", "zoe"); code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the database file was created: %v", err)
		}
	})
}

func TestHelpDescribesTheContract(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"serve", "-h"}, {"adduser", "-h"}} {
		code, _, stderr := runCLI(t, "", args...)
		if code != 0 {
			t.Errorf("%v: exit %d, want 0", args, code)
		}
		for _, want := range []string{"adduser [-db FILE | -database URL] -username NAME [-email EMAIL] [-role user|admin]", "serve [-db FILE | -database URL] [-addr HOST:PORT]", "-dev-oidc",
			"-session-strategy jwt|database", "DATABASE_URL",
			"AUTH_SECRET", "AUTH_URL", "-session-max-age", "-session-update-age", "-session-max-lifetime", "first line of standard input"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%v: the help lacks %q", args, want)
			}
		}
	}
	if code, _, stderr := runCLI(t, "", "frobnicate"); code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("an unknown command: exit %d, stderr %q", code, stderr)
	}
}

// server is a running `authgate-demo serve`.
type server struct {
	cmd    *exec.Cmd
	URL    string
	stdout []string // lines up to the "serving" line
	stderr *bytes.Buffer
	done   chan error
}

var servingLine = regexp.MustCompile(`^authgate-demo: serving (https?://\S+) `)

// startServe starts the binary with args and env and waits for its
// "serving" line.
func startServe(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	s := &server{cmd: exec.Command(binary, append([]string{"serve"}, args...)...), stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	s.cmd.Env = env
	s.cmd.Stderr = s.stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, out)
		s.done <- s.cmd.Wait()
	}()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited before serving; stdout %q, stderr %q", s.stdout, s.stderr)
			}
			s.stdout = append(s.stdout, line)
			if m := servingLine.FindStringSubmatch(line); m != nil {
				s.URL = m[1]
				go func() {
					for range lines {
					}
				}()
				return s
			}
		case <-timeout:
			t.Fatalf("serve did not start in 30s; stdout %q, stderr %q", s.stdout, s.stderr)
		}
	}
}

// stop sends sig and returns the exit code.
func (s *server) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop within 20s of %v", sig)
		return -1
	}
}

var demoPassword = regexp.MustCompile(`username: (\w+)\s+password: (\S+)\s+role: (\w+)`)

func TestServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	var alicePassword string

	t.Run("a fresh database gets the demo users, printed once, and a random secret with a warning", func(t *testing.T) {
		s := startServe(t, cleanEnv(), "-db", db, "-addr", "127.0.0.1:0")
		users := map[string]string{}
		for _, line := range s.stdout {
			if m := demoPassword.FindStringSubmatch(line); m != nil {
				users[m[1]+"/"+m[3]] = m[2]
			}
		}
		if len(users) != 2 || users["alice/admin"] == "" || users["bob/user"] == "" {
			t.Fatalf("demo users printed: %v; stdout %q", users, s.stdout)
		}
		alicePassword = users["alice/admin"]
		if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
			t.Errorf("AUTH_URL unset: serving %s, want http://127.0.0.1:PORT", s.URL)
		}

		c := (&demo{}).client(t)
		if r, _ := get(t, c, s.URL+"/api/me", ""); r.StatusCode != 401 {
			t.Errorf("GET /api/me anonymously: %d, want 401", r.StatusCode)
		}
		mustSignIn(t, c, s.URL, "alice", alicePassword)
		if r, body := get(t, c, s.URL+"/api/me", ""); r.StatusCode != 200 || !strings.Contains(body, `"role":"admin"`) {
			t.Errorf("GET /api/me as alice: %d %s", r.StatusCode, body)
		}

		if code := s.stop(t, syscall.SIGTERM); code != 0 {
			t.Errorf("exit %d after SIGTERM, want 0; stderr %q", code, s.stderr)
		}
		if !strings.Contains(s.stderr.String(), "AUTH_SECRET is not set") {
			t.Errorf("no warning about the random secret; stderr %q", s.stderr)
		}
	})

	t.Run("a restart keeps the users, prints no passwords but how to get one again; SIGINT stops it", func(t *testing.T) {
		if alicePassword == "" {
			t.Skip("needs the previous case")
		}
		env := cleanEnv("AUTH_SECRET=" + testSecret)
		s := startServe(t, env, "-db", db, "-addr", "127.0.0.1:0")
		out := strings.Join(s.stdout, "\n")
		if strings.Contains(out, alicePassword) || demoPassword.MatchString(out) {
			t.Errorf("a restart printed a password: %q", out)
		}
		for _, want := range []string{"2 users in " + db + ": alice (admin), bob (user)", "delete " + db, binary + " adduser -db " + db} {
			if !strings.Contains(out, want) {
				t.Errorf("a restart's output %q does not say %q", out, want)
			}
		}
		c := (&demo{}).client(t)
		mustSignIn(t, c, s.URL, "alice", alicePassword)
		if code := s.stop(t, os.Interrupt); code != 0 {
			t.Errorf("exit %d after SIGINT, want 0", code)
		}
		if strings.Contains(s.stderr.String(), "AUTH_SECRET is not set") {
			t.Errorf("warned about AUTH_SECRET although it is set")
		}
	})

	t.Run("the session flags reach the cookie", func(t *testing.T) {
		if alicePassword == "" {
			t.Skip("needs the first case")
		}
		s := startServe(t, cleanEnv("AUTH_SECRET="+testSecret), "-db", db, "-addr", "127.0.0.1:0", "-session-max-age", "1h")
		maxAge := sessionMaxAge(t, s.URL, "alice", alicePassword)
		if maxAge < 3590 || maxAge > 3600 {
			t.Errorf("session cookie Max-Age %d with -session-max-age 1h, want about 3600", maxAge)
		}
		s.stop(t, syscall.SIGTERM)

		s = startServe(t, cleanEnv("AUTH_SECRET="+testSecret), "-db", db, "-addr", "127.0.0.1:0", "-session-max-lifetime", "30m")
		maxAge = sessionMaxAge(t, s.URL, "alice", alicePassword)
		if maxAge < 1790 || maxAge > 1800 {
			t.Errorf("session cookie Max-Age %d with -session-max-lifetime 30m, want about 1800", maxAge)
		}
		s.stop(t, syscall.SIGTERM)
	})

	t.Run("AUTH_URL is the public URL", func(t *testing.T) {
		s := startServe(t, cleanEnv("AUTH_URL=https://demo.example.com", "AUTH_SECRET="+testSecret),
			"-db", filepath.Join(t.TempDir(), "x.db"), "-addr", "127.0.0.1:0")
		if s.URL != "https://demo.example.com" {
			t.Errorf("serving %s, want https://demo.example.com", s.URL)
		}
		if code := s.stop(t, syscall.SIGTERM); code != 0 {
			t.Errorf("exit %d after SIGTERM", code)
		}
	})

	t.Run("bad settings stop the start with a message", func(t *testing.T) {
		tests := []struct {
			name    string
			env     []string
			args    []string
			wantMsg string
		}{
			{"an AUTH_SECRET under 32 bytes", []string{"AUTH_SECRET=short"}, nil, "AUTH_SECRET is 5 bytes; it needs at least 32"},
			{"an AUTH_URL with a path", []string{"AUTH_URL=http://localhost:3000/app"}, nil, "must be an origin only"},
			{"an update age above the max age", nil, []string{"-session-max-age", "1h", "-session-update-age", "2h"}, "-session-update-age 2h0m0s exceeds -session-max-age 1h0m0s"},
			{"an update age above the default max age", nil, []string{"-session-update-age", "1000h"}, "-session-update-age 1000h0m0s exceeds -session-max-age 720h0m0s"},
			{"a negative lifetime", nil, []string{"-session-max-lifetime", "-1h"}, "-session-max-lifetime -1h0m0s"},
			{"a duration without a unit", nil, []string{"-session-max-age", "3600"}, "invalid value"},
			{"an unknown token format", nil, []string{"-token-format", "jwt"}, "-token-format"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cmd := exec.Command(binary, append([]string{"serve", "-db", filepath.Join(t.TempDir(), "x.db"), "-addr", "127.0.0.1:0"}, tt.args...)...)
				cmd.Env = cleanEnv(tt.env...)
				out, err := cmd.CombinedOutput()
				if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() == 0 {
					t.Fatalf("exit %v, want non-zero; output %q", err, out)
				}
				if !strings.Contains(string(out), tt.wantMsg) {
					t.Errorf("output %q lacks %q", out, tt.wantMsg)
				}
			})
		}
	})
}

// sessionMaxAge signs in and returns the Max-Age of the session cookie.
func sessionMaxAge(t *testing.T, base, username, password string) int {
	t.Helper()
	c := (&demo{}).client(t)
	_, body := get(t, c, base+"/api/auth/csrf", "")
	tok := regexp.MustCompile(`"csrfToken":"([0-9a-f]+)"`).FindStringSubmatch(body)
	if tok == nil {
		t.Fatalf("csrf: %q", body)
	}
	resp, err := c.PostForm(base+"/api/auth/callback/credentials", map[string][]string{
		"username": {username}, "password": {password}, "csrfToken": {tok[1]}, "json": {"true"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			return ck.MaxAge
		}
	}
	t.Fatalf("no session cookie in the sign-in answer (status %d)", resp.StatusCode)
	return 0
}

// TestServeRefusesStartupMistakesFirst: each mistake a newcomer makes at
// start-up stops serve with exit 1 and a message naming the variable or
// flag, before anything is printed on standard output (the demo users'
// one-time passwords come only after every check) and before the database
// file is created.
//
// "Quickly" is checked without a clock that a loaded machine could make
// flaky: none of these starts may reach the database (whose seeding hashes
// two passwords with bcrypt), which the missing file proves; the wall time
// is only logged, and bounded at 10 s to catch a start that hangs.
func TestServeRefusesStartupMistakesFirst(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name    string
		env     []string
		args    []string
		want    []string
		notWant string
	}{
		{"an AUTH_URL without a host", []string{"AUTH_URL=http://:3007"}, nil,
			[]string{`AUTH_URL "http://:3007" has no host`}, ""},
		{"an AUTH_SECRET of 8 bytes", []string{"AUTH_SECRET=12345678"}, nil,
			[]string{"AUTH_SECRET is 8 bytes; it needs at least 32", "openssl rand -base64 32"}, "12345678"},
		{"a -redis URL that does not parse, with a password", nil, []string{"-redis", "redis://:s3cret@localhost:6379/abc"},
			[]string{"-redis: ", `invalid redis URL "redis://xxxxx@localhost:6379/abc"`}, "s3cret"},
		{"a REDIS_URL that does not parse", []string{"REDIS_URL=localhost:6379"}, nil,
			[]string{"REDIS_URL: ", "invalid redis URL"}, ""},
		{"a Redis nobody listens to", nil, []string{"-redis", "redis://127.0.0.1:1/0"},
			[]string{"-redis: ", "no answer from 127.0.0.1:1"}, ""},
		{"a port in use", nil, []string{"-addr", taken.Addr().String()},
			[]string{"-addr " + taken.Addr().String() + ": the port is in use", "choose another port"}, ""},
		{"-dev-oidc with -oidc-issuer", nil, []string{"-dev-oidc", "-oidc-issuer", "http://127.0.0.1:1", "-oidc-client-id", "x"},
			[]string{"-dev-oidc and -oidc-issuer"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "demo.db")
			args := append([]string{"serve", "-db", db, "-addr", "127.0.0.1:0"}, tt.args...)
			cmd := exec.Command(binary, args...)
			cmd.Env = cleanEnv(append([]string{"REDIS_URL="}, tt.env...)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("serve was still running after 10s; stderr %q", &stderr)
			}
			t.Logf("exited after %v", time.Since(start).Round(time.Millisecond))
			if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit %v, want status 1; stderr %q", err, &stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr %q lacks %q", &stderr, want)
				}
			}
			if tt.notWant != "" && strings.Contains(stderr.String()+stdout.String(), tt.notWant) {
				t.Errorf("the output shows %q: stderr %q", tt.notWant, &stderr)
			}
			if stdout.Len() > 0 {
				t.Errorf("serve printed %q before stopping; want nothing (no demo passwords)", &stdout)
			}
			if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the database was created (%v): the start got past the checks", err)
			}
		})
	}
}

// TestHintsNameTheCommandTheUserRan: the hint printed on a restart shows
// the command that started the demo.
func TestHintsNameTheCommandTheUserRan(t *testing.T) {
	for _, tt := range []struct{ arg0, want string }{
		{"/tmp/go-build3141592653/b001/exe/authgate-demo", "go run ./cmd/authgate-demo"},
		{"./authgate-demo", "./authgate-demo"},
		{"authgate-demo", "authgate-demo"},
	} {
		if got := invocation(tt.arg0); got != tt.want {
			t.Errorf("invocation(%q) = %q, want %q", tt.arg0, got, tt.want)
		}
	}
}

// TestDevOIDCSignsInWithoutAnAccount: serve -dev-oidc lists "Sign in with
// OpenID Connect", and its button signs the visitor in as jane.doe with
// role user, all on loopback.
func TestDevOIDCSignsInWithoutAnAccount(t *testing.T) {
	s := startServe(t, cleanEnv("AUTH_SECRET="+testSecret), "-db", filepath.Join(t.TempDir(), "x.db"), "-addr", "127.0.0.1:0", "-dev-oidc")
	c := (&demo{}).client(t)
	if _, body := get(t, c, s.URL+"/login", "text/html"); !strings.Contains(body, "Sign in with OpenID Connect") {
		t.Fatalf("/login has no OpenID Connect button")
	}
	_, body := get(t, c, s.URL+"/api/auth/csrf", "")
	tok := regexp.MustCompile(`"csrfToken":"([0-9a-f]+)"`).FindStringSubmatch(body)
	if tok == nil {
		t.Fatalf("csrf: %q", body)
	}
	r, err := c.PostForm(s.URL+"/api/auth/signin/oidc", url.Values{"csrfToken": {tok[1]}, "callbackUrl": {"/dashboard"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	loc := r.Header.Get("Location")
	for i := 0; i < 4 && loc != "" && !strings.HasPrefix(loc, s.URL+"/dashboard"); i++ {
		r, _ = get(t, c, loc, "text/html")
		loc = r.Header.Get("Location")
	}
	if loc != s.URL+"/dashboard" {
		t.Fatalf("the sign-in ended at %q, want %s/dashboard", loc, s.URL)
	}
	if _, body := get(t, c, s.URL+"/api/me", ""); !strings.Contains(body, `"name":"jane.doe"`) || !strings.Contains(body, `"role":"user"`) {
		t.Errorf("GET /api/me after the sign-in: %s", body)
	}
	s.stop(t, syscall.SIGTERM)
	if !strings.Contains(s.stderr.String(), "-dev-oidc") {
		t.Errorf("serve did not say that a development provider runs; stderr %q", s.stderr)
	}
}
