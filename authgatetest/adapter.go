package authgatetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// TestAdapter checks that an [authgate.Adapter] keeps the contract its doc
// states: users, accounts, sessions and verification tokens stored and
// found again with every field, the documented [authgate.ErrNotFound] and
// [authgate.ErrConflict] answers, exactly one winner when concurrent calls
// race for one value (two sign-ups of one address, two links of one
// account, two uses of one token), and nothing written by a call whose
// context is already cancelled. When the adapter also implements
// [authgate.PasswordAdapter], [authgate.SecondFactorAdapter] or
// [authgate.PasskeyAdapter], their contracts are checked too.
//
// newAdapter is called once per subtest. It may return the same store
// every time: every subtest names its users, accounts and tokens with a
// random prefix of its own, so it sees only what it wrote. Run it from a
// test of the implementation, as [TestLimiter]:
//
//	func TestMyAdapter(t *testing.T) {
//		authgatetest.TestAdapter(t, func(t *testing.T) authgate.Adapter { return newMyAdapter(t) })
//	}
func TestAdapter(t *testing.T, newAdapter func(t *testing.T) authgate.Adapter) {
	t.Helper()
	for _, tt := range adapterTests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, &adapterCase{t: t, a: newAdapter(t), prefix: randomHex(6) + "-"})
		})
	}
	optional := []struct {
		name, iface string
		run         func(c *adapterCase) bool
	}{
		{"password hashes", "PasswordAdapter", func(c *adapterCase) bool {
			pa, ok := c.a.(authgate.PasswordAdapter)
			if ok {
				testPasswords(c, pa)
			}
			return ok
		}},
		{"second factors", "SecondFactorAdapter", func(c *adapterCase) bool {
			sa, ok := c.a.(authgate.SecondFactorAdapter)
			if ok {
				testSecondFactors(c, sa)
			}
			return ok
		}},
		{"passkeys", "PasskeyAdapter", func(c *adapterCase) bool {
			pa, ok := c.a.(authgate.PasskeyAdapter)
			if ok {
				testPasskeys(c, pa)
			}
			return ok
		}},
	}
	for _, o := range optional {
		t.Run(o.name, func(t *testing.T) {
			if !o.run(&adapterCase{t: t, a: newAdapter(t), prefix: randomHex(6) + "-"}) {
				t.Skip("the adapter does not implement authgate." + o.iface)
			}
		})
	}
}

// adapterCase is one subtest's adapter and its private name space.
type adapterCase struct {
	t      *testing.T
	a      authgate.Adapter
	prefix string
}

// name returns s in the subtest's name space.
func (c *adapterCase) name(s string) string { return c.prefix + s }

// email returns an address in the subtest's name space.
func (c *adapterCase) email(local string) string { return c.prefix + local + "@example.com" }

func (c *adapterCase) ctx() context.Context { return c.t.Context() }

// user creates a user with the given e-mail (and a generated id) and
// returns it.
func (c *adapterCase) user(email string) *authgate.AdapterUser {
	c.t.Helper()
	u := &authgate.AdapterUser{Email: email, Name: "Test " + email, Role: "user"}
	if err := c.a.CreateUser(c.ctx(), u); err != nil {
		c.t.Fatalf("CreateUser(%q): %v", email, err)
	}
	return u
}

// session creates a session of userID created at created, with a token
// hash unless jwt.
func (c *adapterCase) session(userID string, created time.Time, jwt bool) *authgate.AdapterSession {
	c.t.Helper()
	s := &authgate.AdapterSession{
		ID: c.name(randomHex(8)), UserID: userID, Created: created, LastSeen: created,
		Expires: created.Add(time.Hour), UserAgent: "Test/1.0", Address: "192.0.2.0/24",
	}
	if !jwt {
		s.TokenHash = tokenHash(randomHex(16))
		s.Data = []byte(`{"sub":"` + userID + `"}`)
	}
	if err := c.a.CreateSession(c.ctx(), s); err != nil {
		c.t.Fatalf("CreateSession: %v", err)
	}
	return s
}

// wantErr fails the test unless err wraps want (nil: no error).
func (c *adapterCase) wantErr(what string, err, want error) {
	c.t.Helper()
	switch {
	case want == nil && err != nil:
		c.t.Fatalf("%s: got error %v, want none", what, err)
	case want != nil && !errors.Is(err, want):
		c.t.Fatalf("%s: got error %v, want one wrapping %v", what, err, want)
	}
}

// race runs f n times at once and returns how many calls returned nil; it
// fails the test for any error that does not wrap allowed.
func (c *adapterCase) race(what string, n int, allowed error, f func(i int) error) int {
	c.t.Helper()
	var mu sync.Mutex
	wins := 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := f(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, allowed):
				c.t.Errorf("%s: call %d: got error %v, want nil or one wrapping %v", what, i, err, allowed)
			}
		}()
	}
	close(start)
	wg.Wait()
	return wins
}

// cancelled returns a context that is already cancelled.
func (c *adapterCase) cancelled() context.Context {
	ctx, cancel := context.WithCancel(c.ctx())
	cancel()
	return ctx
}

