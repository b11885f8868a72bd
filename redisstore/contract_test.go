package redisstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
	"github.com/authgate/authgate/redisstore"
	"github.com/authgate/authgate/redisstore/redistest"
)

// TestLimiterKeepsTheContract runs authgate's contract tests for every
// Limiter against the Redis limiter on a real redis-server; each subtest
// gets its own key prefix, so its budgets start empty.
func TestLimiterKeepsTheContract(t *testing.T) {
	srv := redistest.Start(t)
	c := connect(t, srv.URL())
	var n atomic.Int64
	authgatetest.TestLimiter(t, func(t *testing.T, pair, account, addr authgate.AttemptBudget) authgate.Limiter {
		return newLimiter(t, c, redisstore.LimiterOptions{
			PerAccountAddress: pair, PerAccount: account, PerAddress: addr,
			KeyPrefix: fmt.Sprintf("contract%d:", n.Add(1)),
		})
	})
}
