package main

// Two demo processes sharing one real redis-server behave as one site. The
// processes are the built binary (see TestMain); redis-server is started by
// redistest (skipped without it, failing under CI=true).

import (
	"errors"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate/redisstore/redistest"
)

// publicURL is the origin both instances claim, as behind one load
// balancer: session cookies are bound to it. The tests talk to each
// instance directly (cookies ignore ports).
const publicURL = "http://127.0.0.1:3999"

// cookieValue returns the session cookie c holds for the instances.
func cookieValue(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			return ck.Value
		}
	}
	t.Fatal("no session cookie in the jar")
	return ""
}

// meWith answers GET /api/me on base carrying only the session cookie v.
func meWith(t *testing.T, base, v string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/me", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: v})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func signInOn(t *testing.T, c *http.Client, base, username, password string) int {
	t.Helper()
	status, _ := signInJSON(t, c, base, username, password)
	return status
}

func TestTwoInstancesShareOneRedis(t *testing.T) {
	srv := redistest.Start(t)
	db := filepath.Join(t.TempDir(), "demo.db")
	env := cleanEnv("AUTH_SECRET="+testSecret, "AUTH_URL="+publicURL, "REDIS_URL="+srv.URL())
	a := startServe(t, env, "-db", db, "-addr", "127.0.0.1:0")
	passwords := map[string]string{}
	for _, line := range a.stdout {
		if m := demoPassword.FindStringSubmatch(line); m != nil {
			passwords[m[1]] = m[2]
		}
	}
	if passwords["alice"] == "" {
		t.Fatalf("no demo passwords printed: %q", a.stdout)
	}
	b := startServe(t, env, "-db", db, "-addr", "127.0.0.1:0")
	addrA, addrB := listenAddr(t, a), listenAddr(t, b)
	outer := t

	t.Run("a cookie signed out on A is refused on B", func(t *testing.T) {
		c := (&demo{}).client(t)
		if s := signInOn(t, c, addrA, "alice", passwords["alice"]); s != 200 {
			t.Fatalf("sign in on A: %d", s)
		}
		v := cookieValue(t, c, addrA)
		if meWith(t, addrB, v) != 200 {
			t.Fatal("B does not accept A's session before the sign-out")
		}
		signOut(t, c, addrA)
		start := time.Now()
		for meWith(t, addrB, v) != 401 {
			if time.Since(start) > 5*time.Second {
				t.Fatal("B still accepts the signed-out cookie after 5s")
			}
		}
		t.Logf("B refused the signed-out cookie %v after A's sign-out answered", time.Since(start))

		// A restarted still refuses it: it reloads the revocations.
		if code := a.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("A exited %d", code)
		}
		a = startServe(outer, env, "-db", db, "-addr", "127.0.0.1:0") // lives for the later cases
		addrA = listenAddr(t, a)
		if got := meWith(t, addrA, v); got != 401 {
			t.Fatalf("restarted A answered %d to the signed-out cookie, want 401", got)
		}
	})

	t.Run("sign-out-everywhere on B ends the sessions held on A", func(t *testing.T) {
		phone, laptop := (&demo{}).client(t), (&demo{}).client(t)
		if signInOn(t, phone, addrA, "alice", passwords["alice"]) != 200 || signInOn(t, laptop, addrB, "alice", passwords["alice"]) != 200 {
			t.Fatal("sign-in failed")
		}
		v := cookieValue(t, phone, addrA)
		req, _ := http.NewRequest(http.MethodPost, addrB+"/account/signout-everywhere", nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := laptop.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 303 {
			t.Fatalf("sign-out-everywhere on B: %d, want 303", resp.StatusCode)
		}
		start := time.Now()
		for meWith(t, addrA, v) != 401 {
			if time.Since(start) > 5*time.Second {
				t.Fatal("A still accepts the phone's session after 5s")
			}
		}
	})

	t.Run("failures spread over A and B draw on one budget", func(t *testing.T) {
		c := (&demo{}).client(t)
		// The documented default: 10 failures per account and address.
		for i := range 10 {
			base := []string{addrA, addrB}[i%2]
			if s := signInOn(t, c, base, "bob", "wrong password"); s != 401 {
				t.Fatalf("failure %d: %d, want 401", i+1, s)
			}
		}
		for _, base := range []string{addrA, addrB} {
			if s := signInOn(t, c, base, "bob", passwords["bob"]); s != 429 {
				t.Fatalf("the 11th attempt, with the right password, on %s: %d, want 429", base, s)
			}
		}
	})
}

