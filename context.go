package authgate

import "context"

// ctxKey is the context key of the session. It is unexported, so only
// NewContext can set it.
type ctxKey struct{}

// anonymous marks a request the middleware already examined and found
// without a valid session, so the guards do not decode its cookie again.
type anonymous struct{}

// NewContext returns a copy of ctx carrying s. The middleware calls it;
// tests and other entry points (a WebSocket upgrade, a background job) may
// too.
func NewContext[T any](ctx context.Context, s *Session[T]) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

// FromContext returns the session that [Auth.Middleware] (or [NewContext])
// stored in ctx, for code that has a context but no [Auth]. It reports
// false for an anonymous request, and also when T is not the claim type
// the session was stored with: prefer [Auth.Session], which cannot be asked
// for the wrong type. It never panics.
func FromContext[T any](ctx context.Context) (*Session[T], bool) {
	s, ok := ctx.Value(ctxKey{}).(*Session[T])
	return s, ok && s != nil
}

// contextWithAnonymous marks ctx as examined by the middleware and found
// without a valid session.
func contextWithAnonymous(ctx context.Context) context.Context {
	return context.WithValue(ctx, ctxKey{}, anonymous{})
}

// examined reports whether the middleware already looked at this request.
func examined(ctx context.Context) bool {
	return ctx.Value(ctxKey{}) != nil
}
