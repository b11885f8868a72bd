package authgate_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

// dbApp is the test app with database sessions in a MemoryAdapter.
func dbApp(t *testing.T, edit func(*authgate.Config[claims])) (*app, *authgatetest.MemoryAdapter) {
	t.Helper()
	ad := authgatetest.NewMemoryAdapter()
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Adapter, c.DatabaseSessions = ad, true
		if edit != nil {
			edit(c)
		}
	})
	return a, ad
}

// rows returns the adapter's sessions of subject.
func rows(t *testing.T, ad authgate.Adapter, subject string) []authgate.AdapterSession {
	t.Helper()
	list, err := ad.Sessions(t.Context(), subject)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestDatabaseSessionsSignInAndServeTheSameSession(t *testing.T) {
	t.Parallel()
	a, ad := dbApp(t, nil)
	c := a.client()
	c.get("/whoami", "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Test")
	if res := c.signIn("alice", "alice-password", "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Test"); res.StatusCode != 200 || !signedIn(res.Response) {
		t.Fatalf("sign-in: %d %s", res.StatusCode, res.body)
	}
	v := c.cookie(sessionCookie)
	if len(v) != 64 {
		t.Fatalf("cookie value %q: want an opaque 64-character token", v)
	}
	if got := c.get("/whoami").body; got != "u1 admin pro" {
		t.Errorf("/whoami: got %q, want the JWT callback's claims", got)
	}
	var s authgate.Session[claims]
	res := c.get("/api/auth/session")
	if err := s.UnmarshalJSON([]byte(res.body)); err != nil || s.User.ID != "u1" || s.Claims.Plan != "pro" {
		t.Errorf("GET /session: %s", res.body)
	}
	list := rows(t, ad, "u1")
	if len(list) != 1 {
		t.Fatalf("got %d session rows, want 1", len(list))
	}
	row := list[0]
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	h := sha256.Sum256(raw[:32])
	if !bytes.Equal(row.TokenHash, h[:]) {
		t.Error("the row's token hash is not the SHA-256 of the cookie's token")
	}
	if bytes.Contains(row.Data, []byte(v)) || bytes.Contains(row.Data, raw[:32]) || strings.Contains(row.ID, v) {
		t.Error("the row holds the cookie's token")
	}
	if !bytes.Contains(row.Data, []byte(`"plan":"pro"`)) || row.Address != "192.0.2.0/24" || !strings.HasPrefix(row.UserAgent, "Mozilla/5.0") {
		t.Errorf("row: %+v", row)
	}
}

func TestWarmDatabaseSessionsReadNoDatabase(t *testing.T) {
	t.Parallel()
	a, ad := dbApp(t, nil)
	c := a.client()
	c.signIn("alice", "alice-password")
	c.get("/whoami") // fills the cache
	authgate.WaitTouches(a.auth)
	before := ad.Calls()
	for range 100 {
		if got := c.get("/whoami").body; got != "u1 admin pro" {
			t.Fatalf("/whoami: %q", got)
		}
	}
	authgate.WaitTouches(a.auth)
	if n := ad.Calls() - before; n != 0 {
		t.Errorf("100 warm requests made %d adapter calls, want 0", n)
	}
	// After the cache's minute the row is read once more, then warm again.
	a.clk.Advance(61 * time.Second)
	before = ad.Calls()
	for range 10 {
		c.get("/whoami")
	}
	if n := ad.Calls() - before; n != 1 {
		t.Errorf("10 requests after a minute made %d adapter calls, want 1 (one read)", n)
	}
}

func TestLastSeenIsWrittenOncePerIntervalAndSlidesTheExpiry(t *testing.T) {
	t.Parallel()
	for _, db := range []bool{false, true} {
		t.Run(map[bool]string{false: "jwt", true: "database"}[db], func(t *testing.T) {
			ad := authgatetest.NewMemoryAdapter()
			a := newApp(t, func(c *authgate.Config[claims]) { c.Adapter, c.DatabaseSessions = ad, db })
			c := a.client()
			c.signIn("alice", "alice-password")
			first := rows(t, ad, "u1")[0]
			a.clk.Advance(time.Minute)
			c.get("/whoami")
			authgate.WaitTouches(a.auth)
			if got := rows(t, ad, "u1")[0]; !got.LastSeen.Equal(first.LastSeen) {
				t.Errorf("a request a minute later moved last seen from %v to %v; the interval is five minutes", first.LastSeen, got.LastSeen)
			}
			a.clk.Advance(6 * time.Minute)
			res := c.get("/whoami")
			authgate.WaitTouches(a.auth)
			got := rows(t, ad, "u1")[0]
			if want := a.clk.Now().Truncate(5 * time.Minute); !got.LastSeen.Equal(want) {
				t.Errorf("last seen %v, want %v (now, rounded down to five minutes)", got.LastSeen, want)
			}
			if db {
				if want := a.clk.Now().Add(authgate.DefaultMaxAge).Truncate(time.Second); !got.Expires.Equal(want) {
					t.Errorf("expiry %v, want %v (slid to now + MaxAge)", got.Expires, want)
				}
				if cs := sessionSetCookies(res.Response); len(cs) != 1 || cs[0].Value != c.cookie(sessionCookie) {
					t.Errorf("the touch did not set the same cookie again with the new expiry: %v", cs)
				}
			}
		})
	}
}

func TestAnUpdateStoresTheNewClaimsInTheRowAndKeepsTheCookie(t *testing.T) {
	t.Parallel()
	a, ad := dbApp(t, nil)
	c := a.client()
	c.signIn("alice", "alice-password")
	v := c.cookie(sessionCookie)
	res := c.postJSON("/api/auth/session", map[string]any{"csrfToken": c.csrf(), "data": map[string]string{"plan": "team"}})
	if res.StatusCode != 200 || !strings.Contains(res.body, `"plan":"team"`) {
		t.Fatalf("update: %d %s", res.StatusCode, res.body)
	}
	if c.cookie(sessionCookie) != v {
		t.Error("the update changed the cookie's token")
	}
	if got := c.get("/whoami").body; got != "u1 admin team" {
		t.Errorf("/whoami after the update: %q", got)
	}
	if !bytes.Contains(rows(t, ad, "u1")[0].Data, []byte(`"plan":"team"`)) {
		t.Error("the row does not hold the new claims")
	}
	// A second instance reads the new claims from the row.
	b := newApp(t, func(cfg *authgate.Config[claims]) { cfg.Adapter, cfg.DatabaseSessions = ad, true })
	if got := b.clientWith(c.hc.Jar, defaultAddr).get("/whoami").body; got != "u1 admin team" {
		t.Errorf("second instance: %q", got)
	}
}

func TestARefreshRunsTheJWTCallbackAndStoresItsToken(t *testing.T) {
	t.Parallel()
	plan := "pro"
	a, ad := dbApp(t, func(cfg *authgate.Config[claims]) {
		jwt := cfg.Callbacks.JWT
		cfg.Callbacks.JWT = func(ctx context.Context, p authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
			if p.Trigger == authgate.TriggerRefresh {
				p.Token.Claims.Plan = plan
			}
			return jwt(ctx, p)
		}
	})
	c := a.client()
	c.signIn("alice", "alice-password")
	plan = "enterprise"
	a.clk.Advance(authgate.DefaultUpdateAge + time.Minute)
	if got := c.get("/whoami").body; got != "u1 admin enterprise" {
		t.Errorf("/whoami after UpdateAge: %q, want the refreshed claims", got)
	}
	if !bytes.Contains(rows(t, ad, "u1")[0].Data, []byte(`"plan":"enterprise"`)) {
		t.Error("the refreshed token is not in the row")
	}
}

func TestAnEndedDatabaseSessionIsRefusedAndItsCookieCleared(t *testing.T) {
	t.Parallel()
	a, ad := dbApp(t, nil)
	c := a.client()
	c.signIn("alice", "alice-password")
	c.get("/whoami")
	// The row goes behind authgate's back (an admin's DELETE): the cache
	// serves the session until it reads the row again, within a minute.
	if _, err := ad.DeleteSessions(t.Context(), "u1", ""); err != nil {
		t.Fatal(err)
	}
	a.clk.Advance(61 * time.Second)
	res := c.get("/whoami")
	if res.body != "anonymous" {
		t.Fatalf("/whoami after the row was deleted: %q", res.body)
	}
	if cs := sessionSetCookies(res.Response); len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Errorf("the cookie of a session that no longer exists was not cleared: %v", cs)
	}
}

