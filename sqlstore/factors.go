package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"strings"

	"github.com/authgate/authgate"
)

// SecondFactor implements [authgate.SecondFactorAdapter].
func (s *Store) SecondFactor(ctx context.Context, userID string) (*authgate.SecondFactor, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var f authgate.SecondFactor
	var enabled int64
	var created sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT totp_secret, enabled, last_step, created FROM authgate_second_factors WHERE user_id = ?`), userID).
		Scan(&f.TOTPSecret, &enabled, &f.LastStep, &created)
	if err != nil {
		return nil, notFound(err)
	}
	f.Enabled, f.Created = enabled != 0, fromMillis(created)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT code_hash FROM authgate_recovery_codes WHERE user_id = ?`), userID)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		f.RecoveryCodes = append(f.RecoveryCodes, h)
	}
	return &f, rows.Err()
}

// SetSecondFactor implements [authgate.SecondFactorAdapter] in one
// transaction; the stored last step only moves forward.
func (s *Store) SetSecondFactor(ctx context.Context, userID string, f authgate.SecondFactor) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, `INSERT INTO authgate_second_factors (user_id, totp_secret, enabled, last_step, created)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET totp_secret = excluded.totp_secret, enabled = excluded.enabled,
			created = excluded.created,
			last_step = CASE WHEN excluded.last_step > authgate_second_factors.last_step
				THEN excluded.last_step ELSE authgate_second_factors.last_step END`,
			userID, f.TOTPSecret, flag(f.Enabled), f.LastStep, millis(f.Created))
		if err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM authgate_recovery_codes WHERE user_id = ?`, userID); err != nil {
			return err
		}
		for _, h := range f.RecoveryCodes {
			if _, err := s.exec(ctx, tx, `INSERT INTO authgate_recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, h); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteSecondFactor implements [authgate.SecondFactorAdapter].
func (s *Store) DeleteSecondFactor(ctx context.Context, userID string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `DELETE FROM authgate_recovery_codes WHERE user_id = ?`, userID); err != nil {
			return err
		}
		n, err := s.exec(ctx, tx, `DELETE FROM authgate_second_factors WHERE user_id = ?`, userID)
		if err == nil && n == 0 {
			err = authgate.ErrNotFound
		}
		return err
	})
}

// UseTOTPStep implements [authgate.SecondFactorAdapter] with one
// conditional UPDATE, so of concurrent calls for one step exactly one wins.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n, err := s.exec(ctx, s.db, `UPDATE authgate_second_factors SET last_step = ? WHERE user_id = ? AND last_step < ?`, step, userID, step)
	if err != nil || n == 1 {
		return err
	}
	var one int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT 1 FROM authgate_second_factors WHERE user_id = ?`), userID).Scan(&one); err != nil {
		return notFound(err)
	}
	return authgate.ErrConflict
}

// UseRecoveryCode implements [authgate.SecondFactorAdapter] with one
// DELETE.
func (s *Store) UseRecoveryCode(ctx context.Context, userID string, codeHash []byte) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n, err := s.exec(ctx, s.db, `DELETE FROM authgate_recovery_codes WHERE user_id = ? AND code_hash = ?`, userID, codeHash)
	if err == nil && n == 0 {
		err = authgate.ErrNotFound
	}
	return err
}

// UserHandle implements [authgate.PasskeyAdapter]: an INSERT that keeps an
// existing handle, then a read, so concurrent first calls agree.
func (s *Store) UserHandle(ctx context.Context, userID string) ([]byte, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	h := make([]byte, 32)
	rand.Read(h)
	if _, err := s.exec(ctx, s.db, `INSERT INTO authgate_user_handles (user_id, handle) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING`, userID, h); err != nil {
		return nil, err
	}
	err := s.db.QueryRowContext(ctx, s.q(`SELECT handle FROM authgate_user_handles WHERE user_id = ?`), userID).Scan(&h)
	return h, classify(err)
}

// UserIDByHandle implements [authgate.PasskeyAdapter].
func (s *Store) UserIDByHandle(ctx context.Context, handle []byte) (string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var id string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT user_id FROM authgate_user_handles WHERE handle = ?`), handle).Scan(&id)
	return id, notFound(err)
}

