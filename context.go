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
// stored in ctx. It reports false for an anonymous request or when the
// session's claim type is not T. It never panics.
func FromContext[T any](ctx context.Context) (*Session[T], bool) {
	s, ok := ctx.Value(ctxKey{}).(*Session[T])
	return s, ok && s != nil
}

// examined reports whether the middleware already looked at this request.
func examined(ctx context.Context) bool {
	return ctx.Value(ctxKey{}) != nil
}
