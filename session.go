package authgate

import (
	"encoding/json"
	"slices"
	"time"
)

// Token is what the session cookie carries: the user's built-in fields, the
// app's own claims of type T, and the registered claims authgate manages. It
// is encoded as JSON, signed with HMAC-SHA256 and (by default) encrypted
// with AES before it becomes the cookie value.
//
// The JSON names follow NextAuth's JWT ("sub", "name", "email", "picture",
// "iat", "exp", "jti") so callbacks port over unchanged.
type Token[T any] struct {
	Subject string   `json:"sub"`
	Name    string   `json:"name,omitempty"`
	Email   string   `json:"email,omitempty"`
	Picture string   `json:"picture,omitempty"`
	Role    string   `json:"role,omitempty"`
	Roles   []string `json:"roles,omitempty"`
	// Claims are the app's own typed claims.
	Claims T `json:"claims,omitzero"`

	// Registered claims, set by authgate. Times are seconds since the Unix
	// epoch, as in a JWT.

	// ID is the random session id (128 bits, base64url). It stays the same
	// across re-issues and keys server-side revocation.
	ID string `json:"jti"`
	// IssuedAt is when this cookie was (re-)issued.
	IssuedAt int64 `json:"iat"`
	// ExpiresAt is IssuedAt + MaxAge, capped by AuthTime + MaxLifetime.
	ExpiresAt int64 `json:"exp"`
	// AuthTime is when the user signed in; re-issues carry it unchanged.
	// A token another app minted without it ([CodecInfo.Shared]) holds its
	// IssuedAt here for the time rules, and is re-issued without it.
	AuthTime int64 `json:"auth_time"`
	// Audience binds the token to its purpose and to this deployment.
	Audience string `json:"aud"`
	// AMR lists how the user authenticated at sign-in, as RFC 8176
	// authentication method references ("pwd" for a password; extensions
	// add theirs, such as "otp"); re-issues carry it unchanged.
	AMR []string `json:"amr,omitempty"`

	// unknownAuthTime marks a token another app minted without auth_time
	// (see sharedDefaults): AuthTime is its iat, which that app moves at
	// every re-issue, so every revocation mark of the subject covers it,
	// its Session has no AuthTime (never fresh), and authgate re-issues it
	// without auth_time.
	unknownAuthTime bool
}

// Session is what handlers read with [Auth.Session] and what
// GET /api/auth/session returns as JSON:
//
//	{"user":{"id":"1","name":"alice","email":"a@example.com","role":"admin"},"expires":"2026-12-29T03:01:29.223Z"}
//
// Claims, when not the zero value, appear as "claims". Sessions passed to
// handlers must be treated as read-only.
type Session[T any] struct {
	User    SessionUser
	Expires time.Time
	Claims  T

	id       string
	authTime time.Time
	issuedAt time.Time
	amr      []string
}

// SessionUser is the user part of a [Session].
type SessionUser struct {
	ID    string   `json:"id,omitempty"`
	Name  string   `json:"name,omitempty"`
	Email string   `json:"email,omitempty"`
	Image string   `json:"image,omitempty"`
	Role  string   `json:"role,omitempty"`
	Roles []string `json:"roles,omitempty"`
}

// HasRole reports whether the user's Role or one of its Roles equals one of
// roles exactly (case and spaces matter).
func (u *SessionUser) HasRole(roles ...string) bool {
	for _, r := range roles {
		if r == "" {
			continue
		}
		if u.Role == r || slices.Contains(u.Roles, r) {
			return true
		}
	}
	return false
}

// ID returns the session id, which stays the same for the whole sign-in.
func (s *Session[T]) ID() string { return s.id }

// AuthTime returns when the user signed in (not when the cookie was last
// re-issued). [Auth.RequireFreshAuth] reads it. It is the zero time when
// the sign-in time is unknown: the token was minted by another app without
// "auth_time" ([CodecInfo.Shared]), whose "iat" says only when that app
// last re-issued it.
func (s *Session[T]) AuthTime() time.Time { return s.authTime }

// IssuedAt returns when the session cookie was last issued.
func (s *Session[T]) IssuedAt() time.Time { return s.issuedAt }

// AMR returns how the user authenticated at sign-in ([Token.AMR]). The
// slice is shared: do not modify it.
func (s *Session[T]) AMR() []string { return s.amr }

// jsTimeLayout is JavaScript's Date.prototype.toISOString, which NextAuth
// uses for "expires".
const jsTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON encodes the session in NextAuth's shape. Its error is
// encoding/json's (claims of type T that cannot be encoded).
func (s *Session[T]) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		User    SessionUser `json:"user"`
		Expires string      `json:"expires"`
		Claims  T           `json:"claims,omitzero"`
	}{s.User, s.Expires.UTC().Format(jsTimeLayout), s.Claims})
}

// UnmarshalJSON decodes what MarshalJSON produced, so tests and Go clients
// can read a /session response into a Session. Its error is
// encoding/json's.
func (s *Session[T]) UnmarshalJSON(b []byte) error {
	var v struct {
		User    SessionUser `json:"user"`
		Expires time.Time   `json:"expires"`
		Claims  T           `json:"claims"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	s.User, s.Expires, s.Claims = v.User, v.Expires, v.Claims
	return nil
}

// newSession builds the default session from a verified token; its
// sign-in time is unknown (zero) when the token came without auth_time.
func newSession[T any](tok *Token[T]) *Session[T] {
	var authTime time.Time
	if !tok.unknownAuthTime {
		authTime = time.Unix(tok.AuthTime, 0)
	}
	return &Session[T]{
		User: SessionUser{
			ID:    tok.Subject,
			Name:  tok.Name,
			Email: tok.Email,
			Image: tok.Picture,
			Role:  tok.Role,
			Roles: tok.Roles,
		},
		Expires:  time.Unix(tok.ExpiresAt, 0).UTC(),
		Claims:   tok.Claims,
		id:       tok.ID,
		authTime: authTime,
		issuedAt: time.Unix(tok.IssuedAt, 0),
		amr:      tok.AMR,
	}
}
