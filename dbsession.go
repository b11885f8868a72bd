package authgate

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Sessions with an adapter ([Config.Adapter]).
//
// Database sessions ([Config.DatabaseSessions]): the cookie carries an
// opaque token, 32 random bytes and a 16-byte HMAC tag keyed from the
// secrets (so a forged token is refused without a database read), and the
// session row holds the token's SHA-256 hash and the session's token (what
// the JWT callback returned) as JSON. A verified token is remembered in a
// bounded per-Auth cache (the warm cache's structure, cache.go) for
// dbCacheTTL, so a warm request reads no database; the revocation check
// (checkToken) still runs on every request, which is how an ended session
// is refused at once on every instance sharing the RevocationStore.
//
// JWT sessions with an adapter: each sign-in registers its session id in
// a row without a token, for the device list.
//
// Both: the row's last-seen time is written at most once per
// touchInterval per session (rounded down to it, so instances agree and
// the adapter writes it once), after the response, off the request path.

const (
	// dbTokenBytes and dbTagBytes make the cookie value of a database
	// session: random bytes, then an HMAC-SHA256 tag truncated to 16 bytes.
	dbTokenBytes = 32
	dbTagBytes   = 16
	// dbTokenLen is the cookie value's length, base64url without padding.
	dbTokenLen = (dbTokenBytes + dbTagBytes) * 4 / 3
	// dbCacheTTL bounds how long a database session is served from the
	// cache before its row is read again: how long a change another
	// instance made to the row (new claims, a deletion not sent through
	// the RevocationStore) may go unseen.
	dbCacheTTL = time.Minute
	// touchInterval is the resolution of a session's last-seen time and
	// the least time between two writes of it.
	touchInterval = 5 * time.Minute
	// maxTouches bounds the last-seen writes in flight; more are skipped
	// until the next interval.
	maxTouches = 16
	// maxUserAgent bounds the stored User-Agent.
	maxUserAgent = 160
)

// purposeDBToken keys the tag of database session tokens.
const purposeDBToken = "authgate database session token v1"

// sessionStore is what an Auth keeps for an adapter.
type sessionStore[T any] struct {
	tagKeys  [][]byte       // first tags, all verify
	cache    *tokenCache[T] // database sessions by cookie value
	touched  touchTracker
	inflight atomic.Int32
	wg       sync.WaitGroup // last-seen writes in flight (tests wait on it)
}

// initSessions prepares the adapter's side of an Auth.
func (a *Auth[T]) initSessions() {
	if a.cfg.Adapter == nil {
		return
	}
	s := &sessionStore[T]{}
	for _, sec := range a.cfg.Secrets {
		s.tagKeys = append(s.tagKeys, deriveKey([]byte(sec), purposeDBToken))
	}
	if a.cfg.DatabaseSessions {
		s.cache = newTokenCache[T]()
	}
	a.store = s
}

// newDBToken returns a new cookie value and the hash the row keeps.
func (a *Auth[T]) newDBToken() (string, []byte) {
	var b [dbTokenBytes + dbTagBytes]byte
	rand.Read(b[:dbTokenBytes])
	m := hmac.New(sha256.New, a.store.tagKeys[0])
	m.Write(b[:dbTokenBytes])
	copy(b[dbTokenBytes:], m.Sum(nil))
	h := sha256.Sum256(b[:dbTokenBytes])
	return base64.RawURLEncoding.EncodeToString(b[:]), h[:]
}

// dbTokenHash verifies the tag of a cookie value and returns the hash of
// its token, or false for anything authgate did not mint.
func (a *Auth[T]) dbTokenHash(value string) ([]byte, bool) {
	if len(value) != dbTokenLen {
		return nil, false
	}
	var b [dbTokenBytes + dbTagBytes]byte
	if n, err := base64.RawURLEncoding.Decode(b[:], []byte(value)); err != nil || n != len(b) {
		return nil, false
	}
	ok := false
	for _, k := range a.store.tagKeys {
		m := hmac.New(sha256.New, k)
		m.Write(b[:dbTokenBytes])
		ok = hmac.Equal(m.Sum(nil)[:dbTagBytes], b[dbTokenBytes:]) || ok
	}
	if !ok {
		return nil, false
	}
	h := sha256.Sum256(b[:dbTokenBytes])
	return h[:], true
}

