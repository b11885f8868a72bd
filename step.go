package authgate

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

// CredentialsStep is an optional interface of an [Extension]: a further
// step of the credentials sign-in after the password, such as a code from
// an authenticator app (the module github.com/authgate/authgate/totp). The
// core does the rest, over NextAuth's own credentials channel, so
// next-auth/react's signIn("credentials", …) drives both requests
// unchanged:
//
//  1. POST /callback/credentials with the password. When Authorize accepts
//     it and StepRequired reports true for the user, no session is made and
//     the browser gets no device token: the answer is 401 with
//     error=TwoFactorRequired, and a pending cookie (a check cookie, see
//     [Auth.SetCheckCookie], called "step", living 5 minutes) keeps the
//     user Authorize returned, the throttled account and which step is
//     pending. It is encrypted, HttpOnly, __Host- on https and, with
//     [Config.Adapter], usable once. A user too large for the cookie (4 KiB
//     encoded) fails the sign-in with 500 Configuration.
//  2. POST /callback/credentials with one of StepFields filled in (such as
//     {code}) and the pending cookie. The password is not asked again and
//     never checked: the request's "password" field is dropped. The
//     attempt is throttled by the [Limiter] under the same account as the
//     password (the user's id when that account is ""; a known device's
//     token counts as in step 1). VerifyStep
//     checks the fields; a failure answers 401 CredentialsSignin and the
//     pending cookie stays, so the user may try again until it expires.
//     On success the pending cookie is used up and the user signs in
//     through the same SignIn → JWT → session path as every sign-in, with
//     AMR "pwd" followed by VerifyStep's values; the SignIn callback
//     receives this request's [Credentials]. Only then does the browser
//     get its device token.
//
// A request with a step field but no valid pending cookie (none, expired,
// tampered with, used, or for another step) is answered 401 with
// error=TwoFactorExpired: the client starts again with the password. The
// step's field names are reserved for it: a first-step form must not use
// them.
//
// Implementations must be safe for concurrent use.
type CredentialsStep[T any] interface {
	Extension[T]
	// StepFields are the fields of the second request, in the order a
	// sign-in form shows them, such as {"code", "Code from your
	// authenticator app"}. A credentials request in which one of them is
	// not empty is a second step.
	StepFields() []StepField
	// StepRequired reports whether user, whose password Authorize has
	// just accepted, must also pass this step. An error is a fault (the
	// store cannot answer): the sign-in is answered 503 Busy and nothing
	// is set.
	StepRequired(ctx context.Context, user *User[T]) (bool, error)
	// VerifyStep checks the second request's fields for user (the user
	// the pending cookie names) and returns the AMR values ([RFC 8176])
	// the session records after "pwd", such as ["otp", "mfa"]. An error
	// wrapping [ErrStepFailed] is a wrong answer; any other error is a
	// fault, answered 503 Busy. Both count against the Limiter's budgets.
	// The error's text is logged as it is (it says why), so it must never
	// hold what the client sent.
	//
	// [RFC 8176]: https://www.rfc-editor.org/rfc/rfc8176
	VerifyStep(ctx context.Context, user *User[T], c *Credentials) (amr []string, err error)
}

// StepField is a field of a [CredentialsStep]'s second request: its name in
// the request and the label the built-in sign-in page shows for it.
type StepField struct {
	Name, Label string
}

// ErrStepFailed is what a [CredentialsStep]'s VerifyStep wraps for a wrong
// answer (a wrong code, one used already), as opposed to a fault.
var ErrStepFailed = errors.New("authgate: second step failed")

// The error codes of a sign-in with a [CredentialsStep], both answered
// with 401.
const (
	// CodeTwoFactorRequired: the password was right; send the second
	// step's fields (such as {code}) with the pending cookie just set.
	CodeTwoFactorRequired = "TwoFactorRequired"
	// CodeTwoFactorExpired: a second step came without a valid pending
	// cookie (none, expired, used): sign in with the password again.
	CodeTwoFactorExpired = "TwoFactorExpired"
)

// stepCookie names the pending cookie between the two requests.
const stepCookie = "step"

// stepMaxAge is how long the pending cookie lives: long enough to open an
// authenticator app, short enough that a forgotten tab is no open door.
const stepMaxAge = 5 * time.Minute

// pendingStep is what the pending cookie carries: the user Authorize
// returned for the password, the account its attempts are throttled under,
// and the extension whose step is pending.
type pendingStep[T any] struct {
	Step    string   `json:"x"`
	Account string   `json:"a"`
	User    *User[T] `json:"u"`
}

// credentialsStep returns the extension with the id, or with id "" the
// first whose field is filled in fields; nil when there is none.
func (a *Auth[T]) credentialsStep(id string, fields map[string]string) CredentialsStep[T] {
	for _, x := range a.cfg.Extensions {
		s, ok := x.(CredentialsStep[T])
		if !ok {
			continue
		}
		if id != "" {
			if s.ID() == id {
				return s
			}
			continue
		}
		if slices.ContainsFunc(s.StepFields(), func(f StepField) bool { return fields[f.Name] != "" }) {
			return s
		}
	}
	return nil
}

