package authgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
	"github.com/gorilla/securecookie"
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

// sharedCodec is securecookie (JSON) that says it is Shared, as the
// nextauth module's codecs do: its session cookie keeps NextAuth's
// __Secure- name on https.
type sharedCodec struct{ *securecookie.SecureCookie }

func (sharedCodec) CodecInfo() authgate.CodecInfo {
	return authgate.CodecInfo{Pure: true, Shared: true}
}

func newSharedCodec() sharedCodec {
	sc := securecookie.New([]byte(secretA), []byte(secretB[:32]))
	sc.SetSerializer(securecookie.JSONEncoder{})
	return sharedCodec{sc}
}

// recordSetCookies wraps a's handler so that every Set-Cookie it answers
// is appended to *out; clients made afterwards go through it.
func recordSetCookies(a *app, out *[]*http.Cookie) {
	next := a.h
	var mu sync.Mutex
	a.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		mu.Lock()
		*out = append(*out, rec.Result().Cookies()...)
		mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

// TestEveryCookieIsHostPrefixedOnHTTPS drives every flow that sets a
// cookie on an https origin (CSRF, credentials sign-in with a callback
// URL, re-issue, an OAuth sign-in with its check cookies, sign-out) and
// requires each cookie authgate names to be __Host-: Secure, Path=/, no
// Domain, so no sibling subdomain can plant it. With a Shared codec only
// the session cookie keeps NextAuth's __Secure- name.
func TestEveryCookieIsHostPrefixedOnHTTPS(t *testing.T) {
	t.Parallel()
	for _, shared := range []bool{false, true} {
		name := "authgate's codec"
		if shared {
			name = "a shared (NextAuth) codec"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, func(c *authgate.Config[claims]) {
				c.URL = "https://app.example"
				c.MaxAge, c.UpdateAge = time.Hour, 10*time.Minute
				c.Providers = []authgate.OAuthProvider{newFake("fake")}
				if shared {
					c.Codec = newSharedCodec()
				}
			})
			var set []*http.Cookie
			recordSetCookies(a, &set)
			c := a.client()
			if res := c.signIn("alice", "alice-password"); res.StatusCode != 200 {
				t.Fatalf("sign-in on https: %d %s", res.StatusCode, res.body)
			}
			if res := c.get("/whoami"); res.body != "u1 admin pro" {
				t.Errorf("GET /whoami on https: got %q, want %q", res.body, "u1 admin pro")
			}
			a.clk.Advance(11 * time.Minute)
			c.get("/api/auth/session") // re-issued
			c.oauthSignIn("fake", url.Values{"callbackUrl": {"/whoami"}})
			c.signOut()

			seen := map[string]bool{}
			for _, ck := range set {
				seen[strings.TrimPrefix(strings.TrimPrefix(ck.Name, "__Host-"), "__Secure-")] = true
				prefix := "__Host-"
				if shared && strings.Contains(ck.Name, sessionCookie) {
					prefix = "__Secure-"
				}
				if !strings.HasPrefix(ck.Name, prefix) || !ck.Secure || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly {
					t.Errorf("cookie %s: Secure=%v Path=%q Domain=%q HttpOnly=%v, want the %s prefix, Secure, Path=/, no Domain, HttpOnly",
						ck.Name, ck.Secure, ck.Path, ck.Domain, ck.HttpOnly, prefix)
				}
			}
			for _, want := range []string{sessionCookie, csrfCookie, "authgate.callback-url", "authgate.state", "authgate.pkce.code_verifier", "authgate.nonce"} {
				if !seen[want] {
					t.Errorf("the flows never set %s; got %v", want, seen)
				}
			}
		})
	}
}

// plant does what a page on a sibling host (evil.app.example) can do to
// the victim's browser: set cookies with Domain=app.example, which the
// browser sends to app.example beside its own. A browser refuses a
// __Host- cookie with a Domain attribute, so plant does too; it also tries
// each name without its prefix and with __Secure-.
func plant(victim *client, cookies []*http.Cookie) {
	evil, _ := url.Parse("https://evil.app.example/")
	var planted []*http.Cookie
	for _, ck := range cookies {
		base := strings.TrimPrefix(strings.TrimPrefix(ck.Name, "__Host-"), "__Secure-")
		for _, name := range []string{ck.Name, base, "__Secure-" + base} {
			if strings.HasPrefix(name, "__Host-") {
				continue // refused by the browser
			}
			planted = append(planted, &http.Cookie{Name: name, Value: ck.Value, Domain: "app.example", Path: "/", Secure: true})
		}
	}
	victim.hc.Jar.SetCookies(evil, planted)
}

