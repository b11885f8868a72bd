package redisstore

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate"
	"github.com/redis/go-redis/v9"
)

// DefaultStaleness is the default [RevocationOptions.Staleness].
const DefaultStaleness = 10 * time.Second

// DefaultPingInterval is the default [RevocationOptions.PingInterval].
const DefaultPingInterval = time.Second

// DefaultMaxPending is the default [RevocationOptions.MaxPending].
const DefaultMaxPending = 100_000

// ErrStale reports a revocation lookup refused because the store has not
// heard from Redis for longer than [RevocationOptions.Staleness]. authgate
// takes it as a fault, not a sign-out: the request is refused (anonymous;
// 503 from the guards and /api/auth/session) and its session cookie is
// kept, so the same cookie is accepted again once Redis is back.
var ErrStale = errors.New("redisstore: revocations stale: redis unreachable for longer than the staleness window")

// RevocationOptions configures [NewRevocationStore]. The zero value is the
// documented default.
type RevocationOptions struct {
	// KeyPrefix starts every key and the channel name. The default is
	// [DefaultKeyPrefix].
	KeyPrefix string
	// Timeout bounds each call to Redis. The default is [DefaultTimeout].
	Timeout time.Duration
	// Staleness is how long the store keeps answering from its local view
	// after losing Redis. Past it, Revoked fails closed with [ErrStale]
	// until Redis is back and the view has been reloaded: no session is
	// accepted, none is signed out (authgate keeps the cookies). The
	// local view would miss every sign-out made on another instance
	// meanwhile, so answering from it longer would let a signed-out copy
	// in; the README weighs the two. The default is [DefaultStaleness],
	// 10 seconds.
	Staleness time.Duration
	// PingInterval is how often the store pings its subscription when no
	// message arrives; three intervals without hearing from Redis count as
	// a lost connection (a closed one counts at once). The default is
	// [DefaultPingInterval], 1 second.
	PingInterval time.Duration
	// MaxPending bounds the revocations made while Redis is unreachable
	// and kept, in this process, to be written once it is back. Past it,
	// RevokeSession and RevokeUser return an error wrapping
	// [ErrUnavailable] (the revocation still holds on this instance). The
	// default is [DefaultMaxPending].
	MaxPending int
	// MaxAge and MaxLifetime are the [authgate.Config] values of the Auth
	// using the store: a session id stays revoked at least MaxAge (plus
	// the clock-skew allowance) after its revocation, and a per-user mark
	// lives MaxLifetime (plus the allowance) past its time. MaxLifetime is
	// the store's [RevocationStore.Horizon]: authgate.New refuses the
	// store under a longer Config.MaxLifetime. The defaults are
	// [authgate.DefaultMaxAge] and [authgate.DefaultMaxLifetime].
	MaxAge, MaxLifetime time.Duration
	// MaxSessionsPerSubject bounds how many revoked sessions of one
	// subject Redis keeps exactly. Revoking one more folds the revocation
	// into a mark for that subject at the revoked session's sign-in time
	// (a later mark is kept), as
	// [authgate.MemoryRevocationOptions.MaxSessionsPerSubject] does in
	// memory: every session of that subject signed in until then ends, and
	// no other subject's, nor a session signed in after it. An account
	// signing in and out over and over thus holds at most this many keys in
	// Redis. The default is [authgate.DefaultRevocationsPerSubject].
	MaxSessionsPerSubject int
	// Local is each instance's in-memory view of the revocations, which
	// answers Revoked without I/O. A "not revoked" from it is final; a
	// "revoked" is confirmed against Redis, which holds the exact entries.
	// The default is an [authgate.MemoryRevocationStore] (exact entries,
	// per-subject folding, then a compact filter) with MaxAge,
	// MaxLifetime, MaxSessionsPerSubject, Logger and Now. A Local whose
	// Horizon is shorter than MaxLifetime shortens the store's.
	Local authgate.RevocationStore
	// Logger receives the store's warnings (Redis lost, back, reloaded).
	// The default is [slog.Default].
	Logger *slog.Logger
	// Now is the clock. The default is [time.Now].
	Now func() time.Time
}

