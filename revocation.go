package authgate

import (
	"context"
	"time"
)

// RevocationStore remembers sessions ended server-side, so a captured copy
// of a signed-out cookie is anonymous. Entries are keyed on the session id
// and subject inside the verified token, never on the raw cookie string.
//
// Revoked runs on every authenticated request: an in-memory implementation
// must answer without I/O. Implementations must be safe for concurrent use.
type RevocationStore interface {
	// RevokeSession ends the session sessionID of subject; the entry may
	// be forgotten after expires, the latest time any copy of the
	// session's cookie could still be valid (authgate passes now + MaxAge,
	// capped by the absolute lifetime, since copies re-issued before the
	// sign-out may expire later than the cookie that signed out). The
	// subject lets a store bound what one account can make it hold: a
	// store may replace many revoked sessions of one subject by a
	// RevokeUser-style mark for that subject, which ends only that
	// subject's sessions signed in before it.
	RevokeSession(ctx context.Context, sessionID, subject string, expires time.Time) error
	// RevokeUser ends every session of subject that signed in at or before
	// before ("sign out everywhere", or after a password change). Sign-in
	// times have one-second resolution (the token's auth_time), so a
	// session whose auth_time is in the same second as before is revoked
	// too: the comparison fails closed.
	RevokeUser(ctx context.Context, subject string, before time.Time) error
	// Revoked reports whether the session sessionID of subject, signed in
	// at authTime, has been revoked: sessionID was revoked, or authTime is
	// not after the subject's latest RevokeUser time. An error fails closed.
	Revoked(ctx context.Context, sessionID, subject string, authTime time.Time) (bool, error)
}
