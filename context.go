package authgate

import "context"

// Sessions in the context. Every Auth has a context key of its own, as
// scs has one per session manager: a session one Auth verified is
// invisible to every other Auth in the program, also to one of the same
// claim type with other secrets or another cookie name (an admin site
// beside a user site), so each Auth's Session, FromContext, Check and
// guards see only the sessions it verified.

// contextKey is the type of an Auth's context key: a pointer to a value
// of it that only that Auth holds. It is not empty, so that two keys are
// never the same pointer.
type contextKey struct{ _ byte }

// examinedState marks a request an Auth's middleware already examined and
// found without a valid session, so its guards do not decode the cookie
// again. fault is set when no verdict was reached because a store or a
// callback failed (see isFault); the guards then answer 503 instead of
// asking the user to sign in.
type examinedState struct{ fault error }

// NewContext returns a copy of ctx carrying s as a session of a: a's
// [Auth.Session], [Auth.FromContext] and guards then return it, and no
// other Auth sees it. The middleware calls it with the sessions it
// verified. An app calls it only with a session it got from a itself (for
// example from [Auth.Check] in a WebSocket upgrade or a background job
// acting for the user), or in tests: a's guards trust what it carries.
func (a *Auth[T]) NewContext(ctx context.Context, s *Session[T]) context.Context {
	return context.WithValue(ctx, a.key, s)
}

// FromContext returns the session that a's middleware (or a's
// [Auth.NewContext]) stored in ctx, for code that has the request's
// context but not the request. It reports false for an anonymous request
// and for a session another Auth verified. It never reads a cookie: use
// [Auth.Session] with the request when no middleware may have run.
func (a *Auth[T]) FromContext(ctx context.Context) (*Session[T], bool) {
	s, ok := ctx.Value(a.key).(*Session[T])
	return s, ok && s != nil
}

// contextWithoutSession marks ctx as examined by a's middleware and found
// without a valid session; fault is the store or callback fault that kept
// it from reaching a verdict, or nil.
func (a *Auth[T]) contextWithoutSession(ctx context.Context, fault error) context.Context {
	return context.WithValue(ctx, a.key, examinedState{fault: fault})
}

// examined reports whether a's middleware already looked at ctx's request,
// and the fault it met when it could not decide.
func (a *Auth[T]) examined(ctx context.Context) (bool, error) {
	switch v := ctx.Value(a.key).(type) {
	case nil:
		return false, nil
	case examinedState:
		return true, v.fault
	}
	return true, nil
}
