package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
	"github.com/authgate/authgate/sqlstore"
	"github.com/authgate/authgate/sqlstore/pgtest"
)

// openSQLite opens a Store on a new SQLite file.
func openSQLite(t *testing.T) (*sqlstore.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "authgate.db")
	s, err := sqlstore.Open(t.Context(), path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// pg is the PostgreSQL server the package's tests share.
var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Close()
	os.Exit(code)
}

// postgresURL returns the URL of a new, empty database on the package's
// PostgreSQL server.
func postgresURL(t *testing.T) string {
	t.Helper()
	return pg.Server(t).NewDatabase(t)
}

func openPostgres(t *testing.T, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), postgresURL(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteKeepsTheAdapterContract(t *testing.T) {
	s, _ := openSQLite(t)
	authgatetest.TestAdapter(t, func(t *testing.T) authgate.Adapter { return s })
}

func TestPostgresKeepsTheAdapterContract(t *testing.T) {
	s := openPostgres(t, sqlstore.Options{})
	authgatetest.TestAdapter(t, func(t *testing.T) authgate.Adapter { return s })
}

// appliedVersions returns the schema versions goose recorded.
func appliedVersions(t *testing.T, db *sql.DB, d sqlstore.Dialect) []int64 {
	t.Helper()
	q := `SELECT version_id FROM authgate_schema_version WHERE is_applied ORDER BY id`
	if d == sqlstore.SQLite {
		q = `SELECT version_id FROM authgate_schema_version WHERE is_applied = 1 ORDER BY id`
	}
	rows, err := db.QueryContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestInstancesStartingTogetherMigrateOnce(t *testing.T) {
	for _, tt := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"SQLite file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "shared.db") }},
		{"PostgreSQL database", postgresURL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dsn := tt.dsn(t)
			const n = 6
			stores := make([]*sqlstore.Store, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					stores[i], errs[i] = sqlstore.Open(t.Context(), dsn, sqlstore.Options{})
				}()
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("instance %d: %v", i, err)
				}
				defer stores[i].Close()
			}
			if got := appliedVersions(t, stores[0].DB(), stores[0].Dialect()); !slices.Equal(got, []int64{0, 1}) {
				t.Errorf("applied versions %v, want [0 1] (each once)", got)
			}
			// Every instance works on the migrated schema.
			for i, s := range stores {
				if err := s.CreateUser(t.Context(), &authgate.AdapterUser{Name: "user"}); err != nil {
					t.Errorf("instance %d: CreateUser: %v", i, err)
				}
			}
		})
	}
}

// columns returns "table.column" for every column of authgate's tables.
func columns(t *testing.T, s *sqlstore.Store) []string {
	t.Helper()
	q := `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name LIKE 'authgate\_%' AND table_name <> 'authgate_schema_version'`
	if s.Dialect() == sqlstore.SQLite {
		q = `SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name LIKE 'authgate\_%' ESCAPE '\' AND m.name NOT IN ('authgate_schema_version', 'authgate_migration_lock')`
	}
	rows, err := s.DB().QueryContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

func TestBothDialectsHaveTheSameTablesAndColumns(t *testing.T) {
	lite, _ := openSQLite(t)
	pgs := openPostgres(t, sqlstore.Options{})
	a, b := columns(t, lite), columns(t, pgs)
	if len(a) < 40 || !slices.Equal(a, b) {
		t.Errorf("SQLite columns:\n%v\nPostgreSQL columns:\n%v", a, b)
	}
}

func TestAStolenDatabaseHoldsNoSessionToken(t *testing.T) {
	s, _ := openSQLite(t)
	token := "the-cookie-token-never-stored"
	h := sha256Of(token)
	err := s.CreateSession(t.Context(), &authgate.AdapterSession{ID: "sid", UserID: "u", TokenHash: h[:],
		Created: time.Now(), LastSeen: time.Now(), Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.DB().QueryRowContext(t.Context(), `SELECT count(*) FROM authgate_sessions WHERE instr(CAST(token_hash AS TEXT), ?) > 0 OR instr(id, ?) > 0`, token, token).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("the cookie token is in the sessions table")
	}
}

func TestAStoppedServerIsAFaultAndTheStoreRecovers(t *testing.T) {
	url := postgresURL(t)
	s, err := sqlstore.Open(t.Context(), url, sqlstore.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u := &authgate.AdapterUser{Email: "outage@example.com"}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	pg.Server(t).Stop()
	restarted := false
	defer func() {
		if !restarted {
			pg.Server(t).Restart(t)
		}
	}()
	_, err = s.User(context.Background(), u.ID)
	if err == nil || errors.Is(err, authgate.ErrNotFound) || errors.Is(err, authgate.ErrConflict) {
		t.Fatalf("User while the server is down: got %v, want a fault", err)
	}
	pg.Server(t).Restart(t)
	restarted = true
	var got *authgate.AdapterUser
	for range 50 { // the pool drops its dead connections and dials again
		if got, err = s.User(t.Context(), u.ID); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || got.Email != u.Email {
		t.Fatalf("after the restart: got (%v, %v), want the user back", got, err)
	}
}

func TestAHungServerIsBoundedByTheTimeout(t *testing.T) {
	url := postgresURL(t)
	s, err := sqlstore.Open(t.Context(), url, sqlstore.Options{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u := &authgate.AdapterUser{Email: "hang@example.com"}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	pg.Server(t).Pause(t)
	_, err = s.User(context.Background(), u.ID) // no deadline of its own
	pg.Server(t).Resume(t)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("User while the server hangs: got %v, want the store's timeout (context.DeadlineExceeded)", err)
	}
	if _, err := s.User(t.Context(), u.ID); err != nil {
		t.Fatalf("after the server resumed: %v", err)
	}
}

func sha256Of(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func TestUsersListsTheStoredUsersOldestFirst(t *testing.T) {
	s, _ := openSQLite(t)
	start := time.Now().Truncate(time.Millisecond)
	for i, name := range []string{"b", "a", "c"} {
		if err := s.CreateUser(t.Context(), &authgate.AdapterUser{Name: name, Created: start.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		limit int
		want  []string
	}{{0, []string{"b", "a", "c"}}, {2, []string{"b", "a"}}} {
		users, err := s.Users(t.Context(), tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range users {
			got = append(got, u.Name)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Users(%d): got %v, want %v", tt.limit, got, tt.want)
		}
	}
}

func TestOpenRefusesAnEmptyName(t *testing.T) {
	if _, err := sqlstore.Open(t.Context(), "", sqlstore.Options{}); err == nil {
		t.Fatal("Open(\"\") succeeded")
	}
}