// base is when the tests started, in UTC and whole milliseconds, for
// stored times: an adapter may delete sessions and tokens that expired by
// its own clock, so every expiry the tests store lies an hour or more
// after it.
var base = time.Now().UTC().Truncate(time.Millisecond)

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func sameTime(a, b time.Time) bool { return a.Equal(b) }

func diffUser(got, want *authgate.AdapterUser) string {
	switch {
	case got.ID != want.ID, got.Email != want.Email, got.Name != want.Name, got.Image != want.Image, got.Role != want.Role:
		return fmt.Sprintf("got %+v, want %+v", *got, *want)
	case !sameTime(got.EmailVerified, want.EmailVerified), !sameTime(got.Created, want.Created):
		return fmt.Sprintf("times: got verified %v created %v, want %v and %v", got.EmailVerified, got.Created, want.EmailVerified, want.Created)
	}
	return ""
}

func diffSession(got, want *authgate.AdapterSession) string {
	switch {
	case got.ID != want.ID, got.UserID != want.UserID, got.UserAgent != want.UserAgent, got.Address != want.Address,
		!bytes.Equal(got.TokenHash, want.TokenHash), !bytes.Equal(got.Data, want.Data):
		return fmt.Sprintf("got %+v, want %+v", *got, *want)
	case !sameTime(got.Created, want.Created), !sameTime(got.LastSeen, want.LastSeen), !sameTime(got.Expires, want.Expires):
		return fmt.Sprintf("times: got %v %v %v, want %v %v %v", got.Created, got.LastSeen, got.Expires, want.Created, want.LastSeen, want.Expires)
	}
	return ""
}

func sessionIDs(ss []authgate.AdapterSession) []string {
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	return ids
}

