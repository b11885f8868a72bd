package main

// store.go keeps the demo's users in authgate's adapter, sqlstore: a SQLite
// file by default (modernc.org/sqlite: pure Go, no cgo), PostgreSQL with
// -database postgres://… . A username is an account of the provider
// "credentials", so it is unique, and the password hash is sqlstore's. Only
// this file knows how the users are stored; auth.go asks it for users by
// name or id and hands the same adapter to authgate (sessions, accounts).

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/sqlstore"
)

// User is a user as the demo's pages and adduser see it.
type User struct {
	ID string
	// Username is the credentials account; "" for a user who signs in
	// only with a provider.
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

// credentials is the provider of username accounts.
const credentials = "credentials"

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

// Store is the demo's users, in sqlstore. It is safe for concurrent use.
type Store struct {
	ad     *sqlstore.Store
	now    func() time.Time
	hasher authgate.PasswordHasher // bcrypt, cost 10; tests use a cheaper cost
}

// OpenStore opens the database dsn: a SQLite file path (created if
// missing) or a postgres:// URL. It applies sqlstore's migrations and
// moves the users of a demo database made before the demo used sqlstore
// into them (migrateLegacyUsers); log hears about that.
func OpenStore(ctx context.Context, dsn string, log *slog.Logger) (*Store, error) {
	if dsn == "" || (!strings.Contains(dsn, "://") && strings.ContainsAny(dsn, "?#")) {
		return nil, fmt.Errorf("database %q: a file path without '?' or '#', or a postgres:// URL", dsn)
	}
	ad, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redactURL(dsn), err)
	}
	s := &Store{ad: ad, now: time.Now, hasher: authgate.BcryptHasher{}}
	n, err := s.migrateLegacyUsers(ctx)
	if err != nil {
		ad.Close()
		return nil, fmt.Errorf("move the users of %s into sqlstore: %w", redactURL(dsn), err)
	}
	if n > 0 && log != nil {
		log.Info("moved the demo's users into sqlstore's tables; the old table is kept as users_before_sqlstore",
			slog.Int("users", n))
	}
	return s, nil
}

// redactURL hides a URL's password.
func redactURL(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			if c := strings.Index(dsn[i+3:at], ":"); c >= 0 {
				return dsn[:i+3+c+1] + "xxxxx" + dsn[at:]
			}
		}
	}
	return dsn
}

// Adapter is the store's authgate.Adapter (Config.Adapter).
func (s *Store) Adapter() *sqlstore.Store { return s.ad }

// Close closes the database.
func (s *Store) Close() error { return s.ad.Close() }

