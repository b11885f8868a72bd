package nextauth_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/nextauth"
)

// These tests put the codecs behind authgate.New: every server-side rule
// (times, audience, revocation) applies to NextAuth's tokens, and tokens a
// Next.js app minted (without authgate's own claims) get the documented
// defaults.

const origin = "http://localhost:3000"

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// newAuth returns an Auth sharing sessions through codec under cookie.
func newAuth(t *testing.T, codec authgate.Codec, cookie string) (*authgate.Auth[Claims], *clock) {
	t.Helper()
	clk := &clock{now: t0}
	a, err := authgate.New(authgate.Config[Claims]{
		Secrets:           []string{secret},
		URL:               origin,
		Codec:             codec,
		SessionCookieName: cookie,
		Authorize: func(context.Context, *authgate.Credentials) (*authgate.User[Claims], error) {
			return nil, nil
		},
		Hasher: authgate.BcryptHasher{Cost: 4},
		Logger: slog.New(slog.DiscardHandler),
		Now:    clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a, clk
}

// nextMinted is a token as next-auth's encode makes it at now: the default
// claims, the app's at the top level, a UUID jti, no aud or auth_time.
func nextMinted(now time.Time) map[string]any {
	return map[string]any{
		"sub": "user-42", "name": "Alice Example", "email": "alice@example.com", "picture": nil,
		"role": "admin", "plan": "pro",
		"iat": now.Unix(), "exp": now.Add(30 * 24 * time.Hour).Unix(),
		"jti": "0b6f3c2e-6a55-4f4e-9d6e-3f1f0f7f2a10",
	}
}

// serve runs one request carrying cookies through a's middleware.
func serve(a *authgate.Auth[Claims], cookies ...*http.Cookie) (*authgate.Session[Claims], *http.Response) {
	r := httptest.NewRequest("GET", origin+"/api/me", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	var got *authgate.Session[Claims]
	a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = a.Session(r)
	})).ServeHTTP(w, r)
	return got, w.Result()
}

func TestNextMintedTokensBehindAuthgate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		codec  authgate.Codec
		cookie string
	}{
		{"v4", mustV4(t), nextauth.V4CookieName},
		{"v5", mustV5(t), nextauth.V5CookieName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, clk := newAuth(t, tc.codec, tc.cookie)
			mint := func(edit func(map[string]any)) *http.Cookie {
				p := nextMinted(clk.Now())
				if edit != nil {
					edit(p)
				}
				v, err := tc.codec.Encode(tc.cookie, p)
				if err != nil {
					t.Fatal(err)
				}
				return &http.Cookie{Name: tc.cookie, Value: v}
			}
			s, _ := serve(a, mint(nil))
			if s == nil {
				t.Fatal("a Next.js-minted token was refused")
			}
			if s.User.ID != "user-42" || s.User.Name != "Alice Example" || s.User.Role != "admin" || s.Claims.Plan != "pro" {
				t.Errorf("got %+v", s)
			}
			if !s.AuthTime().IsZero() || len(s.ID()) != 22 || s.ID() == "0b6f3c2e-6a55-4f4e-9d6e-3f1f0f7f2a10" {
				t.Errorf("defaults: auth time %v (want unknown: zero), id %q (want one derived from sub and auth_time, not the jti)", s.AuthTime(), s.ID())
			}
			// NextAuth re-encodes with a new jti: the same session.
			again, _ := serve(a, mint(func(p map[string]any) { p["jti"] = "5b1d7c8a-1111-4e4e-8888-0123456789ab" }))
			if again == nil || again.ID() != s.ID() {
				t.Errorf("a copy with another jti has session id %v, want %q", again, s.ID())
			}
			for _, r := range []struct {
				name string
				edit func(map[string]any)
			}{
				{"another deployment's audience", func(p map[string]any) { p["aud"] = "https://other.example" }},
				{"expired 16 s ago (beyond NextAuth's 15 s tolerance)", func(p map[string]any) { p["exp"] = clk.Now().Unix() - 16 }},
				{"expired 1 s ago (authgate allows no tolerance on exp)", func(p map[string]any) { p["exp"] = clk.Now().Unix() - 1 }},
				{"issued more than 15 s in the future", func(p map[string]any) { p["iat"] = clk.Now().Unix() + 16 }},
				{"no subject (an OAuth check token)", func(p map[string]any) { delete(p, "sub") }},
				{"no jti", func(p map[string]any) { delete(p, "jti") }},
				{"a sid that is no id", func(p map[string]any) { p["sid"] = "../../etc" }},
				{"an nbf 16 s ahead", func(p map[string]any) { p["nbf"] = time.Now().Unix() + 16 }},
				{"an nbf that is not a number", func(p map[string]any) { p["nbf"] = "0" }},
				{"no iat", func(p map[string]any) { delete(p, "iat") }},
				{"signed in longer ago than the absolute lifetime", func(p map[string]any) {
					p["auth_time"] = clk.Now().Add(-91 * 24 * time.Hour).Unix()
				}},
				{"a claim of the wrong type", func(p map[string]any) { p["role"] = 7 }},
			} {
				t.Run(r.name, func(t *testing.T) {
					if s, _ := serve(a, mint(r.edit)); s != nil {
						t.Errorf("accepted: %+v", s)
					}
				})
			}
		})
	}
}

