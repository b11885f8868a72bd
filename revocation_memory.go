package authgate

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"math"
	"sync"
	"time"
)

// DefaultRevocationEntries is the default of both
// [MemoryRevocationOptions.MaxSessions] and [MemoryRevocationOptions.MaxUsers].
// An entry takes about 150 bytes whatever the length of the id or subject,
// so with the defaults the store holds at most about 30 MB (measured by
// TestMemoryRevocationStoreMemoryIsBounded).
const DefaultRevocationEntries = 100_000

// maxRevocationKey is the longest session id or subject stored as it is;
// longer ones are stored as their SHA-256, so every entry has a bounded size.
const maxRevocationKey = 64

// MemoryRevocationOptions configures [NewMemoryRevocationStore]. The zero
// value is the documented default; [New] passes the Auth's clock and
// MaxLifetime.
type MemoryRevocationOptions struct {
	// MaxSessions bounds how many revoked sessions are remembered at once.
	// The default is [DefaultRevocationEntries].
	MaxSessions int
	// MaxUsers bounds how many "signed in before" marks are remembered at
	// once. The default is [DefaultRevocationEntries].
	MaxUsers int
	// MaxAge is the idle timeout ([Config.MaxAge]). A revoked session is
	// remembered at least MaxAge past its revocation, even when the cookie
	// that signed out expires sooner: another copy of the session (a
	// thief's, re-issued after the victim's last visit) can expire up to
	// MaxAge after the revocation, never later. The default is
	// [DefaultMaxAge].
	MaxAge time.Duration
	// MaxLifetime is the absolute session lifetime ([Config.MaxLifetime]):
	// a user's mark is forgotten this long after it was set, when every
	// session it could revoke has expired anyway. The default is
	// [DefaultMaxLifetime].
	MaxLifetime time.Duration
	// Now is the clock used to prune expired entries. The default is
	// [time.Now].
	Now func() time.Time
}

// MemoryRevocationStore is the default [RevocationStore]: a denylist of
// session ids, each kept until no copy of the session can still be valid
// (MaxAge after the revocation, or the expiry given, whichever is later),
// and a per-subject
// mark "sessions signed in at or before T are invalid", kept for
// MaxLifetime after T. Expired entries are pruned on every write, oldest
// first, so a write costs O(log n) and a read is a map lookup under a read
// lock.
//
// Memory is bounded by MaxSessions and MaxUsers. When a table is still full
// after pruning, the store does not forget a revocation (that would revive
// a signed-out session): it evicts the entry that expires first and raises
// a store-wide cutoff to the entry's revocation time, so every session
// signed in at or before that moment is refused. Sessions are therefore
// never revived; at worst, under a flood of sign-outs, users signed in
// before the cutoff must sign in again.
//
// Its contents live in one process and are lost on restart; several
// instances behind a load balancer need a shared store. It is safe for
// concurrent use.
type MemoryRevocationStore struct {
	now         func() time.Time
	maxAge      time.Duration
	maxLifetime time.Duration
	maxSessions int
	maxUsers    int

	mu       sync.RWMutex
	sessions map[string]revocation // session id -> until session expiry
	users    map[string]revocation // subject -> sessions at or before .at
	sessQ    expiryHeap
	userQ    expiryHeap
	cutoff   int64 // sessions signed in at or before are revoked; 0: none
}

var _ RevocationStore = (*MemoryRevocationStore)(nil)

// revocation is one entry: at is the revocation time (sessions) or the
// "signed in before" mark (users); until is when it may be forgotten. Times
// are Unix nanoseconds (see nanos), which keeps entries small.
type revocation struct {
	at, until int64
}

// nanos converts t to Unix nanoseconds, saturating outside 1678..2262.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minNanos):
		return math.MinInt64
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minNanos = time.Unix(0, math.MinInt64)
	maxNanos = time.Unix(0, math.MaxInt64)
)

