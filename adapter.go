package authgate

import (
	"context"
	"errors"
	"time"
)

// Errors an [Adapter] returns. Other errors from an adapter are faults (the
// database cannot answer): authgate fails the request closed and wraps
// them in [ErrStore], and never treats them as "not found".
var (
	// ErrNotFound reports that the user, account, session, token or
	// credential asked for does not exist, or (for a use-once value such as
	// a verification token or a recovery code) was used already.
	ErrNotFound = errors.New("authgate: not found")

	// ErrConflict reports a write that would break a uniqueness rule: a
	// second user with the same e-mail address, an account already linked
	// (to any user), a session or passkey whose id exists, a TOTP time step
	// not later than the last one used. Concurrent writes that race for
	// one value end with exactly one success and ErrConflict for the others,
	// never with a duplicate.
	ErrConflict = errors.New("authgate: conflict")
)

// Adapter stores what authgate remembers about users, modelled on
// NextAuth's adapter: users, the accounts that sign them in (an OAuth
// provider's user, or a username), sessions, and single-use verification
// tokens. [Config.Adapter] plugs one in; the module
// github.com/authgate/authgate/sqlstore is one for SQLite and PostgreSQL,
// and [authgatetest.TestAdapter] checks any implementation against this
// contract.
//
// Every method is bounded by its context and safe for concurrent use, also
// by several instances of an app sharing one store. A method returns
// [ErrNotFound] or [ErrConflict] (possibly wrapped) where its doc says so;
// any other error is a fault. A method that returns an error has changed
// nothing.
//
// Session tokens never reach an adapter: authgate passes the SHA-256 hash
// of a cookie's token, so the store holds nothing a stolen copy could sign
// in with. Times are stored with at least millisecond precision; authgate
// passes them in UTC. An adapter may delete a session or a verification
// token once it expired by the adapter's clock.
//
// Later features store more per user through optional interfaces that an
// adapter may also implement ([PasswordAdapter], [SecondFactorAdapter],
// [PasskeyAdapter]), so an adapter grows without breaking.
type Adapter interface {
	// CreateUser stores a new user. When u.ID is empty the adapter chooses
	// a random, unique id and sets it in u; when u.Created is zero it sets
	// it to its clock's now. ErrConflict: the id is taken, or u.Email is
	// not empty and another user has the same address (compared without
	// regard to ASCII case).
	CreateUser(ctx context.Context, u *AdapterUser) error
	// User returns the user id. ErrNotFound: no such user.
	User(ctx context.Context, id string) (*AdapterUser, error)
	// UserByEmail returns the user whose address equals email without
	// regard to ASCII case. ErrNotFound: no such user, or email is empty.
	UserByEmail(ctx context.Context, email string) (*AdapterUser, error)
	// UserByAccount returns the user the account (provider,
	// providerAccountID) is linked to. ErrNotFound: no such account.
	UserByAccount(ctx context.Context, provider, providerAccountID string) (*AdapterUser, error)
	// UpdateUser stores u's Email, EmailVerified, Name, Image and Role for
	// the user u.ID. ErrNotFound: no such user; ErrConflict: the new
	// address belongs to another user.
	UpdateUser(ctx context.Context, u *AdapterUser) error
	// DeleteUser deletes the user id with their accounts, sessions and
	// whatever the optional interfaces stored for them. ErrNotFound: no
	// such user.
	DeleteUser(ctx context.Context, id string) error

	// LinkAccount links the account a to the user userID, keeping a's
	// tokens. ErrNotFound: no such user; ErrConflict: the account
	// (a.Provider, a.ProviderAccountID) is linked already, to this user or
	// another.
	LinkAccount(ctx context.Context, userID string, a Account) error
	// UnlinkAccount removes the account. ErrNotFound: no such account.
	UnlinkAccount(ctx context.Context, provider, providerAccountID string) error
	// Accounts returns the accounts linked to userID, oldest first (none
	// for an unknown user).
	Accounts(ctx context.Context, userID string) ([]Account, error)

	// CreateSession stores a new session. ErrConflict: s.ID, or a non-empty
	// s.TokenHash, exists.
	CreateSession(ctx context.Context, s *AdapterSession) error
	// SessionByToken returns the session whose TokenHash is tokenHash,
	// whether or not it expired (authgate checks the times). ErrNotFound:
	// none.
	SessionByToken(ctx context.Context, tokenHash []byte) (*AdapterSession, error)
	// UpdateSession stores s.Data for the session s.ID when it is not nil,
	// and s.LastSeen and s.Expires when s.LastSeen is later than the stored
	// LastSeen; so concurrent instances that round "last seen" down to the
	// same interval write it once. ErrNotFound: no such session.
	UpdateSession(ctx context.Context, s *AdapterSession) error
	// DeleteSession deletes the session id of userID. ErrNotFound: userID
	// has no session id (also when it belongs to another user).
	DeleteSession(ctx context.Context, userID, id string) error
	// Sessions returns every stored session of userID, expired or not,
	// oldest first (none for an unknown user).
	Sessions(ctx context.Context, userID string) ([]AdapterSession, error)
	// DeleteSessions deletes every session of userID except keepID (which
	// may be empty to delete them all), in one step, and returns the ids
	// it deleted.
	DeleteSessions(ctx context.Context, userID, keepID string) ([]string, error)

	// CreateVerificationToken stores t and, in the same step, deletes every
	// other token of t.Identifier: a new link makes older ones useless.
	// Identifiers name their purpose (such as "email:" or "reset:" and an
	// address), so the purposes do not end each other's tokens.
	CreateVerificationToken(ctx context.Context, t VerificationToken) error
	// UseVerificationToken deletes and returns the token (identifier,
	// tokenHash), whether or not it expired (authgate checks Expires).
	// Exactly one of concurrent calls for one token gets it; the others,
	// and every later call, get ErrNotFound.
	UseVerificationToken(ctx context.Context, identifier string, tokenHash []byte) (*VerificationToken, error)
}

