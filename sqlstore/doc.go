// Package sqlstore is an [authgate.Adapter] on SQL: users, the accounts
// that sign them in, sessions and single-use verification tokens, plus
// password hashes, second factors and passkeys (it implements
// [authgate.PasswordAdapter], [authgate.SecondFactorAdapter] and
// [authgate.PasskeyAdapter]), on SQLite (modernc.org/sqlite, pure Go, the
// embedded default) or PostgreSQL (github.com/jackc/pgx/v5).
//
// Usage:
//
//	store, err := sqlstore.Open(ctx, "authgate.db", sqlstore.Options{}) // or "postgres://user:pass@host/db"
//	// handle err: the database cannot be opened or migrated
//	defer store.Close()
//	cfg.Adapter = store
//
// # Schema
//
// One schema, in tables named authgate_* beside an app's own: the same
// tables and columns on both databases, versioned as SQL files embedded in
// the package and applied by goose (github.com/pressly/goose/v3) when the
// store is opened ([Migrate]). Several instances may start at once: they
// queue on a lock (a PostgreSQL advisory lock, a lease row on SQLite) and
// the schema is migrated once.
//
// Session tokens are stored only as their SHA-256 hashes (authgate never
// passes the token itself), verification tokens and recovery codes only as
// hashes, and TOTP secrets sealed by authgate: a copy of the database
// signs nobody in.
//
// # Failure
//
// Every call is bounded by its context and by [Options.Timeout]. A
// uniqueness rule broken by a write, also by two concurrent writes (two
// sign-ups of one address, two links of one account), is reported as
// [authgate.ErrConflict] and never leaves a duplicate; a missing row as
// [authgate.ErrNotFound]; anything else is the database's own error, which
// authgate treats as a fault and fails closed on.
//
// A Store is safe for concurrent use, also by several processes sharing
// one database. Package pgtest starts a real PostgreSQL server for tests.
package sqlstore
