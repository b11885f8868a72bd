package authgate_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

// Tests of the session pipeline (middleware.go): Middleware, Session,
// Check, re-issue, timeouts, and bad cookies read as anonymous.

// spy is a handler that records the session Auth.Session saw, and
// whether the context carried one.
type spy struct {
	auth      *authgate.Auth[claims]
	called    bool
	s         *authgate.Session[claims]
	ok        bool
	inContext bool
}

func (s *spy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.called = true
	_, s.inContext = s.auth.FromContext(r.Context())
	s.s, s.ok = s.auth.Session(r)
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	short := func(c *authgate.Config[claims]) { c.MaxAge, c.UpdateAge = time.Hour, 10*time.Minute }
	tests := []struct {
		name        string
		path        string
		cookie      string // "valid", "invalid" or ""
		age         time.Duration
		wantSession bool
		wantVary    bool
		wantSet     string // "" none, "session" re-issued, "cleared"
	}{
		{"An anonymous request passes through untouched", "/page", "", 0, false, false, ""},
		{"A valid cookie puts the session in the context", "/page", "valid", time.Minute, true, true, ""},
		{"A session past UpdateAge is re-issued on the way through", "/page", "valid", 11 * time.Minute, true, true, "session"},
		{"An invalid cookie is anonymous and cleared", "/page", "invalid", 0, false, true, "cleared"},
		{"An expired cookie is anonymous and cleared", "/page", "valid", 2 * time.Hour, false, true, "cleared"},
		{"Requests under the base path pass through untouched", "/api/auth/session", "valid", 11 * time.Minute, false, false, ""},
		{"A path that only starts like the base path is not under it", "/api/authority", "valid", time.Minute, true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, short)
			var cookies []*http.Cookie
			switch tt.cookie {
			case "valid":
				cookies = authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1", Role: "admin"})
			case "invalid":
				cookies = []*http.Cookie{{Name: sessionCookie, Value: "tampered"}}
			}
			a.clk.Advance(tt.age)
			next := &spy{auth: a.auth}
			w := httptest.NewRecorder()
			r := request("GET", tt.path, cookies...)
			a.auth.Middleware(next).ServeHTTP(w, r)
			if !next.called {
				t.Fatal("the middleware did not call the next handler")
			}
			if next.inContext != tt.wantSession {
				t.Errorf("session in the context: got %v, want %v", next.inContext, tt.wantSession)
			}
			if got := w.Header().Get("Vary") == "Cookie"; got != tt.wantVary {
				t.Errorf("Vary: Cookie: got %v, want %v", got, tt.wantVary)
			}
			set := ""
			if sc := sessionSetCookies(w.Result()); len(sc) > 0 {
				set = "session"
				if sc[0].MaxAge < 0 {
					set = "cleared"
				}
			}
			if set != tt.wantSet {
				t.Errorf("Set-Cookie: got %q, want %q", set, tt.wantSet)
			}
		})
	}
}

func TestMiddlewareUnderBasePathLeavesTheSessionToTheHandler(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	next := &spy{auth: a.auth}
	ck := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1"})
	a.auth.Middleware(next).ServeHTTP(httptest.NewRecorder(), request("GET", "/api/auth/session", ck...))
	if next.inContext {
		t.Error("the middleware loaded a session under the base path; want it untouched")
	}
	if !next.ok || next.s.User.ID != "u1" {
		t.Errorf("Session under the base path: got %v, %v; want u1 read from the cookie", next.s, next.ok)
	}
}

func TestSession(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	valid := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1", Role: "admin"})
	invalid := []*http.Cookie{{Name: sessionCookie, Value: valid[0].Value + "x"}}
	tests := []struct {
		name       string
		middleware bool
		cookies    []*http.Cookie
		want       string // the user id, "" for none
	}{
		{"Behind the middleware it returns the session", true, valid, "u1"},
		{"Without the middleware it loads the session from the cookie", false, valid, "u1"},
		{"Behind the middleware an anonymous request has none", true, nil, ""},
		{"Without the middleware an anonymous request has none", false, nil, ""},
		{"Behind the middleware an invalid cookie has none", true, invalid, ""},
		{"Without the middleware an invalid cookie has none", false, invalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			next := &spy{auth: a.auth}
			var h http.Handler = next
			if tt.middleware {
				h = a.auth.Middleware(next)
			}
			h.ServeHTTP(httptest.NewRecorder(), request("GET", "/page", tt.cookies...))
			got := ""
			if next.ok {
				got = next.s.User.ID
			}
			if next.ok != (tt.want != "") || got != tt.want {
				t.Errorf("Session: got %q, %v; want %q, %v", got, next.ok, tt.want, tt.want != "")
			}
		})
	}
	t.Run("A session put in the context by NewContext is returned as it is", func(t *testing.T) {
		t.Parallel()
		s := &authgate.Session[claims]{User: authgate.SessionUser{ID: "u7"}}
		r := request("GET", "/", invalid...)
		got, ok := a.auth.Session(r.WithContext(a.auth.NewContext(r.Context(), s)))
		if !ok || got != s {
			t.Errorf("Session: got %v, %v; want the context's session", got, ok)
		}
	})
}

