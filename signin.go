package authgate

import (
	"context"
	"errors"
	"fmt"
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

// busy is the answer to a sign-in the server cannot handle now: 503 Busy.
func (a *Auth[T]) busy() signInResult {
	return signInResult{status: http.StatusServiceUnavailable, url: a.url("/error", "error", CodeBusy), retryAfter: time.Second}
}

// throttled is a credentials attempt the Limiter let through.
type throttled struct {
	att   Attempt     // as the Limiter saw it: Device set in the device lane
	devID string      // the valid device token's id presented for the account, even when demoted
	attrs []slog.Attr // account, address (and lane) for the log
}

// logAttrs returns the log attributes of an event of t.
func (t *throttled) logAttrs(event, reason string) []slog.Attr {
	return append([]slog.Attr{slog.String("event", event), slog.String("reason", reason)}, t.attrs...)
}

// throttle asks the Limiter about an attempt of r against account, before
// any check: a known device's when r presents a valid device token for
// account, demoted to a stranger's when its account's devices used up
// their budget. It returns the attempt, or the answer when it is refused.
func (a *Auth[T]) throttle(ctx context.Context, r *http.Request, account string) (*throttled, *signInResult) {
	t := &throttled{att: Attempt{Account: account, Addr: a.clientAddr(r), Time: a.now()}}
	if dev, known := a.device(ctx, r, account, t.att.Time); known {
		t.devID = dev.ID
	}
	t.att.Device = t.devID
	t.attrs = []slog.Attr{slog.String("account", clip(t.att.Account)), slog.String("addr", clip(t.att.Addr))}
	retry, err := a.cfg.Limiter.Allow(ctx, t.att)
	if err == nil && retry > 0 && t.att.Device != "" {
		// Devices that keep failing (or keep signing in) lose their
		// standing: a stranger's, under the address's and account's
		// budgets, until their budget refills.
		a.logNoisy(ctx, noisyDevice, slog.LevelWarn, "authgate: known device signs in as a stranger", t.logAttrs("device_demoted", "its account's devices used up their budget")...)
		t.att.Device = ""
		retry, err = a.cfg.Limiter.Allow(ctx, t.att)
	}
	if t.att.Device != "" {
		t.attrs = append(t.attrs, slog.String("lane", "device"))
	}
	if err != nil {
		a.logDecision(ctx, slog.LevelError, "authgate: sign-in refused", t.logAttrs("signin_failed", "limiter: "+err.Error())...)
		res := a.busy()
		return nil, &res
	}
	if retry > 0 {
		a.logDecision(ctx, slog.LevelWarn, "authgate: sign-in throttled", t.logAttrs("signin_throttled", "too many attempts")...)
		return nil, &signInResult{status: http.StatusTooManyRequests, url: a.url("/error", "error", CodeTooManyAttempts), retryAfter: retry}
	}
	return t, nil
}

// record settles t with the Limiter; a failure is logged.
func (a *Auth[T]) record(ctx context.Context, t *throttled, o Outcome) {
	if err := a.cfg.Limiter.Record(ctx, t.att, o); err != nil {
		a.logDecision(ctx, slog.LevelError, "authgate: limiter record failed", t.logAttrs("limiter_error", err.Error())...)
	}
}

// signIn runs the credentials flow after the CSRF check:
// throttle → Authorize (one password check) → a second step, if an
// extension requires one (step.go) → signInUser. Every failure is
// logged once with its reason and answered with a code that reveals
// nothing about which step failed for unknown vs known users.
func (a *Auth[T]) signIn(w http.ResponseWriter, r *http.Request, b body) signInResult {
	ctx := r.Context()
	fields := make(map[string]string, len(b.fields))
	for k, v := range b.fields {
		if !protocolFields[k] {
			fields[k] = v
		}
	}
	if a.credentialsStep("", fields) != nil {
		return a.signInStep(w, r, b, fields)
	}
	creds := &Credentials{ctx: ctx, fields: fields, checker: a.checker}
	t, refused := a.throttle(ctx, r, a.accountKey(creds))
	if refused != nil {
		return *refused
	}
	creds.lane = lane{device: t.att.Device != "", addr: t.att.AddrGroup(), account: t.att.Account}
	failed := signInResult{status: http.StatusUnauthorized,
		url: a.url("/error", "error", CodeCredentialsSignin, "provider", "credentials")}

	queueFull := func() signInResult {
		if creds.shed {
			a.record(ctx, t, AttemptShed) // its address floods the queue: it pays
		} else {
			a.record(ctx, t, AttemptNotChecked)
		}
		a.logDecision(ctx, slog.LevelWarn, "authgate: sign-in refused", t.logAttrs("signin_busy", "password check queue full")...)
		r := a.busy()
		r.retryAfter = max(creds.retryAfter, time.Second)
		return r
	}

	// Length checks first, for everyone: they depend only on what the
	// client sent, so they leak nothing, and an over-long password must
	// never match on its first 72 bytes.
	if pw := creds.Password(); len(pw) > maxPasswordBytes {
		a.record(ctx, t, AttemptFailed)
		a.logDecision(ctx, slog.LevelInfo, "authgate: sign-in failed", t.logAttrs("signin_failed", "password over 72 bytes")...)
		return failed
	}

	user, err := a.cfg.Authorize(ctx, creds)
	if creds.busy {
		return queueFull()
	}
	if user == nil || err != nil {
		if !creds.compared {
			// Authorize returned without comparing (an unknown user, a
			// lookup error): compare anyway so the attempt costs the same.
			creds.PasswordMatches("")
			if creds.busy {
				return queueFull()
			}
		}
		a.record(ctx, t, AttemptFailed)
		var ce *CredentialsError
		switch {
		case errors.As(err, &ce) && validCode(ce.Code):
			a.logDecision(ctx, slog.LevelInfo, "authgate: sign-in failed", t.logAttrs("signin_failed", "authorize: "+ce.Code)...)
			failed.url = a.url("/error", "error", ce.Code, "provider", "credentials")
		case err != nil:
			// A fault, not a wrong password: say so (503), but the
			// attempt stays counted, so an Authorize that reports wrong
			// passwords as errors gives no free guesses.
			a.logDecision(ctx, slog.LevelError, "authgate: sign-in failed", t.logAttrs("signin_error", "authorize error: "+clip(err.Error()))...)
			return a.busy()
		default:
			a.logDecision(ctx, slog.LevelInfo, "authgate: sign-in failed", t.logAttrs("signin_failed", "invalid credentials")...)
		}
		return failed
	}
	a.record(ctx, t, AttemptSucceeded)
	if res, pending := a.requireStep(w, r, user, t); pending {
		return res
	}
	redirect, err := a.signInUser(w, r, user, signInVia[T]{creds: creds, account: t.att.Account, device: t.devID, amr: []string{"pwd"}}, t.attrs)
	return a.signedIn(w, r, b, redirect, err)
}

// signedIn answers a credentials sign-in by signInUser's outcome.
func (a *Auth[T]) signedIn(w http.ResponseWriter, r *http.Request, b body, redirect string, err error) signInResult {
	switch {
	case errors.Is(err, ErrAccessDenied):
		return signInResult{status: http.StatusForbidden, url: a.url("/error", "error", CodeAccessDenied)}
	case errors.Is(err, ErrStore): // the new session could not be dated or stored
		return a.busy()
	case err != nil:
		return signInResult{status: http.StatusInternalServerError, url: a.url("/error", "error", CodeConfiguration)}
	case redirect != "":
		return signInResult{status: http.StatusOK, url: redirect} // as NextAuth: 200, no session
	}
	return signInResult{status: http.StatusOK, url: a.callbackURL(w, r, b.fields)}
}

// SignIn signs user in on w as a successful credentials sign-in does after
// the password check: the SignIn callback decides, the JWT callback runs
// with TriggerSignIn, the session cookie is set (stale chunks of an older
// session cleared), the CSRF token is rotated, and the sign-in is logged
// and reported to [Events.SignIn]. It is for flows that authenticate the
// user another way: signing in right after sign-up, a magic link, tests.
// Unlike a password sign-in it sets no device token (a browser becomes a
// known device of an account only by giving its password, and its second
// step when one is required). Call it before
// writing the response body.
//
// When the SignIn callback denies the user, or answers [RedirectTo], no
// session is set and the error wraps [ErrAccessDenied]. Other errors wrap
// [ErrInvalidUser] (nil user or empty ID), [ErrCallback],
// [ErrSessionTooLarge], [ErrConfig], or [ErrStore]: the
// [RevocationStore] could not say whether the new session would be born
// revoked, or a revocation mark of the user (or the store's cutoff) covers
// every sign-in time up to 15 s ahead of the clock, so the session would
// be refused at once; or, with [Config.Adapter], the session could not be
// stored. authgate's own sign-in routes answer that 503 (error=Busy) with
// Retry-After; an app should ask the user to try again shortly.
// [Auth.CompleteSignIn] does the same for an extension that also says how
// the user authenticated.
func (a *Auth[T]) SignIn(w http.ResponseWriter, r *http.Request, user *User[T]) error {
	redirect, err := a.signInUser(w, r, user, signInVia[T]{}, []slog.Attr{slog.String("addr", a.clientAddr(r))})
	if err == nil && redirect != "" {
		err = fmt.Errorf("%w: the signIn callback redirects", ErrAccessDenied)
	}
	return err
}

// signInVia says how the user was authenticated: creds, the throttled
// account and its known device (or "") for the credentials flow;
// provider (nil means the credentials account of the user) and profile for
// an OAuth provider (oauth.go); amr for the token. commit, when set, runs
// once the SignIn callback allowed the sign-in and before the session is
// made: it stores what the sign-in changes (an OAuth account linked, a user
// created) and may set the user's ID.
type signInVia[T any] struct {
	creds    *Credentials
	account  string
	device   string
	provider *Account
	profile  map[string]any
	amr      []string
	commit   func(ctx context.Context, u *User[T]) error
}

// signInUser completes every sign-in once the user is authenticated: the
// SignIn callback, the JWT callback with TriggerSignIn, the cookie, a new
// CSRF token, the log line and the event. via carries the credentials, or
// an OAuth provider's account and profile; attrs describe the client in
// the log. It returns the
// SignIn callback's redirect (then no session was set), or an error
// wrapping ErrAccessDenied, ErrInvalidUser, ErrCallback,
// ErrSessionTooLarge, ErrConfig or ErrStore (signInTime, the adapter);
// every outcome is logged.
func (a *Auth[T]) signInUser(w http.ResponseWriter, r *http.Request, user *User[T], via signInVia[T], attrs []slog.Attr) (redirect string, err error) {
	ctx := r.Context()
	log := func(level slog.Level, msg, event, reason string) {
		a.logDecision(ctx, level, msg, append([]slog.Attr{slog.String("event", event), slog.String("reason", reason)}, attrs...)...)
	}
	if user == nil || (user.ID == "" && via.commit == nil) {
		log(slog.LevelError, "authgate: sign-in failed", "signin_error", "user without ID")
		return "", fmt.Errorf("%w: no ID", ErrInvalidUser)
	}
	account := credentialsAccount(user)
	if via.provider != nil {
		account = *via.provider
	}
	if cb := a.cfg.Callbacks.SignIn; cb != nil {
		d, err := cb(ctx, SignInParams[T]{User: user, Account: account, Credentials: via.creds, Profile: via.profile})
		switch {
		case err != nil:
			log(slog.LevelError, "authgate: sign-in denied", "signin_denied", "signIn callback: "+err.Error())
			return "", fmt.Errorf("%w: %w: signIn: %w", ErrAccessDenied, ErrCallback, err)
		case d.redirect != "":
			log(slog.LevelInfo, "authgate: sign-in redirected", "signin_redirected", "signIn callback")
			return a.redirectURL(ctx, d.redirect), nil
		case !d.allow:
			log(slog.LevelInfo, "authgate: sign-in denied", "signin_denied", "signIn callback")
			return "", fmt.Errorf("%w: the signIn callback denied %q", ErrAccessDenied, user.ID)
		}
	}
	if via.commit != nil {
		if err := via.commit(ctx, user); err != nil {
			log(slog.LevelError, "authgate: sign-in failed", "signin_error", err.Error())
			return "", err
		}
	}
	tok := tokenFromUser(user)
	tok.AMR = via.amr
	tok, err = a.runJWT(ctx, JWTParams[T]{Token: tok, Trigger: TriggerSignIn, User: user, Account: &account, Profile: via.profile})
	if err == nil {
		err = a.issue(w, r, tok)
	}
	if err != nil {
		log(slog.LevelError, "authgate: sign-in failed", "signin_error", err.Error())
		return "", err
	}
	// A new session gets a new CSRF token: the pre-login one is dead.
	a.newCSRF(w)
	if via.creds != nil {
		// The browser is a known device of this account from now on.
		a.setDevice(ctx, w, via.account, tok.Subject, via.device)
	}
	a.logDecision(ctx, slog.LevelInfo, "authgate: signed in", append([]slog.Attr{slog.String("event", "signin"), slog.String("sub", tok.Subject)}, attrs...)...)
	if a.cfg.Events.SignIn != nil {
		a.cfg.Events.SignIn(ctx, SignInEvent[T]{User: user, Account: account, Token: tok})
	}
	return "", nil
}

// credentialsAccount is the Account of a credentials sign-in of u.
func credentialsAccount[T any](u *User[T]) Account {
	return Account{Provider: "credentials", Type: "credentials", ProviderAccountID: u.ID}
}

// accountKey is the canonical account for throttling.
func (a *Auth[T]) accountKey(c *Credentials) string {
	if a.cfg.AccountKey != nil {
		return a.cfg.AccountKey(c)
	}
	return defaultAccountKey(c)
}
