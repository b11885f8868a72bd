package authgate

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
)

// SignInMethod says how an extension authenticated a user, for
// [Auth.CompleteSignIn].
type SignInMethod struct {
	// Account is the account that authenticated the user, as the SignIn
	// and JWT callbacks and [Events.SignIn] receive it, such as
	// {Provider: "email", Type: "email", ProviderAccountID: address}. The
	// zero value means the user's credentials account.
	Account Account
	// AMR lists the authentication methods used, as RFC 8176 names them
	// ("pwd", "otp", "hwk", "mfa", …); it becomes the token's and the
	// session's AMR, which re-issues keep.
	AMR []string
	// Profile is a provider's raw profile for the callbacks, or nil.
	Profile map[string]any
	// CallbackURL is where the client asked to go after signing in; it
	// passes the redirect policy ([Callbacks.Redirect]). Empty means the
	// callback-url cookie's, else the origin.
	CallbackURL string
}

// CompleteSignIn signs in user, whom an extension has authenticated (a
// link from an e-mail, a second factor, a passkey), through the same steps
// as every other sign-in: the SignIn callback decides, the JWT callback
// runs with TriggerSignIn and m.Account, the session is made (in the
// [Config.Adapter] with database sessions, and registered for the device
// list with JWT sessions), the CSRF token is rotated, and the sign-in is
// logged and reported to [Events.SignIn]. Call it before writing the
// response body.
//
// It returns where to send the client: on success the callback URL (see
// [SignInMethod.CallbackURL]); when the SignIn callback answers
// [RedirectTo], that URL (validated) with an error wrapping
// [ErrAccessDenied] and no session; otherwise authgate's error page with
// NextAuth's code (AccessDenied, Busy for [ErrStore], Configuration) and
// the error, which wraps [ErrAccessDenied], [ErrInvalidUser],
// [ErrCallback], [ErrSessionTooLarge], [ErrConfig] or [ErrStore].
func (a *Auth[T]) CompleteSignIn(w http.ResponseWriter, r *http.Request, user *User[T], m SignInMethod) (string, error) {
	via := signInVia[T]{amr: slices.Clone(m.AMR), profile: m.Profile}
	if m.Account != (Account{}) {
		acct := m.Account
		via.provider = &acct
	}
	redirect, err := a.signInUser(w, r, user, via, []slog.Attr{slog.String("provider", m.Account.Provider), slog.String("addr", a.clientAddr(r))})
	switch {
	case err == nil && redirect != "":
		return redirect, fmt.Errorf("%w: the signIn callback redirects", ErrAccessDenied)
	case errors.Is(err, ErrAccessDenied):
		return a.url("/error", "error", CodeAccessDenied), err
	case errors.Is(err, ErrStore):
		return a.url("/error", "error", CodeBusy), err
	case err != nil:
		return a.url("/error", "error", CodeConfiguration), err
	}
	return a.callbackURL(w, r, map[string]string{"callbackUrl": m.CallbackURL}), nil
}
