package main

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
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
				"sub": strconv.FormatInt(alice.ID, 10), "name": "alice", "email": alice.Email, "role": "admin",
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