func TestAStoreFaultFailsClosedAndKeepsTheCookie(t *testing.T) {
	t.Parallel()
	a, ad := dbApp(t, nil)
	c := a.client()
	c.signIn("alice", "alice-password")
	v := c.cookie(sessionCookie)
	a.clk.Advance(61 * time.Second) // past the cache: the next request reads the row
	ad.SetFail(errors.New("database down"))
	res := c.get("/whoami")
	if res.body != "anonymous" {
		t.Fatalf("/whoami during the outage: %q, want anonymous (fail closed)", res.body)
	}
	if cs := sessionSetCookies(res.Response); len(cs) != 0 {
		t.Errorf("the outage touched the session cookie: %v", cs)
	}
	if res := c.get("/api/auth/session"); len(sessionSetCookies(res.Response)) != 0 {
		t.Errorf("GET /session during the outage touched the cookie: %v", res.Header["Set-Cookie"])
	}
	ad.SetFail(nil)
	if got := c.get("/whoami").body; got != "u1 admin pro" || c.cookie(sessionCookie) != v {
		t.Errorf("after the outage: %q, want the same session back", got)
	}
}

func TestAForgedOrStolenRowValueIsNoCookie(t *testing.T) {
	t.Parallel()
	a, ad := dbApp(t, nil)
	victim := a.client()
	victim.signIn("alice", "alice-password")
	row := rows(t, ad, "u1")[0]
	before := ad.Calls()
	for _, v := range []string{
		base64.RawURLEncoding.EncodeToString(append(bytes.Clone(row.TokenHash), make([]byte, 16)...)), // the hash, as a token
		strings.Repeat("A", 64),
		row.ID,
		base64.RawURLEncoding.EncodeToString(row.Data),
	} {
		c := a.client()
		c.setCookie(sessionCookie, v)
		if got := c.get("/whoami").body; got != "anonymous" {
			t.Errorf("cookie %.20s…: %q, want anonymous", v, got)
		}
	}
	if n := ad.Calls() - before; n != 0 {
		t.Errorf("forged cookies made %d adapter calls, want none (the tag is checked first)", n)
	}
}

