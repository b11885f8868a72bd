package bench

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"io"
	"log/slog"
	"runtime"
	"time"

	"github.com/authgate/authgate"
)

// SessionID returns the i-th id of a family of session ids shaped like
// authgate's (22 base64url characters, 16 bytes): family 'r' for revoked
// ids, 'n' for ids never revoked. The bytes are a counter mixed by a
// 64-bit permutation, so ids look random but can be regenerated instead of
// held in memory.
func SessionID(family byte, i uint64) string {
	var b [16]byte
	b[0] = family
	binary.LittleEndian.PutUint64(b[1:9], mix(i))
	binary.LittleEndian.PutUint64(b[8:16], mix(i^0x5bd1e9955bd1e995))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// mix is splitmix64's finaliser, a bijection on uint64.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Subject returns the subject of the i-th revoked session: four sessions
// per subject, under the default per-subject limit, so nothing folds and
// every revocation is held one by one.
func Subject(i uint64) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], i/4)
	return "user-" + base64.RawURLEncoding.EncodeToString(b[:])
}

// RevocationStore returns a default MemoryRevocationStore (an exact table
// of authgate.DefaultRevocationEntries) whose filter holds n ids, filled
// with the revocations SessionID('r', 0..n-1), one per millisecond of a
// clock that starts at now, each signed in an hour before: what a site
// with n revoked, unexpired sessions holds. It also returns the heap the
// store takes after a GC.
func RevocationStore(now time.Time, n int) (*authgate.MemoryRevocationStore, uint64) {
	clock := now
	before := HeapAlloc()
	s := authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{
		FilterCapacity: max(n, 1),
		Now:            func() time.Time { return clock },
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ctx := context.Background()
	for i := range uint64(n) {
		clock = now.Add(time.Duration(i) * time.Millisecond)
		s.RevokeSession(ctx, SessionID('r', i), Subject(i), clock.Add(-time.Hour), clock.Add(authgate.DefaultMaxAge))
	}
	after := HeapAlloc()
	runtime.KeepAlive(s)
	return s, after - min(before, after)
}

// HeapAlloc returns the bytes of live heap objects after two GCs.
func HeapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
