package authgate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Issuing and re-issuing sessions: the JWT callback shapes the token,
// stamp sets the claims authgate owns, encode turns it into a cookie value
// and issue writes the cookies (cookie.go splits them into chunks and
// clears stale ones). Times are read when the token is stamped, so a
// session that waited for a password check is not born aged.

// runJWT runs the JWT callback (or its default) and keeps the registered
// claims authgate owns.
func (a *Auth[T]) runJWT(ctx context.Context, p JWTParams[T]) (*Token[T], error) {
	if a.cfg.Callbacks.JWT == nil {
		return p.Token, nil
	}
	id, auth, amr, unknown := p.Token.ID, p.Token.AuthTime, p.Token.AMR, p.Token.unknownAuthTime
	tok, err := a.cfg.Callbacks.JWT(ctx, p)
	if err != nil {
		if p.Trigger != TriggerSignIn && errors.Is(err, ErrSessionRevoked) {
			return nil, fmt.Errorf("authgate: the jwt callback (%s) ended the session: %w", p.Trigger, err)
		}
		return nil, fmt.Errorf("%w: jwt (%s): %w", ErrCallback, p.Trigger, err)
	}
	if tok == nil || tok.Subject == "" {
		return nil, fmt.Errorf("%w: jwt (%s) returned no token or an empty subject", ErrCallback, p.Trigger)
	}
	tok.ID, tok.AuthTime, tok.AMR, tok.unknownAuthTime = id, auth, amr, unknown
	return tok, nil
}

// stamp sets the registered claims of tok for an issue at now: a fresh
// session id and sign-in time when the token is new, and the issue and
// expiry times, which never pass the absolute lifetime. It fails only when
// a new session cannot be dated (signInTime).
func (a *Auth[T]) stamp(ctx context.Context, tok *Token[T], now time.Time) error {
	if tok.ID == "" {
		tok.ID = newSessionID()
	}
	if tok.AuthTime == 0 {
		t, err := a.signInTime(ctx, tok.Subject, now)
		if err != nil {
			return err
		}
		tok.AuthTime = t
	}
	tok.IssuedAt = max(now.Unix(), tok.AuthTime)
	tok.ExpiresAt = min(tok.IssuedAt+int64(a.cfg.MaxAge/time.Second), tok.AuthTime+int64(a.cfg.MaxLifetime/time.Second))
	tok.Audience = a.audience
	return nil
}

// errSignInAhead refuses a sign-in that could only be dated further ahead
// of the clock than a token's iat is accepted (signInTime).
var errSignInAhead = fmt.Errorf("%w: a revocation mark or cutoff covers every sign-in time up to %v ahead of the clock", ErrStore, clockSkew)