var adapterTests = []struct {
	name string
	run  func(t *testing.T, c *adapterCase)
}{
	{"a created user is found by id and by e-mail in any ASCII case", func(t *testing.T, c *adapterCase) {
		u := &authgate.AdapterUser{Email: c.email("Alice"), EmailVerified: base, Name: "Alice", Image: "https://example.com/a.png", Role: "admin", Created: base}
		if err := c.a.CreateUser(c.ctx(), u); err != nil {
			t.Fatal(err)
		}
		if u.ID == "" {
			t.Fatal("CreateUser left the id empty")
		}
		want := *u
		got, err := c.a.User(c.ctx(), u.ID)
		c.wantErr("User", err, nil)
		if d := diffUser(got, &want); d != "" {
			t.Errorf("User: %s", d)
		}
		for _, e := range []string{u.Email, c.email("ALICE"), c.email("alice")} {
			got, err := c.a.UserByEmail(c.ctx(), e)
			c.wantErr("UserByEmail("+e+")", err, nil)
			if got.ID != u.ID {
				t.Errorf("UserByEmail(%q): got user %q, want %q", e, got.ID, u.ID)
			}
		}
	}},
	{"a user without id gets a unique random one and a creation time", func(t *testing.T, c *adapterCase) {
		seen := map[string]bool{}
		for range 20 {
			u := &authgate.AdapterUser{Name: "no e-mail"}
			if err := c.a.CreateUser(c.ctx(), u); err != nil {
				t.Fatal(err) // users without e-mail never conflict
			}
			if u.ID == "" || seen[u.ID] {
				t.Fatalf("CreateUser chose id %q, seen before: %v", u.ID, seen[u.ID])
			}
			seen[u.ID] = true
			if u.Created.IsZero() {
				t.Fatal("CreateUser left Created zero")
			}
		}
	}},
	{"a chosen id is kept, and taking it again is a conflict", func(t *testing.T, c *adapterCase) {
		id := c.name("42")
		u := &authgate.AdapterUser{ID: id, Created: base}
		c.wantErr("CreateUser", c.a.CreateUser(c.ctx(), u), nil)
		if u.ID != id {
			t.Fatalf("CreateUser changed the id to %q", u.ID)
		}
		c.wantErr("CreateUser again", c.a.CreateUser(c.ctx(), &authgate.AdapterUser{ID: id}), authgate.ErrConflict)
	}},
	{"a second user with the same e-mail in another case is a conflict", func(t *testing.T, c *adapterCase) {
		c.user(c.email("bob"))
		err := c.a.CreateUser(c.ctx(), &authgate.AdapterUser{Email: c.email("BOB")})
		c.wantErr("CreateUser(BOB)", err, authgate.ErrConflict)
	}},
	{"concurrent sign-ups of one e-mail create exactly one user", func(t *testing.T, c *adapterCase) {
		e := c.email("race")
		wins := c.race("CreateUser", 12, authgate.ErrConflict, func(int) error {
			return c.a.CreateUser(c.ctx(), &authgate.AdapterUser{Email: e})
		})
		if wins != 1 {
			t.Fatalf("got %d users created, want exactly 1", wins)
		}
		if _, err := c.a.UserByEmail(c.ctx(), e); err != nil {
			t.Fatal(err)
		}
	}},
	{"unknown users, addresses and accounts are not found", func(t *testing.T, c *adapterCase) {
		_, err := c.a.User(c.ctx(), c.name("nobody"))
		c.wantErr("User", err, authgate.ErrNotFound)
		_, err = c.a.UserByEmail(c.ctx(), c.email("nobody"))
		c.wantErr("UserByEmail", err, authgate.ErrNotFound)
		_, err = c.a.UserByEmail(c.ctx(), "")
		c.wantErr("UserByEmail(\"\")", err, authgate.ErrNotFound)
		_, err = c.a.UserByAccount(c.ctx(), "github", c.name("1"))
		c.wantErr("UserByAccount", err, authgate.ErrNotFound)
		c.wantErr("UpdateUser", c.a.UpdateUser(c.ctx(), &authgate.AdapterUser{ID: c.name("nobody")}), authgate.ErrNotFound)
		c.wantErr("DeleteUser", c.a.DeleteUser(c.ctx(), c.name("nobody")), authgate.ErrNotFound)
		accounts, err := c.a.Accounts(c.ctx(), c.name("nobody"))
		c.wantErr("Accounts", err, nil)
		if len(accounts) != 0 {
			t.Errorf("Accounts of an unknown user: got %d, want none", len(accounts))
		}
	}},
	{"an update changes the stored fields and keeps e-mail addresses unique", func(t *testing.T, c *adapterCase) {
		u := c.user(c.email("carol"))
		other := c.user(c.email("dave"))
		u.Email, u.EmailVerified, u.Name, u.Image, u.Role = c.email("carol2"), base, "Carol", "https://example.com/c.png", "admin"
		c.wantErr("UpdateUser", c.a.UpdateUser(c.ctx(), u), nil)
		got, err := c.a.User(c.ctx(), u.ID)
		c.wantErr("User", err, nil)
		if d := diffUser(got, u); d != "" {
			t.Errorf("after UpdateUser: %s", d)
		}
		if _, err := c.a.UserByEmail(c.ctx(), c.email("carol")); !errors.Is(err, authgate.ErrNotFound) {
			t.Errorf("the old address still finds a user: %v", err)
		}
		u.Email = c.email("DAVE")
		c.wantErr("UpdateUser to another user's address", c.a.UpdateUser(c.ctx(), u), authgate.ErrConflict)
		if got, _ := c.a.User(c.ctx(), u.ID); got == nil || got.Email != c.email("carol2") {
			t.Errorf("a refused update changed the user: %+v", got)
		}
		if got, _ := c.a.UserByEmail(c.ctx(), c.email("dave")); got == nil || got.ID != other.ID {
			t.Errorf("the other user lost their address: %+v", got)
		}
	}},
	{"a linked account finds its user and keeps its tokens", func(t *testing.T, c *adapterCase) {
		u := c.user(c.email("erin"))
		a := authgate.Account{Provider: "github", Type: "oauth", ProviderAccountID: c.name("583231"),
			AccessToken: "at", RefreshToken: "rt", ExpiresAt: base.Unix(), IDToken: "idt", Scope: "read:user", TokenType: "bearer"}
		c.wantErr("LinkAccount", c.a.LinkAccount(c.ctx(), u.ID, a), nil)
		b := authgate.Account{Provider: "credentials", Type: "credentials", ProviderAccountID: c.name("erin")}
		c.wantErr("LinkAccount", c.a.LinkAccount(c.ctx(), u.ID, b), nil)
		got, err := c.a.UserByAccount(c.ctx(), "github", a.ProviderAccountID)
		c.wantErr("UserByAccount", err, nil)
		if got.ID != u.ID {
			t.Fatalf("UserByAccount: got user %q, want %q", got.ID, u.ID)
		}
		if _, err := c.a.UserByAccount(c.ctx(), "google", a.ProviderAccountID); !errors.Is(err, authgate.ErrNotFound) {
			t.Errorf("the same account id at another provider found a user: %v", err)
		}
		accounts, err := c.a.Accounts(c.ctx(), u.ID)
		c.wantErr("Accounts", err, nil)
		if len(accounts) != 2 || accounts[0] != a || accounts[1] != b {
			t.Errorf("Accounts: got %#v, want the two linked, oldest first, with their tokens", accounts)
		}
	}},
	{"linking a linked account again is a conflict, for the same user or another", func(t *testing.T, c *adapterCase) {
		u, v := c.user(c.email("frank")), c.user(c.email("grace"))
		a := authgate.Account{Provider: "google", Type: "oauth", ProviderAccountID: c.name("g1")}
		c.wantErr("LinkAccount", c.a.LinkAccount(c.ctx(), u.ID, a), nil)
		c.wantErr("LinkAccount to the same user", c.a.LinkAccount(c.ctx(), u.ID, a), authgate.ErrConflict)
		c.wantErr("LinkAccount to another user", c.a.LinkAccount(c.ctx(), v.ID, a), authgate.ErrConflict)
		if got, _ := c.a.UserByAccount(c.ctx(), "google", a.ProviderAccountID); got == nil || got.ID != u.ID {
			t.Errorf("the account moved: %+v", got)
		}
		c.wantErr("LinkAccount to an unknown user", c.a.LinkAccount(c.ctx(), c.name("nobody"),
			authgate.Account{Provider: "google", Type: "oauth", ProviderAccountID: c.name("g2")}), authgate.ErrNotFound)
	}},
	{"concurrent links of one account succeed once", func(t *testing.T, c *adapterCase) {
		users := make([]*authgate.AdapterUser, 8)
		for i := range users {
			users[i] = c.user(c.email(fmt.Sprint("link", i)))
		}
		a := authgate.Account{Provider: "github", Type: "oauth", ProviderAccountID: c.name("raced")}
		wins := c.race("LinkAccount", len(users), authgate.ErrConflict, func(i int) error {
			return c.a.LinkAccount(c.ctx(), users[i].ID, a)
		})
		if wins != 1 {
			t.Fatalf("got %d links, want exactly 1", wins)
		}
	}},
	{"an unlinked account finds no user, and unlinking it again is not found", func(t *testing.T, c *adapterCase) {
		u := c.user(c.email("heidi"))
		a := authgate.Account{Provider: "github", Type: "oauth", ProviderAccountID: c.name("h1")}
		c.wantErr("LinkAccount", c.a.LinkAccount(c.ctx(), u.ID, a), nil)
		c.wantErr("UnlinkAccount", c.a.UnlinkAccount(c.ctx(), "github", a.ProviderAccountID), nil)
		_, err := c.a.UserByAccount(c.ctx(), "github", a.ProviderAccountID)
		c.wantErr("UserByAccount", err, authgate.ErrNotFound)
		c.wantErr("UnlinkAccount again", c.a.UnlinkAccount(c.ctx(), "github", a.ProviderAccountID), authgate.ErrNotFound)
		c.wantErr("LinkAccount after unlinking", c.a.LinkAccount(c.ctx(), u.ID, a), nil)
	}},
	{"deleting a user deletes their accounts and sessions", func(t *testing.T, c *adapterCase) {
		u := c.user(c.email("ivan"))
		a := authgate.Account{Provider: "github", Type: "oauth", ProviderAccountID: c.name("i1")}
		c.wantErr("LinkAccount", c.a.LinkAccount(c.ctx(), u.ID, a), nil)
		s := c.session(u.ID, base, false)
		c.wantErr("DeleteUser", c.a.DeleteUser(c.ctx(), u.ID), nil)
		_, err := c.a.User(c.ctx(), u.ID)
		c.wantErr("User", err, authgate.ErrNotFound)
		_, err = c.a.UserByAccount(c.ctx(), "github", a.ProviderAccountID)
		c.wantErr("UserByAccount", err, authgate.ErrNotFound)
		_, err = c.a.SessionByToken(c.ctx(), s.TokenHash)
		c.wantErr("SessionByToken", err, authgate.ErrNotFound)
		c.user(c.email("ivan")) // the address is free again
	}},
	{"a session is found by its token hash with every field", func(t *testing.T, c *adapterCase) {
		s := c.session(c.name("u1"), base, false)
		got, err := c.a.SessionByToken(c.ctx(), s.TokenHash)
		c.wantErr("SessionByToken", err, nil)
		if d := diffSession(got, s); d != "" {
			t.Error(d)
		}
		_, err = c.a.SessionByToken(c.ctx(), tokenHash("another token"))
		c.wantErr("SessionByToken(unknown)", err, authgate.ErrNotFound)
	}},
	{"a session id or token hash that exists is a conflict, but many sessions have no token hash", func(t *testing.T, c *adapterCase) {
		s := c.session(c.name("u1"), base, false)
		dupID := *s
		dupID.TokenHash = tokenHash(randomHex(16))
		c.wantErr("CreateSession(same id)", c.a.CreateSession(c.ctx(), &dupID), authgate.ErrConflict)
		dupHash := *s
		dupHash.ID = c.name(randomHex(8))
		c.wantErr("CreateSession(same token hash)", c.a.CreateSession(c.ctx(), &dupHash), authgate.ErrConflict)
		c.session(c.name("u1"), base, true)
		c.session(c.name("u1"), base, true)
		list, err := c.a.Sessions(c.ctx(), c.name("u1"))
		c.wantErr("Sessions", err, nil)
		if len(list) != 3 {
			t.Errorf("Sessions: got %d, want 3", len(list))
		}
	}},
	{"an update writes the data always and the last-seen time only forward", func(t *testing.T, c *adapterCase) {
		s := c.session(c.name("u1"), base, false)
		later := *s
		later.LastSeen, later.Expires, later.Data = base.Add(5*time.Minute), base.Add(2*time.Hour), []byte(`{"v":2}`)
		c.wantErr("UpdateSession", c.a.UpdateSession(c.ctx(), &later), nil)
		older := later
		older.LastSeen, older.Expires, older.Data = base.Add(time.Minute), base.Add(time.Hour), []byte(`{"v":3}`)
		c.wantErr("UpdateSession(older)", c.a.UpdateSession(c.ctx(), &older), nil)
		same := later
		same.Data = nil // nil keeps the data
		same.Expires = base.Add(3 * time.Hour)
		c.wantErr("UpdateSession(same last seen)", c.a.UpdateSession(c.ctx(), &same), nil)
		got, err := c.a.SessionByToken(c.ctx(), s.TokenHash)
		c.wantErr("SessionByToken", err, nil)
		want := later
		want.Data = []byte(`{"v":3}`)
		if d := diffSession(got, &want); d != "" {
			t.Error(d)
		}
		gone := *s
		gone.ID = c.name("gone")
		c.wantErr("UpdateSession(unknown)", c.a.UpdateSession(c.ctx(), &gone), authgate.ErrNotFound)
	}},
	{"sessions list only the user's own, oldest first", func(t *testing.T, c *adapterCase) {
		u, v := c.name("u1"), c.name("u2")
		s2 := c.session(u, base.Add(time.Second), false)
		s1 := c.session(u, base, true)
		c.session(v, base, false)
		list, err := c.a.Sessions(c.ctx(), u)
		c.wantErr("Sessions", err, nil)
		if got, want := sessionIDs(list), []string{s1.ID, s2.ID}; !slices.Equal(got, want) {
			t.Fatalf("Sessions: got %v, want %v", got, want)
		}
		if d := diffSession(&list[1], s2); d != "" {
			t.Error(d)
		}
	}},
	{"a user deletes only their own session", func(t *testing.T, c *adapterCase) {
		u, v := c.name("u1"), c.name("u2")
		s := c.session(u, base, false)
		c.wantErr("DeleteSession by another user", c.a.DeleteSession(c.ctx(), v, s.ID), authgate.ErrNotFound)
		if _, err := c.a.SessionByToken(c.ctx(), s.TokenHash); err != nil {
			t.Fatalf("another user's delete removed the session: %v", err)
		}
		c.wantErr("DeleteSession", c.a.DeleteSession(c.ctx(), u, s.ID), nil)
		_, err := c.a.SessionByToken(c.ctx(), s.TokenHash)
		c.wantErr("SessionByToken after delete", err, authgate.ErrNotFound)
		c.wantErr("DeleteSession again", c.a.DeleteSession(c.ctx(), u, s.ID), authgate.ErrNotFound)
	}},
	{"deleting all sessions but one keeps it and returns the others", func(t *testing.T, c *adapterCase) {
		u, v := c.name("u1"), c.name("u2")
		keep := c.session(u, base, false)
		a := c.session(u, base.Add(time.Second), true)
		b := c.session(u, base.Add(2*time.Second), false)
		other := c.session(v, base, false)
		deleted, err := c.a.DeleteSessions(c.ctx(), u, keep.ID)
		c.wantErr("DeleteSessions", err, nil)
		slices.Sort(deleted)
		want := []string{a.ID, b.ID}
		slices.Sort(want)
		if !slices.Equal(deleted, want) {
			t.Errorf("DeleteSessions returned %v, want %v", deleted, want)
		}
		list, _ := c.a.Sessions(c.ctx(), u)
		if got := sessionIDs(list); !slices.Equal(got, []string{keep.ID}) {
			t.Errorf("left %v, want only %v", got, keep.ID)
		}
		if _, err := c.a.SessionByToken(c.ctx(), other.TokenHash); err != nil {
			t.Errorf("another user's session was deleted: %v", err)
		}
		deleted, err = c.a.DeleteSessions(c.ctx(), u, "")
		c.wantErr("DeleteSessions(all)", err, nil)
		if !slices.Equal(deleted, []string{keep.ID}) {
			t.Errorf("DeleteSessions(all) returned %v, want %v", deleted, []string{keep.ID})
		}
	}},
	{"a verification token is used once and keeps its expiry", func(t *testing.T, c *adapterCase) {
		id := "email:" + c.email("judy")
		h := tokenHash(randomHex(32))
		c.wantErr("CreateVerificationToken", c.a.CreateVerificationToken(c.ctx(), authgate.VerificationToken{Identifier: id, TokenHash: h, Expires: base.Add(time.Hour)}), nil)
		_, err := c.a.UseVerificationToken(c.ctx(), id, tokenHash("wrong"))
		c.wantErr("UseVerificationToken(wrong hash)", err, authgate.ErrNotFound)
		_, err = c.a.UseVerificationToken(c.ctx(), "email:"+c.email("mallory"), h)
		c.wantErr("UseVerificationToken(wrong identifier)", err, authgate.ErrNotFound)
		got, err := c.a.UseVerificationToken(c.ctx(), id, h)
		c.wantErr("UseVerificationToken", err, nil)
		if got.Identifier != id || !bytes.Equal(got.TokenHash, h) || !got.Expires.Equal(base.Add(time.Hour)) {
			t.Errorf("UseVerificationToken: got %+v", *got)
		}
		_, err = c.a.UseVerificationToken(c.ctx(), id, h)
		c.wantErr("UseVerificationToken again", err, authgate.ErrNotFound)
	}},
	{"a new verification token ends the older ones of its identifier only", func(t *testing.T, c *adapterCase) {
		id, reset := "email:"+c.email("ken"), "reset:"+c.email("ken")
		old, resetHash, newer := tokenHash("old"+c.prefix), tokenHash("reset"+c.prefix), tokenHash("new"+c.prefix)
		for _, vt := range []authgate.VerificationToken{{Identifier: id, TokenHash: old, Expires: base.Add(time.Hour)}, {Identifier: reset, TokenHash: resetHash, Expires: base.Add(time.Hour)}, {Identifier: id, TokenHash: newer, Expires: base.Add(time.Hour)}} {
			c.wantErr("CreateVerificationToken", c.a.CreateVerificationToken(c.ctx(), vt), nil)
		}
		_, err := c.a.UseVerificationToken(c.ctx(), id, old)
		c.wantErr("UseVerificationToken(superseded)", err, authgate.ErrNotFound)
		_, err = c.a.UseVerificationToken(c.ctx(), id, newer)
		c.wantErr("UseVerificationToken(newest)", err, nil)
		_, err = c.a.UseVerificationToken(c.ctx(), reset, resetHash)
		c.wantErr("UseVerificationToken(other purpose)", err, nil)
	}},
	{"concurrent uses of one verification token succeed once", func(t *testing.T, c *adapterCase) {
		id, h := "email:"+c.email("leo"), tokenHash(randomHex(32))
		c.wantErr("CreateVerificationToken", c.a.CreateVerificationToken(c.ctx(), authgate.VerificationToken{Identifier: id, TokenHash: h, Expires: base.Add(time.Hour)}), nil)
		wins := c.race("UseVerificationToken", 12, authgate.ErrNotFound, func(int) error {
			_, err := c.a.UseVerificationToken(c.ctx(), id, h)
			return err
		})
		if wins != 1 {
			t.Fatalf("the token was used %d times, want exactly once", wins)
		}
	}},
	{"a call whose context is cancelled fails and writes nothing", func(t *testing.T, c *adapterCase) {
		e := c.email("cancelled")
		if err := c.a.CreateUser(c.cancelled(), &authgate.AdapterUser{Email: e}); err == nil {
			t.Fatal("CreateUser with a cancelled context succeeded")
		}
		_, err := c.a.UserByEmail(c.ctx(), e)
		c.wantErr("UserByEmail after a cancelled CreateUser", err, authgate.ErrNotFound)
		s := &authgate.AdapterSession{ID: c.name("s"), UserID: c.name("u"), TokenHash: tokenHash(c.prefix), Created: base, LastSeen: base, Expires: base.Add(time.Hour)}
		if err := c.a.CreateSession(c.cancelled(), s); err == nil {
			t.Fatal("CreateSession with a cancelled context succeeded")
		}
		_, err = c.a.SessionByToken(c.ctx(), s.TokenHash)
		c.wantErr("SessionByToken after a cancelled CreateSession", err, authgate.ErrNotFound)
		if _, err := c.a.User(c.cancelled(), "x"); err == nil || errors.Is(err, authgate.ErrNotFound) {
			t.Errorf("User with a cancelled context: got %v, want a fault (not ErrNotFound)", err)
		}
	}},
}