// RevocationStore is an [authgate.RevocationStore] shared through Redis by
// every instance using the same database and KeyPrefix, with no Redis
// round trip on the request path.
//
// Redis holds the exact entries: one key per revoked session id
// (KeyPrefix+"r:s:"+id, holding the session's subject and sign-in time,
// living until the session's last copy expires) and
// one per subject signed out everywhere (KeyPrefix+"r:u:"+subject, living
// MaxLifetime). Ids and subjects longer than 64 bytes are stored as a hash.
// A revocation is written and published on the channel KeyPrefix+"r:events"
// by one Lua script, so no instance can see the key without the message
// being sent.
//
// Each instance keeps a local view (see [RevocationOptions.Local]): loaded
// from Redis by NewRevocationStore, kept current by the subscription, and
// loaded again (merged, since revocations only accumulate) whenever the
// subscription is re-established. Revoked asks the local view; only a
// "revoked" answer, which most requests never get, is confirmed with one
// Redis read, failing closed (revoked) when Redis does not answer.
//
// Faults: when Redis is lost, revocations made on this instance hold here
// at once and are queued (up to MaxPending) to be written when Redis is
// back; Revoked keeps answering from the local view for Staleness, then
// fails closed with [ErrStale] until the view has been reloaded. Every
// answer it cannot give for certain is an error, which authgate treats as
// a fault: the request is refused but no cookie is cleared. A
// restart of an instance reloads everything from Redis, so it never
// revives a signed-out session, provided Redis itself keeps its data (run
// it with persistence: see the README). Every Redis call is bounded by
// Timeout.
//
// It is safe for concurrent use. Close stops its subscription.
type RevocationStore struct {
	client       *redis.Client
	local        authgate.RevocationStore
	prefix       string
	channel      string
	timeout      time.Duration
	staleness    time.Duration
	ping         time.Duration
	maxAge       time.Duration
	maxLifetime  time.Duration
	maxPending   int
	perSubject   int
	logger       *slog.Logger
	now          func() time.Time
	revokeScript *redis.Script

	down      atomic.Bool  // the subscription is not known to be current
	downSince atomic.Int64 // Unix nanoseconds, from now

	pmu     sync.Mutex
	pending map[string]entry // key -> revocation not yet written

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	ps     *redis.PubSub                // owned by the run goroutine after start
	cur    atomic.Pointer[redis.PubSub] // ps, for Close to interrupt a read

	syncs atomic.Int64 // completed loads, for tests and metrics
}

var _ authgate.RevocationStore = (*RevocationStore)(nil)

//go:embed revoke.lua
var revokeLua string

// entry is one revocation as stored in Redis.
type entry struct {
	user    bool
	id      string // session id (user=false) or subject, normalised
	subject string // session's subject (user=false)
	// at is the latest sign-in time the entry covers, Unix milliseconds
	// rounded up: the mark (user=true), or the session's sign-in time (0
	// when a value written before sign-in times were stored is read back:
	// unknown).
	at    int64
	until int64 // Unix milliseconds after which it may be forgotten
}

