package authgate_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

// devices returns GET /api/auth/sessions of c.
func devices(t *testing.T, c *client) []authgate.Device {
	t.Helper()
	res := c.get("/api/auth/sessions")
	var v struct{ Sessions []authgate.Device }
	if err := json.Unmarshal([]byte(res.body), &v); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /sessions: %d %s", res.StatusCode, res.body)
	}
	return v.Sessions
}

// strategies runs f for JWT and database sessions, each with a new
// MemoryAdapter.
func strategies(t *testing.T, f func(t *testing.T, a *app, ad *authgatetest.MemoryAdapter)) {
	for _, db := range []bool{false, true} {
		t.Run(map[bool]string{false: "jwt", true: "database"}[db], func(t *testing.T) {
			t.Parallel()
			ad := authgatetest.NewMemoryAdapter()
			f(t, newApp(t, func(c *authgate.Config[claims]) { c.Adapter, c.DatabaseSessions = ad, db }), ad)
		})
	}
}

func TestTheDeviceListShowsEachSignInOfTheUser(t *testing.T) {
	t.Parallel()
	strategies(t, func(t *testing.T, a *app, ad *authgatetest.MemoryAdapter) {
		laptop, phone, other := a.client(), a.client().from("198.51.100.77"), a.client()
		laptop.signIn("alice", "alice-password", "User-Agent", "Firefox/140 "+strings.Repeat("x", 300))
		a.clk.Advance(time.Second)
		phone.signIn("alice", "alice-password", "User-Agent", "Mobile Safari")
		other.signIn("bob", "bob-password")
		list := devices(t, laptop)
		if len(list) != 2 {
			t.Fatalf("got %d devices, want alice's 2: %+v", len(list), list)
		}
		l, p := list[0], list[1]
		if !l.Current || p.Current {
			t.Errorf("current: laptop %v, phone %v; want only the laptop", l.Current, p.Current)
		}
		if l.Address != "192.0.2.0/24" || p.Address != "198.51.100.0/24" {
			t.Errorf("addresses %q, %q: want the /24 networks, never the address", l.Address, p.Address)
		}
		if len(l.UserAgent) > 160 || !strings.HasPrefix(l.UserAgent, "Firefox/140") || p.UserAgent != "Mobile Safari" {
			t.Errorf("user agents %q, %q", l.UserAgent, p.UserAgent)
		}
		if !l.Created.Equal(clockStart) || !p.Created.Equal(clockStart.Add(time.Second)) {
			t.Errorf("created %v, %v", l.Created, p.Created)
		}
		body := laptop.get("/api/auth/sessions").body
		for _, c := range []*client{laptop, phone} {
			if v := c.cookie(sessionCookie); strings.Contains(body, v) {
				t.Error("the device list holds a session cookie's value")
			}
		}
		if got, _ := a.auth.Devices(request("GET", "/", laptop.cookies()...)); len(got) != 2 || !got[0].Current {
			t.Errorf("Auth.Devices: %+v", got)
		}
	})
}

func TestEndingADeviceRefusesItsCookieAndKeepsTheOthers(t *testing.T) {
	t.Parallel()
	strategies(t, func(t *testing.T, a *app, ad *authgatetest.MemoryAdapter) {
		laptop, phone := a.client(), a.client()
		laptop.signIn("alice", "alice-password")
		phone.signIn("alice", "alice-password")
		phone.get("/whoami")
		var phoneID string
		for _, d := range devices(t, laptop) {
			if !d.Current {
				phoneID = d.ID
			}
		}
		if res := laptop.endDevice(phoneID); res.StatusCode != 200 {
			t.Fatalf("DELETE: %d %s", res.StatusCode, res.body)
		}
		res := phone.get("/whoami")
		if res.body != "anonymous" {
			t.Errorf("the ended phone: %q", res.body)
		}
		if cs := sessionSetCookies(res.Response); len(cs) != 1 || cs[0].MaxAge >= 0 {
			t.Errorf("the ended session's cookie was not cleared: %v", cs)
		}
		if got := laptop.get("/whoami").body; got != "u1 admin pro" {
			t.Errorf("the laptop: %q", got)
		}
		if list := devices(t, laptop); len(list) != 1 || !list[0].Current {
			t.Errorf("left: %+v", list)
		}
		if res := laptop.endDevice(phoneID); res.StatusCode != 404 {
			t.Errorf("ending it again: %d, want 404", res.StatusCode)
		}
	})
}

func TestSignOutTheOthersKeepsTheCurrentDevice(t *testing.T) {
	t.Parallel()
	strategies(t, func(t *testing.T, a *app, ad *authgatetest.MemoryAdapter) {
		cur, others := a.client(), []*client{a.client(), a.client(), a.client()}
		cur.signIn("alice", "alice-password")
		for _, c := range others {
			c.signIn("alice", "alice-password")
		}
		bob := a.client()
		bob.signIn("bob", "bob-password")
		res := cur.postForm("/api/auth/sessions/revoke-others", url.Values{"csrfToken": {cur.csrf()}})
		if res.StatusCode != 200 || res.body != "{\"ended\":3}\n" {
			t.Fatalf("revoke-others: %d %s", res.StatusCode, res.body)
		}
		for i, c := range others {
			if got := c.get("/whoami").body; got != "anonymous" {
				t.Errorf("other %d: %q", i, got)
			}
		}
		if got := cur.get("/whoami").body; got != "u1 admin pro" {
			t.Errorf("current: %q", got)
		}
		if got := bob.get("/whoami").body; got != "u2 user free" {
			t.Errorf("another user: %q", got)
		}
	})
}

