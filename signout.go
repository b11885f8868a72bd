package authgate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// SignOut ends the session of r as POST /signout does: the session is
// revoked server-side (through [Config.Revocations]), every session cookie
// is cleared on w, and the sign-out is logged and reported to
// [Events.SignOut]. It is for an app's own sign-out button or an
// account-deletion flow; call it before writing the response body. A
// request without a valid session cookie only has its cookies cleared. The
// error wraps [ErrStore] when the revocation could not be stored, or the
// session could not be deleted from [Config.Adapter]; the cookies are
// cleared all the same, since the user asked to leave.
//
// A request authenticated by "Authorization: Bearer" ([Config.AcceptBearer],
// no session cookie) has its session revoked in the same way, and nothing
// is written to w. When its token is not a valid session there is nothing
// to sign out: the error then wraps what [Auth.Check] would return
// ([ErrInvalidSession], [ErrSessionExpired] or [ErrSessionRevoked]), never
// nil.
func (a *Auth[T]) SignOut(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	raw, bearer, err := a.requestValue(r)
	var tok *Token[T]
	if err == nil {
		tok, err = a.tokenOf(ctx, raw, a.now())
		if err == nil {
			err = a.checkToken(ctx, tok, a.now())
		}
		// A store that cannot say whether the session was revoked is
		// no reason to skip revoking it: the token itself verified.
		if err != nil && !errors.Is(err, ErrStore) {
			tok = nil
		}
	}
	if bearer && tok == nil {
		return fmt.Errorf("authgate: sign out a bearer session: %w", err)
	}
	err = nil
	if tok != nil {
		// Another copy of this cookie (a thief's) may have been re-issued
		// later than this one and expire later: the session id must stay
		// revoked as long as any copy could still be valid (see
		// revocationExpiry). The sign-in time lets a store that folds the
		// entry into a mark place it exactly.
		if rerr := a.cfg.Revocations.RevokeSession(ctx, tok.ID, tok.Subject, revocationAuthTime(tok), a.revocationExpiry(tok, a.now())); rerr != nil {
			err = fmt.Errorf("%w: revoke session: %w", ErrStore, rerr)
			a.logDecision(ctx, slog.LevelError, "authgate: revoke session failed",
				slog.String("event", "signout_error"), slog.String("reason", err.Error()))
		}
		if a.cfg.Adapter != nil {
			if derr := a.cfg.Adapter.DeleteSession(ctx, tok.Subject, tok.ID); derr != nil && !errors.Is(derr, ErrNotFound) {
				err = errors.Join(err, fmt.Errorf("%w: delete session: %w", ErrStore, derr))
				a.logDecision(ctx, slog.LevelError, "authgate: delete session failed",
					slog.String("event", "signout_error"), slog.String("reason", derr.Error()))
			}
		}
	}
	if !bearer {
		a.deleteSessionCookies(w, r, nil)
	}
	attrs := []slog.Attr{slog.String("event", "signout")}
	if tok != nil {
		attrs = append(attrs, slog.String("sub", tok.Subject))
	}
	a.logDecision(ctx, slog.LevelInfo, "authgate: signed out", attrs...)
	if a.cfg.Events.SignOut != nil {
		var t *Token[T]
		if tok != nil {
			t = cloneToken(tok) // tok may be shared through the cache
		}
		a.cfg.Events.SignOut(ctx, SignOutEvent[T]{Token: t})
	}
	return err
}

// SignOutEverywhere revokes every session subject signed in to until now,
// through [Config.Revocations]: the hook for "sign out of all devices" and
// for password changes. Sessions signed in later are unaffected, also in
// the same second: a flow may sign the user in again right away, such as a
// password change that keeps the current device signed in (with
// [Auth.SignIn]). With [Config.Adapter] the user's sessions are deleted
// from it too. The error wraps [ErrStore].
func (a *Auth[T]) SignOutEverywhere(ctx context.Context, subject string) error {
	if err := a.cfg.Revocations.RevokeUser(ctx, subject, a.now()); err != nil {
		return fmt.Errorf("%w: sign out everywhere: %w", ErrStore, err)
	}
	if a.cfg.Adapter != nil {
		if _, err := a.cfg.Adapter.DeleteSessions(ctx, subject, ""); err != nil {
			return fmt.Errorf("%w: sign out everywhere: delete sessions: %w", ErrStore, err)
		}
	}
	a.logDecision(ctx, slog.LevelInfo, "authgate: signed out everywhere",
		slog.String("event", "signout_everywhere"), slog.String("sub", subject))
	return nil
}
