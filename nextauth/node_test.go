package nextauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/nextauth"
	"github.com/authgate/authgate/nextauth/internal/nodejwt"
)

// These tests run the real next-auth 4 and @auth/core packages (see
// package nodejwt): skipped locally without node and `npm ci`, failed
// under CI=true.

// nextToken is the token a NextAuth app's jwt callback builds for a
// credentials sign-in: the default claims plus the app's own at the top.
func nextToken() map[string]any {
	return map[string]any{
		"sub": "user-42", "name": "Alice Example", "email": "alice@example.com",
		"picture": "https://example.com/a.png", "role": "admin", "roles": []string{"admin", "billing"},
		"plan": "pro", "orgId": 7,
	}
}

// checkFromNext checks that got carries every claim of nextToken and the
// registered claims NextAuth's encode set.
func checkFromNext(t *testing.T, got *authgate.Token[Claims]) {
	t.Helper()
	want := authgate.Token[Claims]{
		Subject: "user-42", Name: "Alice Example", Email: "alice@example.com",
		Picture: "https://example.com/a.png", Role: "admin", Roles: []string{"admin", "billing"},
		Claims: Claims{Plan: "pro", OrgID: 7},
	}
	// No sid: the session id is derived from what NextAuth keeps across
	// re-encodes (sub, auth_time), not the jti it replaces each time.
	if got.IssuedAt == 0 || got.ExpiresAt != got.IssuedAt+3600 || len(got.ID) != 22 {
		t.Errorf("registered claims: iat %d, exp %d, id %q; want exp = iat+3600 and a derived id", got.IssuedAt, got.ExpiresAt, got.ID)
	}
	want.IssuedAt, want.ExpiresAt, want.ID = got.IssuedAt, got.ExpiresAt, got.ID
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got %+v, want %+v", *got, want)
	}
}

func TestNextAuthMintedTokensDecodeInGo(t *testing.T) {
	node := nodejwt.Start(t)
	t.Run("v4", func(t *testing.T) {
		v := node.Encode(t, "v4", nextToken(), secret, "", 3600)
		got := new(authgate.Token[Claims])
		if err := mustV4(t).Decode(nextauth.V4CookieName, v, got); err != nil {
			t.Fatal(err)
		}
		checkFromNext(t, got)
	})
	t.Run("v5", func(t *testing.T) {
		v := node.Encode(t, "v5", nextToken(), secret, nextauth.V5CookieName, 3600)
		got := new(authgate.Token[Claims])
		if err := mustV5(t).Decode(nextauth.V5CookieName, v, got); err != nil {
			t.Fatal(err)
		}
		checkFromNext(t, got)
	})
	t.Run("v5 minted with the old secret, after rotation", func(t *testing.T) {
		v := node.Encode(t, "v5", nextToken(), oldSecret, nextauth.V5CookieName, 3600)
		got := new(authgate.Token[Claims])
		if err := mustV5(t, secret, oldSecret).Decode(nextauth.V5CookieName, v, got); err != nil {
			t.Fatal(err)
		}
		checkFromNext(t, got)
	})
	t.Run("v5 with the wrong secret is refused", func(t *testing.T) {
		v := node.Encode(t, "v5", nextToken(), oldSecret, nextauth.V5CookieName, 3600)
		if err := mustV5(t).Decode(nextauth.V5CookieName, v, new(authgate.Token[Claims])); err == nil {
			t.Fatal("decoded")
		}
	})
	t.Run("v4 token presented as v5 and the reverse", func(t *testing.T) {
		v4 := node.Encode(t, "v4", nextToken(), secret, "", 3600)
		v5 := node.Encode(t, "v5", nextToken(), secret, nextauth.V5CookieName, 3600)
		if err := mustV5(t).Decode(nextauth.V5CookieName, v4, new(authgate.Token[Claims])); err == nil {
			t.Error("v5 codec decoded a v4 token")
		}
		if err := mustV4(t).Decode(nextauth.V4CookieName, v5, new(authgate.Token[Claims])); err == nil {
			t.Error("v4 codec decoded a v5 token")
		}
	})
}

