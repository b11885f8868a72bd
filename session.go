package authgate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
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
	AuthTime int64 `json:"auth_time"`
	// Audience binds the token to its purpose and to this deployment.
	Audience string `json:"aud"`
}

// Session is what handlers read with [FromContext] and what
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
// re-issued). [Auth.RequireFreshAuth] reads it.
func (s *Session[T]) AuthTime() time.Time { return s.authTime }

// IssuedAt returns when the session cookie was last issued.
func (s *Session[T]) IssuedAt() time.Time { return s.issuedAt }

// jsTimeLayout is JavaScript's Date.prototype.toISOString, which NextAuth
// uses for "expires".
const jsTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON encodes the session in NextAuth's shape.
func (s *Session[T]) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		User    SessionUser `json:"user"`
		Expires string      `json:"expires"`
		Claims  T           `json:"claims,omitzero"`
	}{s.User, s.Expires.UTC().Format(jsTimeLayout), s.Claims})
}

// UnmarshalJSON decodes what MarshalJSON produced, so tests and Go clients
// can read a /session response into a Session.
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

// newSession builds the default session from a verified token.
func newSession[T any](tok *Token[T]) *Session[T] {
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
		authTime: time.Unix(tok.AuthTime, 0),
		issuedAt: time.Unix(tok.IssuedAt, 0),
	}
}

// decodeToken turns a raw session cookie value into a token whose MAC (and
// encryption) verified. It does not check times, audience or revocation;
// checkToken does, on every request.
func (a *Auth[T]) decodeToken(raw string) (*Token[T], error) {
	if tok, ok := a.cache.get(raw); ok {
		// Verified before; times and revocation are checked by checkToken.
		// The cached token is shared: only app code (the Session callback)
		// could modify it, so then it gets a copy.
		if a.cfg.Callbacks.Session != nil {
			cp := *tok
			return &cp, nil
		}
		return tok, nil
	}
	tok := new(Token[T])
	if err := a.codec.Decode(a.sessionCookie, raw, tok); err != nil {
		if errors.Is(err, ErrInvalidSession) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidSession, err)
	}
	if a.shared {
		a.sharedDefaults(tok)
	}
	a.cache.put(raw, tok)
	return tok, nil
}

// checkToken applies every rule that does not depend on the cookie's bytes:
// audience, shape, issue time not in the future, idle timeout, absolute
// lifetime and server-side revocation. It runs on every request, also for
// tokens served from a cache.
func (a *Auth[T]) checkToken(ctx context.Context, tok *Token[T], now time.Time) error {
	if tok.Audience != a.audience || tok.Subject == "" || !a.validSessionID(tok.ID) {
		return fmt.Errorf("%w: wrong audience or shape", ErrInvalidSession)
	}
	n := now.Unix()
	switch {
	case tok.IssuedAt > n+int64(clockSkew/time.Second):
		return fmt.Errorf("%w: issued in the future", ErrInvalidSession)
	case tok.AuthTime <= 0 || tok.AuthTime > tok.IssuedAt:
		return fmt.Errorf("%w: bad sign-in time", ErrInvalidSession)
	case n >= tok.ExpiresAt || n >= tok.IssuedAt+int64(a.cfg.MaxAge/time.Second):
		return fmt.Errorf("%w: idle timeout", ErrSessionExpired)
	case n >= tok.AuthTime+int64(a.cfg.MaxLifetime/time.Second):
		return fmt.Errorf("%w: absolute lifetime", ErrSessionExpired)
	}
	if a.cfg.Revocations != nil {
		revoked, err := a.cfg.Revocations.Revoked(ctx, tok.ID, tok.Subject, time.Unix(tok.AuthTime, 0))
		if err != nil {
			return fmt.Errorf("%w: revocation store: %w", ErrSessionRevoked, err)
		}
		if revoked {
			return ErrSessionRevoked
		}
	}
	return nil
}

// sessionIDLen is the length of a session id: 16 random bytes, base64url.
const sessionIDLen = 22

// stamp sets the registered claims of tok for an issue at now: a fresh
// session id and sign-in time when the token is new, and the issue and
// expiry times, which never pass the absolute lifetime.
func (a *Auth[T]) stamp(ctx context.Context, tok *Token[T], now time.Time) {
	if tok.ID == "" {
		tok.ID = newSessionID()
	}
	if tok.AuthTime == 0 {
		tok.AuthTime = a.signInTime(ctx, tok.Subject, now)
	}
	tok.IssuedAt = max(now.Unix(), tok.AuthTime)
	tok.ExpiresAt = min(tok.IssuedAt+int64(a.cfg.MaxAge/time.Second), tok.AuthTime+int64(a.cfg.MaxLifetime/time.Second))
	tok.Audience = a.audience
}