// dbToken returns the token of the database session whose cookie value is
// raw: from the cache while it is fresh, else from the adapter. A value
// authgate did not mint, or a session the adapter no longer has, is an
// error wrapping ErrInvalidSession or ErrSessionRevoked (a verdict); an
// adapter that cannot answer, ErrStore (a fault).
func (a *Auth[T]) dbToken(ctx context.Context, raw string, now time.Time) (*Token[T], error) {
	k, _ := a.store.cache.key(raw)
	if e := a.store.cache.entry(k); e != nil && now.UnixNano()-e.loaded < int64(dbCacheTTL) {
		return a.unshared(e.tok), nil
	}
	hash, ok := a.dbTokenHash(raw)
	if !ok {
		return nil, fmt.Errorf("%w: not a session token of this deployment", ErrInvalidSession)
	}
	row, err := a.cfg.Adapter.SessionByToken(ctx, hash)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("%w: no such session in the adapter", ErrSessionRevoked)
	case err != nil:
		return nil, fmt.Errorf("%w: read session: %w", ErrStore, err)
	}
	tok := new(Token[T])
	if err := json.Unmarshal(row.Data, tok); err != nil {
		return nil, fmt.Errorf("%w: session row: %w", ErrInvalidSession, err)
	}
	if tok.ID != row.ID || tok.Subject != row.UserID {
		return nil, fmt.Errorf("%w: session row does not match its token", ErrInvalidSession)
	}
	tok.ExpiresAt = row.Expires.Unix()
	a.store.cache.replace(k, tok, now.UnixNano())
	return a.unshared(tok), nil
}

// mint turns a new session's token, stamped, into its cookie value: with
// database sessions a new row and an opaque token, else the encoded token
// (and, with an adapter, a row registering it for the device list). r is
// the signing-in request, or nil (NewSessionCookies).
func (a *Auth[T]) mint(ctx context.Context, r *http.Request, tok *Token[T]) (string, error) {
	if a.store == nil {
		return a.encode(ctx, tok)
	}
	var v string
	var hash, data []byte
	var err error
	if a.cfg.DatabaseSessions {
		a.stamp(ctx, tok, a.now())
		if data, err = json.Marshal(tok); err != nil {
			return "", fmt.Errorf("%w: encode session: %w", ErrConfig, err)
		}
		v, hash = a.newDBToken()
	} else if v, err = a.encode(ctx, tok); err != nil {
		return "", err
	}
	now := a.now()
	row := &AdapterSession{
		ID: tok.ID, TokenHash: hash, UserID: tok.Subject, Data: data,
		Created: time.Unix(tok.AuthTime, 0).UTC(), LastSeen: now.Truncate(touchInterval).UTC(),
		Expires: time.Unix(tok.ExpiresAt, 0).UTC(),
	}
	if r != nil {
		row.UserAgent, row.Address = clipUserAgent(r.UserAgent()), coarseAddr(a.clientAddr(r))
	}
	if err := a.cfg.Adapter.CreateSession(ctx, row); err != nil {
		return "", fmt.Errorf("%w: create session: %w", ErrStore, err)
	}
	a.store.touched.mark(tok.ID, row.LastSeen.Unix())
	return v, nil
}

