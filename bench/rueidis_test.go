package bench_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authgate/authgate/redisstore/redistest"
	"github.com/redis/rueidis"
)

// BenchmarkRueidisClientSideCache measures what redisstore's design was
// weighed against: asking Redis "is this session revoked?" through
// rueidis' server-assisted client-side cache (RESP3 tracking) instead of
// keeping a local view. A hit (this instance asked about this session id
// before, and Redis has not invalidated it) is answered in process; a miss
// — every session's first request on each instance, and every request
// after an eviction — is a round trip. Compare with BenchmarkRevokedLookup.
func BenchmarkRueidisClientSideCache(b *testing.B) {
	srv := redistest.Start(b)
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, CacheSizeEachConn: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	lookup := func(id string) bool {
		err := c.DoCache(ctx, c.B().Get().Key("authgate:r:s:"+id).Cache(), time.Hour).Error()
		if rueidis.IsRedisNil(err) {
			return false // not revoked
		}
		if err != nil {
			b.Fatal(err)
		}
		return true
	}
	b.Run("hit", func(b *testing.B) {
		lookup("live-session-id-000000")
		b.ReportAllocs()
		for b.Loop() {
			lookup("live-session-id-000000")
		}
	})
	b.Run("miss", func(b *testing.B) {
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			i++
			lookup(fmt.Sprintf("session-%015d", i))
		}
	})
}
