package authgate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/authgate/authgate"
)

// sharedStore stands for a database that holds the exact revoked session
// ids with their expiry (such as Redis keys with a TTL); asking it costs a
// network round trip.
type sharedStore map[string]time.Time

// localView answers "certainly not revoked" from its filter, in memory and
// without allocating, and asks the shared store only about the rare ids
// the filter reports, which are revoked or, about once in two million
// lookups, false positives.
type localView struct {
	filter *authgate.RevocationFilter
	shared sharedStore
}

func (v *localView) RevokeSession(ctx context.Context, sessionID string, expires time.Time) error {
	v.shared[sessionID] = expires // the exact entry, in the shared store
	return v.filter.Add(sessionID, expires)
}

func (v *localView) Revoked(ctx context.Context, sessionID string) bool {
	if !v.filter.MayContain(sessionID) {
		return false // the common case: no I/O
	}
	_, ok := v.shared[sessionID] // confirm a positive
	return ok
}

// A RevocationFilter as the local view of a store shared by several
// instances: each instance adds the revocations it hears of to its own
// filter and asks the shared store only on a positive.
func ExampleRevocationFilter() {
	ctx := context.Background()
	v := &localView{
		filter: authgate.NewRevocationFilter(authgate.RevocationFilterOptions{
			Capacity: 1_000_000,                   // about 4.2 MB
			Horizon:  authgate.DefaultMaxLifetime, // no entry lives longer
		}),
		shared: sharedStore{},
	}
	if err := v.RevokeSession(ctx, "Zk3WJrLwqJtVx8WcZp1a0Q", time.Now().Add(30*24*time.Hour)); err != nil {
		fmt.Println(err) // full or beyond the horizon: keep it exactly instead
	}
	fmt.Println(v.Revoked(ctx, "Zk3WJrLwqJtVx8WcZp1a0Q"))
	fmt.Println(v.Revoked(ctx, "b6cQ9yXh2mTnP0sLkVd4Ew"))
	// Output:
	// true
	// false
}
