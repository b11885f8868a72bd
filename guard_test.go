package authgate_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

// Tests of the guards (guard.go): RequireAuth, RequireRole,
// RequireFreshAuth, the *GuardError and DefaultErrorHandler.

func TestGuards(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *authgate.Config[claims]) { c.Pages.SignIn = "/login" })
	anon := a.client()
	bob := a.client()
	bob.signIn("bob", "bob-password")
	alice := a.client()
	alice.signIn("alice", "alice-password")

	tests := []struct {
		name         string
		c            *client
		path         string
		header       []string
		wantStatus   int
		wantIn       string
		wantLocation string
	}{
		{"An anonymous API request gets 401 JSON", anon, "/admin", []string{"Accept", "application/json"}, 401, `{"error":"unauthenticated"}`, ""},
		{"An anonymous browser navigation goes to the sign-in page", anon, "/admin?tab=1", []string{"Accept", "text/html"}, 302, "", "/login?callbackUrl=" + url.QueryEscape(a.url+"/admin?tab=1")},
		{"A navigation by Sec-Fetch-Mode goes to the sign-in page", anon, "/private", []string{"Sec-Fetch-Mode", "navigate"}, 302, "", "/login?callbackUrl=" + url.QueryEscape(a.url+"/private")},
		{"A user without the role gets 403", bob, "/admin", nil, 403, `{"error":"forbidden"}`, ""},
		{"A user without the role gets 403 on a navigation too", bob, "/admin", []string{"Accept", "text/html"}, 403, `{"error":"forbidden"}`, ""},
		{"The admin gets through", alice, "/admin", nil, 200, "admin u1", ""},
		{"RequireAuth lets any user through", bob, "/private", nil, 200, "private", ""},
		{"RequireAuth refuses anonymous", anon, "/private", nil, 401, "unauthenticated", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := tt.c.get(tt.path, tt.header...)
			if res.StatusCode != tt.wantStatus || !strings.Contains(res.body, tt.wantIn) {
				t.Fatalf("got %d %q, want %d containing %q", res.StatusCode, res.body, tt.wantStatus, tt.wantIn)
			}
			if tt.wantLocation != "" {
				if got, want := res.Header.Get("Location"), a.url+tt.wantLocation; got != want {
					t.Errorf("Location: got %q, want %q", got, want)
				}
			}
		})
	}
}

func TestRequireRoleExactMatch(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	h := a.auth.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tests := []struct {
		name string
		user authgate.User[claims]
		want int
	}{
		{"Another case is another role", authgate.User[claims]{ID: "u9", Role: "Admin"}, 403},
		{"A trailing space is another role", authgate.User[claims]{ID: "u9", Role: "admin "}, 403},
		{"A leading space is another role", authgate.User[claims]{ID: "u9", Role: " admin"}, 403},
		{"A longer role is another role", authgate.User[claims]{ID: "u9", Role: "administrator"}, 403},
		{"No role is no role", authgate.User[claims]{ID: "u9"}, 403},
		{"The role among Roles lets the user through", authgate.User[claims]{ID: "u9", Roles: []string{"viewer", "admin"}}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, authgatetest.SignIn(t, a.auth, request("GET", "/x"), tt.user))
			if w.Code != tt.want {
				t.Errorf("got %d, want %d", w.Code, tt.want)
			}
		})
	}
}