func TestCheck(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *authgate.Config[claims]) { c.MaxAge, c.UpdateAge = time.Hour, 10*time.Minute })
	valid := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1", Role: "admin"})
	a.clk.Advance(20 * time.Minute) // due for re-issue: Check must not do it
	tests := []struct {
		name    string
		cookies []*http.Cookie
		wantErr error
	}{
		{"A valid cookie gives its session", valid, nil},
		{"No cookie is ErrNoSession", nil, authgate.ErrNoSession},
		{"A tampered cookie is ErrInvalidSession", []*http.Cookie{{Name: sessionCookie, Value: valid[0].Value[1:]}}, authgate.ErrInvalidSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := a.auth.Check(request("GET", "/", tt.cookies...))
			if (err == nil) != (tt.wantErr == nil) || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Check: got %v, want %v", err, tt.wantErr)
			}
			if err == nil && (s.User.ID != "u1" || s.User.Role != "admin") {
				t.Errorf("Check: got %+v, want u1 admin", s.User)
			}
		})
	}
}

// TestBadCookiesAreAnonymous drives the middleware with cookies that must
// all mean "anonymous": never a 500, and the cookie is cleared.
func TestBadCookiesAreAnonymous(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	good := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1", Role: "admin"})[0]
	v := good.Value
	flip := func(i int) string {
		b := []byte(v)
		b[i] ^= 0x01
		if b[i] == '=' || b[i] < '-' {
			b[i] = 'A'
		}
		return string(b)
	}
	other, err := authgate.New(newConfig("http://other.example", newClock()))
	if err != nil {
		t.Fatal(err)
	}
	foreign := authgatetest.Cookies(t, other, authgate.User[claims]{ID: "u1", Role: "admin"})[0].Value

	tests := []struct {
		name  string
		value string
	}{
		{"A flipped bit at the start", flip(0)},
		{"A flipped bit in the middle", flip(len(v) / 2)},
		{"A flipped bit at the end", flip(len(v) - 3)},
		{"Truncated by one byte", v[:len(v)-1]},
		{"Truncated to half", v[:len(v)/2]},
		{"Empty", ""},
		{"Garbage", "not-a-cookie"},
		{"Pipes and dots", strings.Repeat("|.", 2000)},
		{"Over-long", strings.Repeat("A", 20000)},
		{"A cookie for another origin with the same secret", foreign},
		{"The CSRF cookie's value", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef%7C00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := a.serve(request("GET", "/whoami", &http.Cookie{Name: good.Name, Value: tt.value}))
			if w.Code != 200 || w.Body.String() != "anonymous" {
				t.Fatalf("got %d %q, want 200 anonymous", w.Code, w.Body.String())
			}
			if sc := w.Header().Get("Set-Cookie"); !strings.Contains(sc, good.Name+"=;") || !strings.Contains(sc, "Max-Age=0") {
				t.Errorf("Set-Cookie: got %q, want the session cookie cleared", sc)
			}
		})
	}

	t.Run("Duplicated cookies", func(t *testing.T) {
		t.Parallel()
		if got := a.serve(request("GET", "/whoami", good, good)).Body.String(); got != "anonymous" {
			t.Fatalf("got %q, want anonymous", got)
		}
	})
}

