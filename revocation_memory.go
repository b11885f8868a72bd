package authgate

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/authgate/authgate/internal/cuckoo"
)

// DefaultRevocationEntries is the default of both
// [MemoryRevocationOptions.MaxSessions] and [MemoryRevocationOptions.MaxUsers].
// An exact entry takes about 170 bytes whatever the length of the id or
// subject (up to about 250 under churn, while stale heap items wait to be
// compacted), so the two full tables hold about 35 to 50 MB (measured by
// TestMemoryRevocationStoreMemoryIsBounded and bench/cmd/revocation).
const DefaultRevocationEntries = 100_000

// DefaultRevocationsPerSubject is the default of
// [MemoryRevocationOptions.MaxSessionsPerSubject].
const DefaultRevocationsPerSubject = 16

// maxRevocationKey is the longest session id or subject stored as it is;
// longer ones are stored as their SHA-256, so every entry has a bounded size.
const maxRevocationKey = 64

// retainSlack is how long past MaxLifetime after a sign-in time a mark or
// cutoff is kept, and the longest an entry is kept past now +
// MaxLifetime: the checking instance's clock may be behind the store's,
// so a session may still be accepted there a little after its absolute
// end by this store's clock.
const retainSlack = 4 * clockSkew

// MemoryRevocationOptions configures [NewMemoryRevocationStore]. The zero
// value is the documented default; [New] passes the Auth's clock, logger,
// MaxAge and MaxLifetime.
type MemoryRevocationOptions struct {
	// MaxSessions bounds how many revoked sessions are remembered exactly.
	// Beyond it, the revocation that expires first moves to the filter
	// (see FilterCapacity). The default is [DefaultRevocationEntries].
	MaxSessions int
	// MaxSessionsPerSubject bounds how many revoked sessions of one
	// subject are remembered exactly. Revoking one more folds them all
	// into a mark for that subject, as [MemoryRevocationStore.RevokeUser]
	// at the latest sign-in time among them: every session of the subject
	// signed in until then ends, those of every other subject are
	// untouched, and a session signed in after it is not affected (authgate
	// dates a sign-in during the mark's second one second later). An
	// account that signs in and out over and over therefore holds at most
	// this many entries and one mark, and only ever signs itself out. A
	// legitimate user meets it only by signing out more than this many
	// times within MaxAge; their other sessions signed in before the
	// latest of the folded ones then end too. The default is
	// [DefaultRevocationsPerSubject].
	MaxSessionsPerSubject int
	// FilterCapacity bounds how many revoked sessions the filter holds
	// once the exact table is full. The filter is allocated whole, about
	// 4.2 bytes per id, the first time the exact table overflows; a store
	// that never holds more than MaxSessions revocations never allocates
	// it. The default is 4 000 000 (about 17 MB).
	FilterCapacity int
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
	// MaxLifetime is the absolute session lifetime ([Config.MaxLifetime])
	// the store serves, its [MemoryRevocationStore.Horizon]: a mark or
	// cutoff is forgotten this long (plus a minute of clock allowances)
	// after its time, when every session it could revoke has expired
	// anyway, and no revoked session is remembered longer than that past
	// its revocation.
	// [New] refuses a store whose MaxLifetime is shorter than the
	// Config's. The default is [DefaultMaxLifetime].
	MaxLifetime time.Duration
	// Now is the clock used to prune expired entries. The default is
	// [time.Now].
	Now func() time.Time
	// Logger receives one event when revocations are folded into a mark
	// (level WARN) and one when the store-wide cutoff is raised (ERROR, at
	// most once a minute). The default is [slog.Default].
	Logger *slog.Logger
}