// requireStep runs after a password Authorize accepted: when an extension
// requires its step of user, it sets the pending cookie and returns the
// 401 TwoFactorRequired answer (or the fault's), and true.
func (a *Auth[T]) requireStep(w http.ResponseWriter, r *http.Request, user *User[T], t *throttled) (signInResult, bool) {
	if user == nil || user.ID == "" {
		return signInResult{}, false // signInUser refuses it
	}
	ctx := r.Context()
	for _, x := range a.cfg.Extensions {
		s, ok := x.(CredentialsStep[T])
		if !ok {
			continue
		}
		need, err := s.StepRequired(ctx, user)
		if err == nil && !need {
			continue
		}
		if err == nil {
			err = a.SetCheckCookie(w, r, stepCookie, pendingStep[T]{Step: s.ID(), Account: t.att.Account, User: user}, stepMaxAge)
		}
		switch {
		case errors.Is(err, ErrConfig):
			a.logDecision(ctx, slog.LevelError, "authgate: sign-in failed", t.logAttrs("signin_error", "pending "+s.ID()+" step: "+err.Error())...)
			return signInResult{status: http.StatusInternalServerError, url: a.url("/error", "error", CodeConfiguration)}, true
		case err != nil:
			a.logDecision(ctx, slog.LevelError, "authgate: sign-in failed", t.logAttrs("signin_error", s.ID()+" step: "+err.Error())...)
			return a.busy(), true
		}
		a.logDecision(ctx, slog.LevelInfo, "authgate: second step required", t.logAttrs("signin_step", s.ID()+" required")...)
		return signInResult{status: http.StatusUnauthorized, url: a.url("/error", "error", CodeTwoFactorRequired)}, true
	}
	return signInResult{}, false
}

// signInStep is the second request of a sign-in with a CredentialsStep:
// fields hold a step field. It never looks at a password.
func (a *Auth[T]) signInStep(w http.ResponseWriter, r *http.Request, b body, fields map[string]string) signInResult {
	ctx := r.Context()
	delete(fields, "password")
	var p pendingStep[T]
	err := a.ReadCheckCookie(r, stepCookie, &p)
	s := a.credentialsStep(p.Step, nil)
	if err != nil || s == nil || p.User == nil || p.User.ID == "" || !slices.ContainsFunc(s.StepFields(), func(f StepField) bool { return fields[f.Name] != "" }) {
		reason := "no pending sign-in for this step"
		if err != nil {
			reason = err.Error()
		}
		a.logDecision(ctx, slog.LevelInfo, "authgate: sign-in failed", slog.String("event", "signin_failed"),
			slog.String("reason", "second step: "+reason), slog.String("addr", clip(a.clientAddr(r))))
		a.clearCheck(w, r, a.checkName(stepCookie))
		return signInResult{status: http.StatusUnauthorized, url: a.url("/error", "error", CodeTwoFactorExpired)}
	}
	// The password's account; a sign-in without one (Config.AccountKey
	// said "") still counts its codes against the user.
	key := p.Account
	if key == "" {
		key = "user:" + p.User.ID
	}
	t, refused := a.throttle(ctx, r, key)
	if refused != nil {
		return *refused
	}
	amr, err := s.VerifyStep(ctx, p.User, &Credentials{ctx: ctx, fields: fields})
	switch {
	case errors.Is(err, ErrStepFailed):
		a.record(ctx, t, AttemptFailed)
		a.logDecision(ctx, slog.LevelInfo, "authgate: sign-in failed", t.logAttrs("signin_failed", s.ID()+": "+err.Error())...)
		return signInResult{status: http.StatusUnauthorized, url: a.url("/error", "error", CodeCredentialsSignin, "provider", "credentials")}
	case err != nil:
		// A fault, counted like Authorize's (see signIn).
		a.logDecision(ctx, slog.LevelError, "authgate: sign-in failed", t.logAttrs("signin_error", s.ID()+" error: "+err.Error())...)
		return a.busy()
	}
	a.record(ctx, t, AttemptSucceeded)
	// Of all requests presenting this pending cookie, one signs in.
	var used pendingStep[T]
	if err := a.UseCheckCookie(w, r, stepCookie, &used); err != nil {
		if errors.Is(err, ErrStore) {
			a.logDecision(ctx, slog.LevelError, "authgate: sign-in failed", t.logAttrs("signin_error", clip(err.Error()))...)
			return a.busy()
		}
		a.logDecision(ctx, slog.LevelWarn, "authgate: sign-in failed", t.logAttrs("signin_failed", "second step: "+err.Error())...)
		return signInResult{status: http.StatusUnauthorized, url: a.url("/error", "error", CodeTwoFactorExpired)}
	}
	via := signInVia[T]{creds: &Credentials{ctx: ctx, fields: fields}, account: p.Account, device: t.devID,
		amr: append([]string{"pwd"}, amr...)}
	redirect, err := a.signInUser(w, r, p.User, via, t.attrs)
	return a.signedIn(w, r, b, redirect, err)
}
