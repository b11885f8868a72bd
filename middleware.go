package authgate

import (
	"context"
	"net/http"
	"strings"
)

// Middleware loads the session of every request into its context, where
// handlers read it with [FromContext]. It never blocks a request: a missing,
// invalid, expired, revoked or foreign cookie leaves the request anonymous
// (an invalid one is also cleared and logged), never an error response.
//
// When the request carries a session cookie it adds "Vary: Cookie". A
// session older than [Config.UpdateAge] is re-issued on the way through. A
// request without a session cookie passes through without allocating.
// Requests under [Config.BasePath] pass through untouched: the protocol
// handler reads the session itself.
func (a *Auth[T]) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := a.sessionValue(r)
		if err == ErrNoSession || a.underBasePath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Cookie")
		s, err := a.loadValue(w, r, raw, err, "", nil)
		if err != nil {
			next.ServeHTTP(w, r.WithContext(contextWithAnonymous(r)))
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), s)))
	})
}

// Check is the middleware's decision as a plain method: it reads and
// verifies r's session cookie and runs the Session callback, without
// writing anything (no re-issue, no clearing). It returns an error wrapping
// [ErrNoSession], [ErrInvalidSession], [ErrSessionExpired] or
// [ErrSessionRevoked] when there is no valid session, or the callback's
// error. It is what a getServerSession-style helper calls.
func (a *Auth[T]) Check(r *http.Request) (*Session[T], error) {
	return a.load(nil, r)
}

func (a *Auth[T]) underBasePath(path string) bool {
	return strings.HasPrefix(path, a.basePath) &&
		(len(path) == len(a.basePath) || path[len(a.basePath)] == '/')
}

func contextWithAnonymous(r *http.Request) context.Context {
	return context.WithValue(r.Context(), ctxKey{}, anonymous{})
}