// MemoryRevocationStore is the default [RevocationStore]. It holds, from
// most to least precise:
//
//   - exact entries: revoked session ids, each kept until no copy of the
//     session can still be valid (MaxAge after the revocation, or the
//     expiry given, whichever is later), at most MaxSessionsPerSubject of
//     them per subject and MaxSessions in all;
//   - per-subject marks "sessions signed in at or before T are invalid",
//     kept for MaxLifetime after T, set by RevokeUser and by folding a
//     subject's exact entries when it has too many (T is then the latest
//     sign-in time among them);
//   - a filter of revoked session ids that no longer fit in the exact
//     table (the ones that expire first move there): a cuckoo filter with
//     expiring entries, whose false positives (at most 9/(2^24-1), about
//     one session in two million) only make a user sign in again;
//   - a store-wide cutoff, the last resort: when the filter is full too,
//     or the mark table is full, the revocation that expires first is
//     replaced by refusing every session signed in at or before its time
//     (a revoked session's sign-in time, or a mark's). The filter keeps
//     every id it takes until it expires (it refuses new ones rather than
//     evicting), so the cutoff only ever stands for exact entries and
//     marks, whose times are known. Raising it is logged at level ERROR
//     with event "revocation_cutoff", at most once a minute (attribute
//     "raises" counts the raises the line stands for).
//
// A revocation is never forgotten before it expires, so a signed-out
// session is never revived. One account signing in and out over and over
// only ever folds its own sessions into its own mark. Reaching the cutoff
// takes MaxSessions + FilterCapacity revocations (4.1 million by default)
// within MaxAge from accounts that each stay under MaxSessionsPerSubject,
// or MaxUsers accounts each folded.
//
// Revoked is a few map reads and at most two cache lines of the filter
// under a read lock, without allocation. Writes prune expired entries
// first, oldest first, in O(log n). Its contents live in one process and
// are lost on restart; several instances behind a load balancer need a
// shared store. It is safe for concurrent use.
type MemoryRevocationStore struct {
	now         func() time.Time
	log         *slog.Logger
	maxAge      time.Duration
	maxLifetime time.Duration
	maxSessions int
	perSubject  int
	filterCap   int
	maxUsers    int

	mu       sync.RWMutex
	sessions map[string]sessionRevocation // session id -> until session expiry
	subjects map[string][]string          // subject -> its exact session ids
	users    map[string]revocation        // subject -> sessions at or before .at
	sessQ    expiryHeap
	userQ    expiryHeap
	filter   *cuckoo.Filter // nil until the exact table first overflows
	cutoff   int64          // with hasCutoff, sessions signed in at or before are revoked

	hasCutoff bool

	cutoffLogged int64 // when raising the cutoff was last logged; 0: never
	cutoffRaises int   // raises since then
}

// cutoffLogEvery is how often, at most, raising the cutoff is logged: an
// attack that keeps the store full raises it at every sign-out.
const cutoffLogEvery = time.Minute

var _ RevocationStore = (*MemoryRevocationStore)(nil)

// revocation is one entry: at is the latest sign-in time it covers (for a
// session, its own sign-in time; for a user, the mark); until is when it
// may be forgotten. Times are Unix nanoseconds (see nanos), which keeps
// entries small.
type revocation struct {
	at, until int64
}

// sessionRevocation is a revoked session and the subject it belongs to.
type sessionRevocation struct {
	revocation
	subject string
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
		log:         opts.Logger,
		maxAge:      opts.MaxAge,
		maxLifetime: opts.MaxLifetime,
		maxSessions: opts.MaxSessions,
		perSubject:  opts.MaxSessionsPerSubject,
		filterCap:   opts.FilterCapacity,
		maxUsers:    opts.MaxUsers,
		sessions:    make(map[string]sessionRevocation),
		subjects:    make(map[string][]string),
		users:       make(map[string]revocation),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
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
	if s.perSubject <= 0 {
		s.perSubject = DefaultRevocationsPerSubject
	}
	if s.filterCap <= 0 {
		s.filterCap = cuckoo.DefaultCapacity
	}
	s.filterCap = int(min(uint64(s.filterCap), cuckoo.MaxCapacity))
	if s.maxUsers <= 0 {
		s.maxUsers = DefaultRevocationEntries
	}
	return s
}