// signInTime is the auth_time of a session signed in at now. Sign-in
// times have one-second resolution and [Auth.SignOutEverywhere] revokes
// its whole second (failing closed), so a session minted after such a call
// but in the same second would be born revoked: a password change that
// keeps the current device signed in would sign it out. Such a session is
// dated one second later instead, well within the clock-skew tolerance;
// sessions signed in before the call keep their time and stay revoked.
func (a *Auth[T]) signInTime(ctx context.Context, subject string, now time.Time) int64 {
	t := now.Unix()
	if a.cfg.Revocations != nil {
		if revoked, err := a.cfg.Revocations.Revoked(ctx, "", subject, time.Unix(t, 0)); err == nil && revoked {
			return t + 1
		}
	}
	return t
}

// encode stamps tok and encodes it as a session cookie value.
func (a *Auth[T]) encode(ctx context.Context, tok *Token[T], now time.Time) (string, error) {
	a.stamp(ctx, tok, now)
	v, err := a.codec.Encode(a.sessionCookie, tok)
	if err != nil {
		return "", fmt.Errorf("authgate: encode session: %w", err)
	}
	if len(v) > a.cfg.MaxCookieChunks*chunkSize {
		return "", fmt.Errorf("%w: %d bytes encoded, at most %d fit in %d cookies", ErrSessionTooLarge, len(v), a.cfg.MaxCookieChunks*chunkSize, a.cfg.MaxCookieChunks)
	}
	return v, nil
}

// issue stamps tok and writes it as the session cookie.
func (a *Auth[T]) issue(w http.ResponseWriter, r *http.Request, tok *Token[T], now time.Time) error {
	v, err := a.encode(r.Context(), tok, now)
	if err != nil {
		return err
	}
	return a.setSessionCookies(w, r, v, time.Unix(tok.ExpiresAt, 0), now)
}

// NewSessionCookies mints the session cookies a successful sign-in of u
// would set (the JWT callback runs with TriggerSignIn), without checking
// credentials or running the SignIn callback. It serves flows that
// authenticate the user another way, such as signing in right after
// sign-up, and tests (see package authgatetest). Usually it returns one
// cookie; large sessions are chunked.
func (a *Auth[T]) NewSessionCookies(ctx context.Context, u *User[T]) ([]*http.Cookie, error) {
	if u == nil || u.ID == "" {
		return nil, fmt.Errorf("%w: user without ID", ErrInvalidSession)
	}
	account := Account{Provider: "credentials", Type: "credentials", ProviderAccountID: u.ID}
	tok, err := a.runJWT(ctx, JWTParams[T]{Token: tokenFromUser(u), Trigger: TriggerSignIn, User: u, Account: &account})
	if err != nil {
		return nil, err
	}
	now := a.now()
	v, err := a.encode(ctx, tok, now)
	if err != nil {
		return nil, err
	}
	return a.sessionCookies(v, time.Unix(tok.ExpiresAt, 0), now)
}

// SignOutEverywhere revokes every session subject signed in to until now,
// through [Config.Revocations]: the hook for "sign out of all devices" and
// for password changes. Sessions signed in later are unaffected, also in
// the same second: a flow may sign the user in again right away, such as a
// password change that keeps the current device signed in (with
// [Auth.NewSessionCookies]).
func (a *Auth[T]) SignOutEverywhere(ctx context.Context, subject string) error {
	if a.cfg.Revocations == nil {
		return fmt.Errorf("%w: no revocation store", ErrConfig)
	}
	if err := a.cfg.Revocations.RevokeUser(ctx, subject, a.now()); err != nil {
		return fmt.Errorf("authgate: sign out everywhere: %w", err)
	}
	a.logDecision(ctx, slog.LevelInfo, "authgate: signed out everywhere",
		slog.String("event", "signout_everywhere"), slog.String("sub", subject))
	return nil
}

// cloneToken returns a copy of tok that callbacks may modify without
// touching tok (which may be shared through the cache).
func cloneToken[T any](tok *Token[T]) *Token[T] {
	c := *tok
	c.Roles = slices.Clone(tok.Roles)
	return &c
}

// tokenFromUser is the token a sign-in starts from, before the JWT callback.
func tokenFromUser[T any](u *User[T]) *Token[T] {
	return &Token[T]{
		Subject: u.ID,
		Name:    u.Name,
		Email:   u.Email,
		Picture: u.Image,
		Role:    u.Role,
		Roles:   slices.Clone(u.Roles),
		Claims:  u.Claims,
	}
}

