package authgate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// This file is the session pipeline, in the order a request meets it:
// Middleware → loadValue → decodeToken (cache, codec) → checkToken (times,
// audience, revocation) → reissue when due (issue.go) → buildSession
// (Session callback) → the context (context.go), where handlers and the
// guards (guard.go) read it.

// clockSkew is how far in the future an issued-at time may lie before the
// token is refused.
const clockSkew = 15 * time.Second

// sessionIDLen is the length of a session id: 16 random bytes, base64url.
const sessionIDLen = 22

// Middleware loads the session of every request into its context, where
// handlers read it with [Auth.Session]. It never blocks a request: a
// missing, invalid, expired, revoked or foreign cookie leaves the request
// anonymous (an invalid one is also cleared and logged), never an error
// response.
//
// When the request carries a session cookie it adds "Vary: Cookie". A
// session older than [Config.UpdateAge] is re-issued on the way through. A
// request without a session cookie passes through without allocating.
// Requests under [Config.BasePath] pass through untouched: the protocol
// handler reads the session itself.
func (a *Auth[T]) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, bearer, err := a.requestValue(r)
		if err == ErrNoSession || a.underBasePath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		lw := w
		if bearer {
			// Read only: nothing to re-issue or clear on a header.
			w.Header().Add("Vary", "Authorization")
			lw = nil
		} else {
			w.Header().Add("Vary", "Cookie")
		}
		s, err := a.loadValue(lw, r, raw, err, "", nil)
		if err != nil {
			next.ServeHTTP(w, r.WithContext(contextWithAnonymous(r.Context())))
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), s)))
	})
}

// Session returns the session of r: the one [Auth.Middleware] stored in
// its context or, when no middleware ran, the one its cookie carries
// (verified as by [Auth.Check], without writing anything). It reports
// false for an anonymous request. It is what getServerSession is in
// NextAuth; being a method, it cannot be asked for the wrong claim type.
func (a *Auth[T]) Session(r *http.Request) (*Session[T], bool) {
	if s, ok := FromContext[T](r.Context()); ok {
		return s, true
	}
	if examined(r.Context()) {
		return nil, false
	}
	s, err := a.Check(r)
	return s, err == nil
}

// Check is the middleware's decision as a plain method: it reads and
// verifies r's session cookie and runs the Session callback, without
// writing anything (no re-issue, no clearing). It returns an error wrapping
// [ErrNoSession], [ErrInvalidSession], [ErrSessionExpired] or
// [ErrSessionRevoked] when there is no valid session, or [ErrCallback] when
// the Session callback fails.
func (a *Auth[T]) Check(r *http.Request) (*Session[T], error) {
	return a.load(nil, r)
}

func (a *Auth[T]) underBasePath(path string) bool {
	return strings.HasPrefix(path, a.basePath) &&
		(len(path) == len(a.basePath) || path[len(a.basePath)] == '/')
}

// load reads, verifies and (when due) re-issues the session of r, then
// runs the Session callback. With w == nil it only reads: no refresh, no
// cookie cleared.
func (a *Auth[T]) load(w http.ResponseWriter, r *http.Request) (*Session[T], error) {
	raw, bearer, err := a.requestValue(r)
	if bearer {
		w = nil // read only: nothing to re-issue or clear on a header
	}
	return a.loadValue(w, r, raw, err, "", nil)
}

