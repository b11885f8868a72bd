package authgate_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// newInteropAuth builds an Auth for origin, without the test app's JWT
// callback, with edit applied.
func newInteropAuth(t *testing.T, origin string, clk *clock, edit func(*authgate.Config[claims])) *authgate.Auth[claims] {
	t.Helper()
	cfg := newConfig(origin, clk)
	cfg.Callbacks.JWT = nil // keep the user's own claims
	if edit != nil {
		edit(&cfg)
	}
	a, err := authgate.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

// whoami serves one request through a's middleware and returns what the
// handler saw and the response.
func whoami(a *authgate.Auth[claims], r *http.Request) (string, *httptest.ResponseRecorder) {
	w := httptest.NewRecorder()
	seen := "anonymous"
	a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := a.Session(r); ok {
			seen = s.User.ID + " " + s.Claims.Plan
		}
	})).ServeHTTP(w, r)
	return seen, w
}

func TestSessionCookieName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, origin, setting, want string
		plan                        string
		chunks                      int
	}{
		{"default", "http://localhost:3000", "", "authgate.session-token", "pro", 1},
		{"NextAuth v4 on http", "http://localhost:3000", "next-auth.session-token", "next-auth.session-token", "pro", 1},
		{"NextAuth v4's name with authgate's own codec gets __Host- on https", "https://app.example", "next-auth.session-token", "__Host-next-auth.session-token", "pro", 1},
		{"Auth.js v5's name with authgate's own codec gets __Host- on https", "https://app.example", "authjs.session-token", "__Host-authjs.session-token", "pro", 1},
		{"a large session is chunked .0, .1", "https://app.example", "next-auth.session-token", "__Host-next-auth.session-token", strings.Repeat("p", 5000), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			a := newInteropAuth(t, tc.origin, clk, func(c *authgate.Config[claims]) { c.SessionCookieName = tc.setting })
			cookies, err := a.NewSessionCookies(context.Background(), &authgate.User[claims]{ID: "u1", Claims: claims{Plan: tc.plan}})
			if err != nil {
				t.Fatal(err)
			}
			if (tc.chunks == 0 && len(cookies) < 2) || (tc.chunks > 0 && len(cookies) != tc.chunks) {
				t.Fatalf("got %d cookies, want %d (0: several)", len(cookies), tc.chunks)
			}
			for i, c := range cookies {
				want := tc.want
				if tc.chunks != 1 {
					want += "." + string(rune('0'+i))
				}
				if c.Name != want {
					t.Errorf("cookie %d: got name %q, want %q", i, c.Name, want)
				}
			}
			seen, _ := whoami(a, originRequest(tc.origin+"/x", cookies...))
			if seen != "u1 "+tc.plan {
				t.Errorf("middleware saw %.40q, want u1", seen)
			}
		})
	}
}

func TestSessionCookieNameIsValidated(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"__Secure-next-auth.session-token", "__Host-x", "a b", "x;y", "session.0", "authgate.csrf-token", strings.Repeat("x", 65)} {
		cfg := newConfig("http://localhost:3000", newClock())
		cfg.SessionCookieName = name
		if _, err := authgate.New(cfg); !errors.Is(err, authgate.ErrConfig) {
			t.Errorf("SessionCookieName %q: got %v, want ErrConfig", name, err)
		}
	}
}

func TestAcceptBearer(t *testing.T) {
	t.Parallel()
	const origin = "http://localhost:3000"
	clk := newClock()
	on := newInteropAuth(t, origin, clk, func(c *authgate.Config[claims]) { c.AcceptBearer = true })
	off := newInteropAuth(t, origin, clk, nil)
	cookies, err := on.NewSessionCookies(context.Background(), &authgate.User[claims]{ID: "u1", Claims: claims{Plan: "pro"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := on.NewSessionCookies(context.Background(), &authgate.User[claims]{ID: "u2", Claims: claims{Plan: "free"}})
	if err != nil {
		t.Fatal(err)
	}
	value := cookies[0].Value
	bearer := func(v string, cs ...*http.Cookie) *http.Request {
		r := originRequest(origin+"/api/x", cs...)
		r.Header.Set("Authorization", v)
		return r
	}
	flip := "x" // a different character, so that the token really changes
	if value[len(value)/2] == 'x' {
		flip = "y"
	}
	tampered := value[:len(value)/2] + flip + value[len(value)/2+1:]
	for _, tc := range []struct {
		name string
		auth *authgate.Auth[claims]
		req  *http.Request
		want string
	}{
		{"off: the header is ignored", off, bearer("Bearer " + value), "anonymous"},
		{"on: a bearer token is read", on, bearer("Bearer " + value), "u1 pro"},
		{"on: the scheme is case-insensitive", on, bearer("bearer " + value), "u1 pro"},
		{"on: a URL-encoded token is read", on, bearer("Bearer " + url.QueryEscape(value)), "u1 pro"},
		{"on: the cookie wins over the header", on, bearer("Bearer "+value, other[0]), "u2 free"},
		{"on: a tampered token is refused", on, bearer("Bearer " + tampered), "anonymous"},
		{"on: bad percent-encoding is refused", on, bearer("Bearer %zz" + value), "anonymous"},
		{"on: another scheme is ignored", on, bearer("Basic " + value), "anonymous"},
		{"on: an empty token is ignored", on, bearer("Bearer "), "anonymous"},
		{"on: an oversized token is refused", on, bearer("Bearer " + strings.Repeat("A", 64<<10)), "anonymous"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen, w := whoami(tc.auth, tc.req)
			if seen != tc.want {
				t.Errorf("got %q, want %q", seen, tc.want)
			}
			if tc.req.Header.Get("Cookie") == "" && len(w.Result().Cookies()) != 0 {
				t.Errorf("a bearer request got Set-Cookie %v, want none", w.Result().Cookies())
			}
		})
	}
	t.Run("on: an old bearer session is read but never re-issued", func(t *testing.T) {
		clk.Advance(25 * time.Hour) // past UpdateAge
		seen, w := whoami(on, bearer("Bearer "+value))
		if seen != "u1 pro" || len(w.Result().Cookies()) != 0 {
			t.Errorf("got %q and cookies %v, want u1 and no cookie", seen, w.Result().Cookies())
		}
		if v := w.Header().Values("Vary"); len(v) != 1 || v[0] != "Authorization" {
			t.Errorf("got Vary %v, want Authorization", v)
		}
	})
	t.Run("on: guards read bearer sessions without the middleware", func(t *testing.T) {
		w := httptest.NewRecorder()
		on.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })).ServeHTTP(w, bearer("Bearer "+value))
		if w.Code != 204 {
			t.Errorf("got %d, want 204", w.Code)
		}
	})
}

// originRequest is a GET of the absolute URL target carrying cookies.
func originRequest(target string, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", target, nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}
