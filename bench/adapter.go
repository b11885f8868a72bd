package bench

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/v2"
	"github.com/authgate/authgate"
	"github.com/authgate/authgate/sqlstore"
)

// Sessions kept in PostgreSQL: authgate's database sessions (sqlstore)
// against alexedwards/scs with its postgresstore, on the same server, next
// to authgate's JWT cookie as the reference. Every store call is one SQL
// statement, so the counting wrappers below count the queries each request
// makes.

// AdapterVariant is a Variant whose store calls are counted.
type AdapterVariant struct {
	Variant
	// Queries counts the database statements the variant has run.
	Queries *atomic.Int64
}

// AdapterVariants builds, on the PostgreSQL databases at authgateURL and
// scsURL (empty, one each): authgate's JWT session (warm), authgate's
// database session warm (the same cookie again: served from authgate's
// cache) and cold (ColdRing distinct sessions, more than the cache holds:
// every request reads its row), and scs with postgresstore (one session;
// scs reads the row on every request).
func AdapterVariants(ctx context.Context, now time.Time, authgateURL, scsURL string) ([]AdapterVariant, func(), error) {
	store, err := sqlstore.Open(ctx, authgateURL, sqlstore.Options{})
	if err != nil {
		return nil, nil, err
	}
	counted := &countingAdapter{Adapter: store, n: new(atomic.Int64)}
	var out []AdapterVariant
	jwtH, jwt, err := authgateVariant(now, 1, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	out = append(out, AdapterVariant{Variant{Name: "authgate-jwt-warm", Handler: jwtH, Cookie: jwt[0]}, new(atomic.Int64)})
	db := func(c *authgate.Config[struct{}]) { c.Adapter, c.DatabaseSessions = counted, true }
	warmH, warm, err := authgateVariant(now, 1, nil, db)
	if err != nil {
		return nil, nil, err
	}
	coldH, cold, err := authgateVariant(now, ColdRing, nil, db)
	if err != nil {
		return nil, nil, err
	}
	out = append(out,
		AdapterVariant{Variant{Name: "authgate-db-warm", Handler: warmH, Cookie: warm[0]}, counted.n},
		AdapterVariant{Variant{Name: "authgate-db-cold", Handler: coldH, Cookie: cold[0], Cookies: cold}, counted.n})

	sdb, err := sql.Open("pgx", scsURL)
	if err != nil {
		return nil, nil, err
	}
	// The pool sqlstore.Open makes (database/sql's default keeps 2 idle
	// connections, so 8 concurrent clients would open and close
	// connections all the time).
	sdb.SetMaxOpenConns(sqlstore.DefaultMaxConns)
	sdb.SetMaxIdleConns(sqlstore.DefaultMaxConns)
	scsV, err := scsVariant(ctx, sdb)
	if err != nil {
		return nil, nil, err
	}
	out = append(out, scsV)
	return out, func() { store.Close(); sdb.Close() }, nil
}

// scsVariant is scs v2 with postgresstore: LoadAndSave around a final
// handler reading the role with GetString; its session was put through
// scs itself.
func scsVariant(ctx context.Context, db *sql.DB) (AdapterVariant, error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE sessions (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL);
		CREATE INDEX sessions_expiry_idx ON sessions (expiry)`); err != nil {
		return AdapterVariant{}, err
	}
	n := new(atomic.Int64)
	sm := scs.New()
	sm.Store = &countingSCS{PostgresStore: postgresstore.NewWithCleanupInterval(db, 0), n: n}
	sm.Lifetime = 24 * time.Hour
	sm.Cookie.Name = "session"
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
	claims := TestClaims(time.Now())
	c, err := sm.Load(ctx, "")
	if err != nil {
		return AdapterVariant{}, err
	}
	sm.Put(c, "id", claims.ID)
	sm.Put(c, "name", claims.Name)
	sm.Put(c, "email", claims.Email)
	sm.Put(c, "role", claims.Role)
	token, _, err := sm.Commit(c)
	if err != nil {
		return AdapterVariant{}, err
	}
	final := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role := sm.GetString(r.Context(), "role")
		finish(w, role, role != "")
	})
	n.Store(0)
	return AdapterVariant{Variant{Name: "scs-postgresstore", Handler: sm.LoadAndSave(final), Cookie: &http.Cookie{Name: "session", Value: token}}, n}, nil
}

// countingAdapter counts the calls authgate makes to its adapter: one SQL
// statement each on the paths benchmarked (a session read, a last-seen
// write).
type countingAdapter struct {
	authgate.Adapter
	n *atomic.Int64
}

func (c *countingAdapter) SessionByToken(ctx context.Context, h []byte) (*authgate.AdapterSession, error) {
	c.n.Add(1)
	return c.Adapter.SessionByToken(ctx, h)
}

func (c *countingAdapter) UpdateSession(ctx context.Context, s *authgate.AdapterSession) error {
	c.n.Add(1)
	return c.Adapter.UpdateSession(ctx, s)
}

func (c *countingAdapter) CreateSession(ctx context.Context, s *authgate.AdapterSession) error {
	c.n.Add(2) // the insert, and the delete of expired rows
	return c.Adapter.CreateSession(ctx, s)
}

// countingSCS counts scs's store calls: one SQL statement each.
type countingSCS struct {
	*postgresstore.PostgresStore
	n *atomic.Int64
}

func (c *countingSCS) Find(token string) ([]byte, bool, error) {
	c.n.Add(1)
	return c.PostgresStore.Find(token)
}

func (c *countingSCS) Commit(token string, b []byte, expiry time.Time) error {
	c.n.Add(1)
	return c.PostgresStore.Commit(token, b, expiry)
}

func (c *countingSCS) Delete(token string) error {
	c.n.Add(1)
	return c.PostgresStore.Delete(token)
}

// String names the variant and its query count, for test output.
func (v AdapterVariant) String() string {
	return v.Name + " (" + strconv.FormatInt(v.Queries.Load(), 10) + " queries)"
}
