package main

// The device list and database sessions through the demo, on SQLite and on
// a real PostgreSQL (sqlstore/pgtest), with JWT and database sessions: two
// instances share the database and one redis-server (redistest), as behind
// a load balancer.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/redisstore/redistest"
	"github.com/authgate/authgate/sqlstore/pgtest"
)

// pg is the PostgreSQL server this package's tests share.
var pg pgtest.Shared

// twoInstances starts two demo instances on dsn with strategy, claiming
// one public URL and sharing a Redis, and returns them with the seeded
// passwords.
func twoInstances(t *testing.T, dsn, strategy string) (a, b *demo) {
	t.Helper()
	redisURL := redistest.Start(t).URL()
	instance := func() *demo {
		return startDemoOn(t, dsn, "", func(o *Options) {
			o.URL = publicURL
			o.SessionStrategy = strategy
			o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			closeRedis, err := useRedis(context.Background(), redisURL, o, o.Logger)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(closeRedis)
		})
	}
	a, b = instance(), instance()
	b.Passwords = a.Passwords // b found the users a seeded
	return a, b
}

// deviceList is GET /api/auth/sessions on base with c's cookies.
func deviceList(t *testing.T, c *http.Client, base string) (int, []authgate.Device) {
	t.Helper()
	resp, body := get(t, c, base+"/api/auth/sessions", "application/json")
	var v struct{ Sessions []authgate.Device }
	if resp.StatusCode == 200 {
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, v.Sessions
}

// csrfToken fetches c's CSRF token from base.
func csrfToken(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	_, body := get(t, c, base+"/api/auth/csrf", "")
	var v struct {
		CSRFToken string `json:"csrfToken"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	return v.CSRFToken
}

// endDevice ends session id through DELETE /api/auth/sessions/{id} on base.
func endDevice(t *testing.T, c *http.Client, base, id string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, base+"/api/auth/sessions/"+url.PathEscape(id), strings.NewReader(`{"csrfToken":"`+csrfToken(t, c, base)+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// status is GET path on base with only c's session cookie (no redirects
// followed), and whether the answer deleted the session cookie.
func status(t *testing.T, c *http.Client, base, path string) (int, bool) {
	t.Helper()
	resp, _ := get(t, c, base+path, "application/json")
	cleared := false
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie && ck.MaxAge < 0 {
			cleared = true
		}
	}
	return resp.StatusCode, cleared
}

// refusedSoon polls path on base until it answers 401, and fails the test
// after 5 s; it logs how long the refusal took to arrive.
func refusedSoon(t *testing.T, c *http.Client, base, what string) {
	t.Helper()
	start := time.Now()
	for {
		code, _ := status(t, c, base, "/api/me")
		if code == http.StatusUnauthorized {
			t.Logf("%s: refused %v after the end was answered", what, time.Since(start))
			return
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s: still accepted 5 s after the end was answered (%d)", what, code)
		}
	}
}

// dump returns everything the database holds about sessions: the raw
// bytes of a SQLite file (and its WAL), or every column of
// authgate_sessions on PostgreSQL, as a stolen backup would.
func dump(t *testing.T, d *demo, dsn string) []byte {
	t.Helper()
	if !strings.HasPrefix(dsn, "postgres") {
		var out []byte
		for _, p := range []string{dsn, dsn + "-wal"} {
			b, _ := os.ReadFile(p)
			out = append(out, b...)
		}
		return out
	}
	rows, err := d.Store.Adapter().DB().QueryContext(context.Background(),
		`SELECT id, coalesce(token_hash, ''::bytea), user_id, user_agent, address, coalesce(data, ''::bytea) FROM authgate_sessions`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []byte
	for rows.Next() {
		var id, uid, ua, addr string
		var hash, data []byte
		if err := rows.Scan(&id, &hash, &uid, &ua, &addr, &data); err != nil {
			t.Fatal(err)
		}
		out = append(out, []byte(id+uid+ua+addr)...)
		out = append(append(out, hash...), data...)
	}
	return out
}

func TestTheDeviceListThroughTheDemo(t *testing.T) {
	type dbCase struct {
		name string
		dsn  func(t *testing.T) string
	}
	dbs := []dbCase{
		{"SQLite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "demo.db") }},
		{"PostgreSQL", func(t *testing.T) string { return pg.Server(t).NewDatabase(t) }},
	}
	for _, db := range dbs {
		for _, strategy := range []string{"jwt", "database"} {
			t.Run(db.name+", "+strategy+" sessions", func(t *testing.T) {
				dsn := db.dsn(t)
				a, b := twoInstances(t, dsn, strategy)
				pw := a.Passwords["alice"]
				laptop, phone, tablet := a.client(t), b.client(t), a.client(t)
				if signInOn(t, laptop, a.URL, "alice", pw) != 200 || signInOn(t, phone, b.URL, "alice", pw) != 200 {
					t.Fatal("sign-in failed")
				}
				if strategy == "database" {
					if v := cookieValue(t, laptop, a.URL); len(v) != 64 {
						t.Errorf("database session cookie %q: want an opaque 64-character token", v)
					}
				}

				// The device list shows both browsers, on either instance.
				code, list := deviceList(t, laptop, b.URL)
				if code != 200 || len(list) != 2 {
					t.Fatalf("GET /api/auth/sessions: %d, %d devices, want 2", code, len(list))
				}
				var phoneID string
				for _, d := range list {
					if !d.Current {
						phoneID = d.ID
					}
				}
				if phoneID == "" {
					t.Fatalf("no device other than the current one: %+v", list)
				}

				// A stolen copy of the database holds no working cookie.
				stolen := dump(t, a, dsn)
				for _, c := range []*http.Client{laptop, phone} {
					v := cookieValue(t, c, a.URL)
					raw, _ := base64.RawURLEncoding.DecodeString(v)
					if bytes.Contains(stolen, []byte(v)) || (len(raw) == 48 && bytes.Contains(stolen, raw[:32])) {
						t.Error("the database holds a session cookie's token")
					}
				}

				// Ending the phone from the laptop (on A) refuses the phone's
				// cookie on B and on A.
				if code := endDevice(t, laptop, a.URL, phoneID); code != 200 {
					t.Fatalf("DELETE the phone: %d", code)
				}
				refusedSoon(t, phone, b.URL, "the phone on the other instance")
				if code, _ := status(t, phone, a.URL, "/api/me"); code != 401 {
					t.Errorf("the phone on A: %d, want 401", code)
				}

				// "Sign out the others" keeps the current one.
				if signInOn(t, tablet, a.URL, "alice", pw) != 200 {
					t.Fatal("tablet sign-in failed")
				}
				req, _ := http.NewRequest(http.MethodPost, b.URL+"/api/auth/sessions/revoke-others",
					strings.NewReader(url.Values{"csrfToken": {csrfToken(t, laptop, b.URL)}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := laptop.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("revoke-others: %d", resp.StatusCode)
				}
				refusedSoon(t, tablet, a.URL, "the tablet")
				if code, _ := status(t, laptop, a.URL, "/api/me"); code != 200 {
					t.Errorf("the laptop after signing the others out: %d, want 200", code)
				}
				if _, list := deviceList(t, laptop, a.URL); len(list) != 1 || !list[0].Current {
					t.Errorf("left: %+v, want the laptop only", list)
				}

				if db.name == "PostgreSQL" {
					postgresRestart(t, a, b, laptop, strategy)
				}
			})
		}
	}
}

// postgresRestart stops the PostgreSQL server under the two instances:
// nothing that needs the database is answered (fail closed), no session
// cookie is cleared, and once the server is back every session works as
// before.
func postgresRestart(t *testing.T, a, b *demo, laptop *http.Client, strategy string) {
	t.Helper()
	pw := a.Passwords["bob"]
	desk := a.client(t) // signed in on A only: B has never seen its cookie
	if signInOn(t, desk, a.URL, "bob", pw) != 200 {
		t.Fatal("desk sign-in failed")
	}
	srv := pg.Server(t)
	srv.Stop()
	restarted := false
	defer func() {
		if !restarted {
			srv.Restart(t)
		}
	}()

	noClear := func(what string, cleared bool) {
		t.Helper()
		if cleared {
			t.Errorf("%s: the session cookie was cleared during the outage", what)
		}
	}
	// The device list needs the database: 503, the cookie kept.
	resp, _ := get(t, laptop, a.URL+"/api/auth/sessions", "application/json")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /api/auth/sessions during the outage: %d, want 503", resp.StatusCode)
	}
	noClear("GET /api/auth/sessions", len(resp.Cookies()) > 0 && resp.Cookies()[0].MaxAge < 0)
	// A new sign-in cannot even find its user: refused, no session. (The
	// demo's Authorize returns the store's error, which authgate answers
	// as CredentialsSignin, 401.)
	newcomer := a.client(t)
	if s, u := signInJSON(t, newcomer, a.URL, "alice", a.Passwords["alice"]); s == http.StatusOK || !strings.Contains(u, "error=") {
		t.Errorf("sign-in during the outage: %d %q, want it refused", s, u)
	}
	if code, _ := status(t, newcomer, a.URL, "/api/me"); code != http.StatusUnauthorized {
		t.Errorf("the refused sign-in left a session: /api/me %d", code)
	}
	// The desk's session on B: with database sessions B must read its row,
	// and fails closed (the guard answers 503); a JWT cookie needs no
	// database to be verified.
	code, cleared := status(t, desk, b.URL, "/dashboard")
	noClear("the desk on B", cleared)
	want := map[string]int{"database": http.StatusServiceUnavailable, "jwt": http.StatusOK}[strategy]
	if code != want {
		t.Errorf("the desk's /dashboard on B during the outage: %d, want %d", code, want)
	}
	code, cleared = status(t, laptop, a.URL, "/api/auth/session")
	noClear("GET /api/auth/session", cleared)
	if code != http.StatusOK && code != http.StatusServiceUnavailable {
		t.Errorf("GET /api/auth/session during the outage: %d", code)
	}

	srv.Restart(t)
	restarted = true
	// The pools reconnect: every session survived.
	for _, s := range []struct {
		c    *http.Client
		base string
		what string
	}{{desk, b.URL, "the desk on B"}, {desk, a.URL, "the desk on A"}, {laptop, b.URL, "the laptop on B"}} {
		var code int
		for range 50 {
			if code, _ = status(t, s.c, s.base, "/dashboard"); code == http.StatusOK {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if code != http.StatusOK {
			t.Errorf("%s after the restart: %d, want 200", s.what, code)
		}
	}
}

func TestADatabaseOfAnOlderDemoIsMovedNotDeleted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := authgate.BcryptHasher{Cost: 4}.Hash("old-password")
	if err != nil {
		t.Fatal(err)
	}
	// The users table as the demo made it before it used sqlstore.
	for _, q := range []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE, email TEXT NOT NULL DEFAULT '',
			password_hash TEXT NOT NULL, role TEXT NOT NULL, created_at TEXT NOT NULL)`,
		`INSERT INTO users (username, email, password_hash, role, created_at) VALUES ('alice', 'alice@example.com', '` + hash + `', 'admin', '2026-11-01T10:00:00Z')`,
		`INSERT INTO users (username, email, password_hash, role, created_at) VALUES ('bob', 'alice@example.com', '` + hash + `', 'user', '2026-11-02T10:00:00Z')`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	for range 2 { // the second start finds nothing left to move
		s, err := OpenStore(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		alice, err := s.UserByUsername(context.Background(), "alice")
		if err != nil || alice.ID != "1" || alice.PasswordHash != hash || alice.Role != "admin" || alice.Email != "alice@example.com" ||
			!alice.Created.Equal(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("alice after the move: %+v (%v), want id 1 and her hash, role, address and creation time", alice, err)
		}
		// The old table let bob share alice's address; sqlstore does not,
		// so bob keeps everything but the address.
		if bob, err := s.UserByUsername(context.Background(), "bob"); err != nil || bob.ID != "2" || bob.PasswordHash != hash {
			t.Errorf("bob after the move: %+v (%v)", bob, err)
		}
		var n int
		if err := s.Adapter().DB().QueryRow(`SELECT count(*) FROM users_before_sqlstore`).Scan(&n); err != nil || n != 2 {
			t.Errorf("the old table: %d rows (%v), want it kept with its 2", n, err)
		}
		s.Close()
	}
	// A session minted for the old id 1 still names a user.
	d := startDemoOn(t, path, "")
	c := d.client(t)
	mustSignIn(t, c, d.URL, "alice", "old-password")
	if _, body := get(t, c, d.URL+"/api/me", "application/json"); !strings.Contains(body, `"id":"1"`) {
		t.Errorf("/api/me: %s, want user id 1", body)
	}
}

func TestTheDevicesPageSignsADeviceOut(t *testing.T) {
	d := startDemo(t, "")
	laptop, phone := d.client(t), d.client(t)
	mustSignIn(t, laptop, d.URL, "alice", d.Passwords["alice"])
	mustSignIn(t, phone, d.URL, "alice", d.Passwords["alice"])
	resp, body := get(t, laptop, d.URL+"/devices", "text/html")
	if resp.StatusCode != 200 || strings.Count(body, `class="device`) != 2 || !strings.Contains(body, "this device") {
		t.Fatalf("GET /devices: %d\n%s", resp.StatusCode, body)
	}
	_, list := deviceList(t, laptop, d.URL)
	var phoneID string
	for _, dv := range list {
		if !dv.Current {
			phoneID = dv.ID
		}
	}
	req, _ := http.NewRequest(http.MethodPost, d.URL+"/devices/signout", strings.NewReader(url.Values{"id": {phoneID}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := laptop.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/devices?ended=1" {
		t.Fatalf("POST /devices/signout: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _ := status(t, phone, d.URL, "/api/me"); code != 401 {
		t.Errorf("the phone: %d, want 401", code)
	}
	// A cross-site form post is refused by CrossOriginProtection.
	req, _ = http.NewRequest(http.MethodPost, d.URL+"/devices/signout-others", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := laptop.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST /devices/signout-others: %v %v, want 403", resp.StatusCode, err)
	}
}