// RevokeSession remembers sessionID of subject, signed in at authTime, as
// revoked until expires, and at least MaxAge (plus the allowed clock skew)
// past now: every cookie of the session was issued by now, so none
// outlives that, whatever the expiry of the copy that signed out. No
// session outlives MaxLifetime, so no entry is kept longer than that (plus
// a minute of clock allowances) past now. When subject already has
// MaxSessionsPerSubject revoked sessions, they and this one are folded
// into a mark for subject at the latest of their sign-in times. A zero
// authTime (unknown) counts as now for that mark. It never returns an
// error.
func (s *MemoryRevocationStore) RevokeSession(ctx context.Context, sessionID, subject string, authTime, expires time.Time) error {
	t := s.now()
	now := nanos(t)
	at := now
	if !authTime.IsZero() {
		at = nanos(authTime)
	}
	key, sub := revocationKey(sessionID), revocationKey(subject)
	until := max(nanos(expires), nanos(t.Add(s.maxAge+clockSkew)))
	until = min(until, nanos(t.Add(s.maxLifetime+retainSlack)))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	if old, ok := s.sessions[key]; ok {
		if old.subject != sub && old.subject != sharedID {
			// One id revoked under two subjects (authgate's ids are
			// random, but another caller's may not be): no subject's
			// fold may delete it, since its mark would not cover the
			// other's session.
			s.unlistLocked(key, old.subject)
			old.subject = sharedID
		}
		if until > old.until {
			old.until = until
			heap.Push(&s.sessQ, expiryItem{key: key, until: until})
		}
		// A cutoff that replaces the entry must cover every session it
		// stands for.
		old.at = max(old.at, at)
		s.sessions[key] = old
		compact(s.sessions, &s.sessQ)
		return nil
	}
	if held := s.subjects[sub]; len(held) >= s.perSubject {
		// The mark covers exactly the sessions it replaces: it is at the
		// latest of their sign-in times.
		for _, k := range held {
			at = max(at, s.sessions[k].at)
			delete(s.sessions, k)
		}
		delete(s.subjects, sub)
		s.markLocked(ctx, sub, at, markUntil(at, s.maxLifetime))
		s.log.LogAttrs(ctx, slog.LevelWarn, "authgate: revoked sessions folded into a per-subject mark",
			slog.String("event", "revocation_fold"), slog.String("sub", subject), slog.Int("sessions", len(held)+1),
			slog.Time("signed_in_until", time.Unix(0, at)))
		return nil
	}
	for len(s.sessions) >= s.maxSessions && s.sessQ.Len() > 0 {
		it := heap.Pop(&s.sessQ).(expiryItem)
		victim, ok := s.sessions[it.key]
		if !ok || victim.until != it.until {
			continue // stale item
		}
		s.dropSessionLocked(it.key, victim)
		s.spillLocked(ctx, now, it.key, victim)
	}
	s.sessions[key] = sessionRevocation{revocation{at: at, until: until}, sub}
	s.subjects[sub] = append(s.subjects[sub], key)
	heap.Push(&s.sessQ, expiryItem{key: key, until: until})
	compact(s.sessions, &s.sessQ)
	return nil
}

// markUntil is when a mark or cutoff at at may be forgotten: every session
// it covers signed in by at, so has passed its absolute lifetime by then
// (with the clock allowances). An entry revoked with an unknown sign-in
// time counts as signed in at its revocation, and is kept no longer than
// that either.
func markUntil(at int64, maxLifetime time.Duration) int64 {
	if at > math.MaxInt64-int64(maxLifetime+retainSlack) {
		return math.MaxInt64
	}
	return at + int64(maxLifetime+retainSlack)
}