func testPasswords(c *adapterCase, pa authgate.PasswordAdapter) {
	t := c.t
	u := c.user(c.email("pw"))
	h, err := pa.PasswordHash(c.ctx(), u.ID)
	c.wantErr("PasswordHash", err, nil)
	if h != "" {
		t.Fatalf("a new user has password hash %q, want none", h)
	}
	for _, want := range []string{"$2a$10$first", "$2a$10$second", ""} {
		c.wantErr("SetPasswordHash", pa.SetPasswordHash(c.ctx(), u.ID, want), nil)
		if got, err := pa.PasswordHash(c.ctx(), u.ID); err != nil || got != want {
			t.Fatalf("PasswordHash: got (%q, %v), want %q", got, err, want)
		}
	}
	_, err = pa.PasswordHash(c.ctx(), c.name("nobody"))
	c.wantErr("PasswordHash(unknown)", err, authgate.ErrNotFound)
	c.wantErr("SetPasswordHash(unknown)", pa.SetPasswordHash(c.ctx(), c.name("nobody"), "$2a$10$x"), authgate.ErrNotFound)
}

func testSecondFactors(c *adapterCase, sa authgate.SecondFactorAdapter) {
	t := c.t
	uid := c.name("mfa")
	_, err := sa.SecondFactor(c.ctx(), uid)
	c.wantErr("SecondFactor(none)", err, authgate.ErrNotFound)
	c.wantErr("UseTOTPStep(none)", sa.UseTOTPStep(c.ctx(), uid, 1), authgate.ErrNotFound)
	c.wantErr("DeleteSecondFactor(none)", sa.DeleteSecondFactor(c.ctx(), uid), authgate.ErrNotFound)

	codes := [][]byte{tokenHash("r1"), tokenHash("r2"), tokenHash("r3")}
	f := authgate.SecondFactor{TOTPSecret: []byte("sealed seed"), Enabled: true, LastStep: 100, RecoveryCodes: codes, Created: base}
	c.wantErr("SetSecondFactor", sa.SetSecondFactor(c.ctx(), uid, f), nil)
	got, err := sa.SecondFactor(c.ctx(), uid)
	c.wantErr("SecondFactor", err, nil)
	if !bytes.Equal(got.TOTPSecret, f.TOTPSecret) || !got.Enabled || got.LastStep != 100 || !got.Created.Equal(base) || !sameHashes(got.RecoveryCodes, codes) {
		t.Fatalf("SecondFactor: got %+v, want %+v", *got, f)
	}

	c.wantErr("UseTOTPStep(the last step)", sa.UseTOTPStep(c.ctx(), uid, 100), authgate.ErrConflict)
	c.wantErr("UseTOTPStep(an older step)", sa.UseTOTPStep(c.ctx(), uid, 99), authgate.ErrConflict)
	wins := c.race("UseTOTPStep", 10, authgate.ErrConflict, func(int) error { return sa.UseTOTPStep(c.ctx(), uid, 101) })
	if wins != 1 {
		t.Fatalf("one step was accepted %d times, want once", wins)
	}
	// Replacing the factor (new recovery codes) never lowers the step.
	f.LastStep, f.RecoveryCodes = 0, codes[1:]
	c.wantErr("SetSecondFactor", sa.SetSecondFactor(c.ctx(), uid, f), nil)
	c.wantErr("UseTOTPStep(101 after a replace)", sa.UseTOTPStep(c.ctx(), uid, 101), authgate.ErrConflict)
	c.wantErr("UseTOTPStep(102)", sa.UseTOTPStep(c.ctx(), uid, 102), nil)

	c.wantErr("UseRecoveryCode(replaced)", sa.UseRecoveryCode(c.ctx(), uid, codes[0]), authgate.ErrNotFound)
	wins = c.race("UseRecoveryCode", 10, authgate.ErrNotFound, func(int) error { return sa.UseRecoveryCode(c.ctx(), uid, codes[1]) })
	if wins != 1 {
		t.Fatalf("one recovery code was used %d times, want once", wins)
	}
	c.wantErr("UseRecoveryCode(another user)", sa.UseRecoveryCode(c.ctx(), c.name("other"), codes[2]), authgate.ErrNotFound)
	got, _ = sa.SecondFactor(c.ctx(), uid)
	if got == nil || !sameHashes(got.RecoveryCodes, codes[2:]) || got.LastStep != 102 {
		t.Fatalf("after the uses: got %+v, want one code left and step 102", got)
	}
	c.wantErr("DeleteSecondFactor", sa.DeleteSecondFactor(c.ctx(), uid), nil)
	_, err = sa.SecondFactor(c.ctx(), uid)
	c.wantErr("SecondFactor after delete", err, authgate.ErrNotFound)
	c.wantErr("UseRecoveryCode after delete", sa.UseRecoveryCode(c.ctx(), uid, codes[2]), authgate.ErrNotFound)
}

