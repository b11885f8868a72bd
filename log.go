package authgate

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
)

// Logging. Every decision is one structured event through
// [Config.Logger]. Events a client can trigger at will without cost to
// itself (a garbage session cookie, a cross-site POST, a malformed body, a
// forged OAuth callback), and the faults every request meets while a store
// or callback is down, are rate-limited per kind, so neither a flood nor
// an outage can fill a disk through the log; and no line repeats more than
// maxLoggedBytes of anything the request sent.

// logDecision emits one structured event. Callers pass only safe
// attributes: never a password, secret or cookie value.
func (a *Auth[T]) logDecision(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	a.log.LogAttrs(ctx, level, msg, attrs...)
}

// The kinds of noisy events.
const (
	noisySession    = iota // session_rejected
	noisyCSRF              // csrf_refused
	noisyBadRequest        // bad_request
	noisyOAuth             // oauth_callback_refused (oauth.go)
	noisyFault             // session_fault: a store or callback fault (middleware.go, devices.go, dbsession.go)
	noisyDevice            // device_demoted (signin.go)
	noisyCheck             // check_refused: a check cookie used again (check.go)
	noisyKinds
)

var noisyEvents = [noisyKinds]string{"session_rejected", "csrf_refused", "bad_request", "oauth_callback_refused", "session_fault", "device_demoted", "check_refused"}

// noisyPerSecond is how many events of one kind are logged in one second
// of the Auth's clock; the rest are counted, and the count is logged as one
// "suppressed" event with the first event of a later second.
const noisyPerSecond = 5

// noisyLog is the rate limit of one kind of event.
type noisyLog struct {
	second     atomic.Int64 // the Unix second being counted
	n          atomic.Int64 // events in that second
	suppressed atomic.Int64 // events not logged since the last summary
}

// logNoisy logs an event of kind unless noisyPerSecond of that kind were
// already logged this second.
func (a *Auth[T]) logNoisy(ctx context.Context, kind int, level slog.Level, msg string, attrs ...slog.Attr) {
	l := &a.noisy[kind]
	now := a.now().Unix()
	if s := l.second.Load(); s != now && l.second.CompareAndSwap(s, now) {
		l.n.Store(0)
		if dropped := l.suppressed.Swap(0); dropped > 0 {
			a.log.LogAttrs(ctx, slog.LevelWarn, "authgate: similar events not logged",
				slog.String("event", "suppressed"), slog.String("kind", noisyEvents[kind]),
				slog.Int64("count", dropped))
		}
	}
	if l.n.Add(1) > noisyPerSecond {
		l.suppressed.Add(1)
		return
	}
	a.log.LogAttrs(ctx, level, msg, attrs...)
}

// maxLoggedBytes is the most of any request-supplied string a log line
// repeats.
const maxLoggedBytes = 64

// clippedError is err with its text clipped (see clip): for errors whose
// text may repeat request input, such as a codec's. errors.Is and
// errors.As still see err.
type clippedError struct{ err error }

func (e clippedError) Error() string { return clip(e.err.Error()) }
func (e clippedError) Unwrap() error { return e.err }

// clip returns s, or its first maxLoggedBytes bytes and its length when it
// is longer.
func clip(s string) string {
	if len(s) <= maxLoggedBytes {
		return s
	}
	return s[:maxLoggedBytes] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}
