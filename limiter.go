package authgate

import (
	"context"
	"net/netip"
	"strconv"
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

// AddrGroup returns the unit the per-address budget counts for a.Addr: an
// IPv4 address (an IPv4-mapped IPv6 address counts as its IPv4 address),
// or the /64 network of an IPv6 address (one customer's allocation), so
// minting addresses inside one network does not escape the budget.
// Anything that does not parse as an IP address is used as it is. Every
// [Limiter] groups addresses this way.
func (a Attempt) AddrGroup() string {
	ip, err := netip.ParseAddr(a.Addr)
	if err != nil {
		return a.Addr
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return a.Addr
	}
	return p.String()
}

// Limiter throttles sign-in attempts. Every implementation keeps this
// contract, which TestLimiter in package
// github.com/authgate/authgate/authgatetest checks:
//
//   - Three budgets: per (account, client address), per account, and per
//     client address. An attempt without an account (no username or email)
//     is budgeted per address only.
//   - Allow runs before any password work. It allows an attempt only when
//     every budget it falls under has room, and then takes one unit from
//     each of them in the same atomic step, so concurrent attempts (also
//     on other instances sharing the store) cannot overshoot a budget. A
//     refused attempt takes nothing.
//   - Only failures count. Record with [AttemptSucceeded], after a
//     correct password, gives back what Allow took from the per-account
//     and per-address budgets and resets the (account, address) budget;
//     with [AttemptNotChecked] (the attempt was refused before any
//     password check, such as a 503 from a saturated queue) it gives back
//     what Allow took from all three budgets, resetting nothing; with
//     [AttemptFailed] it changes nothing (Allow already counted the
//     failure). So an office behind one NAT address, or a robot signing in
//     all day, is never refused while its passwords are right, and a busy
//     server does not use up anyone's budget.
//   - Time is read only from [Attempt.Time], never from a clock of the
//     limiter's own, so tests can drive it.
//   - The answers are the same for existing and unknown accounts, memory
//     (or the store's size) is bounded, and every method is safe for
//     concurrent use.
type Limiter interface {
	// Allow returns 0 when the attempt may proceed, or how long the client
	// should wait (whole seconds, at least one). An error fails closed: the
	// attempt is refused with 503.
	Allow(ctx context.Context, a Attempt) (retryAfter time.Duration, err error)
	// Record reports the outcome of an attempt Allow let through, with
	// the same Attempt Allow saw. An error is logged; the sign-in's
	// outcome stands.
	Record(ctx context.Context, a Attempt, o Outcome) error
}

// Outcome is how an attempt the [Limiter] allowed ended.
type Outcome int

const (
	// AttemptFailed: the password was checked and was wrong (or the user
	// unknown). It is the zero value, so a forgotten outcome counts.
	AttemptFailed Outcome = iota
	// AttemptSucceeded: the password was right.
	AttemptSucceeded
	// AttemptNotChecked: the attempt was refused before its password was
	// checked (the password checks were saturated).
	AttemptNotChecked
)

// String returns "failed", "succeeded" or "not checked".
func (o Outcome) String() string {
	switch o {
	case AttemptFailed:
		return "failed"
	case AttemptSucceeded:
		return "succeeded"
	case AttemptNotChecked:
		return "not checked"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// NoLimiter returns a [Limiter] that allows every attempt: for tests, and
// for deployments where another layer (a trusted network, an API gateway)
// already throttles sign-ins. Password checks stay bounded by
// [Config.MaxConcurrentHashes].
func NoLimiter() Limiter { return noLimiter{} }

type noLimiter struct{}

func (noLimiter) Allow(context.Context, Attempt) (time.Duration, error) { return 0, nil }
func (noLimiter) Record(context.Context, Attempt, Outcome) error        { return nil }