// signInTime is the auth_time of a new session of subject at now: now's
// second, or the first second after the revocation mark or cutoff that
// covers it, so that no session is born revoked. Sign-in times have
// one-second resolution and a mark covers its whole second (failing
// closed), so a session signed in during the second of
// [Auth.SignOutEverywhere] (a password change that keeps the current
// device signed in) is dated a second later; a mark a store placed when
// folding revoked sessions, or a cutoff, may be a few seconds ahead, at the
// sign-in time of a session minted by an instance whose clock is ahead.
// The date stays within clockSkew of now, as checkToken requires of iat;
// a mark further ahead refuses the sign-in (errSignInAhead) rather than
// issuing a cookie that is revoked already. So does a store that cannot
// answer (ErrStore), under which the session could not be used either.
//
// The store answers for an empty session id from its marks and cutoff
// alone, which is monotonic in the sign-in time (see [RevocationStore]),
// so the first free second is found by bisection: one lookup when nothing
// covers now, at most six otherwise.
func (a *Auth[T]) signInTime(ctx context.Context, subject string, now time.Time) (int64, error) {
	covered := func(sec int64) (bool, error) {
		revoked, err := a.cfg.Revocations.Revoked(ctx, "", subject, time.Unix(sec, 0))
		if err != nil {
			return false, fmt.Errorf("%w: date a sign-in: %w", ErrStore, err)
		}
		return revoked, nil
	}
	lo := now.Unix()
	if c, err := covered(lo); err != nil || !c {
		return lo, err
	}
	hi := lo + int64(clockSkew/time.Second)
	if c, err := covered(hi); err != nil || c {
		if err == nil {
			err = errSignInAhead
		}
		return 0, err
	}
	for hi-lo > 1 { // covered(lo), not covered(hi)
		mid := lo + (hi-lo)/2
		c, err := covered(mid)
		if err != nil {
			return 0, err
		}
		if c {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}

// encode stamps tok with the current time and encodes it as a session
// cookie value. A token that came without auth_time is encoded without it
// again, so its sign-in time stays unknown (see sharedDefaults): the time
// the rules use in its place is an iat, not a sign-in.
func (a *Auth[T]) encode(ctx context.Context, tok *Token[T]) (string, error) {
	if err := a.stamp(ctx, tok, a.now()); err != nil {
		return "", err
	}
	out := tok
	if tok.unknownAuthTime {
		cp := *tok
		cp.AuthTime = 0
		out = &cp
	}
	v, err := a.codec.Encode(a.sessionCookie, out)
	if err != nil {
		// The claims type or a custom Codec cannot encode: a programming
		// error, not bad input.
		return "", fmt.Errorf("%w: encode session: %w", ErrConfig, err)
	}
	if len(v) > a.cfg.MaxCookieChunks*chunkSize {
		return "", fmt.Errorf("%w: %d bytes encoded, at most %d fit in %d cookies", ErrSessionTooLarge, len(v), a.cfg.MaxCookieChunks*chunkSize, a.cfg.MaxCookieChunks)
	}
	return v, nil
}

// issue stamps tok, a new session, and writes it as the session cookie
// (with an adapter, mint stores it first), clearing any session cookie (or
// chunk) of r that the new set does not overwrite.
func (a *Auth[T]) issue(w http.ResponseWriter, r *http.Request, tok *Token[T]) error {
	v, err := a.mint(r.Context(), r, tok)
	if err != nil {
		return err
	}
	return a.setSessionCookies(w, r, v, time.Unix(tok.ExpiresAt, 0), time.Unix(tok.IssuedAt, 0))
}

// reissue runs the JWT callback with trigger (and the client's data for
// an update) on a copy of tok and encodes the result, with new issue and
// expiry times that never pass the absolute lifetime. It writes nothing:
// the caller sets the cookie (setSessionCookies) once the whole request
// has succeeded, so a failure later on leaves the client's cookie as it
// was. A database session keeps its cookie: its new token is only
// stamped, and the caller stores it in the row (storeDB).
func (a *Auth[T]) reissue(ctx context.Context, tok *Token[T], trigger Trigger, data json.RawMessage) (*Token[T], string, error) {
	next, err := a.runJWT(ctx, JWTParams[T]{Token: cloneToken(tok), Trigger: trigger, Data: data})
	if err != nil {
		return nil, "", err
	}
	if a.cfg.DatabaseSessions {
		a.stamp(ctx, next, a.now())
		return next, "", nil
	}
	v, err := a.encode(ctx, next)
	if err != nil {
		return nil, "", err
	}
	return next, v, nil
}

// NewSessionCookies mints the session cookies a successful sign-in of u
// would set (the JWT callback runs with TriggerSignIn), without checking
// credentials or running the SignIn callback, and without a request: for
// tests (see package authgatetest) and tools. In a handler, use
// [Auth.SignIn], which also clears stale cookies and rotates the CSRF
// token. Usually it returns one cookie; large sessions are chunked. It
// returns an error wrapping [ErrInvalidUser], [ErrCallback],
// [ErrSessionTooLarge], [ErrConfig], or [ErrStore] when the session cannot
// be dated (as for [Auth.SignIn]) or, with [Config.Adapter], stored.
func (a *Auth[T]) NewSessionCookies(ctx context.Context, u *User[T]) ([]*http.Cookie, error) {
	if u == nil || u.ID == "" {
		return nil, fmt.Errorf("%w: no ID", ErrInvalidUser)
	}
	account := credentialsAccount(u)
	tok, err := a.runJWT(ctx, JWTParams[T]{Token: tokenFromUser(u), Trigger: TriggerSignIn, User: u, Account: &account})
	if err != nil {
		return nil, err
	}
	v, err := a.mint(ctx, nil, tok)
	if err != nil {
		return nil, err
	}
	return a.sessionCookies(v, time.Unix(tok.ExpiresAt, 0), time.Unix(tok.IssuedAt, 0))
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

// cloneToken returns a copy of tok that callbacks may modify without
// touching tok (which may be shared through the cache).
func cloneToken[T any](tok *Token[T]) *Token[T] {
	c := *tok
	c.Roles = slices.Clone(tok.Roles)
	c.AMR = slices.Clone(tok.AMR)
	return &c
}