// storeDB writes tok, re-issued by the JWT callback, into its database
// session and the cache, and sets the cookie (the same value) again with
// the new expiry.
func (a *Auth[T]) storeDB(ctx context.Context, w http.ResponseWriter, r *http.Request, raw string, tok *Token[T]) error {
	now := a.now()
	a.stamp(ctx, tok, now)
	data, err := json.Marshal(tok)
	if err != nil {
		return fmt.Errorf("%w: encode session: %w", ErrConfig, err)
	}
	seen := now.Truncate(touchInterval).UTC()
	err = a.cfg.Adapter.UpdateSession(ctx, &AdapterSession{ID: tok.ID, Data: data, LastSeen: seen, Expires: time.Unix(tok.ExpiresAt, 0).UTC()})
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: the session ended", ErrSessionRevoked)
	case err != nil:
		return fmt.Errorf("%w: update session: %w", ErrStore, err)
	}
	a.store.touched.mark(tok.ID, seen.Unix())
	k, _ := a.store.cache.key(raw)
	a.store.cache.replace(k, cloneToken(tok), now.UnixNano())
	if w != nil {
		return a.setSessionCookies(w, r, raw, time.Unix(tok.ExpiresAt, 0), now)
	}
	return nil
}

// touch records, at most once per touchInterval, that the session of tok
// was used: the row's last-seen time and, for a database session, its
// sliding expiry (the cookie, with w, is set again to match). The write
// happens after the request, in the background; a failure is logged and
// tried again in the next interval.
func (a *Auth[T]) touch(w http.ResponseWriter, r *http.Request, raw string, tok *Token[T], now time.Time) {
	if a.store == nil {
		return
	}
	bucket := now.Truncate(touchInterval)
	if !a.store.touched.due(tok.ID, bucket.Unix()) {
		return
	}
	exp := time.Unix(tok.ExpiresAt, 0)
	if a.cfg.DatabaseSessions {
		exp = time.Unix(min(now.Add(a.cfg.MaxAge).Unix(), tok.AuthTime+int64(a.cfg.MaxLifetime/time.Second)), 0)
		if w != nil {
			a.setSessionCookies(w, r, raw, exp, now)
		}
		next := cloneToken(tok)
		next.ExpiresAt = exp.Unix()
		k, _ := a.store.cache.key(raw)
		a.store.cache.replace(k, next, now.UnixNano())
	}
	if a.store.inflight.Add(1) > maxTouches {
		a.store.inflight.Add(-1)
		return // busy: the next request of this session tries again
	}
	a.store.touched.mark(tok.ID, bucket.Unix())
	row := &AdapterSession{ID: tok.ID, LastSeen: bucket.UTC(), Expires: exp.UTC()}
	a.store.wg.Add(1)
	go func() {
		defer a.store.wg.Done()
		defer a.store.inflight.Add(-1)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		defer cancel()
		if err := a.cfg.Adapter.UpdateSession(ctx, row); err != nil && !errors.Is(err, ErrNotFound) {
			a.logNoisy(ctx, noisyFault, slog.LevelError, "authgate: last-seen write failed",
				slog.String("event", "session_touch_error"), slog.String("reason", clip(err.Error())))
		}
	}()
}

// touchTracker remembers, per session id, the last-seen interval this
// instance wrote. It is bounded: when it holds maxTracked ids it starts
// again empty (costing at most one extra write per session).
type touchTracker struct {
	m sync.Map // session id → Unix seconds of the interval written
	n atomic.Int64
}

const maxTracked = 1 << 16

func (t *touchTracker) due(id string, bucket int64) bool {
	v, ok := t.m.Load(id)
	return !ok || v.(int64) < bucket
}

func (t *touchTracker) mark(id string, bucket int64) {
	if t.n.Add(1) > maxTracked {
		t.m.Clear()
		t.n.Store(0)
	}
	t.m.Store(id, bucket)
}

// clipUserAgent keeps the first maxUserAgent bytes of ua, on a rune
// boundary, without control characters.
func clipUserAgent(ua string) string {
	ua = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, ua)
	if len(ua) <= maxUserAgent {
		return ua
	}
	i := maxUserAgent
	for i > 0 && !utf8.RuneStart(ua[i]) {
		i--
	}
	return ua[:i]
}

// coarseAddr is the network a device list shows for a client address: its
// IPv4 /24 or IPv6 /48, never the address itself; "" when addr is not an
// IP address.
func coarseAddr(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	ip = ip.WithZone("").Unmap()
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}