// TestTwoInstancesSurviveARedisOutage kills the shared redis-server under
// two demo processes: sign-ins fail closed with 503 and error=Busy, a
// signed-in session keeps being answered (within the staleness window),
// and once Redis is restarted sign-ins work again.
func TestTwoInstancesSurviveARedisOutage(t *testing.T) {
	srv := redistest.Start(t)
	db := filepath.Join(t.TempDir(), "demo.db")
	env := cleanEnv("AUTH_SECRET="+testSecret, "AUTH_URL="+publicURL, "REDIS_URL="+srv.URL())
	a := startServe(t, env, "-db", db, "-addr", "127.0.0.1:0")
	passwords := map[string]string{}
	for _, line := range a.stdout {
		if m := demoPassword.FindStringSubmatch(line); m != nil {
			passwords[m[1]] = m[2]
		}
	}
	b := startServe(t, env, "-db", db, "-addr", "127.0.0.1:0")
	addrA, addrB := listenAddr(t, a), listenAddr(t, b)
	c := (&demo{}).client(t)
	if s := signInOn(t, c, addrA, "alice", passwords["alice"]); s != 200 {
		t.Fatalf("sign in: %d", s)
	}
	v := cookieValue(t, c, addrA)

	srv.Kill()
	for _, base := range []string{addrA, addrB} {
		status, u := signInJSON(t, (&demo{}).client(t), base, "alice", passwords["alice"])
		if status != 503 || !strings.Contains(u, "error=Busy") {
			t.Errorf("sign-in on %s with Redis down: %d %q, want 503 and error=Busy", base, status, u)
		}
		if got := meWith(t, base, v); got != 200 {
			t.Errorf("a live session on %s right after Redis went down: %d, want 200 (staleness window)", base, got)
		}
	}

	srv.Restart()
	for _, base := range []string{addrA, addrB} {
		start := time.Now()
		for signInOn(t, (&demo{}).client(t), base, "bob", passwords["bob"]) != 200 {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("sign-in on %s still refused 10s after Redis came back", base)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// listenAddr is the instance's own address (its "listening on" part),
// since both claim the same public URL.
func listenAddr(t *testing.T, s *server) string {
	t.Helper()
	for _, line := range s.stdout {
		if _, rest, ok := strings.Cut(line, "(listening on "); ok {
			addr, _, _ := strings.Cut(rest, ",")
			return "http://" + addr
		}
	}
	t.Fatalf("no listening address in %q", s.stdout)
	return ""
}

var csrfJSON = regexp.MustCompile(`"csrfToken":"([0-9a-f]+)"`)

// signOut posts the sign-out form with json=true, as next-auth/react does.
func signOut(t *testing.T, c *http.Client, base string) {
	t.Helper()
	_, body := get(t, c, base+"/api/auth/csrf", "")
	tok := csrfJSON.FindStringSubmatch(body)
	if tok == nil {
		t.Fatalf("csrf: %q", body)
	}
	resp, err := c.PostForm(base+"/api/auth/signout", url.Values{"csrfToken": {tok[1]}, "json": {"true"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
}

func TestServeWithUnreachableRedisStops(t *testing.T) {
	for _, args := range [][]string{{"-redis", "redis://127.0.0.1:1/0"}, nil} {
		cmd := exec.Command(binary, append([]string{"serve", "-db", filepath.Join(t.TempDir(), "x.db"), "-addr", "127.0.0.1:0"}, args...)...)
		cmd.Env = cleanEnv("AUTH_SECRET="+testSecret, "REDIS_URL=redis://127.0.0.1:1/0")
		out, err := cmd.CombinedOutput()
		if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("args %q: exit %v, want 1; output %q", args, err, out)
		}
		if !strings.Contains(string(out), "redis unavailable") || !strings.Contains(string(out), "127.0.0.1:1") {
			t.Errorf("args %q: output %q does not say Redis is unreachable", args, out)
		}
	}
}
