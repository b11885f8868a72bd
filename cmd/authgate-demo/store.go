package main

// store.go keeps the demo's users in SQLite (modernc.org/sqlite: pure Go, no
// cgo). Only this file knows SQL; auth.go asks it for users by name or id.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authgate/authgate"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// schema is created on every start; IF NOT EXISTS makes that a no-op once the
// table is there. AUTOINCREMENT keeps a deleted user's id from being reused,
// so a session minted for the old user can never name a new one.
const schema = `CREATE TABLE IF NOT EXISTS users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	username      TEXT NOT NULL UNIQUE,
	email         TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	role          TEXT NOT NULL,
	created_at    TEXT NOT NULL
)`

// User is one row of the users table.
type User struct {
	ID           int64
	Username     string
	Email        string
	PasswordHash string
	Role         string
	Created      time.Time
}

// Errors of the store. Their messages are written for the adduser command.
var (
	ErrNoUser        = errors.New("no such user")
	ErrDuplicateUser = errors.New("a user with this username already exists")
	ErrEmptyPassword = errors.New("the password is empty (the first line of standard input)")
	ErrLongPassword  = errors.New("the password is longer than 72 bytes, bcrypt's limit")
	ErrBadUsername   = errors.New("the username must be 1 to 64 of the characters a-z 0-9 . _ -")
	ErrBadEmail      = errors.New("the email address is not valid")
	ErrBadRole       = errors.New("the role must be " + strings.Join(KnownRoles, " or "))
)

// KnownRoles are the roles the demo's pages know: admin sees /admin.
var KnownRoles = []string{"user", "admin"}

var usernameRE = regexp.MustCompile(`^[a-z0-9._-]{1,64}$`)

// CanonicalUsername is how usernames are stored and looked up: trimmed and
// lower-cased. It matches authgate's default Config.AccountKey, so sign-in
// throttling counts "Alice" and "alice " as the same account.
func CanonicalUsername(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

// NewUserInput is what AddUser needs to create a user.
type NewUserInput struct {
	Username, Email, Role, Password string
}

// Validate checks every field, so that nothing is written for bad input.
func (in *NewUserInput) Validate() error {
	in.Username = CanonicalUsername(in.Username)
	in.Email = strings.TrimSpace(in.Email)
	in.Role = strings.TrimSpace(in.Role)
	switch {
	case !usernameRE.MatchString(in.Username):
		return ErrBadUsername
	case in.Email != "" && !validEmail(in.Email):
		return ErrBadEmail
	case !slices.Contains(KnownRoles, in.Role):
		return ErrBadRole
	case in.Password == "":
		return ErrEmptyPassword
	case len(in.Password) > 72:
		return ErrLongPassword
	}
	return nil
}

// validEmail is deliberately simple: one "@", something on each side, a dot
// in the domain, at most 254 bytes, no spaces or control characters.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.Contains(domain, "@") || !strings.Contains(domain, ".") ||
		len(s) > 254 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// Store is the users table. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	now    func() time.Time
	hasher authgate.PasswordHasher // bcrypt, cost 10; tests use a cheaper cost
}

// OpenStore opens (creating if needed) the SQLite database at path and
// creates the users table.
func OpenStore(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("database path %q: must be non-empty and contain no '?' or '#'", path)
	}
	// busy_timeout waits for a lock instead of failing when two processes
	// (the server and adduser) write at once; _txlock=immediate takes the
	// write lock at BEGIN so the seed's count-then-insert cannot race.
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return &Store{db: db, now: time.Now, hasher: authgate.BcryptHasher{}}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

const userColumns = `id, username, email, password_hash, role, created_at`

func scanUser(row *sql.Row) (*User, error) {
	var u User
	var created string
	if err := row.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.Role, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			// A zero User, so a caller can read its empty PasswordHash.
			return &User{}, ErrNoUser
		}
		return nil, err
	}
	u.Created, _ = time.Parse(time.RFC3339, created)
	return &u, nil
}

// UserByUsername returns the user with that (canonicalised) username, or
// a zero User (whose PasswordHash is "") and ErrNoUser.
func (s *Store) UserByUsername(ctx context.Context, username string) (*User, error) {
	return scanUser(s.db.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE username = ?`, CanonicalUsername(username)))
}

// UserByID returns the user with that id (as stored in the session), or
// ErrNoUser.
func (s *Store) UserByID(ctx context.Context, id string) (*User, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return &User{}, ErrNoUser
	}
	return scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, n))
}

// Users returns every user, by id.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var created string
		if err := rows.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.Role, &created); err != nil {
			return nil, err
		}
		u.Created, _ = time.Parse(time.RFC3339, created)
		out = append(out, u)
	}
	return out, rows.Err()
}

// execer is what AddUser needs: a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// AddUser validates in, hashes the password with bcrypt and inserts the
// user. A taken username is ErrDuplicateUser; nothing is written then.
func (s *Store) AddUser(ctx context.Context, in NewUserInput) (*User, error) {
	return s.addUser(ctx, s.db, in)
}

func (s *Store) addUser(ctx context.Context, db execer, in NewUserInput) (*User, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	u := &User{Username: in.Username, Email: in.Email, PasswordHash: hash, Role: in.Role,
		Created: s.now().UTC().Truncate(time.Second)}
	res, err := db.ExecContext(ctx,
		`INSERT INTO users (username, email, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?)`,
		u.Username, u.Email, u.PasswordHash, u.Role, u.Created.Format(time.RFC3339))
	if err != nil {
		if se := (*sqlite.Error)(nil); errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
			return nil, ErrDuplicateUser
		}
		return nil, err
	}
	if u.ID, err = res.LastInsertId(); err != nil {
		return nil, err
	}
	return u, nil
}

// DemoUser is a seeded user with its one-time password.
type DemoUser struct {
	Username, Role, Password string
}

// SeedDemoUsers creates alice (admin) and bob (user) with random passwords
// when the table is empty, in one transaction, and returns them; it returns
// nil when there already are users.
func (s *Store) SeedDemoUsers(ctx context.Context) ([]DemoUser, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() // a no-op after Commit
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil || n > 0 {
		return nil, err
	}
	seed := []DemoUser{{Username: "alice", Role: "admin"}, {Username: "bob", Role: "user"}}
	for i := range seed {
		seed[i].Password = randomPassword()
		in := NewUserInput{Username: seed[i].Username, Email: seed[i].Username + "@example.com",
			Role: seed[i].Role, Password: seed[i].Password}
		if _, err := s.addUser(ctx, tx, in); err != nil {
			return nil, err
		}
	}
	return seed, tx.Commit()
}

// PrintDemoUsers writes the seeded users and their passwords, once.
func PrintDemoUsers(w io.Writer, users []DemoUser) {
	fmt.Fprintln(w, "Created the demo users (their passwords are shown only this once):")
	for _, u := range users {
		fmt.Fprintf(w, "  username: %-6s password: %s  role: %s\n", u.Username, u.Password, u.Role)
	}
}

// randomPassword returns 96 random bits as 16 base64url characters.
func randomPassword() string {
	b := make([]byte, 12)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}
