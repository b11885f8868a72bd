package authgate

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// RequireAuth lets signed-in requests through to next and refuses anonymous
// ones through [Config.ErrorHandler] with a [*GuardError] wrapping
// [ErrUnauthenticated]: by default a redirect to the sign-in page (with a
// validated callbackUrl) for browser navigations, else 401 with a JSON body.
// It uses the session [Auth.Middleware] loaded, and loads it itself when
// the middleware did not run, so a guard alone also works.
func (a *Auth[T]) RequireAuth(next http.Handler) http.Handler {
	return a.guard(nil)(next)
}

// RequireRole returns a guard that lets through sessions whose user has any
// of roles (exact, case-sensitive match against Role and Roles). Anonymous
// requests are refused as by [Auth.RequireAuth]; signed-in users without
// the role get [ErrForbidden] (403 by default). It panics when no role, or
// an empty role, is given: that is a programming error caught at start-up.
func (a *Auth[T]) RequireRole(roles ...string) func(http.Handler) http.Handler {
	if len(roles) == 0 {
		panic("authgate: RequireRole needs at least one role")
	}
	for _, r := range roles {
		if r == "" {
			panic("authgate: RequireRole given an empty role")
		}
	}
	roles = append([]string(nil), roles...)
	forbidden := fmt.Errorf("%w: needs role %s", ErrForbidden, strings.Join(roles, " or "))
	return a.guard(func(s *Session[T]) error {
		if !s.User.HasRole(roles...) {
			return forbidden
		}
		return nil
	})
}

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
// rounded down, so the check errs on the side of asking again. A session
// whose sign-in time is unknown ([Session.AuthTime] is zero: a token
// another app minted without "auth_time", see [CodecInfo.Shared]) is never
// fresh: its "iat" moves forward whenever that app re-issues it, so it
// would always look freshly signed in.
//
// It panics when maxAge is not positive: a programming error caught at
// start-up.
func (a *Auth[T]) RequireFreshAuth(maxAge time.Duration) func(http.Handler) http.Handler {
	if maxAge <= 0 {
		panic("authgate: RequireFreshAuth needs a positive maxAge")
	}
	return a.guard(func(s *Session[T]) error {
		if s.AuthTime().IsZero() || a.now().Sub(s.AuthTime()) > maxAge {
			return ErrFreshAuthRequired
		}
		return nil
	})
}

// RequireAMR returns a guard for routes that need a stronger sign-in: it
// lets a request through only when its session's [Session.AMR] holds one of
// methods (exact match), such as "mfa" (a second factor, or a passkey with
// user verification) or "otp". AMR values are RFC 8176's; the sign-in
// method that authenticated the user sets them (see [SignInMethod.AMR]),
// and the credentials sign-in sets "pwd".
//
// Anonymous requests are refused as by [Auth.RequireAuth]. A session
// without one of methods is refused through [Config.ErrorHandler] with
// [ErrStrongerAuthRequired], which wraps [ErrUnauthenticated]: by default
// browser navigations go to the sign-in page with a callbackUrl back, and
// other requests get 401. It panics when no method, or an empty one, is
// given: a programming error caught at start-up.
func (a *Auth[T]) RequireAMR(methods ...string) func(http.Handler) http.Handler {
	if len(methods) == 0 || slices.Contains(methods, "") {
		panic("authgate: RequireAMR needs at least one non-empty method")
	}
	methods = slices.Clone(methods)
	return a.guard(func(s *Session[T]) error {
		for _, m := range s.AMR() {
			if slices.Contains(methods, m) {
				return nil
			}
		}
		return ErrStrongerAuthRequired
	})
}

// guard returns middleware that passes a signed-in request to next when
// deny (if any) returns nil for its session, and otherwise refuses it
// through the error handler: ErrUnauthenticated when anonymous (wrapping
// the fault too when a store or callback fault kept the session from being
// checked), else deny's error. Every guard is built on it.
func (a *Auth[T]) guard(deny func(*Session[T]) error) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, r, fault := a.sessionFor(w, r)
			if s == nil {
				err := ErrUnauthenticated
				if fault != nil {
					err = fmt.Errorf("%w: the session could not be checked: %w", ErrUnauthenticated, fault)
				}
				a.refuse(w, r, err)
				return
			}
			if deny != nil {
				if err := deny(s); err != nil {
					a.refuse(w, r, err)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// refuse hands err to the error handler as a *GuardError.
func (a *Auth[T]) refuse(w http.ResponseWriter, r *http.Request, err error) {
	back := a.redirectURL(r.Context(), r.URL.RequestURI())
	a.errorFn(w, r, &GuardError{Err: err, SignInURL: a.signInPage() + "?callbackUrl=" + url.QueryEscape(back)})
}

// sessionFor returns the request's session (nil when anonymous), the
// request to pass on, and the fault that kept the session from being
// checked (or nil). It loads (and when due re-issues) the session when no
// middleware of a's did.
func (a *Auth[T]) sessionFor(w http.ResponseWriter, r *http.Request) (*Session[T], *http.Request, error) {
	if s, ok := a.FromContext(r.Context()); ok {
		return s, r, nil
	}
	if seen, fault := a.examined(r.Context()); seen {
		return nil, r, fault
	}
	if !a.hasSessionCookie(r) && !a.hasBearer(r) {
		return nil, r, nil
	}
	w.Header().Add("Vary", "Cookie")
	if a.cfg.AcceptBearer {
		w.Header().Add("Vary", "Authorization")
	}
	s, err := a.load(w, r)
	if err != nil {
		var fault error
		if isFault(err) {
			fault = err
		}
		return nil, r.WithContext(a.contextWithoutSession(r.Context(), fault)), fault
	}
	return s, r.WithContext(a.NewContext(r.Context(), s)), nil
}

// DefaultErrorHandler is what guards use when [Config.ErrorHandler] is
// nil, and what a custom ErrorHandler can fall back to. A request refused
// because a store or callback fault kept its session from being checked
// (err wraps [ErrStore] or [ErrCallback] besides [ErrUnauthenticated]) gets
// 503 {"error":"unavailable"}, browser navigations included: the user is
// not asked to sign in again, and the session cookie is kept. Otherwise
// browser navigations (GET or HEAD with Accept: text/html, or
// Sec-Fetch-Mode: navigate) refused with [ErrUnauthenticated] are
// redirected to the [GuardError]'s SignInURL, and everything else gets 401
// {"error":"unauthenticated"} or 403 {"error":"forbidden"}. It never
// writes err's text.
func DefaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, ErrForbidden) && isFault(err) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "unavailable"})
		return
	}
	var ge *GuardError
	if errors.Is(err, ErrUnauthenticated) && isNavigation(r) && errors.As(err, &ge) && ge.SignInURL != "" {
		http.Redirect(w, r, ge.SignInURL, http.StatusFound)
		return
	}
	status, code := http.StatusUnauthorized, "unauthenticated"
	if errors.Is(err, ErrForbidden) {
		status, code = http.StatusForbidden, "forbidden"
	}
	writeJSON(w, status, map[string]string{"error": code})
}

// isNavigation reports whether r looks like a browser loading a page.
func isNavigation(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	return r.Header.Get("Sec-Fetch-Mode") == "navigate" || strings.Contains(r.Header.Get("Accept"), "text/html")
}
