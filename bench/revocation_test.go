package bench_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/bench"
)

// revocationStores caches the filled stores across the sub-benchmarks
// and their reruns: filling 10 million takes a while.
var revocationStores = map[int]*authgate.MemoryRevocationStore{}

func revocationStore(b *testing.B, now time.Time, n int) *authgate.MemoryRevocationStore {
	b.Helper()
	if s, ok := revocationStores[n]; ok {
		return s
	}
	s, heap := bench.RevocationStore(now, n)
	b.Logf("store with %d revoked ids: %.1f MB of heap", n, float64(heap)/1e6)
	revocationStores[n] = s
	return s
}

// BenchmarkRevoked measures MemoryRevocationStore.Revoked, the lookup
// every authenticated request makes, with 0, 1 million and 10 million
// revoked ids held (100 000 exactly, the rest in the filter), for ids never
// revoked (the common case) and for revoked ones. Compare it with
// BenchmarkRequest/authgate-warm, the whole warm request that includes it:
//
//	go test -run '^$' -bench 'Revoked|Request/authgate-warm' -benchmem ./bench/
func BenchmarkRevoked(b *testing.B) {
	now := time.Now()
	const ring = 1 << 16 // distinct ids looked up, so cache misses are real
	never := make([]string, ring)
	for i := range never {
		never[i] = bench.SessionID('n', uint64(i))
	}
	for _, n := range []int{0, 1_000_000, 10_000_000} {
		// Each store is built on first use, so -bench can pick one size.
		b.Run(fmt.Sprintf("held=%dM/never-revoked", n/1_000_000), func(b *testing.B) {
			benchRevoked(b, revocationStore(b, now, n), never, false)
		})
		if n == 0 {
			continue
		}
		revoked := make([]string, ring)
		for i := range revoked {
			revoked[i] = bench.SessionID('r', uint64(i)%uint64(n))
		}
		b.Run(fmt.Sprintf("held=%dM/revoked", n/1_000_000), func(b *testing.B) {
			benchRevoked(b, revocationStore(b, now, n), revoked, true)
		})
	}
}

// benchRevoked looks ids up in turn (len(ids) is a power of two) and
// reports the CPU time per lookup too, steadier than the wall time on a
// shared machine (see BenchmarkRequest).
func benchRevoked(b *testing.B, s *authgate.MemoryRevocationStore, ids []string, want bool) {
	ctx := context.Background()
	authTime := time.Now().Add(time.Hour) // after every revocation: only the ids count
	b.ReportAllocs()
	var cpu0 time.Duration
	i, wrong := 0, 0
	for b.Loop() {
		if i == 0 {
			cpu0 = bench.CPUTime()
		}
		if r, _ := s.Revoked(ctx, ids[i&(len(ids)-1)], "user-x", authTime); r != want {
			wrong++
		}
		i++
	}
	b.StopTimer()
	b.ReportMetric(float64(bench.CPUTime()-cpu0)/float64(i), "cpu-ns/op")
	switch {
	case want && wrong > 0:
		b.Fatalf("%d revoked ids reported not revoked", wrong)
	case wrong > 0:
		// A false positive of the filter: about one id in two million,
		// looked up again on every turn of the ring.
		b.Logf("%d lookups of never-revoked ids were false positives", wrong)
	}
}

// TestSessionIDsAreDistinct checks the id generator the revocation
// measurements rely on: ids of one family are distinct and shaped like
// authgate's, and the two families never meet.
func TestSessionIDsAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, fam := range []byte{'r', 'n'} {
		for i := range uint64(100_000) {
			id := bench.SessionID(fam, i)
			if len(id) != 22 {
				t.Fatalf("%q: %d characters, want 22", id, len(id))
			}
			if seen[id] {
				t.Fatalf("%q generated twice", id)
			}
			seen[id] = true
		}
	}
}