// spillLocked moves an exact entry evicted from the full table into the
// filter, or, when the filter cannot take it, raises the cutoff to the
// entry's sign-in time.
func (s *MemoryRevocationStore) spillLocked(ctx context.Context, now int64, key string, r sessionRevocation) {
	if s.filter == nil {
		s.filter = cuckoo.New(cuckoo.Options{Capacity: s.filterCap, Horizon: s.maxLifetime + retainSlack})
	}
	err := s.filter.Add(key, r.until, now)
	if err == nil {
		return
	}
	s.raiseCutoffLocked(ctx, r.at, err.Error())
}

// raiseCutoffLocked refuses every session signed in at or before at: the
// last resort, which trades sessions for memory without reviving any.
func (s *MemoryRevocationStore) raiseCutoffLocked(ctx context.Context, at int64, reason string) {
	if s.hasCutoff && at <= s.cutoff {
		return
	}
	s.cutoff, s.hasCutoff = at, true
	s.cutoffRaises++
	now := nanos(s.now())
	if s.cutoffLogged != 0 && now-s.cutoffLogged < int64(cutoffLogEvery) {
		return
	}
	s.log.LogAttrs(ctx, slog.LevelError, "authgate: revocation store full, refusing every session signed in before a cutoff",
		slog.String("event", "revocation_cutoff"), slog.Time("cutoff", time.Unix(0, at)),
		slog.Int("raises", s.cutoffRaises), slog.String("reason", reason))
	s.cutoffLogged, s.cutoffRaises = now, 0
}

// dropSessionLocked forgets the exact entry key of r.
func (s *MemoryRevocationStore) dropSessionLocked(key string, r sessionRevocation) {
	delete(s.sessions, key)
	s.unlistLocked(key, r.subject)
}

// sharedID is the subject of an exact entry revoked under several
// subjects: longer than maxRevocationKey, so no subject's key is ever
// equal to it, and such an entry is in no subject's list.
var sharedID = strings.Repeat("\x00", maxRevocationKey+1)

// unlistLocked removes key from subject's list of exact entries.
func (s *MemoryRevocationStore) unlistLocked(key, subject string) {
	held := s.subjects[subject]
	if len(held) == 0 {
		return
	}
	for i, k := range held {
		if k == key {
			held[i] = held[len(held)-1]
			held[len(held)-1] = ""
			held = held[:len(held)-1]
			break
		}
	}
	if len(held) == 0 {
		delete(s.subjects, subject)
	} else {
		s.subjects[subject] = held
	}
}

// RevokeUser marks every session of subject signed in at or before before
// as revoked. A later mark replaces an earlier one; an earlier one is
// ignored. The mark is kept MaxLifetime (plus a minute of clock
// allowances) past before. It never returns an error.
func (s *MemoryRevocationStore) RevokeUser(ctx context.Context, subject string, before time.Time) error {
	now := nanos(s.now())
	key := revocationKey(subject)
	at := nanos(before)
	until := markUntil(at, s.maxLifetime)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	if until <= now {
		// Every session it could revoke is past its absolute lifetime.
		return nil
	}
	s.markLocked(ctx, key, at, until)
	return nil
}

// markLocked sets subject key's mark to at unless it is already later
// (keeping the later until of the two), evicting (and raising the cutoff
// for) the mark that expires first when the table is full.
func (s *MemoryRevocationStore) markLocked(ctx context.Context, key string, at, until int64) {
	old, ok := s.users[key]
	if ok && at <= old.at && until <= old.until {
		return
	}
	if ok {
		// The stale heap item is skipped when popped.
		at, until = max(at, old.at), max(until, old.until)
	}
	for !ok && len(s.users) >= s.maxUsers && s.userQ.Len() > 0 {
		it := heap.Pop(&s.userQ).(expiryItem)
		victim, found := s.users[it.key]
		if !found || victim.until != it.until {
			continue // stale item
		}
		delete(s.users, it.key)
		s.raiseCutoffLocked(ctx, victim.at, "mark table full")
	}
	s.users[key] = revocation{at: at, until: until}
	heap.Push(&s.userQ, expiryItem{key: key, until: until})
	compact(s.users, &s.userQ)
}

