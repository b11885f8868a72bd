package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/authgate/authgate"
)

// emailKey is what makes two addresses the same user: the address
// lower-cased (ASCII only, as the Adapter contract says), NULL when empty.
func emailKey(email string) any {
	if email == "" {
		return nil
	}
	return asciiLower(email)
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

const userColumns = `id, email, email_verified, name, image, role, created`

func scanUser(row interface{ Scan(...any) error }) (*authgate.AdapterUser, error) {
	var u authgate.AdapterUser
	var verified, created sql.NullInt64
	if err := row.Scan(&u.ID, &u.Email, &verified, &u.Name, &u.Image, &u.Role, &created); err != nil {
		return nil, notFound(err)
	}
	u.EmailVerified, u.Created = fromMillis(verified), fromMillis(created)
	return &u, nil
}

// CreateUser implements [authgate.Adapter].
func (s *Store) CreateUser(ctx context.Context, u *authgate.AdapterUser) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	id, created := u.ID, u.Created
	if id == "" {
		id = randomID()
	}
	if created.IsZero() {
		created = s.now()
	}
	_, err := s.exec(ctx, s.db, `INSERT INTO authgate_users (id, email, email_key, email_verified, name, image, role, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		id, u.Email, emailKey(u.Email), millis(u.EmailVerified), u.Name, u.Image, u.Role, created.UnixMilli())
	if err != nil {
		return err
	}
	u.ID, u.Created = id, created.UTC().Truncate(time.Millisecond)
	return nil
}

// User implements [authgate.Adapter].
func (s *Store) User(ctx context.Context, id string) (*authgate.AdapterUser, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT `+userColumns+` FROM authgate_users WHERE id = ?`), id))
}

// UserByEmail implements [authgate.Adapter].
func (s *Store) UserByEmail(ctx context.Context, email string) (*authgate.AdapterUser, error) {
	if email == "" {
		return nil, authgate.ErrNotFound
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT `+userColumns+` FROM authgate_users WHERE email_key = ?`), asciiLower(email)))
}

// UserByAccount implements [authgate.Adapter].
func (s *Store) UserByAccount(ctx context.Context, provider, providerAccountID string) (*authgate.AdapterUser, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT u.id, u.email, u.email_verified, u.name, u.image, u.role, u.created
		FROM authgate_accounts a JOIN authgate_users u ON u.id = a.user_id
		WHERE a.provider = ? AND a.provider_account_id = ?`), provider, providerAccountID))
}

// UpdateUser implements [authgate.Adapter].
func (s *Store) UpdateUser(ctx context.Context, u *authgate.AdapterUser) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n, err := s.exec(ctx, s.db, `UPDATE authgate_users SET email = ?, email_key = ?, email_verified = ?, name = ?, image = ?, role = ?
		WHERE id = ?`, u.Email, emailKey(u.Email), millis(u.EmailVerified), u.Name, u.Image, u.Role, u.ID)
	if err == nil && n == 0 {
		err = authgate.ErrNotFound
	}
	return err
}

// DeleteUser implements [authgate.Adapter]: the user goes with their
// accounts, sessions, second factor, recovery codes, WebAuthn user handle
// and passkeys, in one transaction.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"authgate_accounts", "authgate_sessions", "authgate_second_factors",
			"authgate_recovery_codes", "authgate_user_handles", "authgate_passkeys"} {
			if _, err := s.exec(ctx, tx, `DELETE FROM `+table+` WHERE user_id = ?`, id); err != nil {
				return err
			}
		}
		n, err := s.exec(ctx, tx, `DELETE FROM authgate_users WHERE id = ?`, id)
		if err == nil && n == 0 {
			err = authgate.ErrNotFound
		}
		return err
	})
}

// LinkAccount implements [authgate.Adapter].
func (s *Store) LinkAccount(ctx context.Context, userID string, a authgate.Account) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.tx(ctx, func(tx *sql.Tx) error {
		// The foreign key refuses an unknown user too, but SQLite checks it
		// only on connections that turned foreign keys on.
		var one int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM authgate_users WHERE id = ?`), userID).Scan(&one); err != nil {
			return notFound(err)
		}
		_, err := s.exec(ctx, tx, `INSERT INTO authgate_accounts (provider, provider_account_id, user_id, type,
			access_token, refresh_token, expires_at, id_token, scope, token_type, linked)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.Provider, a.ProviderAccountID, userID, a.Type, a.AccessToken, a.RefreshToken, a.ExpiresAt,
			a.IDToken, a.Scope, a.TokenType, s.stamp())
		return err
	})
}

// UnlinkAccount implements [authgate.Adapter].
func (s *Store) UnlinkAccount(ctx context.Context, provider, providerAccountID string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n, err := s.exec(ctx, s.db, `DELETE FROM authgate_accounts WHERE provider = ? AND provider_account_id = ?`, provider, providerAccountID)
	if err == nil && n == 0 {
		err = authgate.ErrNotFound
	}
	return err
}

// Accounts implements [authgate.Adapter].
func (s *Store) Accounts(ctx context.Context, userID string) ([]authgate.Account, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT provider, provider_account_id, type, access_token, refresh_token,
		expires_at, id_token, scope, token_type FROM authgate_accounts WHERE user_id = ? ORDER BY linked`), userID)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []authgate.Account
	for rows.Next() {
		var a authgate.Account
		if err := rows.Scan(&a.Provider, &a.ProviderAccountID, &a.Type, &a.AccessToken, &a.RefreshToken,
			&a.ExpiresAt, &a.IDToken, &a.Scope, &a.TokenType); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// PasswordHash implements [authgate.PasswordAdapter].
func (s *Store) PasswordHash(ctx context.Context, userID string) (string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var h string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT password_hash FROM authgate_users WHERE id = ?`), userID).Scan(&h)
	return h, notFound(err)
}

// SetPasswordHash implements [authgate.PasswordAdapter].
func (s *Store) SetPasswordHash(ctx context.Context, userID, hash string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n, err := s.exec(ctx, s.db, `UPDATE authgate_users SET password_hash = ? WHERE id = ?`, hash, userID)
	if err == nil && n == 0 {
		err = authgate.ErrNotFound
	}
	return err
}

// Users returns the stored users, oldest first, at most limit of them
// (every one for limit ≤ 0): for an admin page. It is not part of the
// [authgate.Adapter] contract.
func (s *Store) Users(ctx context.Context, limit int) ([]authgate.AdapterUser, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q := `SELECT ` + userColumns + ` FROM authgate_users ORDER BY created, id`
	args := []any{}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []authgate.AdapterUser
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}