// AdapterUser is a user as an [Adapter] stores it: NextAuth's adapter
// user, with authgate's built-in role.
type AdapterUser struct {
	ID    string
	Email string
	// EmailVerified is when the user proved they own Email; zero means
	// never. Only a verified address may be used to link accounts (see
	// [Config.LinkAccountsByEmail]).
	EmailVerified time.Time
	Name          string
	Image         string
	Role          string
	Created       time.Time
}

// AdapterSession is a signed-in session as an [Adapter] stores it. With
// database sessions ([Config.DatabaseSessions]) the cookie carries a random
// token whose SHA-256 hash is TokenHash, and Data holds the session's
// token (what the JWT callback returned) as JSON. With JWT sessions the
// row only registers the sign-in for the device list: TokenHash and Data
// are empty and the cookie carries the token itself.
type AdapterSession struct {
	// ID is the session id (a Token's ID, "jti"): public, shown in the
	// device list, never enough to sign in.
	ID        string
	TokenHash []byte
	// UserID is the session's subject; it need not be a user the adapter
	// stores (an app's own Authorize may own the users).
	UserID string
	// Created is the sign-in time; LastSeen when the session was last
	// used, rounded down to authgate's touch interval; Expires when it ends
	// unless it is used again.
	Created  time.Time
	LastSeen time.Time
	Expires  time.Time
	// UserAgent is the signing-in client's User-Agent, clipped; Address its
	// network, coarsened (an IPv4 /24 or an IPv6 /48), never the full
	// address.
	UserAgent string
	Address   string
	Data      []byte
}

// VerificationToken is a single-use token, such as an e-mail sign-in link
// or a password reset, as an [Adapter] stores it: only its hash.
type VerificationToken struct {
	Identifier string
	TokenHash  []byte
	Expires    time.Time
}

// PasswordAdapter is an [Adapter] that also stores password hashes, as
// made by [Config.Hasher], for users it stores: for sign-up, sign-in and
// "forgot password".
type PasswordAdapter interface {
	Adapter
	// PasswordHash returns the user's password hash, "" when they have
	// none. ErrNotFound: no such user.
	PasswordHash(ctx context.Context, userID string) (string, error)
	// SetPasswordHash sets (or, with "", removes) the user's password hash.
	// ErrNotFound: no such user.
	SetPasswordHash(ctx context.Context, userID, hash string) error
}

// SecondFactorAdapter is an [Adapter] that also stores a second factor per
// user: a TOTP secret and recovery codes. userID need not be a user the
// adapter stores.
type SecondFactorAdapter interface {
	Adapter
	// SecondFactor returns the user's second factor. ErrNotFound: none.
	SecondFactor(ctx context.Context, userID string) (*SecondFactor, error)
	// SetSecondFactor stores f for the user, replacing what was there,
	// except that the stored LastStep never decreases: a concurrent
	// UseTOTPStep cannot be undone.
	SetSecondFactor(ctx context.Context, userID string, f SecondFactor) error
	// DeleteSecondFactor removes the user's second factor and recovery
	// codes. ErrNotFound: none.
	DeleteSecondFactor(ctx context.Context, userID string) error
	// UseTOTPStep records that a code of TOTP time step step was accepted,
	// atomically: it succeeds only when step is later than the stored
	// LastStep. ErrConflict: it is not (a code used again, or an older
	// one); ErrNotFound: no second factor.
	UseTOTPStep(ctx context.Context, userID string, step int64) error
	// UseRecoveryCode deletes the stored recovery code hash codeHash (one
	// of SecondFactor.RecoveryCodes). Exactly one of concurrent calls for
	// one code succeeds; the others, and every later call, get ErrNotFound.
	UseRecoveryCode(ctx context.Context, userID string, codeHash []byte) error
}

