package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/nextauth"
)

// TestTokenFormat checks -token-format: the session cookie's name and
// encoding are NextAuth's with nextauth-v4 and authjs-v5, so a Next.js app
// with the same AUTH_SECRET shares the session, and a token such an app
// minted (NextAuth's own claims only) signs the user in here.
func TestTokenFormat(t *testing.T) {
	v4, _ := nextauth.NewV4(testSecret)
	v5, _ := nextauth.NewV5(testSecret)
	for _, tc := range []struct {
		format, cookie string
		codec          authgate.Codec // nil: authgate's own, not NextAuth's
	}{
		{"authgate", "authgate.session-token", nil},
		{"nextauth-v4", "next-auth.session-token", v4},
		{"authjs-v5", "authjs.session-token", v5},
	} {
		t.Run(tc.format, func(t *testing.T) {
			d := startDemo(t, "", func(o *Options) { o.TokenFormat = tc.format })
			c := d.client(t)
			mustSignIn(t, c, d.URL, "alice", d.Passwords["alice"])
			u, _ := url.Parse(d.URL)
			var value string
			for _, ck := range c.Jar.Cookies(u) {
				if ck.Name == tc.cookie {
					value = ck.Value
				}
			}
			if value == "" {
				t.Fatalf("no %s cookie after sign-in; got %v", tc.cookie, c.Jar.Cookies(u))
			}
			if r, body := get(t, c, d.URL+"/api/me", ""); r.StatusCode != 200 || !strings.Contains(body, `"role":"admin"`) {
				t.Fatalf("GET /api/me: %d %s", r.StatusCode, body)
			}
			if tc.codec == nil {
				if strings.Count(value, ".") == 4 {
					t.Errorf("the default format wrote a JWE")
				}
				return
			}
			// What a Next.js app's decode sees: NextAuth's claims at the top.
			p := map[string]any{}
			if err := tc.codec.Decode(tc.cookie, value, &p); err != nil {
				t.Fatalf("NextAuth's format does not decode: %v", err)
			}
			if p["name"] != "alice" || p["role"] != "admin" || p["sub"] == nil || p["exp"] == nil || p["jti"] == nil {
				t.Errorf("payload %v", p)
			}

			// A session a Next.js app minted for alice.
			alice, err := d.Store.UserByUsername(context.Background(), "alice")
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			minted, err := tc.codec.Encode(tc.cookie, map[string]any{
				"sub": alice.ID, "name": "alice", "email": alice.Email, "role": "admin",
				"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
			})
			if err != nil {
				t.Fatal(err)
			}
			next := d.client(t)
			next.Jar.SetCookies(u, []*http.Cookie{{Name: tc.cookie, Value: minted, Path: "/"}})
			if r, body := get(t, next, d.URL+"/api/me", ""); r.StatusCode != 200 || !strings.Contains(body, `"role":"admin"`) {
				t.Errorf("a Next.js-minted session: GET /api/me: %d %s", r.StatusCode, body)
			}
		})
	}
	t.Run("an unknown format is refused", func(t *testing.T) {
		if _, _, err := tokenFormat("jwt", testSecret); err == nil {
			t.Error("accepted")
		}
	})
}

// TestNextJSAppReadsTheDemosNextAuthCookie runs the unmodified next-auth
// 4.24.15 (examples/nextauth-interop/next-app.mjs, whose callbacks are a
// typical Next.js app's: token.id = user.id and token.role = user.role at
// sign-in, then session.user.id = token.id) on the cookie the demo minted
// with -token-format nextauth-v4: getServerSession, as a page or route
// handler calls it, and getToken, what next-auth's middleware (withAuth)
// reads, must see the user's id and role.
func TestNextJSAppReadsTheDemosNextAuthCookie(t *testing.T) {
	interop, err := filepath.Abs(filepath.Join("..", "..", "examples", "nextauth-interop"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		skipOrFail(t, "node is not on $PATH")
	}
	if _, err := os.Stat(filepath.Join(interop, "node_modules", "next-auth", "package.json")); err != nil {
		skipOrFail(t, "next-auth is not installed; run npm ci in examples/nextauth-interop")
	}
	d := startDemo(t, "", func(o *Options) { o.TokenFormat = "nextauth-v4" })
	c := d.client(t)
	mustSignIn(t, c, d.URL, "alice", d.Passwords["alice"])
	u, _ := url.Parse(d.URL)
	var cookie string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == nextauth.V4CookieName {
			cookie = ck.Name + "=" + ck.Value
		}
	}
	alice, err := d.Store.UserByUsername(context.Background(), "alice")
	if err != nil || cookie == "" {
		t.Fatalf("no session cookie (%v)", err)
	}
	id := alice.ID

	cmd := exec.Command("node", "next-app.mjs")
	cmd.Dir = interop
	cmd.Env = append(os.Environ(), "AUTH_SECRET="+testSecret, "NEXTAUTH_URL="+d.URL, "PORT=0")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				port <- p
			}
		}
	}()
	var node string
	select {
	case p := <-port:
		node = "http://127.0.0.1:" + p
	case <-time.After(30 * time.Second):
		t.Fatal("the Next.js stand-in did not start")
	}
	ask := func(path string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest("GET", node+path, nil)
		req.Header.Set("Cookie", cookie)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(res.Body).Decode(&v); err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
		}
		return v
	}
	sess := ask("/api/node/session")
	user, _ := sess["user"].(map[string]any)
	if user["id"] != id || user["role"] != "admin" || user["name"] != "alice" {
		t.Errorf("getServerSession: %v; want user.id %q and role admin", sess, id)
	}
	if tok := ask("/api/node/token"); tok["id"] != id || tok["role"] != "admin" || tok["sub"] != id {
		t.Errorf("getToken: %v; want id and sub %q and role admin", tok, id)
	}
}