// Revoked reports whether sessionID was revoked (exactly, or as far as the
// filter can tell), or authTime is at or before subject's mark or the
// store-wide cutoff (a zero authTime, a sign-in time unknown, is before
// every mark). It takes a read lock, does not allocate, and never returns
// an error.
func (s *MemoryRevocationStore) Revoked(_ context.Context, sessionID, subject string, authTime time.Time) (bool, error) {
	sid, sub, auth := revocationKey(sessionID), revocationKey(subject), nanos(authTime)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.hasCutoff && auth <= s.cutoff {
		return true, nil
	}
	if _, ok := s.sessions[sid]; ok {
		return true, nil
	}
	if s.filter != nil && sessionID != "" && s.filter.MayContain(sid) {
		return true, nil
	}
	if u, ok := s.users[sub]; ok && auth <= u.at {
		return true, nil
	}
	return false, nil
}

// Horizon returns MaxLifetime, the longest session lifetime whose
// revocations the store keeps until they cannot matter (see
// [RevocationStore]).
func (s *MemoryRevocationStore) Horizon() time.Duration { return s.maxLifetime }

// Len returns how many revoked sessions (held exactly) and user marks are
// held. It is meant for tests and metrics; see also Stats.
func (s *MemoryRevocationStore) Len() (sessions, users int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sessions), len(s.users)
}

// MemoryRevocationStats describes what a [MemoryRevocationStore] holds.
type MemoryRevocationStats struct {
	// Sessions and Users count exact entries and per-subject marks.
	Sessions, Users int
	// Filtered counts the filter's slots in use (expired ones included
	// until they are cleared); FilterBytes is its table's size, 0 while
	// it is not allocated.
	Filtered, FilterBytes int
	// Cutoff is the store-wide cutoff, zero when none is in force.
	Cutoff time.Time
}

// Stats returns what the store holds, for tests and metrics.
func (s *MemoryRevocationStore) Stats() MemoryRevocationStats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := MemoryRevocationStats{Sessions: len(s.sessions), Users: len(s.users)}
	if s.filter != nil {
		st.Filtered, st.FilterBytes = s.filter.Len(), s.filter.SizeBytes()
	}
	if s.hasCutoff {
		st.Cutoff = time.Unix(0, s.cutoff)
	}
	return st
}

// pruneLocked forgets every entry whose until is not after now.
func (s *MemoryRevocationStore) pruneLocked(now int64) {
	for s.sessQ.Len() > 0 && s.sessQ[0].until <= now {
		it := heap.Pop(&s.sessQ).(expiryItem)
		if r, ok := s.sessions[it.key]; ok && r.until == it.until {
			s.dropSessionLocked(it.key, r)
		}
	}
	for s.userQ.Len() > 0 && s.userQ[0].until <= now {
		it := heap.Pop(&s.userQ).(expiryItem)
		if r, ok := s.users[it.key]; ok && r.until == it.until {
			delete(s.users, it.key)
		}
	}
	if s.hasCutoff && markUntil(s.cutoff, s.maxLifetime) <= now {
		s.cutoff, s.hasCutoff = 0, false // every session it refuses is past its lifetime
	}
}

type untilEntry interface{ expiry() int64 }

func (r revocation) expiry() int64 { return r.until }

// compact rebuilds q from m when stale items (left by repeated
// revocations of one key) make it more than twice as long as m, so the
// heap's size stays bounded too.
func compact[V untilEntry](m map[string]V, q *expiryHeap) {
	if q.Len() <= 2*len(m)+16 {
		return
	}
	*q = (*q)[:0]
	for k, r := range m {
		*q = append(*q, expiryItem{key: k, until: r.expiry()})
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
