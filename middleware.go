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
// anonymous, never an error response. An invalid, expired or revoked
// cookie is also cleared and logged.
//
// A store or callback fault (the [RevocationStore] cannot answer, the
// Session or JWT callback fails) is not a verdict on the cookie: the
// request goes on anonymous, the cookie is left as it is, so the same
// cookie is accepted again once the fault is over, and the fault is logged
// at error level (at most a few lines a second). The guards answer such a
// request with 503 instead of asking the user to sign in (see
// [DefaultErrorHandler]).
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
			var fault error
			if isFault(err) {
				fault = err
			}
			next.ServeHTTP(w, r.WithContext(a.contextWithoutSession(r.Context(), fault)))
			return
		}
		next.ServeHTTP(w, r.WithContext(a.NewContext(r.Context(), s)))
	})
}

// Session returns the session of r: the one a's [Auth.Middleware] stored
// in its context or, when a's middleware did not run, the one its cookie
// carries (verified as by [Auth.Check], without writing anything). It
// reports false for an anonymous request, for a session only another Auth
// verified, and when a store or callback fault kept the session from being
// checked. It is what getServerSession is in NextAuth; being a method, it
// cannot be asked for the wrong claim type.
func (a *Auth[T]) Session(r *http.Request) (*Session[T], bool) {
	if s, ok := a.FromContext(r.Context()); ok {
		return s, true
	}
	if seen, _ := a.examined(r.Context()); seen {
		return nil, false
	}
	s, err := a.Check(r)
	return s, err == nil
}

// Check is the middleware's decision as a plain method: it reads and
// verifies r's session cookie (or bearer token, with
// [Config.AcceptBearer]) and runs the Session callback, without writing
// anything (no re-issue, no clearing). When there is no valid session it
// returns an error wrapping [ErrNoSession], [ErrInvalidSession],
// [ErrSessionExpired] or [ErrSessionRevoked]: a verdict on the cookie.
// When no verdict could be reached it returns a fault instead, wrapping
// [ErrStore] (the [RevocationStore] could not answer) or [ErrCallback] (the
// Session callback failed); the cookie may well be valid once the fault is
// over, so an app tells the two apart with errors.Is and does not treat a
// fault as a sign-out.
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
// is logged and, with w, cleared when the error is about the cookie (see
// reject); ErrNoSession is returned silently.
func (a *Auth[T]) loadValue(w http.ResponseWriter, r *http.Request, raw string, err error, trigger Trigger, data json.RawMessage) (*Session[T], error) {
	if err != nil {
		if err != ErrNoSession {
			a.reject(w, r, err)
		}
		return nil, err
	}
	ctx := r.Context()
	now := a.now()
	tok, err := a.tokenOf(ctx, raw, now)
	if err == nil {
		err = a.checkToken(ctx, tok, now)
	}
	if trigger == "" && err == nil && now.Unix()-tok.IssuedAt >= int64(a.cfg.UpdateAge/time.Second) {
		trigger = TriggerRefresh
	}
	var reissued string
	refreshed := false
	if err == nil && w != nil && trigger != "" {
		tok, reissued, err = a.reissue(ctx, tok, trigger, data)
		refreshed = err == nil
	}
	var s *Session[T]
	if err == nil {
		s, err = a.buildSession(ctx, tok)
	}
	if err == nil && refreshed {
		// Written only now: a request that fails leaves the cookie (and
		// a database session's row) as it was.
		if a.cfg.DatabaseSessions {
			err = a.storeDB(ctx, w, r, raw, tok)
		} else {
			err = a.setSessionCookies(w, r, reissued, time.Unix(tok.ExpiresAt, 0), time.Unix(tok.IssuedAt, 0))
		}
	}
	if err == nil && (w != nil || !a.cfg.DatabaseSessions) {
		a.touch(w, r, raw, tok, now)
	}
	if err != nil {
		a.reject(w, r, err)
		return nil, err
	}
	return s, nil
}

// tokenOf returns the token of a raw session value: the cookie's own
// (decodeToken), or a database session's (dbToken).
func (a *Auth[T]) tokenOf(ctx context.Context, raw string, now time.Time) (*Token[T], error) {
	if a.cfg.DatabaseSessions {
		return a.dbToken(ctx, raw, now)
	}
	return a.decodeToken(raw)
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
		// A codec's error text may repeat what the cookie holds (a
		// header member, a claim's value): it is clipped like every
		// other request-supplied string before it can reach a log.
		if errors.Is(err, ErrInvalidSession) {
			return nil, clippedError{err}
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidSession, clippedError{err})
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
	revoked, err := a.cfg.Revocations.Revoked(ctx, tok.ID, tok.Subject, revocationAuthTime(tok))
	if err != nil {
		// Fail closed for this request, but as a fault: the cookie is
		// not cleared (reject), so it works again once the store does.
		return fmt.Errorf("%w: revocation store: %w", ErrStore, err)
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
		if errors.Is(err, ErrSessionRevoked) {
			return nil, fmt.Errorf("authgate: the session callback ended the session: %w", err)
		}
		return nil, fmt.Errorf("%w: session: %w", ErrCallback, err)
	}
	if out == nil {
		return nil, fmt.Errorf("%w: session callback returned nil", ErrCallback)
	}
	// The identity of the session is authgate's, whatever the callback did.
	out.id, out.authTime, out.issuedAt, out.amr = s.id, s.authTime, s.issuedAt, s.amr
	return out, nil
}

// isFault reports whether err kept a session from being checked, rather
// than being a verdict on the cookie: a store or callback fault, or a
// re-issued token that cannot be encoded. A fault fails the request closed
// but never clears the cookie: the same cookie must work again once the
// fault is over.
func isFault(err error) bool {
	return errors.Is(err, ErrStore) || errors.Is(err, ErrCallback) ||
		errors.Is(err, ErrConfig) || errors.Is(err, ErrSessionTooLarge)
}

// reject logs why a session was refused and, with w, clears the cookie
// when the refusal is about the cookie itself: invalid, expired or
// revoked. A fault (isFault) is logged at error level and leaves the
// cookie alone; so does an ambiguous set of cookies (errAmbiguousCookies),
// since clearing could only remove the host-only copy and leave one a
// sibling domain planted. Both kinds of event are rate-limited, each on
// its own, so a flood of bad cookies cannot hide a fault.
func (a *Auth[T]) reject(w http.ResponseWriter, r *http.Request, err error) {
	if isFault(err) {
		a.logNoisy(r.Context(), noisyFault, slog.LevelError, "authgate: session not checked",
			slog.String("event", "session_fault"), slog.String("reason", err.Error()),
			slog.String("path", clip(r.URL.Path)))
		return
	}
	a.logNoisy(r.Context(), noisySession, slog.LevelInfo, "authgate: session cookie rejected",
		slog.String("event", "session_rejected"), slog.String("reason", err.Error()),
		slog.String("path", clip(r.URL.Path)))
	if w != nil && !errors.Is(err, errAmbiguousCookies) {
		a.deleteSessionCookies(w, r, nil)
	}
}