// TestPlantedCookiesCannotTakeOverASession plays the cookie-tossing
// attacks: a sibling subdomain plants the attacker's session cookie, or
// the attacker's OAuth check cookies, into the victim's browser. The
// victim never becomes the attacker.
func TestPlantedCookiesCannotTakeOverASession(t *testing.T) {
	t.Parallel()
	https := func(shared bool) func(c *authgate.Config[claims]) {
		return func(c *authgate.Config[claims]) {
			c.URL = "https://app.example"
			c.Providers = []authgate.OAuthProvider{newFake("fake")}
			if shared {
				c.Codec = newSharedCodec()
			}
		}
	}
	t.Run("the attacker's session cookie", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, https(false))
		victim, attacker := a.client(), a.client()
		victim.signIn("alice", "alice-password")
		attacker.signIn("bob", "bob-password")
		plant(victim, attacker.cookies())
		for i := range 3 {
			if got := victim.get("/whoami").body; got != "u1 admin pro" {
				t.Fatalf("request %d: the victim is %q, want still alice", i+1, got)
			}
		}
	})
	t.Run("the attacker's session cookie beside a shared codec's __Secure- one", func(t *testing.T) {
		t.Parallel()
		// A browser keeps a host-only cookie and a planted domain cookie
		// of the same name side by side and sends both (net/http's jar
		// cannot: it would replace one with the other), so this browser
		// is played by hand. Clearing the cookie on the duplicate would
		// delete only the host-only copy and leave the attacker's to be
		// read alone next time; authgate refuses both and clears none.
		a := newApp(t, https(true))
		name := "__Secure-" + sessionCookie
		mine := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1", Role: "admin"})[0].Value
		theirs := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u2", Role: "user"})[0].Value
		for i := range 3 {
			r := httptest.NewRequest("GET", "https://app.example/whoami", nil)
			if mine != "" {
				r.Header.Add("Cookie", name+"="+mine)
			}
			r.Header.Add("Cookie", name+"="+theirs) // Domain=app.example, planted
			res := a.serve(r)
			if strings.HasPrefix(res.Body.String(), "u2") {
				t.Fatalf("request %d: the victim is the attacker", i+1)
			}
			for _, ck := range res.Result().Cookies() {
				if ck.Name == name && ck.Domain == "" && ck.MaxAge < 0 {
					mine = "" // the browser drops its host-only copy
				}
			}
		}
	})
	t.Run("the attacker's OAuth check cookies", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, https(false))
		victim, attacker := a.client(), a.client()
		form := url.Values{"csrfToken": {attacker.csrf()}, "json": {"true"}}
		res := attacker.postForm("/api/auth/signin/fake", form)
		var v struct{ URL string }
		if err := json.Unmarshal([]byte(res.body), &v); err != nil || res.StatusCode != 200 {
			t.Fatalf("POST /signin/fake: %d %s", res.StatusCode, res.body)
		}
		// The attacker stops at the provider's callback URL, with their
		// own account's code and state, and sends the victim there with
		// the attacker's check cookies planted.
		u, _ := url.Parse(v.URL)
		q := u.Query()
		plant(victim, attacker.cookies())
		cb := "/api/auth/callback/fake?" + url.Values{"code": {q.Get("code")}, "state": {q.Get("state")}}.Encode()
		res = victim.get(cb)
		if loc := res.Header.Get("Location"); !strings.Contains(loc, "error=OAuthCallback") {
			t.Errorf("the planted callback: %d to %q, want refused with OAuthCallback", res.StatusCode, loc)
		}
		if got := victim.get("/whoami").body; got != "anonymous" {
			t.Errorf("the victim is signed in as %q, want anonymous", got)
		}
	})
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