func TestReissueWritesAuthgateClaimsInNextAuthFormat(t *testing.T) {
	codec := mustV4(t)
	a, clk := newAuth(t, codec, nextauth.V4CookieName)
	v, err := codec.Encode(nextauth.V4CookieName, nextMinted(clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(25 * time.Hour) // past UpdateAge: the middleware re-issues
	s, res := serve(a, &http.Cookie{Name: nextauth.V4CookieName, Value: v})
	if s == nil {
		t.Fatal("refused")
	}
	var set *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == nextauth.V4CookieName {
			set = c
		}
	}
	if set == nil {
		t.Fatalf("no %s re-issued; got %v", nextauth.V4CookieName, res.Cookies())
	}
	tok := new(authgate.Token[Claims])
	if err := codec.Decode(nextauth.V4CookieName, set.Value, tok); err != nil {
		t.Fatal(err)
	}
	// The session id derived for the Next.js token (it had no sid) is
	// written as sid, so it stays the same from now on. Its sign-in time
	// stays unknown: no auth_time is written (its iat is no sign-in time).
	if tok.AuthTime != 0 || tok.Audience != origin || tok.ID != s.ID() || tok.IssuedAt != clk.Now().Unix() || tok.Claims.Plan != "pro" {
		t.Errorf("re-issued token: %+v", tok)
	}
}

// TestSignOutSurvivesANextJSRefresh checks that per-session revocation
// holds when a Next.js app re-encodes the token (new jti, other claims
// copied): the session id travels as "sid".
func TestSignOutSurvivesANextJSRefresh(t *testing.T) {
	codec := mustV4(t)
	a, clk := newAuth(t, codec, nextauth.V4CookieName)
	cookies, err := a.NewSessionCookies(context.Background(), &authgate.User[Claims]{ID: "user-42", Claims: Claims{Plan: "pro"}})
	if err != nil {
		t.Fatal(err)
	}
	// What next-auth's session route does: decode, copy every claim, encode
	// with a fresh jti, iat and exp.
	payload := map[string]any{}
	if err := codec.Decode(nextauth.V4CookieName, cookies[0].Value, &payload); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	payload["jti"], payload["iat"], payload["exp"] = "5b1d7c8a-1111-4e4e-8888-0123456789ab", clk.Now().Unix(), clk.Now().Add(time.Hour).Unix()
	refreshed, err := codec.Encode(nextauth.V4CookieName, payload)
	if err != nil {
		t.Fatal(err)
	}
	next := &http.Cookie{Name: nextauth.V4CookieName, Value: refreshed}
	if s, _ := serve(a, next); s == nil {
		t.Fatal("the refreshed token was refused before sign-out")
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", origin+"/signout", nil)
	r.AddCookie(cookies[0])
	if err := a.SignOut(w, r); err != nil {
		t.Fatal(err)
	}
	if s, _ := serve(a, cookies[0]); s != nil {
		t.Error("the signed-out token is still accepted")
	}
	if s, _ := serve(a, next); s != nil {
		t.Error("the Next.js-refreshed copy of the signed-out session is still accepted")
	}
}

func TestCookieLongerThanFourChunksIsRefused(t *testing.T) {
	a, _ := newAuth(t, mustV4(t), nextauth.V4CookieName)
	if s, _ := serve(a, &http.Cookie{Name: nextauth.V4CookieName, Value: strings.Repeat("A", 4*3933+1)}); s != nil {
		t.Error("accepted")
	}
}