// loadValue is load for a session value already read from r (raw, err as
// sessionValue returned them), so the middleware scans the Cookie header
// once. With trigger TriggerUpdate the session is re-issued whatever its
// age, the JWT callback receiving data (POST /session); otherwise it is
// re-issued with TriggerRefresh once it is UpdateAge old. A rejected cookie
// is logged and, with w, cleared; ErrNoSession is returned silently.
func (a *Auth[T]) loadValue(w http.ResponseWriter, r *http.Request, raw string, err error, trigger Trigger, data json.RawMessage) (*Session[T], error) {
	if err != nil {
		if err != ErrNoSession {
			a.reject(w, r, err)
		}
		return nil, err
	}
	ctx := r.Context()
	now := a.now()
	var tok *Token[T]
	if a.cfg.DatabaseSessions {
		tok, err = a.dbToken(ctx, raw, now)
	} else {
		tok, err = a.decodeToken(raw)
	}
	if err == nil {
		err = a.checkToken(ctx, tok, now)
	}
	if trigger == "" && err == nil && now.Unix()-tok.IssuedAt >= int64(a.cfg.UpdateAge/time.Second) {
		trigger = TriggerRefresh
	}
	if err == nil && w != nil && trigger != "" {
		tok, err = a.reissue(ctx, w, r, raw, tok, trigger, data)
	}
	if err == nil && (w != nil || !a.cfg.DatabaseSessions) {
		a.touch(w, r, raw, tok, now)
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

// decodeToken turns a raw session cookie value into a token whose MAC (and
// encryption) verified. It does not check times, audience or revocation;
// checkToken does, on every request.
func (a *Auth[T]) decodeToken(raw string) (*Token[T], error) {
	k, cacheable := a.cache.key(raw)
	if cacheable {
		if tok, ok := a.cache.get(k); ok {
			// Verified before; times and revocation are checked by
			// checkToken. The cached token is shared: only app code (the
			// Session callback) could modify it, so then it gets a copy.
			return a.unshared(tok), nil
		}
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
	if !cacheable {
		return tok, nil
	}
	a.cache.put(k, tok)
	return a.unshared(tok), nil
}

// unshared returns tok, which the cache holds, or a copy of it when a
// Session callback could modify it.
func (a *Auth[T]) unshared(tok *Token[T]) *Token[T] {
	if a.cfg.Callbacks.Session != nil {
		cp := *tok
		return &cp
	}
	return tok
}

// checkToken applies every rule that does not depend on the cookie's bytes:
// audience, shape, issue time not in the future, idle timeout, absolute
// lifetime and server-side revocation. It runs on every request, also for
// tokens served from the cache.
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
	revoked, err := a.cfg.Revocations.Revoked(ctx, tok.ID, tok.Subject, time.Unix(tok.AuthTime, 0))
	if err != nil {
		// Fail closed: a store that cannot answer revokes.
		return fmt.Errorf("%w: %w: %w", ErrSessionRevoked, ErrStore, err)
	}
	if revoked {
		return ErrSessionRevoked
	}
	return nil
}

// buildSession runs the Session callback (or its default) for tok.
func (a *Auth[T]) buildSession(ctx context.Context, tok *Token[T]) (*Session[T], error) {
	s := newSession(tok)
	if a.cfg.Callbacks.Session == nil {
		return s, nil
	}
	out, err := a.cfg.Callbacks.Session(ctx, SessionParams[T]{Session: s, Token: tok})
	if err != nil {
		return nil, fmt.Errorf("%w: session: %w", ErrCallback, err)
	}
	if out == nil {
		return nil, fmt.Errorf("%w: session callback returned nil", ErrCallback)
	}
	// The identity of the session is authgate's, whatever the callback did.
	out.id, out.authTime, out.issuedAt, out.amr = s.id, s.authTime, s.issuedAt, s.amr
	return out, nil
}

// reject logs why a session cookie was refused and, with w, clears it.
func (a *Auth[T]) reject(w http.ResponseWriter, r *http.Request, err error) {
	level := slog.LevelInfo
	expected := errors.Is(err, ErrInvalidSession) || errors.Is(err, ErrSessionExpired) || errors.Is(err, ErrSessionRevoked)
	if !expected || errors.Is(err, ErrStore) {
		level = slog.LevelError // a callback, codec or store fault, not bad input
	}
	a.logNoisy(r.Context(), noisySession, level, "authgate: session cookie rejected",
		slog.String("event", "session_rejected"), slog.String("reason", err.Error()),
		slog.String("path", clip(r.URL.Path)))
	if w != nil && !isFault(err) {
		a.deleteSessionCookies(w, r, nil)
	}
}
