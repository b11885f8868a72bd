package authgate

import (
	"context"
	"time"
)

// Attempt describes one sign-in attempt, as seen before any password work.
type Attempt struct {
	// Account is the canonical account name (see [Config.AccountKey]).
	Account string
	// Addr is the client address: the host of RemoteAddr, or the
	// X-Forwarded-For client when the request came through a trusted proxy.
	Addr string
	// Time is the injected clock's now.
	Time time.Time
}

// Limiter throttles sign-in attempts. Allow runs before the password is
// checked; Record runs after. Implementations must be safe for concurrent
// use, must bound their memory, and must answer the same for existing and
// unknown accounts.
type Limiter interface {
	// Allow returns 0 when the attempt may proceed, or how long the client
	// should wait. An error fails closed (the attempt is refused).
	Allow(ctx context.Context, a Attempt) (retryAfter time.Duration, err error)
	// Record reports the attempt's outcome.
	Record(ctx context.Context, a Attempt, success bool) error
}

// NoLimiter returns a [Limiter] that allows every attempt: for tests, and
// for deployments where another layer (a trusted network, an API gateway)
// already throttles sign-ins. Password checks stay bounded by
// [Config.MaxConcurrentHashes].
func NoLimiter() Limiter { return noLimiter{} }

type noLimiter struct{}

func (noLimiter) Allow(context.Context, Attempt) (time.Duration, error) { return 0, nil }
func (noLimiter) Record(context.Context, Attempt, bool) error           { return nil }
