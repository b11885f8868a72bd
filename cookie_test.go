package authgate_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

// Tests of the session cookie itself: its times, chunking, names and
// attributes on https, key rotation, and forgery (FuzzSessionCookie).

func TestCookieTimes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		advance time.Duration // after minting
		want    string
	}{
		{"A fresh cookie is accepted", time.Minute, "u1 admin "},
		{"A cookie idle for MaxAge has expired", authgate.DefaultMaxAge, "anonymous"},
		{"A cookie dated in the future is refused", -time.Hour, "anonymous"},
		{"A cookie within the clock skew is accepted", -10 * time.Second, "u1 admin "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, nil)
			ck := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1", Role: "admin"})
			a.clk.Advance(tt.advance)
			if got := a.serve(request("GET", "/whoami", ck...)).Body.String(); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// bigPlan makes a session too big for one cookie.
var bigPlan = strings.Repeat("x", 6000)

func TestChunkedCookies(t *testing.T) {
	t.Parallel()
	t.Run("A big session is split into chunks that read back whole", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, func(c *authgate.Config[claims]) {
			c.SignOnly = false
			jwt := c.Callbacks.JWT
			c.Callbacks.JWT = func(ctx context.Context, p authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
				tok, err := jwt(ctx, p)
				if err == nil && p.Trigger == authgate.TriggerSignIn {
					tok.Claims.Plan = bigPlan
				}
				return tok, err
			}
		})
		c := a.client()
		sc := sessionSetCookies(c.signIn("alice", "alice-password").Response)
		if len(sc) < 2 || sc[0].Name != sessionCookie+".0" || sc[1].Name != sessionCookie+".1" {
			t.Fatalf("got %d session cookies, want chunks .0 and .1", len(sc))
		}
		for _, ck := range sc {
			if len(ck.Value) > 3933 {
				t.Errorf("chunk %s: got %d bytes, want at most 3933", ck.Name, len(ck.Value))
			}
		}
		if res := c.get("/whoami"); res.body != "u1 admin "+bigPlan {
			t.Fatalf("reading the chunks back: got %d bytes, want %d", len(res.body), len("u1 admin "+bigPlan))
		}
	})

	t.Run("A session past MaxCookieChunks fails loudly and sets nothing", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, func(c *authgate.Config[claims]) {
			c.MaxCookieChunks = 1
			c.Callbacks.JWT = func(ctx context.Context, p authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
				p.Token.Claims.Plan = bigPlan
				return p.Token, nil
			}
		})
		if _, err := a.auth.NewSessionCookies(context.Background(), &authgate.User[claims]{ID: "u1"}); !errors.Is(err, authgate.ErrSessionTooLarge) {
			t.Errorf("NewSessionCookies: got %v, want ErrSessionTooLarge", err)
		}
		res := a.client().signIn("alice", "alice-password")
		if res.StatusCode != 500 || len(sessionSetCookies(res.Response)) != 0 {
			t.Errorf("sign-in: got %d with %d cookies, want 500 and none", res.StatusCode, len(sessionSetCookies(res.Response)))
		}
	})
}

func TestSecureOriginCookies(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *authgate.Config[claims]) { c.URL = "https://app.example" })
	ck := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1"})
	if ck[0].Name != "__Secure-"+sessionCookie || !ck[0].Secure {
		t.Errorf("session cookie on https: got %s secure=%v, want __Secure- and Secure", ck[0].Name, ck[0].Secure)
	}
	r := httptest.NewRequest("GET", "http://app.example/api/auth/csrf", nil)
	r.Header.Set("X-Forwarded-Proto", "http")
	c := a.serve(r).Result().Cookies()
	if len(c) != 1 || c[0].Name != "__Host-"+csrfCookie || !c[0].Secure || c[0].Path != "/" || c[0].Domain != "" {
		t.Errorf("CSRF cookie on https: got %+v, want the __Host- prefix, Secure, Path=/ and no Domain", c)
	}
	// A full sign-in on https keeps the prefixes, and the jar sends the
	// Secure cookies back.
	cl := a.client()
	if res := cl.signIn("alice", "alice-password"); res.StatusCode != 200 || cl.cookie("__Secure-"+sessionCookie) == "" {
		t.Fatalf("sign-in on https: got %d and cookies %v, want 200 and a __Secure- session", res.StatusCode, cl.cookies())
	}
	if res := cl.get("/whoami"); res.body != "u1 admin pro" {
		t.Errorf("GET /whoami on https: got %q, want %q", res.body, "u1 admin pro")
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	clk := newClock()
	mk := func(secrets ...string) *authgate.Auth[claims] {
		cfg := newConfig(appURL, clk)
		cfg.Secrets = secrets
		a, err := authgate.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	old := authgatetest.Cookies(t, mk(secretA), authgate.User[claims]{ID: "u1"})
	fresh := authgatetest.Cookies(t, mk(secretB, secretA), authgate.User[claims]{ID: "u1"})
	tests := []struct {
		name    string
		auth    *authgate.Auth[claims]
		cookies []*http.Cookie
		wantErr error
	}{
		{"The old secret still verifies after a new one is put first", mk(secretB, secretA), old, nil},
		{"A removed secret no longer verifies", mk(secretB), old, authgate.ErrInvalidSession},
		{"A cookie minted after rotation verifies with the new secret alone", mk(secretB), fresh, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.auth.Check(request("GET", "/", tt.cookies...))
			if (tt.wantErr == nil) != (err == nil) || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Check: got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// FuzzSessionCookie feeds arbitrary cookie values to the middleware's
// decision. Whatever arrives, Check must not panic, and it may only accept
// a value that carries the one session the test minted: no input forges
// another.
func FuzzSessionCookie(f *testing.F) {
	a := newApp(f, nil)
	ck := authgatetest.Cookies(f, a.auth, authgate.User[claims]{ID: "u1", Role: "admin"})[0]
	f.Add(ck.Value)
	f.Add(ck.Value[:len(ck.Value)-2])
	f.Add(strings.ToUpper(ck.Value))
	f.Add("")
	f.Add("|||")
	f.Add(strings.Repeat("A", 4000))
	f.Add("MTc5NTkyNTg5OXwzQ0hUUFVZRWJz")
	f.Fuzz(func(t *testing.T, value string) {
		r := request("GET", "/")
		r.Header.Set("Cookie", ck.Name+"="+value)
		s, err := a.auth.Check(r)
		if err == nil && (s.User.ID != "u1" || s.User.Role != "admin") {
			t.Fatalf("accepted a forged session %+v from %q", s.User, value)
		}
	})
}
