package authgate

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// RequireAuth lets signed-in requests through to next and refuses anonymous
// ones through [Config.ErrorHandler] with an error wrapping
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

// guard returns middleware that passes a signed-in request to next when
// deny (if any) returns nil for its session, and otherwise refuses it
// through the error handler: ErrUnauthenticated when anonymous, else
// deny's error. Every guard is built on it.
func (a *Auth[T]) guard(deny func(*Session[T]) error) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, r := a.sessionFor(w, r)
			if s == nil {
				a.errorFn(w, r, ErrUnauthenticated)
				return
			}
			if deny != nil {
				if err := deny(s); err != nil {
					a.errorFn(w, r, err)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// sessionFor returns the request's session (nil when anonymous) and the
// request to pass on, loading the session when no middleware did.
func (a *Auth[T]) sessionFor(w http.ResponseWriter, r *http.Request) (*Session[T], *http.Request) {
	if s, ok := FromContext[T](r.Context()); ok {
		return s, r
	}
	if examined(r.Context()) || !a.hasSessionCookie(r) {
		return nil, r
	}
	w.Header().Add("Vary", "Cookie")
	s, err := a.load(w, r)
	if err != nil {
		return nil, r
	}
	return s, r.WithContext(NewContext(r.Context(), s))
}

// DefaultErrorHandler is what guards use when [Config.ErrorHandler] is
// nil: browser navigations (GET or HEAD with Accept: text/html, or
// Sec-Fetch-Mode: navigate) of anonymous users are redirected to the
// sign-in page with this request's URL as a validated callbackUrl;
// everything else gets 401 {"error":"unauthenticated"} or 403
// {"error":"forbidden"}. It never writes err's text. A custom ErrorHandler
// can handle some cases itself and pass the rest here.
func (a *Auth[T]) DefaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrUnauthenticated) && isNavigation(r) {
		target := a.signInPage() + "?callbackUrl=" + url.QueryEscape(a.redirectURL(r.Context(), r.URL.RequestURI()))
		http.Redirect(w, r, target, http.StatusFound)
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