func TestEndingDevicesNeedsTheCSRFTokenAFreshSignInAndTheUsersOwnID(t *testing.T) {
	t.Parallel()
	strategies(t, func(t *testing.T, a *app, ad *authgatetest.MemoryAdapter) {
		alice, bob := a.client(), a.client()
		alice.signIn("alice", "alice-password")
		bob.signIn("bob", "bob-password")
		bobID := devices(t, bob)[0].ID
		aliceID := devices(t, alice)[0].ID
		tests := []struct {
			name string
			res  func() response
			code int
			body string
		}{
			{"DELETE without the CSRF token is refused", func() response { return alice.send("DELETE", "/api/auth/sessions/"+aliceID, "", "") }, 403, "MissingCSRF"},
			{"revoke-others with a wrong token is refused", func() response {
				return alice.postForm("/api/auth/sessions/revoke-others", url.Values{"csrfToken": {strings.Repeat("0", 64)}})
			}, 403, "MissingCSRF"},
			{"another user's session is not found", func() response { return alice.endDevice(bobID) }, 404, "NotFound"},
			{"an unknown id is not found", func() response { return alice.endDevice("nope") }, 404, "NotFound"},
			{"an anonymous client is unauthenticated", func() response { return a.client().endDevice(aliceID) }, 401, "unauthenticated"},
			{"the token may come in the X-CSRF-Token header", func() response {
				return alice.send("DELETE", "/api/auth/sessions/nope", "", "", "X-CSRF-Token", alice.csrf())
			}, 404, "NotFound"},
		}
		for _, tt := range tests {
			res := tt.res()
			if res.StatusCode != tt.code || !strings.Contains(res.body, `"`+tt.body+`"`) {
				t.Errorf("%s: got %d %s, want %d %s", tt.name, res.StatusCode, res.body, tt.code, tt.body)
			}
		}
		if got := bob.get("/whoami").body; got != "u2 user free" {
			t.Errorf("bob after alice's attempts: %q", got)
		}
		a.clk.Advance(15*time.Minute + time.Second)
		if res := alice.endDevice(aliceID); res.StatusCode != 401 || !strings.Contains(res.body, "FreshAuthRequired") {
			t.Errorf("after FreshAuthAge: %d %s, want 401 FreshAuthRequired", res.StatusCode, res.body)
		}
		if got := alice.get("/whoami").body; got != "u1 admin pro" {
			t.Errorf("a stale DELETE ended the session: %q", got)
		}
	})
}

func TestADeviceListFaultIs503AndKeepsTheCookie(t *testing.T) {
	t.Parallel()
	strategies(t, func(t *testing.T, a *app, ad *authgatetest.MemoryAdapter) {
		c := a.client()
		c.signIn("alice", "alice-password")
		c.get("/whoami")
		ad.SetFail(errors.New("database down"))
		for _, res := range []response{
			c.get("/api/auth/sessions"),
			c.postForm("/api/auth/sessions/revoke-others", url.Values{"csrfToken": {c.csrf()}}),
		} {
			if res.StatusCode != http.StatusServiceUnavailable || len(sessionSetCookies(res.Response)) != 0 {
				t.Errorf("%s: %d %v, want 503 and no session cookie change", res.Request.URL.Path, res.StatusCode, res.Header["Set-Cookie"])
			}
		}
		ad.SetFail(nil)
		if got := c.get("/whoami").body; got != "u1 admin pro" {
			t.Errorf("after the outage: %q", got)
		}
	})
}

func TestTheDeviceListNeedsAnAdapter(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := a.client()
	c.signIn("alice", "alice-password")
	if res := c.get("/api/auth/sessions"); res.StatusCode != 404 {
		t.Errorf("GET /sessions without an adapter: %d, want 404", res.StatusCode)
	}
	if _, err := a.auth.Devices(request("GET", "/", c.cookies()...)); !errors.Is(err, authgate.ErrConfig) {
		t.Errorf("Auth.Devices without an adapter: %v, want ErrConfig", err)
	}
}

func TestSignOutDeviceOfTheCurrentSessionSignsOut(t *testing.T) {
	t.Parallel()
	strategies(t, func(t *testing.T, a *app, ad *authgatetest.MemoryAdapter) {
		c := a.client()
		c.signIn("alice", "alice-password")
		id := devices(t, c)[0].ID
		if res := c.endDevice(id); res.StatusCode != 200 {
			t.Fatalf("DELETE own: %d %s", res.StatusCode, res.body)
		}
		if got := c.get("/whoami").body; got != "anonymous" {
			t.Errorf("after ending its own session: %q", got)
		}
		if n := len(rows(t, ad, "u1")); n != 0 {
			t.Errorf("%d rows left", n)
		}
	})
}