// wantFlat is the payload NextAuth sees for sampleToken: NextAuth's names,
// the app's claims at the top level, authgate's own beside them.
func checkFlat(t *testing.T, p map[string]any) {
	t.Helper()
	tok := sampleToken()
	want := map[string]any{
		"sub": tok.Subject, "name": tok.Name, "email": tok.Email, "picture": tok.Picture,
		"role": tok.Role, "roles": []any{"admin", "billing"}, "plan": "pro", "orgId": float64(7), "id": tok.Subject,
		"jti": tok.ID, "sid": tok.ID, "iat": float64(tok.IssuedAt), "exp": float64(tok.ExpiresAt),
		"auth_time": float64(tok.AuthTime), "aud": tok.Audience,
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("payload seen by NextAuth:\n got %v\nwant %v", p, want)
	}
}

func TestGoMintedTokensDecodeInNextAuth(t *testing.T) {
	node := nodejwt.Start(t)
	// Times far in the future, so NextAuth's own exp check passes.
	t.Run("v4", func(t *testing.T) {
		v, err := mustV4(t).Encode(nextauth.V4CookieName, futureToken())
		if err != nil {
			t.Fatal(err)
		}
		p, errName := node.Decode(t, "v4", v, secret, "")
		if errName != "" {
			t.Fatalf("next-auth decode: %s", errName)
		}
		checkFlat(t, unfuture(p))
	})
	t.Run("v5", func(t *testing.T) {
		v, err := mustV5(t).Encode(nextauth.V5CookieName, futureToken())
		if err != nil {
			t.Fatal(err)
		}
		p, errName := node.Decode(t, "v5", v, secret, nextauth.V5CookieName)
		if errName != "" {
			t.Fatalf("@auth/core decode: %s", errName)
		}
		checkFlat(t, unfuture(p))
	})
	t.Run("v5 after Auth.js rotated its secrets", func(t *testing.T) {
		v, err := mustV5(t, oldSecret).Encode(nextauth.V5CookieName, futureToken())
		if err != nil {
			t.Fatal(err)
		}
		if _, errName := node.Decode(t, "v5", v, []string{secret, oldSecret}, nextauth.V5CookieName); errName != "" {
			t.Fatalf("@auth/core decode: %s", errName)
		}
	})
	t.Run("wrong secret is refused by NextAuth", func(t *testing.T) {
		v, _ := mustV4(t).Encode(nextauth.V4CookieName, futureToken())
		if _, errName := node.Decode(t, "v4", v, oldSecret, ""); errName == "" {
			t.Fatal("next-auth decoded a token sealed with another secret")
		}
	})
}

// The far future keeps NextAuth's exp check quiet; unfuture undoes it.
const future = 10 * 365 * 24 * 3600

func futureToken() *authgate.Token[Claims] {
	tok := sampleToken()
	tok.ExpiresAt += future
	return tok
}

func unfuture(p map[string]any) map[string]any {
	if e, ok := p["exp"].(float64); ok {
		p["exp"] = e - future
	}
	return p
}