func TestSignOutEndsADatabaseSession(t *testing.T) {
	t.Parallel()
	a, ad := dbApp(t, nil)
	c := a.client()
	c.signIn("alice", "alice-password")
	stolen := c.cookie(sessionCookie)
	c.signOut()
	if n := len(rows(t, ad, "u1")); n != 0 {
		t.Errorf("%d rows left after sign-out", n)
	}
	thief := a.client()
	thief.setCookie(sessionCookie, stolen)
	if got := thief.get("/whoami").body; got != "anonymous" {
		t.Errorf("a copy of the signed-out cookie: %q", got)
	}
}

func TestSignOutEverywhereDeletesTheRows(t *testing.T) {
	t.Parallel()
	a, ad := dbApp(t, nil)
	a.client().signIn("alice", "alice-password")
	a.client().signIn("alice", "alice-password")
	if err := a.auth.SignOutEverywhere(t.Context(), "u1"); err != nil {
		t.Fatal(err)
	}
	if n := len(rows(t, ad, "u1")); n != 0 {
		t.Errorf("%d rows left", n)
	}
}

func TestNewSessionCookiesMakesADatabaseSession(t *testing.T) {
	t.Parallel()
	a, ad := dbApp(t, nil)
	r := authgatetest.SignIn(t, a.auth, request("GET", "/whoami"), authgate.User[claims]{ID: "u2", Name: "bob", Role: "user"})
	if got := a.serve(r).Body.String(); got != "u2 user free" {
		t.Errorf("/whoami: %q", got)
	}
	if n := len(rows(t, ad, "u2")); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}

func TestDatabaseSessionsConfigIsChecked(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		edit func(*authgate.Config[claims])
	}{
		{"database sessions without an adapter", func(c *authgate.Config[claims]) { c.DatabaseSessions = true }},
		{"database sessions with a codec", func(c *authgate.Config[claims]) {
			c.Adapter, c.DatabaseSessions, c.Codec = authgatetest.NewMemoryAdapter(), true, nopCodec{}
		}},
		{"a negative FreshAuthAge", func(c *authgate.Config[claims]) { c.FreshAuthAge = -time.Second }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newConfig(appURL, newClock())
			tt.edit(&cfg)
			if _, err := authgate.New(cfg); !errors.Is(err, authgate.ErrConfig) {
				t.Errorf("New: got %v, want ErrConfig", err)
			}
		})
	}
}

// nopCodec is a Codec that refuses everything.
type nopCodec struct{}

func (nopCodec) Encode(string, any) (string, error) { return "", errors.New("nop") }
func (nopCodec) Decode(string, string, any) error   { return errors.New("nop") }

// A second instance sharing the adapter and the revocation store refuses
// a session ended on the first at its next request, although its cache
// holds the session: the revocation check runs on every request.
func TestASessionEndedOnOneInstanceIsRefusedOnAnotherAtOnce(t *testing.T) {
	t.Parallel()
	for _, db := range []bool{false, true} {
		t.Run(map[bool]string{false: "jwt", true: "database"}[db], func(t *testing.T) {
			ad := authgatetest.NewMemoryAdapter()
			clk := newClock()
			revs := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{Now: clk.Now})
			edit := func(c *authgate.Config[claims]) {
				c.Adapter, c.DatabaseSessions, c.Revocations, c.Now = ad, db, revs, clk.Now
			}
			a, b := newApp(t, edit), newApp(t, edit)
			phone := b.client()
			phone.signIn("alice", "alice-password")
			if got := phone.get("/whoami").body; got != "u1 admin pro" {
				t.Fatalf("phone on b: %q", got)
			}
			laptop := a.client()
			laptop.signIn("alice", "alice-password")
			var phoneID string
			for _, d := range devices(t, laptop) {
				if !d.Current {
					phoneID = d.ID
				}
			}
			if res := laptop.endDevice(phoneID); res.StatusCode != 200 {
				t.Fatalf("DELETE /sessions/%s: %d %s", phoneID, res.StatusCode, res.body)
			}
			if got := phone.get("/whoami").body; got != "anonymous" {
				t.Errorf("phone on b after the laptop ended it: %q", got)
			}
			if got := laptop.get("/whoami").body; got != "u1 admin pro" {
				t.Errorf("laptop: %q", got)
			}
		})
	}
}

// endDevice sends DELETE /api/auth/sessions/{id} with the CSRF token.
func (c *client) endDevice(id string) response {
	c.t.Helper()
	return c.send("DELETE", "/api/auth/sessions/"+url.PathEscape(id), "application/json", `{"csrfToken":"`+c.csrf()+`"}`)
}
