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
// A session's sign-in time (its auth_time) may be after the clock of the
// store: a token's iat is accepted up to 15 seconds ahead of the clock
// that checks it, instances' clocks differ, and a session signed in while
// a mark covers its second is dated past the mark. So a store that
// replaces revoked sessions by something coarser, to bound its memory,
// places it by the sessions' own sign-in times, which RevokeSession
// receives, never by its clock: a mark or cutoff at the latest sign-in time
// among what it replaces covers exactly those sessions, whatever the
// clocks.
type RevocationStore interface {
	// RevokeSession ends the session sessionID of subject, signed in at
	// authTime; the entry may be forgotten after expires, the latest time
	// any copy of the session's cookie could still be valid.
	//
	// authTime is the time Revoked is asked with for this session: its
	// auth_time, or the zero time for a token another app minted without
	// auth_time ([CodecInfo.Shared]), whose sign-in time is unknown.
	//
	// authgate passes as expires now + MaxAge capped by the session's
	// absolute end (auth_time + MaxLifetime), since copies re-issued
	// before the sign-out may expire later than the cookie that signed
	// out; with a codec whose tokens another app re-issues
	// ([CodecInfo.Shared]), that app keeps copies alive past MaxAge, so it
	// passes the absolute end itself (now + MaxLifetime for a token
	// without auth_time, whose end moves); each plus the 15 s clock-skew
	// allowance.
	//
	// The subject lets a store bound what one account can make it hold: a
	// store may replace many revoked sessions of one subject by a
	// RevokeUser-style mark for that subject at the latest authTime among
	// them, which ends only that subject's sessions signed in until then.
	// A session revoked with a zero authTime counts, for such a mark, as
	// signed in when it was revoked: its real sign-in time is earlier, and
	// every mark covers it anyway (see Revoked); the mark must be kept as
	// long as the entry would have been.
	RevokeSession(ctx context.Context, sessionID, subject string, authTime, expires time.Time) error
	// RevokeUser ends every session of subject that signed in at or before
	// before ("sign out everywhere", or after a password change). Sign-in
	// times have one-second resolution (the token's auth_time), so a
	// session whose auth_time is in the same second as before is revoked
	// too: the comparison fails closed.
	RevokeUser(ctx context.Context, subject string, before time.Time) error
	// Revoked reports whether the session sessionID of subject, signed in
	// at authTime, has been revoked: sessionID was revoked, or authTime is
	// not after the subject's latest RevokeUser time (or a mark or cutoff
	// the store placed itself). A zero authTime means the sign-in time is
	// unknown (a token another app minted without auth_time, whose iat
	// moves at every re-issue): every mark of the subject must revoke it.
	// An error fails closed.
	//
	// With an empty sessionID, authgate asks at sign-in whether a mark or
	// cutoff covers a sign-in time, to date the new session past it; the
	// answer must then depend only on marks and cutoffs, so that it is
	// monotonic: revoked at t means revoked at every earlier time.
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