func TestGetTokenReadsChunkedGoCookies(t *testing.T) {
	node := nodejwt.Start(t)
	tok := futureToken()
	tok.Claims.Plan = strings.Repeat("p", 6000) // forces two chunks
	for _, tc := range []struct {
		lib, name string
		codec     authgate.Codec
		secure    bool
	}{
		{"v4", nextauth.V4CookieName, mustV4(t), false},
		{"v4", "__Secure-" + nextauth.V4CookieName, mustV4(t), true},
		{"v5", nextauth.V5CookieName, mustV5(t), false},
		{"v5", "__Secure-" + nextauth.V5CookieName, mustV5(t), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.codec.Encode(tc.name, tok)
			if err != nil {
				t.Fatal(err)
			}
			cookies := map[string]string{}
			for i := 0; len(v) > 0; i++ {
				n := min(len(v), 3933)
				cookies[tc.name+"."+string(rune('0'+i))] = v[:n]
				v = v[n:]
			}
			if len(cookies) < 2 {
				t.Fatalf("%d chunks, want 2 or more", len(cookies))
			}
			p := node.GetToken(t, tc.lib, cookies, "", secret, tc.secure)
			if p == nil || p["plan"] != tok.Claims.Plan || p["sub"] != tok.Subject {
				t.Fatalf("getToken: got %.80v", p)
			}
		})
	}
}

func TestGetTokenReadsBearer(t *testing.T) {
	node := nodejwt.Start(t)
	v, err := mustV4(t).Encode(nextauth.V4CookieName, futureToken())
	if err != nil {
		t.Fatal(err)
	}
	p := node.GetToken(t, "v4", nil, "Bearer "+url.QueryEscape(v), secret, false)
	if p == nil || p["sub"] != "user-42" {
		t.Fatalf("getToken with a bearer token: got %v", p)
	}
}

// TestNextJSRefreshDoesNotUndoARevocation runs NextAuth's own token code
// (the session route's decode and encode, with its clock set to
// authgate's) on copies of a signed-out session, as a thief who kept the
// cookie and visits the Next.js app would have them re-issued. No copy
// may be accepted again by authgate.
func TestNextJSRefreshDoesNotUndoARevocation(t *testing.T) {
	node := nodejwt.Start(t)
	const month = 30 * 24 * 3600 // NextAuth's default session maxAge
	for _, f := range []struct {
		lib, cookie string
		codec       authgate.Codec
	}{
		{"v4", nextauth.V4CookieName, mustV4(t)},
		{"v5", nextauth.V5CookieName, mustV5(t)},
	} {
		salt := ""
		if f.lib == "v5" {
			salt = f.cookie
		}
		t.Run(f.lib, func(t *testing.T) {
			// nextMint is a token the Next.js app's jwt callback built at
			// sign-in, minted by NextAuth at authgate's time.
			nextMint := func(clk *clock, claims map[string]any) *http.Cookie {
				tok := map[string]any{"sub": "user-42", "name": "Alice Example", "role": "admin"}
				for k, v := range claims {
					tok[k] = v
				}
				return &http.Cookie{Name: f.cookie, Value: node.EncodeAt(t, f.lib, tok, secret, salt, month, clk.Now())}
			}
			refresh := func(clk *clock, c *http.Cookie) *http.Cookie {
				return &http.Cookie{Name: f.cookie, Value: node.RefreshAt(t, f.lib, c.Value, secret, salt, month, clk.Now())}
			}
			signOut := func(a *authgate.Auth[Claims], c *http.Cookie) {
				t.Helper()
				if s, _ := serve(a, c); s == nil {
					t.Fatal("the session was refused before its sign-out")
				}
				r := httptest.NewRequest("POST", origin+"/signout", nil)
				r.AddCookie(c)
				if err := a.SignOut(httptest.NewRecorder(), r); err != nil {
					t.Fatal(err)
				}
			}
			for _, tc := range []struct {
				name string
				run  func(t *testing.T, a *authgate.Auth[Claims], clk *clock) *http.Cookie
			}{
				{"A Next.js token without sid, signed out through authgate, comes back with a new jti", func(t *testing.T, a *authgate.Auth[Claims], clk *clock) *http.Cookie {
					c := nextMint(clk, map[string]any{"auth_time": clk.Now().Unix()})
					clk.Advance(time.Minute)
					signOut(a, c)
					clk.Advance(time.Minute)
					return refresh(clk, c)
				}},
				{"A Next.js token without sid or auth_time, signed out through authgate, comes back with a new jti and iat", func(t *testing.T, a *authgate.Auth[Claims], clk *clock) *http.Cookie {
					c := nextMint(clk, nil)
					clk.Advance(time.Minute)
					signOut(a, c)
					clk.Advance(time.Minute)
					return refresh(clk, c)
				}},
				{"After SignOutEverywhere, a refreshed copy of a Next.js token without auth_time has a later iat", func(t *testing.T, a *authgate.Auth[Claims], clk *clock) *http.Cookie {
					c := nextMint(clk, map[string]any{"sid": "0b6f3c2e-6a55-4f4e-9d6e-3f1f0f7f2a10"})
					if s, _ := serve(a, c); s == nil {
						t.Fatal("refused before the sign-out")
					}
					clk.Advance(time.Minute)
					if err := a.SignOutEverywhere(context.Background(), "user-42"); err != nil {
						t.Fatal(err)
					}
					clk.Advance(time.Minute)
					return refresh(clk, c)
				}},
				{"An authgate session that Next.js keeps re-issuing daily, signed out, on day 31 (past MaxAge)", func(t *testing.T, a *authgate.Auth[Claims], clk *clock) *http.Cookie {
					cookies, err := a.NewSessionCookies(context.Background(), &authgate.User[Claims]{ID: "user-42"})
					if err != nil {
						t.Fatal(err)
					}
					c := cookies[0]
					clk.Advance(time.Minute)
					signOut(a, c)
					for day := 1; day <= 31; day++ {
						clk.Advance(24 * time.Hour)
						c = refresh(clk, c)
						if s, _ := serve(a, c); s != nil {
							t.Fatalf("day %d: a re-issued copy of the signed-out session was accepted", day)
						}
					}
					// Another user's sign-out: the store prunes what has expired.
					other, _ := a.NewSessionCookies(context.Background(), &authgate.User[Claims]{ID: "user-7"})
					signOut(a, other[0])
					return c
				}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					a, clk := newAuth(t, f.codec, f.cookie)
					c := tc.run(t, a, clk)
					if s, _ := serve(a, c); s != nil {
						t.Fatalf("the Next.js-refreshed copy of a revoked session was accepted: %+v", s)
					}
					// Still refused a week later.
					clk.Advance(7 * 24 * time.Hour)
					if s, _ := serve(a, refresh(clk, c)); s != nil {
						t.Fatalf("a week later, a refreshed copy was accepted: %+v", s)
					}
				})
			}
		})
	}
}

