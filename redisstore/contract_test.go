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
	authgatetest.TestLimiter(t, func(t *testing.T, b authgate.MemoryLimiterOptions) authgate.Limiter {
		return newLimiter(t, c, redisstore.LimiterOptions{
			PerAccountAddress: b.PerAccountAddress, PerAccount: b.PerAccount, PerAddress: b.PerAddress,
			PerAccountDevice: b.PerAccountDevice, PerAccountSuccess: b.PerAccountSuccess,
			KeyPrefix: fmt.Sprintf("contract%d:", n.Add(1)),
		})
	})
}
