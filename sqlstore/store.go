package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/authgate/authgate"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
)

// DefaultTimeout bounds every call of a [Store] whose context has no
// earlier deadline.
const DefaultTimeout = 3 * time.Second

// DefaultMaxConns is the default of [Options.MaxConns].
const DefaultMaxConns = 20

// Dialect names a database the Store speaks to.
type Dialect string

// The dialects: SQLite through modernc.org/sqlite (driver name "sqlite"),
// PostgreSQL through github.com/jackc/pgx/v5/stdlib (driver name "pgx").
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Options configure a [Store]. The zero value is the default.
type Options struct {
	// Timeout bounds each call when its context has no earlier deadline,
	// so a database that stops answering cannot hold a request for ever.
	// The default is [DefaultTimeout].
	Timeout time.Duration
	// MaxConns bounds the connections of the pool [Open] opens, open and
	// idle alike: idle ones are kept for the next query rather than closed
	// (database/sql keeps only 2, so a busy server would open a new
	// connection, a new PostgreSQL process, for most queries). The
	// default is [DefaultMaxConns]. [New] leaves a caller's pool as it is.
	MaxConns int
	// Now is the clock for the times the store sets itself (a user's
	// Created when the caller leaves it zero, the cut-off for deleting
	// expired tokens and sessions). The default is [time.Now].
	Now func() time.Time
}

// Store is an [authgate.Adapter] on a SQL database; it also implements
// [authgate.PasswordAdapter], [authgate.SecondFactorAdapter] and
// [authgate.PasskeyAdapter]. It is safe for concurrent use, also by several
// processes sharing one database.
type Store struct {
	db      *sql.DB
	dialect Dialect
	timeout time.Duration
	now     func() time.Time
	owned   bool // Open opened db; Close closes it

	queries sync.Map // query text with ? placeholders → the dialect's text

	seqMu sync.Mutex
	seq   int64 // last "linked" stamp, Unix microseconds
}

// Open opens the database named by dsn, applies authgate's migrations and
// returns the Store. A dsn beginning with "postgres://" or
// "postgresql://" is a PostgreSQL connection URL (pgx); anything else is
// the path of a SQLite file (created when missing), optionally as a
// "file:" URI. SQLite files are opened in WAL mode with a 5-second busy
// timeout, foreign keys on and write transactions that take the write lock
// at once, so several processes can share one file.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	var db *sql.DB
	var err error
	if isPostgresURL(dsn) {
		db, err = sql.Open("pgx", dsn)
	} else {
		if dsn == "" {
			return nil, errors.New("sqlstore: empty database name")
		}
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		db, err = sql.Open("sqlite", dsn+sep+sqlitePragmas)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open: %w", err)
	}
	n := opts.MaxConns
	if n <= 0 {
		n = DefaultMaxConns
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s, err := New(ctx, db, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// sqlitePragmas are the connection parameters Open gives a SQLite file.
const sqlitePragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"

func isPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// New returns a Store on db, an open pool of the driver "sqlite"
// (modernc.org/sqlite) or "pgx" (github.com/jackc/pgx/v5/stdlib), after
// applying authgate's migrations to it (see [Migrate]). A SQLite pool
// should be opened with the parameters [Open] uses (a busy timeout and
// _txlock=immediate), or concurrent writers may fail with "database is
// locked". Close does not close a pool passed to New.
func New(ctx context.Context, db *sql.DB, opts Options) (*Store, error) {
	d, err := dialectOf(db)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, dialect: d, timeout: opts.Timeout, now: opts.Now}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := Migrate(ctx, db); err != nil {
		return nil, err
	}
	return s, nil
}

// dialectOf tells the dialect from the pool's driver.
func dialectOf(db *sql.DB) (Dialect, error) {
	switch db.Driver().(type) {
	case *sqlite.Driver:
		return SQLite, nil
	case *stdlib.Driver:
		return Postgres, nil
	}
	return "", fmt.Errorf("sqlstore: unsupported driver %T: use modernc.org/sqlite or github.com/jackc/pgx/v5/stdlib", db.Driver())
}

// Dialect returns the database the store speaks to.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB returns the store's pool, for an app's own tables in the same
// database.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the pool when [Open] opened it.
func (s *Store) Close() error {
	if s.owned {
		return s.db.Close()
	}
	return nil
}

// bound returns ctx with the store's timeout unless it ends sooner.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.timeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.timeout)
}

// q returns query in the store's dialect: PostgreSQL numbers its
// placeholders ($1, $2, …) where the queries here write "?".
func (s *Store) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	if v, ok := s.queries.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	v, _ := s.queries.LoadOrStore(query, b.String())
	return v.(string)
}

// exec runs a statement and returns how many rows it changed.
func (s *Store) exec(ctx context.Context, db execer, query string, args ...any) (int64, error) {
	res, err := db.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, classify(err)
	}
	return res.RowsAffected()
}

// execer is a *sql.DB, *sql.Conn or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tx runs f in a transaction, committing when it returns nil.
func (s *Store) tx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return classify(tx.Commit())
}

// classify maps a unique-constraint violation to authgate.ErrConflict and
// a foreign-key violation to authgate.ErrNotFound (the row referred to is
// gone), keeping the driver's error; other errors pass unchanged.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		switch pg.SQLState() {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %w", authgate.ErrConflict, err)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: %w", authgate.ErrNotFound, err)
		}
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		switch lite.Code() {
		case 2067, 1555: // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
			return fmt.Errorf("%w: %w", authgate.ErrConflict, err)
		case 787: // SQLITE_CONSTRAINT_FOREIGNKEY
			return fmt.Errorf("%w: %w", authgate.ErrNotFound, err)
		}
	}
	return err
}

// notFound turns sql.ErrNoRows into authgate.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return authgate.ErrNotFound
	}
	return classify(err)
}

// millis is t as stored: Unix milliseconds, or NULL for the zero time.
func millis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMillis is the time stored as millis, in UTC.
func fromMillis(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// flag is b as stored.
func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// blob is b as stored: NULL for nil.
func blob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// stamp returns an increasing time in Unix microseconds: it orders rows
// written by this process in the same microsecond.
func (s *Store) stamp() int64 {
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	s.seq = max(s.seq+1, s.now().UnixMicro())
	return s.seq
}

// randomID returns 128 random bits, base64url without padding.
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var (
	_ authgate.PasswordAdapter     = (*Store)(nil)
	_ authgate.SecondFactorAdapter = (*Store)(nil)
	_ authgate.PasskeyAdapter      = (*Store)(nil)
)