func sameHashes(a, b [][]byte) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.SortFunc(x, bytes.Compare)
	slices.SortFunc(y, bytes.Compare)
	return slices.EqualFunc(x, y, bytes.Equal)
}

func testPasskeys(c *adapterCase, pa authgate.PasskeyAdapter) {
	t := c.t
	uid, other := c.name("pk"), c.name("pk2")
	handles := make([][]byte, 8)
	c.race("UserHandle", len(handles), nil, func(i int) error {
		h, err := pa.UserHandle(c.ctx(), uid)
		handles[i] = h
		return err
	})
	for i, h := range handles {
		if len(h) != 32 || !bytes.Equal(h, handles[0]) {
			t.Fatalf("UserHandle call %d: got %x, want the same 32 bytes as call 0 (%x)", i, h, handles[0])
		}
	}
	again, err := pa.UserHandle(c.ctx(), uid)
	c.wantErr("UserHandle", err, nil)
	otherHandle, err := pa.UserHandle(c.ctx(), other)
	c.wantErr("UserHandle(other)", err, nil)
	if !bytes.Equal(again, handles[0]) || bytes.Equal(otherHandle, again) {
		t.Fatal("user handles are not stable per user, or two users share one")
	}
	if got, err := pa.UserIDByHandle(c.ctx(), again); err != nil || got != uid {
		t.Fatalf("UserIDByHandle: got (%q, %v), want %q", got, err, uid)
	}
	_, err = pa.UserIDByHandle(c.ctx(), tokenHash("no handle"))
	c.wantErr("UserIDByHandle(unknown)", err, authgate.ErrNotFound)

	p := &authgate.Passkey{CredentialID: []byte(c.name("cred1")), UserID: uid, Name: "Laptop", PublicKey: []byte{0xa5, 1, 2},
		SignCount: 7, BackupEligible: true, BackupState: true, Transports: []string{"internal", "hybrid"},
		AAGUID: make([]byte, 16), Data: []byte(`{"attestation":"none"}`), Created: base, LastUsed: base}
	c.wantErr("CreatePasskey", pa.CreatePasskey(c.ctx(), p), nil)
	dup := *p
	dup.UserID = other
	c.wantErr("CreatePasskey(same credential id)", pa.CreatePasskey(c.ctx(), &dup), authgate.ErrConflict)
	p2 := &authgate.Passkey{CredentialID: []byte(c.name("cred2")), UserID: uid, Name: "Phone", PublicKey: []byte{1}, Created: base.Add(time.Second), LastUsed: base.Add(time.Second)}
	c.wantErr("CreatePasskey", pa.CreatePasskey(c.ctx(), p2), nil)

	got, err := pa.Passkey(c.ctx(), p.CredentialID)
	c.wantErr("Passkey", err, nil)
	if d := diffPasskey(got, p); d != "" {
		t.Fatal(d)
	}
	_, err = pa.Passkey(c.ctx(), []byte(c.name("none")))
	c.wantErr("Passkey(unknown)", err, authgate.ErrNotFound)

	// A sign-in: the counter must increase (or stay 0 on both sides), and
	// of concurrent sign-ins with one counter value exactly one counts.
	upd := *p
	upd.SignCount, upd.BackupState, upd.LastUsed, upd.Data = 9, false, base.Add(time.Hour), []byte(`{}`)
	wins := c.race("UsePasskey", 8, authgate.ErrConflict, func(int) error {
		u := upd
		return pa.UsePasskey(c.ctx(), &u)
	})
	if wins != 1 {
		t.Fatalf("one counter value was accepted %d times, want once", wins)
	}
	for _, n := range []uint32{9, 8, 0} {
		old := upd
		old.SignCount, old.LastUsed = n, base.Add(2*time.Hour)
		c.wantErr(fmt.Sprintf("UsePasskey(counter %d after 9)", n), pa.UsePasskey(c.ctx(), &old), authgate.ErrConflict)
	}
	wrong := upd
	wrong.UserID = other
	wrong.SignCount = 10
	c.wantErr("UsePasskey by another user", pa.UsePasskey(c.ctx(), &wrong), authgate.ErrNotFound)
	zero := p2
	for i := range 2 {
		z := *zero
		z.LastUsed = base.Add(time.Duration(i+2) * time.Second)
		c.wantErr("UsePasskey(counter 0 after 0)", pa.UsePasskey(c.ctx(), &z), nil)
		*p2 = z
	}

	// A rename from a stale copy keeps the sign-in's counter; a clone
	// warning, once set, stays.
	stale := *p
	stale.Name, stale.CloneWarning = "Work laptop", true
	c.wantErr("UpdatePasskey", pa.UpdatePasskey(c.ctx(), &stale), nil)
	upd.Name, upd.CloneWarning = "Work laptop", true
	unwarn := upd
	unwarn.CloneWarning = false
	c.wantErr("UpdatePasskey(clearing the warning)", pa.UpdatePasskey(c.ctx(), &unwarn), nil)
	wrong = upd
	wrong.UserID = other
	c.wantErr("UpdatePasskey by another user", pa.UpdatePasskey(c.ctx(), &wrong), authgate.ErrNotFound)
	list, err := pa.Passkeys(c.ctx(), uid)
	c.wantErr("Passkeys", err, nil)
	if len(list) != 2 || diffPasskey(&list[0], &upd) != "" || diffPasskey(&list[1], p2) != "" {
		t.Fatalf("Passkeys: got %+v, want the updated one and the phone, oldest first", list)
	}
	c.wantErr("DeletePasskey by another user", pa.DeletePasskey(c.ctx(), other, p.CredentialID), authgate.ErrNotFound)
	c.wantErr("DeletePasskey", pa.DeletePasskey(c.ctx(), uid, p.CredentialID), nil)
	c.wantErr("DeletePasskey again", pa.DeletePasskey(c.ctx(), uid, p.CredentialID), authgate.ErrNotFound)
	if list, _ := pa.Passkeys(c.ctx(), uid); len(list) != 1 {
		t.Fatalf("after the delete: got %d passkeys, want 1", len(list))
	}
}

func diffPasskey(got, want *authgate.Passkey) string {
	if !bytes.Equal(got.CredentialID, want.CredentialID) || got.UserID != want.UserID || got.Name != want.Name ||
		!bytes.Equal(got.PublicKey, want.PublicKey) || got.SignCount != want.SignCount ||
		got.BackupEligible != want.BackupEligible || got.BackupState != want.BackupState || got.CloneWarning != want.CloneWarning ||
		!slices.Equal(got.Transports, want.Transports) || !bytes.Equal(got.AAGUID, want.AAGUID) || !bytes.Equal(got.Data, want.Data) ||
		!got.Created.Equal(want.Created) || !got.LastUsed.Equal(want.LastUsed) {
		return fmt.Sprintf("got %+v, want %+v", *got, *want)
	}
	return ""
}
