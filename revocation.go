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
//
// Times come from the clocks of the instances that share the store, which
// may differ by up to 15 seconds, and a token's iat (so its auth_time) is
// accepted up to 15 seconds ahead of the clock that checks it: a session
// revoked at a store's time t may carry a sign-in time up to 30 seconds
// after t. A store that replaces revoked sessions by a mark or a cutoff
// (to bound its memory) must place it that far after t, or it revives
// them.
type RevocationStore interface {
	// RevokeSession ends the session sessionID of subject; the entry may
	// be forgotten after expires, the latest time any copy of the
	// session's cookie could still be valid. authgate passes now + MaxAge
	// capped by the session's absolute end (auth_time + MaxLifetime),
	// since copies re-issued before the sign-out may expire later than the
	// cookie that signed out; with a codec whose tokens another app
	// re-issues ([CodecInfo.Shared]), that app keeps copies alive past
	// MaxAge, so it passes the absolute end itself (now + MaxLifetime for
	// a token without auth_time, whose end moves); each plus the 15 s
	// clock-skew allowance. The subject lets a store bound what one
	// account can make it hold: a store may replace many revoked sessions
	// of one subject by a RevokeUser-style mark for that subject, which
	// ends only that subject's sessions signed in before it, placed late
	// enough to cover every session it replaces (see above).
	RevokeSession(ctx context.Context, sessionID, subject string, expires time.Time) error
	// RevokeUser ends every session of subject that signed in at or before
	// before ("sign out everywhere", or after a password change). Sign-in
	// times have one-second resolution (the token's auth_time), so a
	// session whose auth_time is in the same second as before is revoked
	// too: the comparison fails closed.
	RevokeUser(ctx context.Context, subject string, before time.Time) error
	// Revoked reports whether the session sessionID of subject, signed in
	// at authTime, has been revoked: sessionID was revoked, or authTime is
	// not after the subject's latest RevokeUser time. A zero authTime
	// means the sign-in time is unknown (a token another app minted
	// without auth_time, whose iat moves at every re-issue): every mark of
	// the subject must revoke it. An error fails closed.
	Revoked(ctx context.Context, sessionID, subject string, authTime time.Time) (bool, error)
	// Horizon returns the longest session lifetime the store serves: it
	// keeps every RevokeSession entry until its expires, and every
	// RevokeUser mark until no session it ends can still be valid,
	// provided no session lives longer than Horizon after signing in
	// (plus the clock allowances above). [New] refuses a store whose
	// Horizon is shorter than [Config.MaxLifetime], which would revive
	// signed-out sessions once it forgets them.
	Horizon() time.Duration
}
