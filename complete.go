package authgate

import (
	"context"
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
	// Commit, when set, runs once the SignIn callback has allowed the
	// sign-in and before the JWT callback: it stores what the sign-in
	// changes, such as creating a new user or marking an address
	// verified. u holds the user's ID, Email, Name, Image and Role as the
	// callback left them. A user not stored yet is passed to
	// CompleteSignIn with an empty ID (so the SignIn callback sees a
	// sign-up, as for an OAuth provider's new user); Commit must then set
	// u.ID, which becomes the user's. An error ends the sign-in without a
	// session; wrap [ErrStore] in it for a store that cannot answer.
	Commit func(ctx context.Context, u *AdapterUser) error
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
// [ErrCallback], [ErrSessionTooLarge], [ErrConfig] or [ErrStore], or is
// the error of [SignInMethod.Commit] (answered Busy when it wraps
// ErrStore, else Configuration).
func (a *Auth[T]) CompleteSignIn(w http.ResponseWriter, r *http.Request, user *User[T], m SignInMethod) (string, error) {
	via := signInVia[T]{amr: slices.Clone(m.AMR), profile: m.Profile}
	if m.Commit != nil {
		via.commit = func(ctx context.Context, u *User[T]) error {
			au := &AdapterUser{ID: u.ID, Email: u.Email, Name: u.Name, Image: u.Image, Role: u.Role}
			if err := m.Commit(ctx, au); err != nil {
				return err
			}
			if u.ID == "" {
				if au.ID == "" {
					return fmt.Errorf("%w: Commit set no ID", ErrInvalidUser)
				}
				u.ID = au.ID
			}
			return nil
		}
	}
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
