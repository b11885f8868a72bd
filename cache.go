package authgate

import (
	"crypto/aes"
	"crypto/cipher"
	"sync"
)

// The warm-token cache.
//
// Verifying a session cookie cold costs base64, a MAC, AES and JSON on
// every request, although the same browser sends the same cookie value
// until it is re-issued. tokenCache remembers the tokens that already passed
// [Auth.decodeToken]'s MAC and decryption, keyed by a keyed 128-bit hash
// of the exact cookie value, so the next request with that value skips all
// of it.
//
// The key is GMAC (AES-256-GCM with no plaintext, the value as additional
// data) under a random key made when the cache is, with a fixed nonce. The
// key and the tags never leave the process, so to reach another session's
// entry an attacker must find a value whose tag equals the entry's without
// ever seeing a tag: GHASH is a universal hash, and that chance is at most
// about (value length in 16-byte blocks)/2^128 per entry and try. The cache
// never stores the cookie value itself, only the 16-byte tag.
//
// What the cache skips and what it does not:
//
//   - It skips only the pure function "cookie bytes → verified token" of the
//     Auth's codec, whose keys are fixed when [New] builds the Auth: the
//     same bytes always decode to the same token, so a hit returns exactly
//     what a cold decode would. Only values that decoded successfully are
//     stored; a tampered value never is, and a value that differs by one
//     byte has another tag and goes through the codec.
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
//   - The cache is used with the built-in codec and with a custom
//     [Config.Codec] that reports [CodecInfo.Pure] (the nextauth codecs
//     do). Any other custom codec may change what it accepts over time (its
//     own key rotation or denylist), so with one every request decodes cold.
//
// Memory is bounded: at most cacheEntries entries (cacheShards shards of
// cacheShardEntries, each evicting its oldest entry first, FIFO), and values
// longer than maxCachedValue bytes are never stored (they decode cold every
// time). An entry holds the 16-byte tag, the decoded token (a few hundred
// bytes for a typical session) and about 50 bytes of map and ring, but no
// copy of the cookie value: a full cache of typical sessions holds about
// 1.5 MiB, against about 17 MiB when entries were keyed by the value.
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
	mac    cipher.AEAD // AES-256-GCM under a random key: GMAC of the value
	bufs   sync.Pool   // *macBuf
	shards [cacheShards]cacheShard[T]
}

const (
	cacheShards       = 16
	cacheShardEntries = 256
	// cacheEntries is how many verified tokens one Auth remembers.
	cacheEntries = cacheShards * cacheShardEntries
	// maxCachedValue is the longest cookie value the cache stores: four
	// NextAuth chunks.
	maxCachedValue = 4 * chunkSize
)

// cacheKey is the GMAC tag of a cookie value.
type cacheKey [16]byte

// macBuf is scratch space for one tag: the value is copied here because
// the AEAD takes bytes, and the tag is written beside it.
type macBuf struct {
	b   []byte
	tag cacheKey
}

// cacheNonce is GMAC's fixed nonce. Reusing it is safe because no tag is
// ever revealed.
var cacheNonce [12]byte

type cacheShard[T any] struct {
	mu   sync.RWMutex
	idx  map[cacheKey]int // tag of the cookie value -> position in ring
	ring []cacheEntry[T]
	next int // the oldest entry once ring is full: the next to evict
	_    [64]byte
}

type cacheEntry[T any] struct {
	key cacheKey
	tok *Token[T] // never modified after put
}

// newTokenCache returns an empty cache with a fresh random MAC key.
func newTokenCache[T any]() *tokenCache[T] {
	b, err := aes.NewCipher(randomBytes(32))
	if err != nil {
		panic("authgate: cache: " + err.Error()) // a 32-byte key cannot fail
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic("authgate: cache: " + err.Error())
	}
	c := &tokenCache[T]{mac: g}
	c.bufs.New = func() any { return &macBuf{b: make([]byte, 0, 1024)} }
	for i := range c.shards {
		c.shards[i].idx = make(map[cacheKey]int)
	}
	return c
}

// key returns the tag of value, and false when value is too long to be
// cached (or the cache is disabled).
func (c *tokenCache[T]) key(value string) (cacheKey, bool) {
	if c == nil || len(value) > maxCachedValue {
		return cacheKey{}, false
	}
	m := c.bufs.Get().(*macBuf)
	m.b = append(m.b[:0], value...)
	c.mac.Seal(m.tag[:0], cacheNonce[:], nil, m.b)
	k := m.tag
	if cap(m.b) <= maxCachedValue {
		c.bufs.Put(m)
	}
	return k, true
}

// shard picks the shard by the tag's first byte: uniformly spread.
func (c *tokenCache[T]) shard(k cacheKey) *cacheShard[T] {
	return &c.shards[k[0]%cacheShards]
}

// get returns the token stored under k. The token is shared: callers must
// not modify it (decodeToken hands a copy to code that might).
func (c *tokenCache[T]) get(k cacheKey) (*Token[T], bool) {
	if c == nil {
		return nil, false
	}
	sh := c.shard(k)
	sh.mu.RLock()
	i, ok := sh.idx[k]
	var tok *Token[T]
	if ok {
		tok = sh.ring[i].tok
	}
	sh.mu.RUnlock()
	return tok, ok
}

// put stores tok, which decodeToken verified, under k, evicting the
// shard's oldest entry when it is full. tok must not be modified
// afterwards: the caller hands code that might a copy.
func (c *tokenCache[T]) put(k cacheKey, tok *Token[T]) {
	if c == nil {
		return
	}
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.idx[k]; ok {
		return
	}
	e := cacheEntry[T]{key: k, tok: tok}
	if len(sh.ring) < cacheShardEntries {
		sh.idx[k] = len(sh.ring)
		sh.ring = append(sh.ring, e)
		return
	}
	delete(sh.idx, sh.ring[sh.next].key)
	sh.ring[sh.next] = e
	sh.idx[k] = sh.next
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