// NewRevocationStore subscribes to the revocation channel, loads every
// revocation from Redis into the local view and starts keeping it
// current. It fails with an error wrapping [ErrUnavailable] when Redis
// does not answer (each call bounded by opts.Timeout), so an instance never
// starts without the revocations made before it.
func NewRevocationStore(ctx context.Context, client *redis.Client, opts RevocationOptions) (*RevocationStore, error) {
	if client == nil {
		return nil, errors.New("redisstore: NewRevocationStore: nil client")
	}
	s := &RevocationStore{
		client:       client,
		local:        opts.Local,
		prefix:       opts.KeyPrefix,
		timeout:      opts.Timeout,
		staleness:    opts.Staleness,
		ping:         opts.PingInterval,
		maxAge:       opts.MaxAge,
		maxLifetime:  opts.MaxLifetime,
		maxPending:   opts.MaxPending,
		perSubject:   opts.MaxSessionsPerSubject,
		logger:       opts.Logger,
		now:          opts.Now,
		revokeScript: redis.NewScript(revokeLua),
		pending:      make(map[string]entry),
		done:         make(chan struct{}),
	}
	if s.prefix == "" {
		s.prefix = DefaultKeyPrefix
	}
	s.channel = s.prefix + "r:events"
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.staleness <= 0 {
		s.staleness = DefaultStaleness
	}
	if s.ping <= 0 {
		s.ping = DefaultPingInterval
	}
	if s.maxAge <= 0 {
		s.maxAge = authgate.DefaultMaxAge
	}
	if s.maxLifetime <= 0 {
		s.maxLifetime = authgate.DefaultMaxLifetime
	}
	if s.maxPending <= 0 {
		s.maxPending = DefaultMaxPending
	}
	if s.perSubject <= 0 {
		s.perSubject = authgate.DefaultRevocationsPerSubject
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.local == nil {
		s.local = authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{
			MaxAge: s.maxAge, MaxLifetime: s.maxLifetime, Now: s.now, Logger: s.logger,
			MaxSessionsPerSubject: s.perSubject,
		})
	}

	// Subscribe before loading, so nothing published in between is missed.
	ps, err := s.subscribe(ctx)
	if err != nil {
		return nil, err
	}
	s.ps = ps
	if err := s.load(ctx); err != nil {
		ps.Close()
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.cur.Store(ps)
	go s.run()
	return s, nil
}

// subscribe opens the subscription and waits for Redis to confirm it.
func (s *RevocationStore) subscribe(ctx context.Context) (*redis.PubSub, error) {
	ps := s.client.Subscribe(ctx)
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := ps.Subscribe(cctx, s.channel); err != nil {
		ps.Close()
		return nil, unavailable("subscribe", err)
	}
	msg, err := ps.ReceiveTimeout(cctx, s.timeout)
	if err != nil {
		ps.Close()
		return nil, unavailable("subscribe", err)
	}
	if _, ok := msg.(*redis.Subscription); !ok {
		ps.Close()
		return nil, unavailable("subscribe", fmt.Errorf("unexpected %T", msg))
	}
	return ps, nil
}

// Close stops the subscription. The store then answers as during an
// outage: from its local view for Staleness, then with [ErrStale]. It does
// not close the client.
func (s *RevocationStore) Close() error {
	s.cancel()
	if ps := s.cur.Load(); ps != nil {
		ps.Close() // interrupts a read in progress
	}
	<-s.done
	if s.down.CompareAndSwap(false, true) {
		s.downSince.Store(s.now().UnixNano())
	}
	return nil
}

// Synced reports whether the local view is current and Redis has every
// revocation: subscribed, loaded since the last reconnection, and nothing
// queued to write.
func (s *RevocationStore) Synced() bool {
	if s.down.Load() {
		return false
	}
	s.pmu.Lock()
	defer s.pmu.Unlock()
	return len(s.pending) == 0
}

// Loads returns how many times the local view has been loaded from Redis
// (1 after NewRevocationStore, one more per reconnection). It is meant for
// tests and metrics.
func (s *RevocationStore) Loads() int64 { return s.syncs.Load() }

// RevokeSession revokes sessionID of subject, signed in at authTime, until
// expires, and at least MaxAge (plus the clock-skew allowance) past now.
// The sign-in time is stored with the entry, so a fold places its mark
// there on every instance; a zero authTime (unknown) counts as now. It
// holds on this instance at once; the other instances learn it from Redis
// within milliseconds. When Redis does not answer in Timeout, the
// revocation is queued and written once Redis is back; only a full queue
// is an error (wrapping [ErrUnavailable]).
func (s *RevocationStore) RevokeSession(ctx context.Context, sessionID, subject string, authTime, expires time.Time) error {
	now := s.now()
	if authTime.IsZero() {
		authTime = now
	}
	// Milliseconds, rounded up so a mark placed there still covers it.
	at := ceilMillis(authTime)
	id, sub := normalise(sessionID), normalise(subject)
	until := now.Add(s.maxAge + clockSkew)
	if expires.After(until) {
		until = expires
	}
	if err := s.local.RevokeSession(ctx, id, sub, time.UnixMilli(at), until); err != nil {
		return fmt.Errorf("redisstore: local view: %w", err)
	}
	return s.write(ctx, entry{id: id, subject: sub, at: at, until: until.UnixMilli()}, now)
}

// RevokeUser revokes every session of subject signed in at or before
// before. It holds on this instance at once and fails like RevokeSession.
func (s *RevocationStore) RevokeUser(ctx context.Context, subject string, before time.Time) error {
	now := s.now()
	sub := normalise(subject)
	if err := s.local.RevokeUser(ctx, sub, before); err != nil {
		return fmt.Errorf("redisstore: local view: %w", err)
	}
	// Sign-in times are compared at millisecond resolution, rounded up so
	// the comparison still fails closed.
	at := ceilMillis(before)
	until := at + s.markLifetime()
	if until <= now.UnixMilli() {
		return nil // every session it could revoke has expired
	}
	return s.write(ctx, entry{user: true, id: sub, at: at, until: until}, now)
}

// Horizon returns MaxLifetime, or the local view's Horizon when that is
// shorter: the longest session lifetime whose revocations the store keeps
// until they cannot matter.
func (s *RevocationStore) Horizon() time.Duration {
	return min(s.maxLifetime, s.local.Horizon())
}

// markLifetime is how long a mark is kept past its time, in milliseconds:
// MaxLifetime, plus the clock allowance for an instance whose clock is
// behind the one that set it.
func (s *RevocationStore) markLifetime() int64 {
	return (s.maxLifetime + clockSkew).Milliseconds()
}

// Revoked answers from the local view. A "not revoked" needs no I/O; a
// "revoked" is confirmed against Redis (one read). When it cannot be
// confirmed (Redis does not answer, or the store knows it lost Redis) the
// answer is a fault, not a verdict: true with an error wrapping
// [ErrUnavailable], so authgate refuses the request but keeps its cookie
// (the local view may hold a filter's false positive that only Redis can
// correct). A revocation made on this instance and still queued is
// confirmed without Redis. After Staleness without Redis every lookup
// returns true and [ErrStale], a fault too.
func (s *RevocationStore) Revoked(ctx context.Context, sessionID, subject string, authTime time.Time) (bool, error) {
	if s.down.Load() && s.now().UnixNano()-s.downSince.Load() > int64(s.staleness) {
		return true, ErrStale
	}
	id, sub := sessionID, subject
	if len(id) > maxKeyPart || len(sub) > maxKeyPart {
		id, sub = normalise(id), normalise(sub)
	}
	revoked, err := s.local.Revoked(ctx, id, sub, authTime)
	if err != nil || !revoked {
		return revoked, err
	}
	return s.confirm(ctx, id, sub, authTime)
}

// errUnconfirmed is the fault Revoked returns for a positive it cannot
// confirm.
var errUnconfirmed = fmt.Errorf("%w: a revocation the local view holds cannot be confirmed", ErrUnavailable)

// confirm asks the queue of unwritten revocations, then Redis, whether a
// session the local view says is revoked really is. It does not wait on a
// Redis the store knows is lost, and answers true with errUnconfirmed when
// Redis does not answer.
func (s *RevocationStore) confirm(ctx context.Context, id, sub string, authTime time.Time) (bool, error) {
	sKey, uKey := s.sessionKey(id), s.userKey(sub)
	auth := authTime.UnixMilli()
	s.pmu.Lock()
	pe, pok := s.pending[sKey]
	pu, uok := s.pending[uKey]
	s.pmu.Unlock()
	if (id != "" && pok && !pe.user) || (uok && auth <= pu.at) {
		return true, nil
	}
	if s.down.Load() {
		return true, errUnconfirmed
	}
	keys := []string{uKey}
	if id != "" {
		keys = append(keys, sKey)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	vals, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		return true, fmt.Errorf("%w: %w", errUnconfirmed, err)
	}
	if id != "" && vals[1] != nil {
		return true, nil
	}
	if v, ok := vals[0].(string); ok {
		at, err := strconv.ParseInt(v, 10, 64)
		return err != nil || auth <= at, nil
	}
	return false, nil
}

// write stores e in Redis and publishes it, or queues it when Redis does
// not answer.
func (s *RevocationStore) write(ctx context.Context, e entry, now time.Time) error {
	err := s.writeRedis(ctx, e, now)
	if err == nil {
		return nil
	}
	key := s.keyOf(e)
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if old, ok := s.pending[key]; ok {
		e.at, e.until = max(e.at, old.at), max(e.until, old.until)
	} else if len(s.pending) >= s.maxPending {
		return fmt.Errorf("%w (and %d revocations already wait to be written)", err, len(s.pending))
	}
	s.pending[key] = e
	s.logger.LogAttrs(ctx, slog.LevelWarn, "redisstore: revocation queued until redis is back",
		slog.String("event", "revocation_queued"), slog.Int("pending", len(s.pending)), slog.String("reason", err.Error()))
	return nil
}

func (s *RevocationStore) writeRedis(ctx context.Context, e entry, now time.Time) error {
	key := s.keyOf(e)
	nowMs := now.UnixMilli()
	ttl := e.until - nowMs
	if ttl <= 0 {
		return nil
	}
	value := e.value()
	keys := []string{key}
	args := []any{value, ttl, s.channel, message(key, value)}
	if e.user {
		args = append(args, "user")
	} else {
		// What a fold writes: the subject's mark at this session's
		// sign-in time, the one session it replaces, kept while a session
		// signed in by then can be valid.
		uKey, mark := s.userKey(e.subject), strconv.FormatInt(e.at, 10)
		keys = append(keys, s.prefix+"r:n:"+e.subject, uKey)
		args = append(args, "session", strconv.FormatInt(nowMs, 10), s.perSubject, e.at+s.markLifetime()-nowMs, message(uKey, mark), mark)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	folded, err := s.revokeScript.Run(ctx, s.client, keys, args...).Int()
	if err != nil {
		return unavailable("revoke", err)
	}
	if folded == 2 {
		// The mark holds on this instance at once, as the revocation it
		// replaces does, not once its message comes back: a sign-in here
		// right after is dated past it.
		_ = s.local.RevokeUser(ctx, e.subject, time.UnixMilli(e.at))
		s.logger.LogAttrs(ctx, slog.LevelWarn, "redisstore: revoked sessions folded into a per-user mark",
			slog.String("event", "revocation_folded"), slog.String("sub", e.subject), slog.Int("max_per_subject", s.perSubject))
	}
	return nil
}

// message is what the channel carries for one entry: "len(key):" + key +
// value, the same key and value a load reads.
func message(key, value string) string {
	return strconv.Itoa(len(key)) + ":" + key + value
}

func (s *RevocationStore) sessionKey(id string) string { return s.prefix + "r:s:" + id }
func (s *RevocationStore) userKey(sub string) string   { return s.prefix + "r:u:" + sub }

func (s *RevocationStore) keyOf(e entry) string {
	if e.user {
		return s.userKey(e.id)
	}
	return s.sessionKey(e.id)
}

// value is e's Redis value: the mark (users) or "until,at:subject"
// (sessions: expiry and sign-in time).
func (e entry) value() string {
	if e.user {
		return strconv.FormatInt(e.at, 10)
	}
	return strconv.FormatInt(e.until, 10) + "," + strconv.FormatInt(e.at, 10) + ":" + e.subject
}

// parseEntry reads a key and its value back into an entry.
func (s *RevocationStore) parseEntry(key, value string) (entry, bool) {
	switch {
	case strings.HasPrefix(key, s.prefix+"r:s:"):
		times, sub, ok := strings.Cut(value, ":")
		// A value without the sign-in time ("until:subject", as written
		// before it was stored) reads as unknown (0).
		until, at, hasAt := strings.Cut(times, ",")
		n, err := strconv.ParseInt(until, 10, 64)
		var a int64
		if err == nil && hasAt {
			a, err = strconv.ParseInt(at, 10, 64)
		}
		if !ok || err != nil {
			return entry{}, false
		}
		return entry{id: key[len(s.prefix)+4:], subject: sub, at: a, until: n}, true
	case strings.HasPrefix(key, s.prefix+"r:u:"):
		at, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return entry{}, false
		}
		return entry{user: true, id: key[len(s.prefix)+4:], at: at, until: at + s.markLifetime()}, true
	}
	return entry{}, false
}

// applyLocal adds e to the local view.
func (s *RevocationStore) applyLocal(ctx context.Context, e entry) {
	if e.user {
		_ = s.local.RevokeUser(ctx, e.id, time.UnixMilli(e.at))
		return
	}
	var authTime time.Time // unknown: the local view counts it as now
	if e.at != 0 {
		authTime = time.UnixMilli(e.at)
	}
	_ = s.local.RevokeSession(ctx, e.id, e.subject, authTime, time.UnixMilli(e.until))
}

// applyMessage adds a published revocation to the local view; a payload
// that does not parse is ignored.
func (s *RevocationStore) applyMessage(payload string) {
	if e, ok := s.parseMessage(payload); ok {
		s.applyLocal(context.Background(), e)
	}
}

// parseMessage reads a published revocation: "len(key):" + key + value.
func (s *RevocationStore) parseMessage(payload string) (entry, bool) {
	n, rest, ok := strings.Cut(payload, ":")
	l, err := strconv.Atoi(n)
	if !ok || err != nil || l < 0 || l > len(rest) {
		return entry{}, false
	}
	return s.parseEntry(rest[:l], rest[l:])
}

// load writes the queued revocations, then merges every revocation held in
// Redis into the local view.
func (s *RevocationStore) load(ctx context.Context) error {
	if err := s.flush(ctx); err != nil {
		return err
	}
	for _, kind := range []string{"r:s:", "r:u:"} {
		var cursor uint64
		for {
			cctx, cancel := context.WithTimeout(ctx, s.timeout)
			keys, next, err := s.client.Scan(cctx, cursor, escapeGlob(s.prefix+kind)+"*", 1000).Result()
			if err == nil && len(keys) > 0 {
				var vals []any
				vals, err = s.client.MGet(cctx, keys...).Result()
				for i, v := range vals {
					if str, ok := v.(string); ok {
						if e, ok := s.parseEntry(keys[i], str); ok {
							s.applyLocal(ctx, e)
						}
					}
				}
			}
			cancel()
			if err != nil {
				return unavailable("load revocations", err)
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	s.syncs.Add(1)
	return nil
}

func (s *RevocationStore) hasPending() bool {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	return len(s.pending) > 0
}

// flush writes the queued revocations.
func (s *RevocationStore) flush(ctx context.Context) error {
	s.pmu.Lock()
	batch := make(map[string]entry, len(s.pending))
	for k, e := range s.pending {
		batch[k] = e
	}
	s.pmu.Unlock()
	now := s.now()
	for k, e := range batch {
		if err := s.writeRedis(ctx, e, now); err != nil {
			return err
		}
		s.pmu.Lock()
		if cur, ok := s.pending[k]; ok && cur == e {
			delete(s.pending, k)
		}
		s.pmu.Unlock()
	}
	return nil
}

// run keeps the local view current until Close: it applies published
// revocations, pings when the channel is quiet, and on any loss of the
// subscription marks the store down, subscribes again and reloads.
func (s *RevocationStore) run() {
	defer close(s.done)
	defer func() {
		if s.ps != nil {
			s.ps.Close()
		}
	}()
	lastHeard, pinged := time.Now(), false
	backoff := 50 * time.Millisecond
	for s.ctx.Err() == nil {
		if s.ps == nil {
			ps, err := s.subscribe(s.ctx)
			if err == nil {
				err = s.load(s.ctx)
				if err != nil {
					ps.Close()
				}
			}
			if err != nil {
				s.markDown(err)
				s.sleep(backoff)
				backoff = min(2*backoff, s.ping)
				continue
			}
			s.ps, lastHeard, pinged, backoff = ps, time.Now(), false, 50*time.Millisecond
			s.cur.Store(ps)
			if s.ctx.Err() != nil {
				return // Close ran meanwhile; the deferred Close closes ps
			}
			s.markUp()
			continue
		}
		msg, err := s.ps.ReceiveTimeout(s.ctx, s.ping)
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			if isTimeout(err) {
				// A write that failed while the subscription stayed up is
				// retried here, once per quiet interval.
				if s.hasPending() {
					_ = s.flush(s.ctx)
				}
				if time.Since(lastHeard) < 3*s.ping {
					if !pinged {
						// Quiet channel: ask for a pong.
						pctx, cancel := context.WithTimeout(s.ctx, s.timeout)
						err = s.ps.Ping(pctx)
						cancel()
						pinged = err == nil
					}
					if err == nil || isTimeout(err) {
						continue
					}
				} else {
					err = fmt.Errorf("no answer to a ping in %v", 3*s.ping)
				}
			}
			s.markDown(err)
			s.ps.Close()
			s.ps = nil
			continue
		}
		lastHeard, pinged = time.Now(), false
		switch m := msg.(type) {
		case *redis.Message:
			s.applyMessage(m.Payload)
		case *redis.Subscription:
			// go-redis re-subscribed on a new connection by itself:
			// anything published meanwhile was missed.
			if m.Kind == "subscribe" {
				if err := s.load(s.ctx); err != nil {
					s.markDown(err)
					s.ps.Close()
					s.ps = nil
				}
			}
		}
	}
}

func (s *RevocationStore) markDown(err error) {
	if s.down.CompareAndSwap(false, true) {
		s.downSince.Store(s.now().UnixNano())
		s.logger.LogAttrs(context.Background(), slog.LevelWarn, "redisstore: lost redis; answering from the local view",
			slog.String("event", "redis_lost"), slog.Duration("staleness", s.staleness), slog.String("reason", err.Error()))
	}
}

func (s *RevocationStore) markUp() {
	if s.down.CompareAndSwap(true, false) {
		s.logger.LogAttrs(context.Background(), slog.LevelInfo, "redisstore: redis is back; revocations reloaded",
			slog.String("event", "redis_back"))
	}
}

func (s *RevocationStore) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ctx.Done():
	}
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// clockSkew is added to every retention. authgate accepts a token's iat 15
// seconds ahead of the clock that checks it, and instances' clocks may
// differ by as much: a minute covers both, with room.
const clockSkew = time.Minute

// maxKeyPart is the longest id or subject stored as it is.
const maxKeyPart = 64

// normalise returns s, or a fixed-size hash of it when it is longer than
// maxKeyPart, so no key grows with its input.
func normalise(s string) string {
	if len(s) <= maxKeyPart {
		return s
	}
	return "#" + hashKey(s)
}

// ceilMillis is t in Unix milliseconds, rounded up.
func ceilMillis(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 && ms < math.MaxInt64 {
		ms++
	}
	return ms
}

// escapeGlob escapes SCAN's pattern characters in s.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