// user completes an adapter user with its username and password hash.
func (s *Store) user(ctx context.Context, au *authgate.AdapterUser) (*User, error) {
	u := &User{ID: au.ID, Email: au.Email, Role: au.Role, Created: au.Created}
	accts, err := s.ad.Accounts(ctx, au.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range accts {
		if a.Provider == credentials {
			u.Username = a.ProviderAccountID
		}
	}
	if u.PasswordHash, err = s.ad.PasswordHash(ctx, au.ID); err != nil {
		return nil, err
	}
	return u, nil
}

// UserByUsername returns the user with that (canonicalised) username, or
// a zero User (whose PasswordHash is "") and ErrNoUser.
func (s *Store) UserByUsername(ctx context.Context, username string) (*User, error) {
	au, err := s.ad.UserByAccount(ctx, credentials, CanonicalUsername(username))
	if errors.Is(err, authgate.ErrNotFound) {
		return &User{}, ErrNoUser
	}
	if err != nil {
		return nil, err
	}
	return s.user(ctx, au)
}

// UserByID returns the user with that id (as stored in the session), or
// ErrNoUser.
func (s *Store) UserByID(ctx context.Context, id string) (*User, error) {
	au, err := s.ad.User(ctx, id)
	if errors.Is(err, authgate.ErrNotFound) {
		return &User{}, ErrNoUser
	}
	if err != nil {
		return nil, err
	}
	return s.user(ctx, au)
}

// Users returns every user, oldest first (by username within one
// millisecond: the seeded users are made together).
func (s *Store) Users(ctx context.Context) ([]User, error) {
	aus, err := s.ad.Users(ctx, 0)
	if err != nil {
		return nil, err
	}
	out := make([]User, 0, len(aus))
	for i := range aus {
		u, err := s.user(ctx, &aus[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	slices.SortStableFunc(out, func(a, b User) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Username, b.Username)
	})
	return out, nil
}

// AddUser validates in, hashes the password with bcrypt and stores the
// user, its username and its hash. A taken username is ErrDuplicateUser;
// nothing is left behind then.
func (s *Store) AddUser(ctx context.Context, in NewUserInput) (*User, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	if _, err := s.ad.UserByAccount(ctx, credentials, in.Username); err == nil {
		return nil, ErrDuplicateUser
	}
	au := &authgate.AdapterUser{Email: in.Email, Name: in.Username, Role: in.Role, Created: s.now().UTC().Truncate(time.Millisecond)}
	if err := s.ad.CreateUser(ctx, au); err != nil {
		if errors.Is(err, authgate.ErrConflict) {
			return nil, fmt.Errorf("another user has the email address %s", in.Email)
		}
		return nil, err
	}
	err = s.ad.LinkAccount(ctx, au.ID, authgate.Account{Provider: credentials, Type: credentials, ProviderAccountID: in.Username})
	if err == nil {
		err = s.ad.SetPasswordHash(ctx, au.ID, hash)
	}
	if err != nil {
		s.ad.DeleteUser(context.WithoutCancel(ctx), au.ID)
		if errors.Is(err, authgate.ErrConflict) {
			return nil, ErrDuplicateUser // a concurrent adduser of the same name won
		}
		return nil, err
	}
	return &User{ID: au.ID, Username: in.Username, Email: in.Email, PasswordHash: hash, Role: in.Role, Created: au.Created}, nil
}

// DemoUser is a seeded user with its one-time password.
type DemoUser struct {
	Username, Role, Password string
}

// SeedDemoUsers creates alice (admin) and bob (user) with random passwords
// when there are no users, and returns them; it returns nil when there
// already are users (or another process seeded them at the same moment).
func (s *Store) SeedDemoUsers(ctx context.Context) ([]DemoUser, error) {
	if users, err := s.ad.Users(ctx, 1); err != nil || len(users) > 0 {
		return nil, err
	}
	seed := []DemoUser{{Username: "alice", Role: "admin"}, {Username: "bob", Role: "user"}}
	for i := range seed {
		seed[i].Password = randomPassword()
		in := NewUserInput{Username: seed[i].Username, Email: seed[i].Username + "@example.com",
			Role: seed[i].Role, Password: seed[i].Password}
		if _, err := s.AddUser(ctx, in); err != nil {
			if errors.Is(err, ErrDuplicateUser) && i == 0 {
				return nil, nil // another process is seeding
			}
			return nil, err
		}
	}
	return seed, nil
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

// migrateLegacyUsers moves the users of a SQLite database the demo made
// before it used sqlstore (the table users: id, username, email,
// password_hash, role, created_at) into sqlstore's tables, keeping each
// user's id (so their sessions stay valid), username, address, role,
// password hash and creation time, then renames the old table to
// users_before_sqlstore: nothing is deleted. A run that stopped halfway is
// finished by the next. It returns how many users it moved.
func (s *Store) migrateLegacyUsers(ctx context.Context) (int, error) {
	if s.ad.Dialect() != sqlstore.SQLite {
		return 0, nil
	}
	db := s.ad.DB()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'users'`).Scan(&n); err != nil || n == 0 {
		return 0, err
	}
	type row struct {
		id                          int64
		username, email, hash, role string
		created                     string
	}
	rows, err := db.QueryContext(ctx, `SELECT id, username, email, password_hash, role, created_at FROM users ORDER BY id`)
	if err != nil {
		return 0, err
	}
	var old []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.username, &r.email, &r.hash, &r.role, &r.created); err != nil {
			rows.Close()
			return 0, err
		}
		old = append(old, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, r := range old {
		created, _ := time.Parse(time.RFC3339, r.created)
		au := &authgate.AdapterUser{ID: strconv.FormatInt(r.id, 10), Email: r.email, Name: r.username, Role: r.role, Created: created}
		err := s.ad.CreateUser(ctx, au)
		if errors.Is(err, authgate.ErrConflict) {
			if _, ferr := s.ad.User(ctx, au.ID); ferr == nil {
				err = nil // moved by an earlier run
			} else {
				au.Email = "" // the old table let two users share an address; sqlstore does not
				err = s.ad.CreateUser(ctx, au)
			}
		}
		if err != nil {
			return 0, fmt.Errorf("user %d: %w", r.id, err)
		}
		err = s.ad.LinkAccount(ctx, au.ID, authgate.Account{Provider: credentials, Type: credentials, ProviderAccountID: r.username})
		if err != nil && !errors.Is(err, authgate.ErrConflict) {
			return 0, fmt.Errorf("user %d: %w", r.id, err)
		}
		if err := s.ad.SetPasswordHash(ctx, au.ID, r.hash); err != nil {
			return 0, fmt.Errorf("user %d: %w", r.id, err)
		}
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE users RENAME TO users_before_sqlstore`); err != nil {
		return 0, err
	}
	return len(old), nil
}
