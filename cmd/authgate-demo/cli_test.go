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
	s, err := OpenStore(context.Background(), path)
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
			s, err := OpenStore(context.Background(), db)
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
		for _, want := range []string{"adduser -db FILE", "-username NAME", "serve [-db FILE] [-addr HOST:PORT]",
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
		for _, want := range []string{"2 users in " + db + ": alice (admin), bob (user)", "delete " + db, "adduser -db " + db} {
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
			{"an AUTH_SECRET under 32 bytes", []string{"AUTH_SECRET=short"}, nil, "at least 32 are required"},
			{"an AUTH_URL with a path", []string{"AUTH_URL=http://localhost:3000/app"}, nil, "must be an origin only"},
			{"an update age above the max age", nil, []string{"-session-max-age", "1h", "-session-update-age", "2h"}, "UpdateAge"},
			{"a duration without a unit", nil, []string{"-session-max-age", "3600"}, "invalid value"},
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
