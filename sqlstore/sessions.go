package sqlstore

import (
	"context"
	"database/sql"

	"github.com/authgate/authgate"
)

const sessionColumns = `id, token_hash, user_id, created, last_seen, expires, user_agent, address, data`

func scanSession(row interface{ Scan(...any) error }) (*authgate.AdapterSession, error) {
	var x authgate.AdapterSession
	var created, seen, expires sql.NullInt64
	if err := row.Scan(&x.ID, &x.TokenHash, &x.UserID, &created, &seen, &expires, &x.UserAgent, &x.Address, &x.Data); err != nil {
		return nil, notFound(err)
	}
	x.Created, x.LastSeen, x.Expires = fromMillis(created), fromMillis(seen), fromMillis(expires)
	return &x, nil
}

// CreateSession implements [authgate.Adapter]. It also deletes sessions
// that expired before s was created, so the table does not grow with
// abandoned ones.
func (s *Store) CreateSession(ctx context.Context, x *authgate.AdapterSession) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.exec(ctx, s.db, `DELETE FROM authgate_sessions WHERE expires < ?`, s.now().UnixMilli()); err != nil {
		return err
	}
	_, err := s.exec(ctx, s.db, `INSERT INTO authgate_sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		x.ID, blob(x.TokenHash), x.UserID, x.Created.UnixMilli(), x.LastSeen.UnixMilli(), x.Expires.UnixMilli(),
		x.UserAgent, x.Address, blob(x.Data))
	return err
}

// SessionByToken implements [authgate.Adapter].
func (s *Store) SessionByToken(ctx context.Context, tokenHash []byte) (*authgate.AdapterSession, error) {
	if len(tokenHash) == 0 {
		return nil, authgate.ErrNotFound
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanSession(s.db.QueryRowContext(ctx, s.q(`SELECT `+sessionColumns+` FROM authgate_sessions WHERE token_hash = ?`), tokenHash))
}

// UpdateSession implements [authgate.Adapter] in one statement, so the
// "only forward" rule for LastSeen holds against concurrent updates.
func (s *Store) UpdateSession(ctx context.Context, x *authgate.AdapterSession) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	seen := x.LastSeen.UnixMilli()
	n, err := s.exec(ctx, s.db, `UPDATE authgate_sessions SET
		data = COALESCE(?, data),
		expires = CASE WHEN ? > last_seen THEN ? ELSE expires END,
		last_seen = CASE WHEN ? > last_seen THEN ? ELSE last_seen END
		WHERE id = ?`, blob(x.Data), seen, x.Expires.UnixMilli(), seen, seen, x.ID)
	if err == nil && n == 0 {
		err = authgate.ErrNotFound
	}
	return err
}

// DeleteSession implements [authgate.Adapter].
func (s *Store) DeleteSession(ctx context.Context, userID, id string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n, err := s.exec(ctx, s.db, `DELETE FROM authgate_sessions WHERE user_id = ? AND id = ?`, userID, id)
	if err == nil && n == 0 {
		err = authgate.ErrNotFound
	}
	return err
}

// Sessions implements [authgate.Adapter].
func (s *Store) Sessions(ctx context.Context, userID string) ([]authgate.AdapterSession, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+sessionColumns+` FROM authgate_sessions WHERE user_id = ? ORDER BY created, id`), userID)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []authgate.AdapterSession
	for rows.Next() {
		x, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *x)
	}
	return out, rows.Err()
}

// DeleteSessions implements [authgate.Adapter] in one statement.
func (s *Store) DeleteSessions(ctx context.Context, userID, keepID string) ([]string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, s.q(`DELETE FROM authgate_sessions WHERE user_id = ? AND id <> ? RETURNING id`), userID, keepID)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// CreateVerificationToken implements [authgate.Adapter]: in one
// transaction it deletes the identifier's older tokens (and every token
// that expired), then stores t. On PostgreSQL the transaction first takes
// an advisory lock on the identifier, so that of two concurrent calls for
// one identifier the later one ends the other's token too.
func (s *Store) CreateVerificationToken(ctx context.Context, t authgate.VerificationToken) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			if _, err := s.exec(ctx, tx, `SELECT pg_advisory_xact_lock(?, hashtext(?))`, pgTokenLockKey, t.Identifier); err != nil {
				return err
			}
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM authgate_verification_tokens WHERE identifier = ? OR expires < ?`,
			t.Identifier, s.now().UnixMilli()); err != nil {
			return err
		}
		_, err := s.exec(ctx, tx, `INSERT INTO authgate_verification_tokens (identifier, token_hash, expires) VALUES (?, ?, ?)`,
			t.Identifier, t.TokenHash, t.Expires.UnixMilli())
		return err
	})
}

// pgTokenLockKey is the first key of the advisory locks
// CreateVerificationToken takes on PostgreSQL ("auth").
const pgTokenLockKey int32 = 0x61757468

// UseVerificationToken implements [authgate.Adapter] with one DELETE …
// RETURNING, so exactly one of concurrent calls gets the row.
func (s *Store) UseVerificationToken(ctx context.Context, identifier string, tokenHash []byte) (*authgate.VerificationToken, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var exp sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`DELETE FROM authgate_verification_tokens WHERE identifier = ? AND token_hash = ? RETURNING expires`),
		identifier, tokenHash).Scan(&exp)
	if err != nil {
		return nil, notFound(err)
	}
	return &authgate.VerificationToken{Identifier: identifier, TokenHash: tokenHash, Expires: fromMillis(exp)}, nil
}