func TestReissueKeepsAbsoluteLifetime(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.MaxAge, c.UpdateAge, c.MaxLifetime = time.Hour, 10*time.Minute, 3*time.Hour
	})
	ck := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1", Role: "admin"})
	start := a.clk.Now()
	reissued := 0
	// Stay active every 30 minutes: the idle timeout slides, the absolute
	// lifetime does not.
	for a.clk.Now().Sub(start) < 3*time.Hour {
		a.clk.Advance(30 * time.Minute)
		w := a.serve(request("GET", "/whoami", ck...))
		alive := a.clk.Now().Sub(start) < 3*time.Hour
		if got := w.Body.String() != "anonymous"; got != alive {
			t.Fatalf("at +%v: signed in: got %v, want %v", a.clk.Now().Sub(start), got, alive)
		}
		if res := w.Result(); alive && len(res.Cookies()) > 0 {
			ck = res.Cookies()
			reissued++
			if exp := ck[0].Expires; exp.After(start.Add(3 * time.Hour)) {
				t.Fatalf("re-issued cookie expires: got %v, want at most the absolute lifetime", exp)
			}
		}
	}
	if reissued < 4 {
		t.Errorf("re-issued: got %d times, want one per request past UpdateAge (5)", reissued)
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	short := func(cfg *authgate.Config[claims]) {
		cfg.MaxAge = 30 * time.Minute
		cfg.UpdateAge = 5 * time.Minute
		cfg.MaxLifetime = 12 * time.Hour
	}

	t.Run("A session idle for longer than MaxAge is anonymous", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, short)
		c := a.client()
		c.signIn("alice", "alice-password")
		a.clk.Advance(29 * time.Minute)
		if res := c.get("/whoami"); res.body != "u1 admin pro" {
			t.Fatalf("after 29 idle minutes: got %q, want signed in", res.body)
		}
		a.clk.Advance(31 * time.Minute)
		if res := c.get("/whoami"); res.body != "anonymous" {
			t.Errorf("after 31 idle minutes: got %q, want anonymous", res.body)
		}
	})

	t.Run("An active session ends at MaxLifetime after sign-in", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, short)
		c := a.client()
		c.signIn("alice", "alice-password")
		for elapsed := 10 * time.Minute; elapsed < 12*time.Hour; elapsed += 10 * time.Minute {
			a.clk.Advance(10 * time.Minute)
			if res := c.get("/whoami"); res.body != "u1 admin pro" {
				t.Fatalf("active after %v: got %q, want signed in", elapsed, res.body)
			}
		}
		a.clk.Advance(10 * time.Minute)
		if res := c.get("/whoami"); res.body != "anonymous" {
			t.Errorf("active after 12h: got %q, want anonymous", res.body)
		}
	})
}

// TestTwoAuthsNeverAcceptEachOthersSessions: an admin site and a user site
// in one program, two Auths of the same claim type with their own secrets
// and cookie names, both middlewares around one mux. Each Auth's Session,
// FromContext, Check and guards see only the sessions it verified.
func TestTwoAuthsNeverAcceptEachOthersSessions(t *testing.T) {
	t.Parallel()
	clk := newClock()
	users := newInteropAuth(t, appURL, clk, nil)
	admins := newInteropAuth(t, appURL, clk, func(c *authgate.Config[claims]) {
		c.Secrets = []string{secretB}
		c.SessionCookieName = "admin.session-token"
	})
	seen := func(a *authgate.Auth[claims], r *http.Request) string {
		s, ok := a.Session(r)
		fs, fok := a.FromContext(r.Context())
		if ok != fok || (ok && s != fs) {
			return "Session and FromContext disagree"
		}
		if !ok {
			return "anonymous"
		}
		return s.User.ID
	}
	mux := http.NewServeMux()
	mux.Handle("/admin", admins.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("admin " + seen(admins, r) + " user " + seen(users, r)))
	})))
	mux.Handle("/app", users.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("admin " + seen(admins, r) + " user " + seen(users, r)))
	})))
	h := users.Middleware(admins.Middleware(mux))
	userCookie := authgatetest.Cookies(t, users, authgate.User[claims]{ID: "bob"})
	adminCookie := authgatetest.Cookies(t, admins, authgate.User[claims]{ID: "alice", Role: "admin"})
	both := append(append([]*http.Cookie{}, userCookie...), adminCookie...)
	for _, tt := range []struct {
		name       string
		path       string
		cookies    []*http.Cookie
		wantStatus int
		wantBody   string
	}{
		{"a user's cookie does not open the admin site", "/admin", userCookie, 401, ""},
		{"an admin's cookie does not open the user site", "/app", adminCookie, 401, ""},
		{"the admin site sees only its own session", "/admin", adminCookie, 200, "admin alice user anonymous"},
		{"the user site sees only its own session", "/app", userCookie, 200, "admin anonymous user bob"},
		{"with both cookies each Auth sees its own", "/admin", both, 200, "admin alice user bob"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, request("GET", tt.path, tt.cookies...))
			if w.Code != tt.wantStatus || (tt.wantBody != "" && w.Body.String() != tt.wantBody) {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	t.Run("a session put in the context for one Auth is not another's", func(t *testing.T) {
		r := request("GET", "/")
		s, err := users.Check(request("GET", "/", userCookie...))
		if err != nil {
			t.Fatal(err)
		}
		ctx := users.NewContext(r.Context(), s)
		if _, ok := admins.FromContext(ctx); ok {
			t.Error("admins.FromContext returned the users' session")
		}
		if _, ok := admins.Session(r.WithContext(ctx)); ok {
			t.Error("admins.Session returned the users' session")
		}
	})
}
