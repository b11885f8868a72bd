// Command revocation measures authgate's revocation store at scale and
// prints a Markdown report: for 1 million and 10 million revoked session
// ids, the heap the default MemoryRevocationStore takes (100 000 exact
// entries, the rest in its filter, internal/cuckoo), that every revoked id is
// reported (the exact list of ids is the oracle), and the false-positive
// rate observed over 10 million ids never revoked; next to it, the same
// measurements for github.com/bits-and-blooms/bloom/v3 sized for the same
// ids at a rate of 1e-6, the library the filter is compared with (it
// cannot be used by the authgate module itself, whose dependencies are
// kept to three). Lookup times are benchmarks: see BenchmarkRevoked.
//
//	go run ./bench/cmd/revocation            # 1M and 10M, 10M lookups
//	go run ./bench/cmd/revocation -sizes 1000000 -lookups 1000000
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate/bench"
	"github.com/authgate/authgate/internal/cuckoo"
	"github.com/bits-and-blooms/bloom/v3"
)

// exactBytes is what one exact entry of the store takes, measured by
// TestMemoryRevocationStoreMemoryIsBounded in the authgate module.
const exactBytes = 173

func main() {
	sizes := flag.String("sizes", "1000000,10000000", "comma-separated numbers of revoked ids")
	lookups := flag.Uint64("lookups", 10_000_000, "never-revoked ids looked up per size")
	flag.Parse()
	fmt.Printf("revocation store at scale (%s, %s, GOMAXPROCS %d), %d never-revoked lookups per size\n\n",
		runtime.Version(), runtime.GOARCH, runtime.GOMAXPROCS(0), *lookups)
	fmt.Println("| ids revoked | structure | heap MB | bytes/id | missed revoked ids | false positives | observed FP rate | bound |")
	fmt.Println("|---:|---|---:|---:|---:|---:|---:|---:|")
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "bad size %q\n", f)
			os.Exit(2)
		}
		storeRow(n, *lookups)
		bloomRow(n, *lookups)
		// What the alternatives would take, computed rather than allocated.
		m31, _ := bloom.EstimateParameters(uint(n), 1e-6/31)
		fmt.Printf("| %d | Bloom, 31 daily generations at 1e-6/31 each (computed) | %.1f | %.1f | — | — | — | 1e-06 |\n",
			n, float64(m31)/8/1e6, float64(m31)/8/float64(n))
		fmt.Printf("| %d | exact entries only (computed, %d B each) | %.1f | %d | 0 | 0 | 0 | 0 |\n",
			n, exactBytes, float64(n)*exactBytes/1e6, exactBytes)
	}
	fmt.Printf("\nLower bound for any filter at 1e-6: log2(1e6) = %.1f bits = %.2f bytes per id (%.1f MB at 10M).\n",
		math.Log2(1e6), math.Log2(1e6)/8, 10e6*math.Log2(1e6)/8/1e6)
}

func storeRow(n int, lookups uint64) {
	now := time.Now()
	start := time.Now()
	s, heap := bench.RevocationStore(now, n)
	fill := time.Since(start)
	ctx := context.Background()
	authTime := now.Add(time.Hour) // after every revocation: only the ids count
	missed := 0
	for i := range uint64(n) {
		if r, _ := s.Revoked(ctx, bench.SessionID('r', i), "user-x", authTime); !r {
			missed++
		}
	}
	fp := 0
	for i := range lookups {
		if r, _ := s.Revoked(ctx, bench.SessionID('n', i), "user-x", authTime); r {
			fp++
		}
	}
	st := s.Stats()
	fmt.Printf("| %d | MemoryRevocationStore: %d exact + filter (%d ids, %.1f MB), filled in %v | %.1f | %.1f | %d | %d | %.2g | %.2g |\n",
		n, st.Sessions, st.Filtered, float64(st.FilterBytes)/1e6, fill.Round(time.Second),
		float64(heap)/1e6, float64(heap)/float64(n), missed, fp, float64(fp)/float64(lookups), cuckoo.FalsePositiveRate)
	runtime.KeepAlive(s)
}

func bloomRow(n int, lookups uint64) {
	before := bench.HeapAlloc()
	f := bloom.NewWithEstimates(uint(n), 1e-6)
	for i := range uint64(n) {
		f.AddString(bench.SessionID('r', i))
	}
	heap := bench.HeapAlloc() - before
	missed := 0
	for i := range uint64(n) {
		if !f.TestString(bench.SessionID('r', i)) {
			missed++
		}
	}
	fp := 0
	for i := range lookups {
		if f.TestString(bench.SessionID('n', i)) {
			fp++
		}
	}
	fmt.Printf("| %d | bits-and-blooms/bloom/v3 at 1e-6 (k=%d), one generation: no expiry | %.1f | %.1f | %d | %d | %.2g | %.2g |\n",
		n, f.K(), float64(heap)/1e6, float64(heap)/float64(n), missed, fp, float64(fp)/float64(lookups),
		math.Pow(1-math.Exp(-float64(f.K())*float64(n)/float64(f.Cap())), float64(f.K())))
	runtime.KeepAlive(f)
}