// NewMemoryRevocationStore returns an in-memory [RevocationStore]
// configured by opts, whose zero value is the documented default.
func NewMemoryRevocationStore(opts MemoryRevocationOptions) *MemoryRevocationStore {
	s := &MemoryRevocationStore{
		now:         opts.Now,
		maxAge:      opts.MaxAge,
		maxLifetime: opts.MaxLifetime,
		maxSessions: opts.MaxSessions,
		maxUsers:    opts.MaxUsers,
		sessions:    make(map[string]revocation),
		users:       make(map[string]revocation),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxAge <= 0 {
		s.maxAge = DefaultMaxAge
	}
	if s.maxLifetime <= 0 {
		s.maxLifetime = DefaultMaxLifetime
	}
	if s.maxSessions <= 0 {
		s.maxSessions = DefaultRevocationEntries
	}
	if s.maxUsers <= 0 {
		s.maxUsers = DefaultRevocationEntries
	}
	return s
}

// RevokeSession remembers sessionID as revoked until expires, and at
// least MaxAge (plus the allowed clock skew) past now: every cookie of the
// session was issued by now, so none outlives that, whatever the expiry
// of the copy that signed out. It never returns an error.
func (s *MemoryRevocationStore) RevokeSession(_ context.Context, sessionID, subject string, expires time.Time) error {
	t := s.now()
	now := nanos(t)
	key := revocationKey(sessionID)
	until := max(nanos(expires), nanos(t.Add(s.maxAge+clockSkew)))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	s.putLocked(s.sessions, &s.sessQ, s.maxSessions, key, revocation{at: now, until: until})
	return nil
}

// RevokeUser marks every session of subject signed in at or before before
// as revoked. A later mark replaces an earlier one; an earlier one is
// ignored. It never returns an error.
func (s *MemoryRevocationStore) RevokeUser(_ context.Context, subject string, before time.Time) error {
	now := nanos(s.now())
	key := revocationKey(subject)
	at, until := nanos(before), nanos(before.Add(s.maxLifetime))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	if until <= now {
		// Every session it could revoke is past its absolute lifetime.
		return nil
	}
	if old, ok := s.users[key]; ok && at <= old.at {
		return nil
	}
	s.putLocked(s.users, &s.userQ, s.maxUsers, key, revocation{at: at, until: until})
	return nil
}

// Revoked reports whether sessionID was revoked, or authTime is at or
// before subject's mark or the store-wide cutoff. It is a few map reads
// under a read lock, and never returns an error.
func (s *MemoryRevocationStore) Revoked(_ context.Context, sessionID, subject string, authTime time.Time) (bool, error) {
	sid, sub, auth := revocationKey(sessionID), revocationKey(subject), nanos(authTime)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cutoff != 0 && auth <= s.cutoff {
		return true, nil
	}
	if _, ok := s.sessions[sid]; ok {
		return true, nil
	}
	if u, ok := s.users[sub]; ok && auth <= u.at {
		return true, nil
	}
	return false, nil
}

// Len returns how many revoked sessions and user marks are held. It is
// meant for tests and metrics.
func (s *MemoryRevocationStore) Len() (sessions, users int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sessions), len(s.users)
}

// putLocked stores r under key, evicting (and raising the cutoff for) the
// entry that expires first when the table is full.
func (s *MemoryRevocationStore) putLocked(m map[string]revocation, q *expiryHeap, limit int, key string, r revocation) {
	if old, ok := m[key]; ok {
		// Keep the later expiry; the stale heap item is skipped when popped.
		r.until = max(r.until, old.until)
		r.at = max(r.at, old.at)
	}
	for len(m) >= limit && q.Len() > 0 {
		if _, ok := m[key]; ok {
			break // replacing, not growing
		}
		it := heap.Pop(q).(expiryItem)
		victim, ok := m[it.key]
		if !ok || victim.until != it.until {
			continue // stale item
		}
		delete(m, it.key)
		s.cutoff = max(s.cutoff, victim.at)
	}
	m[key] = r
	heap.Push(q, expiryItem{key: key, until: r.until})
	s.compactLocked(m, q)
}

// pruneLocked forgets every entry whose until is not after now.
func (s *MemoryRevocationStore) pruneLocked(now int64) {
	prune := func(m map[string]revocation, q *expiryHeap) {
		for q.Len() > 0 && (*q)[0].until <= now {
			it := heap.Pop(q).(expiryItem)
			if r, ok := m[it.key]; ok && r.until == it.until {
				delete(m, it.key)
			}
		}
	}
	prune(s.sessions, &s.sessQ)
	prune(s.users, &s.userQ)
	if s.cutoff != 0 && s.cutoff <= now-int64(s.maxLifetime) {
		s.cutoff = 0 // every session it refuses is past its lifetime
	}
}

// compactLocked rebuilds q from m when stale items (left by repeated
// revocations of one key) make it more than twice as long as m, so the
// heap's size stays bounded too.
func (s *MemoryRevocationStore) compactLocked(m map[string]revocation, q *expiryHeap) {
	if q.Len() <= 2*len(m)+16 {
		return
	}
	*q = (*q)[:0]
	for k, r := range m {
		*q = append(*q, expiryItem{key: k, until: r.until})
	}
	heap.Init(q)
}

func revocationKey(s string) string {
	if len(s) <= maxRevocationKey {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + string(sum[:])
}

type expiryItem struct {
	key   string
	until int64
}

// expiryHeap is a min-heap of entries by until.
type expiryHeap []expiryItem

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].until < h[j].until }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryItem)) }
func (h *expiryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
