package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestREADMEShowsThisProgram keeps the README's quick start and this file
// the same program: the README's first Go block is main.go, byte for byte.
func TestREADMEShowsThisProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "```go\n")
	block, _, ok2 := strings.Cut(block, "```\n")
	if !ok || !ok2 {
		t.Fatal("README.md has no ```go block")
	}
	if block != string(src) {
		t.Errorf("the README's quick start differs from examples/quickstart/main.go; paste main.go into the README's first ```go block")
	}
	if !strings.Contains(string(readme), "go get github.com/authgate/authgate") {
		t.Errorf("README.md has no go get line")
	}
	if len(readme) >= 10<<10 {
		t.Errorf("README.md is %d bytes, want under 10 KB", len(readme))
	}
}

// TestQuickStartServes builds the quick start, runs it as a user would and
// requests its routes anonymously, as a user and as an admin.
func TestQuickStartServes(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "quickstart")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "AUTH_SECRET=quickstart-test-secret-0123456789abcdef", "ADDR="+addr)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The log, line by line; done closes when the program has exited.
	var stderr strings.Builder // written by the reader below, read after done
	serving := make(chan struct{})
	done := make(chan struct{})
	var waitErr error
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if strings.HasSuffix(sc.Text(), "serving http://"+addr) {
				close(serving)
			}
		}
		waitErr = cmd.Wait()
		close(done)
	}()
	stop := func() { cmd.Process.Kill(); <-done }
	t.Cleanup(stop)
	base := "http://" + addr
	select {
	case <-serving:
	case <-done:
		t.Fatalf("the quick start exited: %v\n%s", waitErr, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("the quick start did not log serving http://%s within 30s", addr)
	}
	// "serving" is logged once the port is bound: a connection succeeds
	// at once, with no retry.
	if c, err := net.Dial("tcp", addr); err != nil {
		t.Fatalf("the quick start logged serving, but a connection fails: %v", err)
	} else {
		c.Close()
	}

	newClient := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	get := func(c *http.Client, path, accept string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode == http.StatusFound {
			return res.StatusCode, res.Header.Get("Location")
		}
		return res.StatusCode, strings.TrimSpace(string(b))
	}
	signIn := func(c *http.Client, username, password string) int {
		t.Helper()
		var v struct{ CsrfToken string }
		res, err := c.Get(base + "/api/auth/csrf")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(res.Body).Decode(&v)
		res.Body.Close()
		res, err = c.PostForm(base+"/api/auth/callback/credentials", url.Values{
			"username": {username}, "password": {password}, "csrfToken": {v.CsrfToken}, "json": {"true"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	anonymous, bob, alice := newClient(), newClient(), newClient()
	if code := signIn(anonymous, "bob", "wrong"); code != 401 {
		t.Errorf("a wrong password: got %d, want 401", code)
	}
	if code := signIn(bob, "bob", "bob-password"); code != 200 {
		t.Fatalf("bob's sign-in: got %d, want 200", code)
	}
	if code := signIn(alice, "alice", "alice-password"); code != 200 {
		t.Fatalf("alice's sign-in: got %d, want 200", code)
	}
	tests := []struct {
		name     string
		c        *http.Client
		path     string
		accept   string
		wantCode int
		wantBody string
	}{
		{"An anonymous /me", anonymous, "/me", "", 200, "anonymous"},
		{"An anonymous API call to /dashboard", anonymous, "/dashboard", "", 401, `{"error":"unauthenticated"}`},
		{"An anonymous browser at /dashboard goes to sign in", anonymous, "/dashboard", "text/html", 302, base + "/api/auth/signin?callbackUrl=" + url.QueryEscape(base+"/dashboard")},
		{"An anonymous /admin", anonymous, "/admin", "", 401, `{"error":"unauthenticated"}`},
		{"Bob's /me", bob, "/me", "", 200, "bob user"},
		{"Bob's /dashboard", bob, "/dashboard", "", 200, "hello bob"},
		{"Bob at /admin is forbidden", bob, "/admin", "", 403, `{"error":"forbidden"}`},
		{"Alice's /me shows her typed claim", alice, "/me", "", 200, "alice admin core"},
		{"Alice at /admin", alice, "/admin", "", 200, "admin area"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(tt.c, tt.path, tt.accept)
			if code != tt.wantCode || body != tt.wantBody {
				t.Errorf("GET %s: got %d %q, want %d %q", tt.path, code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("the quick start is no longer running: %v", err)
	}
	stop()
	if strings.Contains(stderr.String(), "panic") {
		t.Errorf("the quick start panicked:\n%s", stderr.String())
	}
}