// runJWT runs the JWT callback (or its default) on a copy of tok and keeps
// the registered claims authgate owns.
func (a *Auth[T]) runJWT(ctx context.Context, p JWTParams[T]) (*Token[T], error) {
	if a.cfg.Callbacks.JWT == nil {
		return p.Token, nil
	}
	id, auth := p.Token.ID, p.Token.AuthTime
	tok, err := a.cfg.Callbacks.JWT(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("authgate: jwt callback (%s): %w", p.Trigger, err)
	}
	if tok == nil || tok.Subject == "" {
		return nil, fmt.Errorf("authgate: jwt callback (%s) returned no token or an empty subject", p.Trigger)
	}
	tok.ID, tok.AuthTime = id, auth
	return tok, nil
}

// buildSession runs the Session callback (or its default) for tok.
func (a *Auth[T]) buildSession(ctx context.Context, tok *Token[T]) (*Session[T], error) {
	s := newSession(tok)
	if a.cfg.Callbacks.Session == nil {
		return s, nil
	}
	out, err := a.cfg.Callbacks.Session(ctx, SessionParams[T]{Session: s, Token: tok})
	if err != nil {
		return nil, fmt.Errorf("authgate: session callback: %w", err)
	}
	if out == nil {
		return nil, errors.New("authgate: session callback returned nil")
	}
	// The identity of the session is authgate's, whatever the callback did.
	out.id, out.authTime, out.issuedAt = s.id, s.authTime, s.issuedAt
	return out, nil
}

// load reads, verifies and (when due) re-issues the session of r, then
// runs the Session callback. With w == nil it only reads: no refresh, no
// cookie cleared. On a rejected cookie it clears the cookie (w != nil) and
// logs why; ErrNoSession is returned silently.
func (a *Auth[T]) load(w http.ResponseWriter, r *http.Request) (*Session[T], error) {
	raw, err := a.sessionValue(r)
	return a.loadValue(w, r, raw, err, "", nil)
}

// loadValue is load for a session value already read from r (raw, err as
// sessionValue returned them), so the middleware scans the Cookie header
// once. With trigger TriggerUpdate the session is re-issued whatever its
// age, the JWT callback receiving data (POST /session); otherwise it is
// re-issued with TriggerRefresh once it is UpdateAge old.
func (a *Auth[T]) loadValue(w http.ResponseWriter, r *http.Request, raw string, err error, trigger Trigger, data json.RawMessage) (*Session[T], error) {
	if err != nil {
		if err != ErrNoSession {
			a.reject(w, r, err)
		}
		return nil, err
	}
	ctx := r.Context()
	tok, err := a.decodeToken(raw)
	now := a.now()
	if err == nil {
		err = a.checkToken(ctx, tok, now)
	}
	if trigger == "" && err == nil && now.Unix()-tok.IssuedAt >= int64(a.cfg.UpdateAge/time.Second) {
		trigger = TriggerRefresh
	}
	if err == nil && w != nil && trigger != "" {
		tok, err = a.reissue(ctx, w, r, tok, now, trigger, data)
	}
	var s *Session[T]
	if err == nil {
		s, err = a.buildSession(ctx, tok)
	}
	if err != nil {
		a.reject(w, r, err)
		return nil, err
	}
	return s, nil
}

// reissue runs the JWT callback with trigger (and the client's data for
// an update) on a copy of tok and sets the cookie again, with new issue and
// expiry times that never pass the absolute lifetime.
func (a *Auth[T]) reissue(ctx context.Context, w http.ResponseWriter, r *http.Request, tok *Token[T], now time.Time, trigger Trigger, data json.RawMessage) (*Token[T], error) {
	next, err := a.runJWT(ctx, JWTParams[T]{Token: cloneToken(tok), Trigger: trigger, Data: data})
	if err != nil {
		return nil, err
	}
	if err := a.issue(w, r, next, now); err != nil {
		return nil, err
	}
	return next, nil
}

// reject logs why a session cookie was refused and, with w, clears it.
func (a *Auth[T]) reject(w http.ResponseWriter, r *http.Request, err error) {
	level := slog.LevelInfo
	if !errors.Is(err, ErrInvalidSession) && !errors.Is(err, ErrSessionExpired) && !errors.Is(err, ErrSessionRevoked) {
		level = slog.LevelError // a callback or codec fault, not bad input
	}
	a.logDecision(r.Context(), level, "authgate: session cookie rejected",
		slog.String("event", "session_rejected"), slog.String("reason", err.Error()),
		slog.String("path", r.URL.Path))
	if w != nil {
		a.deleteSessionCookies(w, r, nil)
	}
}
