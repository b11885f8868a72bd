package authgate

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The warm-token cache.
//
// Verifying a session cookie cold costs base64, a MAC, AES and JSON on
// every request, although the same browser sends the same cookie value
// until it is re-issued. tokenCache remembers the tokens that already passed
// decodeToken's MAC and decryption, keyed by a keyed 128-bit hash
// of the exact cookie value, so the next request with that value skips all
// of it.
//
// The key is AES-256 (a second random key) of the value's GMAC tag
// (AES-256-GCM with no plaintext, the value as additional data, a random
// key made when the cache is, a fixed nonce): a keyed universal hash, then
// a pseudo-random permutation, so keys are uniformly spread whatever the
// values look like (GHASH alone is linear: values that differ in a few bits
// would crowd into a few sets). The keys never leave the process, so to
// reach another session's entry an attacker must find a value whose key
// equals the entry's without ever seeing one: that chance is at most about
// (value length in 16-byte blocks)/2^128 per entry and try. The cache never
// stores the cookie value itself, only the 16-byte key.
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
// Memory is bounded: the cache is a table of cacheEntries slots in sets
// of cacheWays (set-associative, as a CPU cache): the key's first bytes pick
// the set, and a new entry takes a free slot of its set or evicts the set's
// oldest entry (FIFO within the set, approximately under concurrent
// inserts). Values longer than maxCachedValue bytes are never stored (they
// decode cold every time). An entry holds the 16-byte key and the decoded
// token, about 40 bytes besides the token's own few hundred, but no copy
// of the cookie value: a full cache holds cacheEntries × (token + 40 B),
// about 1.5 MiB for typical sessions, where entries keyed by the value
// held about 17 MiB.
//
// Lookups and inserts take no lock: each slot is an atomic pointer to an
// immutable entry. A miss costs the tag, cacheWays pointer loads and, once
// the value verified, one small allocation and a store; bench's cold ring
// compares that with no cache at all.
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
	mac   cipher.AEAD  // AES-256-GCM under a random key: GMAC of the value
	prp   cipher.Block // AES-256 under another random key, over the GMAC tag
	bufs  sync.Pool    // *macBuf
	slots [cacheEntries]atomic.Pointer[cacheEntry[T]]
	next  [cacheEntries / cacheWays]atomic.Uint32 // per set: the slot to evict next
}

const (
	// cacheEntries is how many verified tokens one Auth remembers.
	cacheEntries = 4096
	// cacheWays is how many entries share a set.
	cacheWays = 4
	// maxCachedValue is the longest cookie value the cache stores: four
	// NextAuth chunks.
	maxCachedValue = 4 * chunkSize
)

// cacheKey is the cache's 128-bit key of a cookie value.
type cacheKey [16]byte

// macBuf is where the AEAD writes a tag: pooled, because a tag written
// to a local array would escape through the AEAD interface.
type macBuf struct {
	tag, key cacheKey
}

// cacheNonce is GMAC's fixed nonce. Reusing it is safe because no tag is
// ever revealed.
var cacheNonce [12]byte

// cacheEntry is one verified token under its tag; never modified. loaded
// is when a database session's row was read (dbsession.go), in Unix
// nanoseconds; 0 for a decoded cookie.
type cacheEntry[T any] struct {
	key    cacheKey
	tok    *Token[T]
	loaded int64
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
	p, err := aes.NewCipher(randomBytes(32))
	if err != nil {
		panic("authgate: cache: " + err.Error())
	}
	c := &tokenCache[T]{mac: g, prp: p}
	c.bufs.New = func() any { return new(macBuf) }
	return c
}

// key returns the tag of value, and false when value is too long to be
// cached (or the cache is disabled).
func (c *tokenCache[T]) key(value string) (cacheKey, bool) {
	if c == nil || len(value) > maxCachedValue {
		return cacheKey{}, false
	}
	m := c.bufs.Get().(*macBuf)
	// The AEAD only reads its additional data, so it may read the string's
	// bytes in place rather than a copy.
	c.mac.Seal(m.tag[:0], cacheNonce[:], nil, unsafe.Slice(unsafe.StringData(value), len(value)))
	c.prp.Encrypt(m.key[:], m.tag[:])
	k := m.key
	c.bufs.Put(m)
	return k, true
}

// set returns the index of k's set: k is pseudo-random, so its first bytes
// spread the sets evenly.
func set(k cacheKey) int {
	return int(binary.LittleEndian.Uint32(k[:4]) % (cacheEntries / cacheWays))
}

// get returns the token stored under k. The token is shared: callers must
// not modify it (decodeToken hands a copy to code that might).
func (c *tokenCache[T]) get(k cacheKey) (*Token[T], bool) {
	if c == nil {
		return nil, false
	}
	base := set(k) * cacheWays
	for i := base; i < base+cacheWays; i++ {
		if e := c.slots[i].Load(); e != nil && e.key == k {
			return e.tok, true
		}
	}
	return nil, false
}

// put stores tok, which decodeToken verified, under k: in a free slot of
// k's set, or in place of the set's oldest entry. tok must not be modified
// afterwards: the caller hands code that might a copy.
func (c *tokenCache[T]) put(k cacheKey, tok *Token[T]) {
	if c == nil {
		return
	}
	s := set(k)
	base := s * cacheWays
	free := -1
	for i := base; i < base+cacheWays; i++ {
		e := c.slots[i].Load()
		if e == nil {
			if free < 0 {
				free = i
			}
		} else if e.key == k {
			return // stored already (by a concurrent request)
		}
	}
	e := &cacheEntry[T]{key: k, tok: tok}
	if free >= 0 && c.slots[free].CompareAndSwap(nil, e) {
		return
	}
	c.slots[base+int((c.next[s].Add(1)-1)%cacheWays)].Store(e)
}

// entry returns the entry stored under k, or nil.
func (c *tokenCache[T]) entry(k cacheKey) *cacheEntry[T] {
	if c == nil {
		return nil
	}
	base := set(k) * cacheWays
	for i := base; i < base+cacheWays; i++ {
		if e := c.slots[i].Load(); e != nil && e.key == k {
			return e
		}
	}
	return nil
}

// replace stores tok under k as put does, but in place of an entry
// already stored under k: a database session's row, read again or
// changed. tok must not be modified afterwards.
func (c *tokenCache[T]) replace(k cacheKey, tok *Token[T], loaded int64) {
	if c == nil {
		return
	}
	e := &cacheEntry[T]{key: k, tok: tok, loaded: loaded}
	s := set(k)
	base := s * cacheWays
	for i := base; i < base+cacheWays; i++ {
		if old := c.slots[i].Load(); old != nil && old.key == k && c.slots[i].CompareAndSwap(old, e) {
			return
		}
	}
	for i := base; i < base+cacheWays; i++ {
		if c.slots[i].CompareAndSwap(nil, e) {
			return
		}
	}
	c.slots[base+int((c.next[s].Add(1)-1)%cacheWays)].Store(e)
}

// len returns how many tokens are cached.
func (c *tokenCache[T]) len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			n++
		}
	}
	return n
}