const passkeyColumns = `credential_id, user_id, name, public_key, sign_count, backup_eligible, backup_state, clone_warning,
	transports, aaguid, data, created, last_used`

func scanPasskey(row interface{ Scan(...any) error }) (*authgate.Passkey, error) {
	var p authgate.Passkey
	var count, be, bs, cw int64
	var transports string
	var created, used sql.NullInt64
	if err := row.Scan(&p.CredentialID, &p.UserID, &p.Name, &p.PublicKey, &count, &be, &bs, &cw,
		&transports, &p.AAGUID, &p.Data, &created, &used); err != nil {
		return nil, notFound(err)
	}
	p.SignCount = uint32(count)
	p.BackupEligible, p.BackupState, p.CloneWarning = be != 0, bs != 0, cw != 0
	if transports != "" {
		p.Transports = strings.Split(transports, ",")
	}
	p.Created, p.LastUsed = fromMillis(created), fromMillis(used)
	return &p, nil
}

// CreatePasskey implements [authgate.PasskeyAdapter].
func (s *Store) CreatePasskey(ctx context.Context, p *authgate.Passkey) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.exec(ctx, s.db, `INSERT INTO authgate_passkeys (`+passkeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.CredentialID, p.UserID, p.Name, p.PublicKey, int64(p.SignCount), flag(p.BackupEligible), flag(p.BackupState),
		flag(p.CloneWarning), strings.Join(p.Transports, ","), blob(p.AAGUID), blob(p.Data), millis(p.Created), millis(p.LastUsed))
	return err
}

// Passkey implements [authgate.PasskeyAdapter].
func (s *Store) Passkey(ctx context.Context, credentialID []byte) (*authgate.Passkey, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanPasskey(s.db.QueryRowContext(ctx, s.q(`SELECT `+passkeyColumns+` FROM authgate_passkeys WHERE credential_id = ?`), credentialID))
}

// Passkeys implements [authgate.PasskeyAdapter].
func (s *Store) Passkeys(ctx context.Context, userID string) ([]authgate.Passkey, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+passkeyColumns+` FROM authgate_passkeys WHERE user_id = ? ORDER BY created, credential_id`), userID)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []authgate.Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

// UpdatePasskey implements [authgate.PasskeyAdapter]: the name, and a
// clone warning that an OR keeps once set.
func (s *Store) UpdatePasskey(ctx context.Context, p *authgate.Passkey) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n, err := s.exec(ctx, s.db, `UPDATE authgate_passkeys SET name = ?, clone_warning = CASE WHEN ? = 1 THEN 1 ELSE clone_warning END
		WHERE credential_id = ? AND user_id = ?`, p.Name, flag(p.CloneWarning), p.CredentialID, p.UserID)
	if err == nil && n == 0 {
		err = authgate.ErrNotFound
	}
	return err
}

// UsePasskey implements [authgate.PasskeyAdapter] with one conditional
// UPDATE, so concurrent sign-ins presenting one counter value cannot both
// succeed; when it changes no row, a read tells a counter that did not
// increase from a missing credential.
func (s *Store) UsePasskey(ctx context.Context, p *authgate.Passkey) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	count := int64(p.SignCount)
	n, err := s.exec(ctx, s.db, `UPDATE authgate_passkeys SET sign_count = ?, backup_state = ?, last_used = ?, data = ?
		WHERE credential_id = ? AND user_id = ? AND (sign_count < ? OR (sign_count = 0 AND ? = 0))`,
		count, flag(p.BackupState), millis(p.LastUsed), blob(p.Data), p.CredentialID, p.UserID, count, count)
	if err != nil || n == 1 {
		return err
	}
	var one int
	err = s.db.QueryRowContext(ctx, s.q(`SELECT 1 FROM authgate_passkeys WHERE credential_id = ? AND user_id = ?`), p.CredentialID, p.UserID).Scan(&one)
	if err = notFound(err); err == nil {
		err = authgate.ErrConflict
	}
	return err
}

// DeletePasskey implements [authgate.PasskeyAdapter].
func (s *Store) DeletePasskey(ctx context.Context, userID string, credentialID []byte) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n, err := s.exec(ctx, s.db, `DELETE FROM authgate_passkeys WHERE credential_id = ? AND user_id = ?`, credentialID, userID)
	if err == nil && n == 0 {
		err = authgate.ErrNotFound
	}
	return err
}
