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
	testOnSQL(t, filepath.Join(t.TempDir(), "authgate.db"))
}

func TestRegisterAndSignInOnPostgreSQL(t *testing.T) {
	t.Parallel()
	testOnSQL(t, pg.Server(t).NewDatabase(t))
}

// testOnSQL runs the passkey's life on sqlstore at dsn.
func testOnSQL(t *testing.T, dsn string) {
	s, err := sqlstore.Open(t.Context(), dsn, sqlstore.Options{})
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
	if r := b.callback("authenticate", b.replayable(cred, 6)); r.status != 401 {
		t.Errorf("the replayed challenge: got %d, want 401", r.status)
	}
	if r := b.passkeySignIn(cred, 6); r.status != 401 {
		t.Errorf("counter 6 again: got %d, want 401", r.status)
	}
	if k := e.stored(cred); k.SignCount != 6 || !k.CloneWarning {
		t.Errorf("stored counter %d, clone warning %v; want 6 and true", k.SignCount, k.CloneWarning)
	}
}
