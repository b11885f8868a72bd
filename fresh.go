package authgate

import (
	"net/http"
	"time"
)

// RequireFreshAuth returns a guard for sensitive routes (changing the
// password or e-mail address, deleting the account): it lets a request
// through only when its session signed in at most maxAge ago. Re-issuing a
// session never makes it fresh; only signing in again does.
//
// Anonymous requests are refused as by [Auth.RequireAuth]. A session whose
// sign-in is older than maxAge is refused through [Config.ErrorHandler]
// with [ErrFreshAuthRequired], which wraps [ErrUnauthenticated]: by default
// browser navigations go to the sign-in page with a callbackUrl back, and
// other requests get 401. Sign-in times have one-second resolution and are
// rounded down, so the check errs on the side of asking again.
//
// It panics when maxAge is not positive: a programming error caught at
// start-up.
func (a *Auth[T]) RequireFreshAuth(maxAge time.Duration) func(http.Handler) http.Handler {
	if maxAge <= 0 {
		panic("authgate: RequireFreshAuth needs a positive maxAge")
	}
	return a.guard(func(s *Session[T]) error {
		if a.now().Sub(s.AuthTime()) > maxAge {
			return ErrFreshAuthRequired
		}
		return nil
	})
}