// TestNotBeforeAgreesWithNextAuth: a token NextAuth's own decode refuses
// for its nbf is refused here too, and one it accepts is accepted.
func TestNotBeforeAgreesWithNextAuth(t *testing.T) {
	node := nodejwt.Start(t)
	now := time.Now().Unix()
	for _, tc := range []struct {
		name   string
		nbf    int64
		refuse bool
	}{
		{"nbf a minute ago", now - 60, false},
		{"nbf an hour ahead", now + 3600, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := map[string]any{"sub": "user-42", "sid": "s1", "iat": now, "exp": now + 3600, "nbf": tc.nbf}
			for _, f := range []struct {
				lib, salt string
				codec     authgate.Codec
			}{{"v4", "", mustV4(t)}, {"v5", nextauth.V5CookieName, mustV5(t)}} {
				v, err := f.codec.Encode(nextauth.V5CookieName, p)
				if err != nil {
					t.Fatal(err)
				}
				_, nextErr := node.Decode(t, f.lib, v, secret, f.salt)
				goErr := f.codec.Decode(nextauth.V5CookieName, v, new(authgate.Token[Claims]))
				if (nextErr != "") != tc.refuse || (goErr != nil) != tc.refuse {
					t.Errorf("%s: NextAuth's decode error %q, the codec's %v; want refused = %v", f.lib, nextErr, goErr, tc.refuse)
				}
			}
		})
	}
}
