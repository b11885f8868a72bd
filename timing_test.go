package authgate_test

import (
	"slices"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// TestSignInTimingUnknownVsExisting is the statistical enumeration test of
// issue 4 (security.md §5): with real bcrypt at cost 4 (about 1 ms a
// comparison), the median time of a sign-in for an unknown user must be
// within [0.8, 1.25] of the median for an existing user with a wrong
// password. A login that returned early for unknown users would show a
// ratio near 0.001. The attempts are interleaved so drift hits both sides;
// a failure is retried once to absorb a noisy machine. It is skipped under
// -short.
func TestSignInTimingUnknownVsExisting(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical timing test; run without -short")
	}
	const attempts = 200
	measure := func() (unknown, existing time.Duration) {
		g := newGate(t, func(cfg *authgate.Config[claims]) {
			cfg.Hasher = authgate.BcryptHasher{Cost: 4}
			cfg.Limiter = noLimiter{} // 400 attempts would otherwise be throttled
		})
		var u, e []time.Duration
		const addr = "198.51.100.1"
		timed := func(user string) time.Duration {
			start := time.Now()
			rec := g.signIn(addr, user, "wrong-password")
			d := time.Since(start)
			if rec.Code != 401 {
				t.Fatalf("sign-in as %s: got %d, want 401", user, rec.Code)
			}
			return d
		}
		// Warm up both paths (first bcrypt, first allocations).
		timed("alice")
		timed("nobody")
		for i := range attempts {
			if i%2 == 0 {
				u = append(u, timed("nobody"))
				e = append(e, timed("alice"))
			} else {
				e = append(e, timed("alice"))
				u = append(u, timed("nobody"))
			}
		}
		return median(u), median(e)
	}
	var ratio float64
	for try := 1; try <= 2; try++ {
		unknown, existing := measure()
		ratio = float64(unknown) / float64(existing)
		t.Logf("try %d: median sign-in unknown user %v, existing user %v, ratio %.3f", try, unknown, existing, ratio)
		if ratio >= 0.8 && ratio <= 1.25 {
			return
		}
	}
	t.Errorf("median sign-in time ratio unknown/existing = %.3f, want within [0.8, 1.25]", ratio)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
