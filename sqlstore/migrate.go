package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// The schema is versioned SQL in migrations/{sqlite,postgres}: the same
// tables and columns in both, one file per version, applied in order by
// goose (github.com/pressly/goose/v3), which records the applied versions
// in the table authgate_schema_version.
//
//go:embed migrations
var migrations embed.FS

// versionTable is where goose records the applied versions: apart from
// an app's own goose_db_version.
const versionTable = "authgate_schema_version"

// pgLockID is the PostgreSQL advisory lock that serialises migrations of
// authgate's schema (an app's own goose migrations use another).
const pgLockID = 0x61757468676174 // "authgat"

// Migrate applies the migrations db has not applied yet. Several
// processes may call it at once, on one database: on PostgreSQL they queue
// on an advisory lock, on SQLite on a lease row (authgate_migration_lock,
// taken over when its holder has not released it within two minutes),
// and each migration runs in a transaction, so the schema is migrated
// once and every caller returns with it current. A schema already current
// is only read. [Open] and [New] call it.
func Migrate(ctx context.Context, db *sql.DB) error {
	d, err := dialectOf(db)
	if err != nil {
		return err
	}
	sub, err := fs.Sub(migrations, "migrations/"+string(d))
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true)}
	gd := goose.DialectSQLite3
	if d == Postgres {
		gd = goose.DialectPostgres
		l, err := lock.NewPostgresSessionLocker(lock.WithLockID(pgLockID), lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("sqlstore: migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(l))
	} else {
		opts = append(opts, goose.WithLocker(&sqliteLocker{owner: randomID(), lease: 2 * time.Minute}))
	}
	p, err := goose.NewProvider(gd, db, sub, opts...)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	// A schema that is current needs no lock (and so no write): the common
	// start.
	if pending, err := p.HasPending(ctx); err == nil && !pending {
		return nil
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

// sqliteLocker is a goose Locker for SQLite, which has no advisory locks:
// a single lease row that one process at a time holds. A holder that died
// without releasing it loses it when its lease ends.
type sqliteLocker struct {
	owner string
	lease time.Duration
}

func (l *sqliteLocker) Lock(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS authgate_migration_lock (
		id INTEGER PRIMARY KEY CHECK (id = 1), owner TEXT NOT NULL, expires BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("sqlstore: migration lock: %w", err)
	}
	for {
		now := time.Now()
		_, err := db.ExecContext(ctx, `INSERT INTO authgate_migration_lock (id, owner, expires) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
			WHERE authgate_migration_lock.expires < ?`, l.owner, now.Add(l.lease).UnixMilli(), now.UnixMilli())
		if err != nil {
			return fmt.Errorf("sqlstore: migration lock: %w", err)
		}
		var owner string
		err = db.QueryRowContext(ctx, `SELECT owner FROM authgate_migration_lock WHERE id = 1`).Scan(&owner)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlstore: migration lock: %w", err)
		}
		if owner == l.owner {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sqlstore: migration lock held by another process: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (l *sqliteLocker) Unlock(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `DELETE FROM authgate_migration_lock WHERE owner = ?`, l.owner); err != nil {
		return fmt.Errorf("sqlstore: migration unlock: %w", err)
	}
	return nil
}
