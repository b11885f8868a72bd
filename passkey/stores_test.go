package passkey_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/authgate/authgate/sqlstore"
	"github.com/authgate/authgate/sqlstore/pgtest"
)

// pg is the PostgreSQL server the package's tests share.
var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Close()
	os.Exit(code)
}

// The passkey's life on the SQL adapter: SQLite, and a real PostgreSQL.
func TestRegisterAndSignInOnSQLite(t *testing.T) {
	t.Parallel()
	s, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "authgate.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := newEnv(t, s, edits{})
	testRegisterThenSignIn(t, e)
	testCounterOnStore(t, e)
}

func TestRegisterAndSignInOnPostgreSQL(t *testing.T) {
	t.Parallel()
	s, err := sqlstore.Open(t.Context(), pg.Server(t).NewDatabase(t), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := newEnv(t, s, edits{})
	testRegisterThenSignIn(t, e)
	testCounterOnStore(t, e)
}

// testCounterOnStore: on the store, a replayed challenge and a counter
// that did not increase are refused, and the clone warning is stored.
func testCounterOnStore(t *testing.T, e *env) {
	b, cred := registered(t, e)
	_, opts := b.options("?action=authenticate")
	saved := b.hc.Jar.Cookies(mustURL(e.url))
	data := b.assert(opts, cred, 6, e.rp)
	if r := b.callback("authenticate", data); r.status != 200 {
		t.Fatalf("counter 6: %d %s", r.status, r.body)
	}
	b.signOut()
	b.hc.Jar.SetCookies(mustURL(e.url), saved)
	if r := b.callback("authenticate", data); r.status != 401 {
		t.Errorf("the replayed challenge: got %d, want 401", r.status)
	}
	if r := b.passkeySignIn(cred, 6); r.status != 401 {
		t.Errorf("counter 6 again: got %d, want 401", r.status)
	}
	if k := e.stored(cred); k.SignCount != 6 || !k.CloneWarning {
		t.Errorf("stored counter %d, clone warning %v; want 6 and true", k.SignCount, k.CloneWarning)
	}
}
