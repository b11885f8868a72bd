package authgate

import (
	"hash/maphash"
	"strings"
	"sync"
)

// The warm-token cache.
//
// Verifying a session cookie cold costs base64, HMAC-SHA256, AES and JSON
// on every request, although the same browser sends the same cookie value
// until it is re-issued. tokenCache remembers the tokens that already passed
// [Auth.decodeToken]'s MAC and decryption, keyed by the exact cookie value,
// so the next request with that value skips all of it.
//
// What the cache skips and what it does not:
//
//   - It skips only the pure function "cookie bytes → verified token" of the
//     Auth's codec, whose keys are fixed when [New] builds the Auth: the
//     same bytes always decode to the same token, so a hit returns exactly
//     what a cold decode would. Only values that decoded successfully are
//     stored; a tampered value never is, and since the key is the whole
//     value (compared byte for byte by the map, not by a hash), a value that
//     differs by one byte is a miss and goes through the codec.
//   - Everything that depends on time or server-side state still runs on
//     every request, hit or miss: checkToken's audience and shape checks,
//     the future-dated, idle and absolute expiry checks against the Auth's
//     clock, and the revocation lookup; then the Session callback.
//   - securecookie's own timestamp limit (MaxLifetime + clock skew) is
//     implied by checkToken: the timestamp is taken when the token is
//     encoded, when IssuedAt is stamped, and checkToken refuses any token
//     older than AuthTime + MaxLifetime, with AuthTime ≤ IssuedAt.
//   - Key rotation: the cache belongs to one *Auth, and an Auth's secrets
//     never change after New. Rotating keys means building a new Auth,
//     whose cache starts empty, so a value minted with a removed key is
//     decoded cold by the new key set and refused.
//   - The cache is used only with the built-in codec. A custom
//     [Config.Codec] may change what it accepts over time (its own key
//     rotation or denylist), so with one every request decodes cold.
//
// Memory is bounded: at most cacheEntries entries (cacheShards shards of
// cacheShardEntries, each evicting its oldest entry first, FIFO), and values
// longer than maxCachedValue bytes are never stored (they decode cold every
// time). An entry holds its own copy of the cookie value (never a slice of
// the request's Cookie header), the decoded token (whose strings come from
// the same ≤ maxCachedValue bytes) and about 300 bytes of bookkeeping, so
// the cache holds at most about cacheEntries × (2 × maxCachedValue + 300 B)
// ≈ 17 MiB; a full cache of typical 500-byte cookies holds about 3 MiB
// (measured by TestCacheMemoryIsBounded).
//
// Cached tokens are immutable. A hit returns the cached *Token itself (no
// allocation) when no Session callback is configured, since authgate's own
// code only reads it: refresh and update run the JWT callback on a clone,
// and sign-out hands the SignOut event a clone. With a Session callback,
// decodeToken hands out a shallow copy, so app code that modifies the Token
// it is given cannot change the cached entry. The Roles slice and any
// reference types inside the Claims are shared either way and must be
// treated as read-only, as the Session doc already asks.
//
// tokenCache is safe for concurrent use. A nil *tokenCache is a disabled
// cache: every lookup misses and nothing is stored.
type tokenCache[T any] struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard[T]
}

const (
	cacheShards       = 16
	cacheShardEntries = 256
	// cacheEntries is how many verified tokens one Auth remembers.
	cacheEntries = cacheShards * cacheShardEntries
	// maxCachedValue is the longest cookie value the cache stores.
	maxCachedValue = 2048
)

type cacheShard[T any] struct {
	mu   sync.RWMutex
	idx  map[string]int // cookie value -> position in ring
	ring []cacheEntry[T]
	next int // the oldest entry once ring is full: the next to evict
	_    [64]byte
}

type cacheEntry[T any] struct {
	key string
	tok *Token[T] // never modified after put
}

// newTokenCache returns an empty cache.
func newTokenCache[T any]() *tokenCache[T] {
	c := &tokenCache[T]{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].idx = make(map[string]int)
	}
	return c
}

// shard picks the shard by a seeded hash of the value's last 16 bytes, which
// for a stored (verified) value encode its MAC: uniformly spread, and half
// the work of hashing the whole value before the map hashes it again.
func (c *tokenCache[T]) shard(key string) *cacheShard[T] {
	return &c.shards[maphash.String(c.seed, key[max(0, len(key)-16):])%cacheShards]
}

// get returns the token stored for the exact cookie value key. The token is
// shared: callers must not modify it (decodeToken hands a copy to code that
// might).
func (c *tokenCache[T]) get(key string) (*Token[T], bool) {
	if c == nil || len(key) > maxCachedValue {
		return nil, false
	}
	sh := c.shard(key)
	sh.mu.RLock()
	i, ok := sh.idx[key]
	var tok *Token[T]
	if ok {
		tok = sh.ring[i].tok
	}
	sh.mu.RUnlock()
	return tok, ok
}

// put stores a copy of tok, which decodeToken verified, for the exact
// cookie value key, evicting the shard's oldest entry when it is full.
func (c *tokenCache[T]) put(key string, tok *Token[T]) {
	if c == nil || len(key) > maxCachedValue {
		return
	}
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.idx[key]; ok {
		return
	}
	// Own copy: key may be a slice of the whole Cookie header.
	cp := new(Token[T])
	*cp = *tok // the caller may go on to modify tok
	e := cacheEntry[T]{key: strings.Clone(key), tok: cp}
	if len(sh.ring) < cacheShardEntries {
		sh.idx[e.key] = len(sh.ring)
		sh.ring = append(sh.ring, e)
		return
	}
	delete(sh.idx, sh.ring[sh.next].key)
	sh.ring[sh.next] = e
	sh.idx[e.key] = sh.next
	sh.next = (sh.next + 1) % cacheShardEntries
}

// len returns how many tokens are cached.
func (c *tokenCache[T]) len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		n += len(sh.idx)
		sh.mu.RUnlock()
	}
	return n
}
