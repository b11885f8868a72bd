package nextauth

import (
	"fmt"
	"sync"
	"time"

	"github.com/authgate/authgate"
)

// V5CookieName is Auth.js v5's (@auth/core, next-auth 5) session cookie
// name. authgate adds the "__Secure-" prefix on https, as Auth.js does.
const V5CookieName = "authjs.session-token"

// V5 is an [authgate.Codec] for Auth.js v5 session tokens (@auth/core's
// jwt module, next-auth 5): a compact JWE with "alg":"dir", sealed with
// A256CBC-HS512 under HKDF-SHA256(secret, salt = the cookie's name, info
// "Auth.js Generated Encryption Key (<salt>)", 64 bytes), the header
// carrying "kid", the key's JWK thumbprint. Decode also accepts A256GCM
// (with a 32-byte key derived the same way), as Auth.js does.
//
// Several secrets rotate keys the Auth.js way: Encode seals with the first,
// Decode uses the secret whose key's thumbprint is the token's "kid" (the
// first secret when the token has none). Because the cookie's name is the
// HKDF salt, a value sealed for one cookie name never opens under another.
//
// Decode refuses, before decrypting anything, a value longer than
// [MaxTokenBytes], anything but five base64url parts with an empty key
// part, and every header other than alg "dir", enc A256CBC-HS512 or A256GCM
// and an optional kid (see [ErrHeader]); then a kid that names no secret
// ([ErrKey]) and a value that fails authentication. Of the times it checks
// only "nbf", as V4 does; authgate checks the others.
//
// A V5 is safe for concurrent use; its secrets are fixed at construction.
// It derives the keys of a cookie name on first use and remembers those of
// up to 8 names.
type V5 struct {
	now     func() time.Time
	secrets []string
	mu      sync.RWMutex
	byName  map[string]*v5Keys
}

// v5Keys are the keys of every secret for one cookie name.
type v5Keys struct {
	cbc, gcm []*contentKey // index = secret
}

// NewV5 returns the codec for secrets, the app's AUTH_SECRET first, older
// ones after it. It returns an error wrapping [ErrSecret] when there is no
// secret or one is empty.
func NewV5(secrets ...string) (*V5, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: set the AUTH_SECRET the Next.js app uses", ErrSecret)
	}
	for i, s := range secrets {
		if s == "" {
			return nil, fmt.Errorf("%w: secret %d is empty", ErrSecret, i)
		}
	}
	return &V5{secrets: append([]string(nil), secrets...), byName: map[string]*v5Keys{}, now: time.Now}, nil
}

// maxV5Names bounds how many cookie names' keys a V5 remembers.
const maxV5Names = 8

// keys returns the keys for cookie name, deriving them on first use.
func (c *V5) keys(name string) *v5Keys {
	c.mu.RLock()
	k := c.byName[name]
	c.mu.RUnlock()
	if k != nil {
		return k
	}
	k = &v5Keys{}
	for _, s := range c.secrets {
		info := "Auth.js Generated Encryption Key (" + name + ")"
		k.cbc = append(k.cbc, newContentKey(encCBC, deriveKey(s, name, info, 64), true))
		k.gcm = append(k.gcm, newContentKey(encGCM, deriveKey(s, name, info, 32), true))
	}
	c.mu.Lock()
	if len(c.byName) < maxV5Names {
		c.byName[name] = k
	}
	c.mu.Unlock()
	return k
}

// Encode seals value (an *authgate.Token) as an Auth.js session token for
// the cookie called name, with the first secret and A256CBC-HS512.
func (c *V5) Encode(name string, value any) (string, error) {
	pt, err := encodePayload(value)
	if err != nil {
		return "", err
	}
	return c.keys(name).cbc[0].seal(pt)
}

// Decode opens an Auth.js session token of the cookie called name into dst
// (an *authgate.Token).
func (c *V5) Decode(name, value string, dst any) error {
	if len(value) > MaxTokenBytes {
		return ErrTooLarge
	}
	parts, ok := splitCompact(value)
	if !ok {
		return fmt.Errorf("%w: not a compact JWE with direct encryption", ErrMalformed)
	}
	ks := c.keys(name)
	key := ks.byHeader(parts.header)
	if key == nil {
		h, err := parseHeader(parts.header, true, encCBC, encGCM)
		if err != nil {
			return err
		}
		if key = ks.byKID(h); key == nil {
			return ErrKey
		}
	}
	pt, err := key.open(parts)
	if err != nil {
		return err
	}
	return decodePayload(pt, dst, c.now)
}

// byHeader returns the key whose header jose would write is exactly h.
func (k *v5Keys) byHeader(h string) *contentKey {
	for i := range k.cbc {
		if k.cbc[i].hdr == h {
			return k.cbc[i]
		}
		if k.gcm[i].hdr == h {
			return k.gcm[i]
		}
	}
	return nil
}

// byKID returns the key for a checked header: the one whose thumbprint is
// its kid, or the first secret's when it has none, as Auth.js decides.
func (k *v5Keys) byKID(h header) *contentKey {
	list := k.cbc
	if h.enc == encGCM {
		list = k.gcm
	}
	if h.kid == "" {
		return list[0]
	}
	for _, ck := range list {
		if ck.kid == h.kid {
			return ck
		}
	}
	return nil
}

// CodecInfo tells authgate that V5's tokens may be minted by a Next.js app
// and that what its Decode accepts may be cached.
func (c *V5) CodecInfo() authgate.CodecInfo {
	return authgate.CodecInfo{Pure: true, Shared: true}
}
