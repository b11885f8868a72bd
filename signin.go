package authgate

import (
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// signInResult is the outcome of a credentials sign-in: where to send the
// client and with which status (used when it asked for JSON).
type signInResult struct {
	status     int
	url        string
	retryAfter time.Duration
}

// signIn runs the credentials flow after the CSRF check:
// throttle → Authorize → signIn callback → jwt callback → cookie → event.
// Every failure is logged once with its reason and answered with a code
// that reveals nothing about which step failed for unknown vs known users.
func (a *Auth[T]) signIn(w http.ResponseWriter, r *http.Request, b body) signInResult {
	ctx := r.Context()
	fields := make(map[string]string, len(b.fields))
	for k, v := range b.fields {
		if !protocolFields[k] {
			fields[k] = v
		}
	}
	creds := &Credentials{fields: fields, checker: a.checker}
	now := a.now()
	att := Attempt{Account: a.accountKey(creds), Addr: a.clientAddr(r), Time: now}
	logAttrs := func(event, reason string) []slog.Attr {
		return []slog.Attr{slog.String("event", event), slog.String("reason", reason),
			slog.String("account", att.Account), slog.String("addr", att.Addr)}
	}
	failed := signInResult{status: http.StatusUnauthorized,
		url: a.url("/error", "error", CodeCredentialsSignin, "provider", "credentials")}

	if a.cfg.Limiter != nil {
		retry, err := a.cfg.Limiter.Allow(ctx, att)
		if err != nil {
			a.logDecision(ctx, slog.LevelError, "authgate: sign-in refused", logAttrs("signin_failed", "limiter: "+err.Error())...)
			return signInResult{status: http.StatusServiceUnavailable, url: a.url("/error", "error", CodeBusy), retryAfter: time.Second}
		}
		if retry > 0 {
			a.logDecision(ctx, slog.LevelWarn, "authgate: sign-in throttled", logAttrs("signin_throttled", "too many attempts")...)
			return signInResult{status: http.StatusTooManyRequests, url: a.url("/error", "error", CodeTooManyAttempts), retryAfter: retry}
		}
	}
	record := func(ok bool) {
		if a.cfg.Limiter != nil {
			if err := a.cfg.Limiter.Record(ctx, att, ok); err != nil {
				a.logDecision(ctx, slog.LevelError, "authgate: limiter record failed", logAttrs("limiter_error", err.Error())...)
			}
		}
	}

	// Length checks first, for everyone: they depend only on what the
	// client sent, so they leak nothing, and an over-long password must
	// never match on its first 72 bytes.
	if pw := creds.Password(); len(pw) > maxPasswordBytes {
		record(false)
		a.logDecision(ctx, slog.LevelInfo, "authgate: sign-in failed", logAttrs("signin_failed", "password over 72 bytes")...)
		return failed
	}

	user, err := a.cfg.Authorize(ctx, creds)
	if creds.busy {
		a.logDecision(ctx, slog.LevelWarn, "authgate: sign-in refused", logAttrs("signin_busy", "no password check slot")...)
		return signInResult{status: http.StatusServiceUnavailable, url: a.url("/error", "error", CodeBusy), retryAfter: time.Second}
	}
	if user == nil || err != nil {
		if !creds.compared {
			// Authorize returned without comparing (an unknown user, a
			// lookup error): compare anyway so the attempt costs the same.
			creds.PasswordMatches("")
			if creds.busy {
				return signInResult{status: http.StatusServiceUnavailable, url: a.url("/error", "error", CodeBusy), retryAfter: time.Second}
			}
		}
		record(false)
		var ce *CredentialsError
		switch {
		case errors.As(err, &ce) && validCode(ce.Code):
			a.logDecision(ctx, slog.LevelInfo, "authgate: sign-in failed", logAttrs("signin_failed", "authorize: "+ce.Code)...)
			failed.url = a.url("/error", "error", ce.Code, "provider", "credentials")
		case err != nil:
			a.logDecision(ctx, slog.LevelError, "authgate: sign-in failed", logAttrs("signin_failed", "authorize error: "+err.Error())...)
		default:
			a.logDecision(ctx, slog.LevelInfo, "authgate: sign-in failed", logAttrs("signin_failed", "invalid credentials")...)
		}
		return failed
	}
	if user.ID == "" {
		record(false)
		a.logDecision(ctx, slog.LevelError, "authgate: sign-in failed", logAttrs("signin_failed", "Authorize returned a user without ID")...)
		return signInResult{status: http.StatusInternalServerError, url: a.url("/error", "error", CodeConfiguration)}
	}
	record(true)

	account := Account{Provider: "credentials", Type: "credentials", ProviderAccountID: user.ID}
	if cb := a.cfg.Callbacks.SignIn; cb != nil {
		d, err := cb(ctx, SignInParams[T]{User: user, Account: account, Credentials: creds})
		switch {
		case err != nil:
			a.logDecision(ctx, slog.LevelError, "authgate: sign-in denied", logAttrs("signin_denied", "signIn callback: "+err.Error())...)
			return signInResult{status: http.StatusForbidden, url: a.url("/error", "error", CodeAccessDenied)}
		case d.redirect != "":
			a.logDecision(ctx, slog.LevelInfo, "authgate: sign-in redirected", logAttrs("signin_redirected", "signIn callback")...)
			return signInResult{status: http.StatusOK, url: a.redirectURL(ctx, d.redirect)} // as NextAuth: 200, no session
		case !d.allow:
			a.logDecision(ctx, slog.LevelInfo, "authgate: sign-in denied", logAttrs("signin_denied", "signIn callback")...)
			return signInResult{status: http.StatusForbidden, url: a.url("/error", "error", CodeAccessDenied)}
		}
	}

	tok, err := a.runJWT(ctx, JWTParams[T]{Token: tokenFromUser(user), Trigger: TriggerSignIn, User: user, Account: &account})
	if err == nil {
		err = a.issue(w, r, tok, now)
	}
	if err != nil {
		a.logDecision(ctx, slog.LevelError, "authgate: sign-in failed", logAttrs("signin_error", err.Error())...)
		return signInResult{status: http.StatusInternalServerError, url: a.url("/error", "error", CodeConfiguration)}
	}
	// A new session gets a new CSRF token: the pre-login one is dead.
	a.newCSRF(w)
	target := a.callbackURL(w, r, b.fields)
	a.logDecision(ctx, slog.LevelInfo, "authgate: signed in",
		slog.String("event", "signin"), slog.String("sub", tok.Subject), slog.String("addr", att.Addr))
	if a.cfg.Events.SignIn != nil {
		a.cfg.Events.SignIn(ctx, SignInEvent[T]{User: user, Account: account, Token: tok})
	}
	return signInResult{status: http.StatusOK, url: target}
}

// accountKey is the canonical account for throttling.
func (a *Auth[T]) accountKey(c *Credentials) string {
	if a.cfg.AccountKey != nil {
		return a.cfg.AccountKey(c)
	}
	return defaultAccountKey(c)
}

// validCode reports whether s is a safe error code: 1 to 64 ASCII letters,
// digits, '-' or '_'.
func validCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
