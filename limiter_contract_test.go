package authgate_test

import (
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

func TestMemoryLimiterKeepsTheLimiterContract(t *testing.T) {
	t.Parallel()
	authgatetest.TestLimiter(t, func(t *testing.T, b authgate.MemoryLimiterOptions) authgate.Limiter {
		return authgate.NewMemoryLimiter(b)
	})
}

func TestNoLimiterAllowsEverything(t *testing.T) {
	t.Parallel()
	// NoLimiter keeps the contract's shape but refuses nothing: every
	// attempt of a long run of failures is allowed.
	l := authgate.NoLimiter()
	for i := range 1000 {
		a := authgate.Attempt{Account: "alice", Addr: "192.0.2.1"}
		if retry, err := l.Allow(t.Context(), a); retry != 0 || err != nil {
			t.Fatalf("attempt %d: got (%v, %v), want (0, nil)", i, retry, err)
		}
		if err := l.Record(t.Context(), a, authgate.AttemptFailed); err != nil {
			t.Fatal(err)
		}
	}
}