func TestRequireFreshAuth(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(cfg *authgate.Config[claims]) { cfg.MaxAge, cfg.UpdateAge = 30*time.Minute, 5*time.Minute })
	var called int
	guard := a.auth.RequireFreshAuth(15 * time.Minute)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called++ }))
	c := a.client()
	c.signIn("alice", "alice-password")
	a.clk.Advance(14 * time.Minute)
	c.get("/whoami") // re-issued: that does not make the sign-in fresher
	rec := httptest.NewRecorder()
	a.auth.Middleware(guard).ServeHTTP(rec, request("GET", "/settings/password", c.cookies()...))
	if rec.Code != 200 || called != 1 {
		t.Fatalf("14 minutes after sign-in: got %d (handler ran %d times), want 200", rec.Code, called)
	}
	a.clk.Advance(2 * time.Minute)
	c.get("/whoami")
	rec = httptest.NewRecorder()
	a.auth.Middleware(guard).ServeHTTP(rec, request("GET", "/settings/password", c.cookies()...))
	if rec.Code != 401 || called != 1 {
		t.Errorf("16 minutes after sign-in: got %d (handler ran %d times), want 401 and no call", rec.Code, called)
	}
	nav := request("GET", "/settings/password", c.cookies()...)
	nav.Header.Set("Accept", "text/html")
	rec = httptest.NewRecorder()
	guard.ServeHTTP(rec, nav) // without the middleware: the guard loads the session itself
	if rec.Code != 302 || !strings.Contains(rec.Header().Get("Location"), "/api/auth/signin?callbackUrl=") {
		t.Errorf("browser navigation 16 minutes after sign-in: got %d %q, want a redirect to sign in", rec.Code, rec.Header().Get("Location"))
	}
	rec = httptest.NewRecorder()
	guard.ServeHTTP(rec, request("GET", "/settings/password"))
	if rec.Code != 401 || called != 1 {
		t.Errorf("anonymous: got %d, want 401", rec.Code)
	}
}

func TestGuardsPanicOnBadArguments(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	tests := []struct {
		name  string
		build func()
	}{
		{"RequireRole without a role", func() { a.auth.RequireRole() }},
		{"RequireRole with an empty role", func() { a.auth.RequireRole("admin", "") }},
		{"RequireFreshAuth with a zero maxAge", func() { a.auth.RequireFreshAuth(0) }},
		{"RequireFreshAuth with a negative maxAge", func() { a.auth.RequireFreshAuth(-time.Minute) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("got no panic, want one at construction")
				}
			}()
			tt.build()
		})
	}
}

// TestCustomErrorHandlerFallsBackToDefault configures an ErrorHandler that
// handles forbidden requests itself and leaves everything else to
// authgate.DefaultErrorHandler, which needs no *Auth: it redirects
// navigations to the *GuardError's SignInURL.
func TestCustomErrorHandlerFallsBackToDefault(t *testing.T) {
	t.Parallel()
	var signInURL string
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Pages.SignIn = "/login"
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			var ge *authgate.GuardError
			if errors.As(err, &ge) {
				signInURL = ge.SignInURL
			}
			if errors.Is(err, authgate.ErrForbidden) {
				w.WriteHeader(http.StatusTeapot)
				io.WriteString(w, "ask an admin")
				return
			}
			authgate.DefaultErrorHandler(w, r, err)
		}
	})
	bob := a.client()
	bob.signIn("bob", "bob-password")
	anon := a.client()
	wantSignIn := a.url + "/login?callbackUrl=" + url.QueryEscape(a.url+"/admin?x=1")

	tests := []struct {
		name         string
		c            *client
		header       []string
		wantStatus   int
		wantBody     string
		wantLocation string
	}{
		{"The custom case is handled by the app", bob, nil, http.StatusTeapot, "ask an admin", ""},
		{"An anonymous navigation falls back to the redirect", anon, []string{"Accept", "text/html"}, 302, "", wantSignIn},
		{"An anonymous API call falls back to 401 JSON", anon, nil, 401, `{"error":"unauthenticated"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.get("/admin?x=1", tt.header...)
			if res.StatusCode != tt.wantStatus || !strings.Contains(res.body, tt.wantBody) {
				t.Fatalf("got %d %q, want %d containing %q", res.StatusCode, res.body, tt.wantStatus, tt.wantBody)
			}
			if got := res.Header.Get("Location"); got != tt.wantLocation {
				t.Errorf("Location: got %q, want %q", got, tt.wantLocation)
			}
			if signInURL != wantSignIn {
				t.Errorf("GuardError.SignInURL: got %q, want %q", signInURL, wantSignIn)
			}
		})
	}
}