// SecondFactor is what a [SecondFactorAdapter] stores per user.
type SecondFactor struct {
	// TOTPSecret is the TOTP seed, encrypted by authgate before it is
	// stored: the adapter never sees it in the clear.
	TOTPSecret []byte
	// Enabled reports that the user confirmed the secret with a valid
	// code; until then sign-in does not ask for one.
	Enabled bool
	// LastStep is the latest TOTP time step (Unix time / 30 s) whose code
	// was accepted; a code of that step or an earlier one is refused.
	LastStep int64
	// RecoveryCodes are the salted hashes of the unused recovery codes.
	RecoveryCodes [][]byte
	Created       time.Time
}

// PasskeyAdapter is an [Adapter] that also stores WebAuthn credentials
// (passkeys) and one stable WebAuthn user handle per user. userID need not
// be a user the adapter stores.
type PasskeyAdapter interface {
	Adapter
	// UserHandle returns the user's WebAuthn user handle, creating a random
	// 32-byte one on the first call; every later call, also concurrent
	// ones, returns the same handle.
	UserHandle(ctx context.Context, userID string) ([]byte, error)
	// UserIDByHandle returns the user whose handle is handle. ErrNotFound:
	// none.
	UserIDByHandle(ctx context.Context, handle []byte) (string, error)
	// CreatePasskey stores a new credential. ErrConflict: its
	// CredentialID exists (for any user).
	CreatePasskey(ctx context.Context, p *Passkey) error
	// Passkey returns the credential credentialID. ErrNotFound: none.
	Passkey(ctx context.Context, credentialID []byte) (*Passkey, error)
	// Passkeys returns the user's credentials, oldest first.
	Passkeys(ctx context.Context, userID string) ([]Passkey, error)
	// UsePasskey records a sign-in with the credential p.CredentialID of
	// p.UserID, atomically: it stores p's SignCount, BackupState, LastUsed
	// and Data only when p.SignCount is greater than the stored SignCount,
	// or both are 0 (an authenticator without a counter). Of concurrent
	// calls presenting one counter value exactly one succeeds.
	// ErrConflict: the counter did not increase (a cloned credential or a
	// replay), and nothing was stored; ErrNotFound: the user has no such
	// credential.
	UsePasskey(ctx context.Context, p *Passkey) error
	// UpdatePasskey stores p's Name for the credential p.CredentialID of
	// p.UserID, and sets its CloneWarning when p.CloneWarning is set; a
	// stored warning is never cleared, and nothing else changes, so a
	// rename from a stale copy cannot undo a concurrent sign-in.
	// ErrNotFound: the user has no such credential.
	UpdatePasskey(ctx context.Context, p *Passkey) error
	// DeletePasskey deletes the user's credential. ErrNotFound: the user
	// has no such credential.
	DeletePasskey(ctx context.Context, userID string, credentialID []byte) error
}

// Passkey is a WebAuthn credential as a [PasskeyAdapter] stores it.
type Passkey struct {
	CredentialID []byte
	UserID       string
	// Name is the user's label for it ("Work laptop").
	Name string
	// PublicKey is the credential's COSE public key.
	PublicKey []byte
	// SignCount is the authenticator's signature counter as last seen.
	SignCount uint32
	// BackupEligible and BackupState are the authenticator data's BE and
	// BS flags (BS: the passkey is synced, as by a cloud keychain);
	// CloneWarning is set when a sign-in presented a counter that did not
	// increase.
	BackupEligible bool
	BackupState    bool
	CloneWarning   bool
	// Transports are the authenticator's transport hints ("internal",
	// "hybrid", "usb", …).
	Transports []string
	// AAGUID identifies the authenticator model.
	AAGUID []byte
	// Data is whatever else the WebAuthn library keeps of the credential
	// (such as its attestation), opaque to the adapter.
	Data     []byte
	Created  time.Time
	LastUsed time.Time
}
