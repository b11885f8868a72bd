package nextauth

import (
	"fmt"
	"time"

	"github.com/authgate/authgate"
)

// V4CookieName is NextAuth v4's session cookie name. authgate adds the
// "__Secure-" prefix on https, as NextAuth does.
const V4CookieName = "next-auth.session-token"

// MaxTokenBytes bounds the value a codec decodes: four of NextAuth's
// 3933-character chunks, rounded up. A longer value is refused with
// [ErrTooLarge] before anything else is done with it.
const MaxTokenBytes = 16 << 10

// V4 is an [authgate.Codec] for NextAuth v4 (next-auth 4.x) session tokens:
// a compact JWE with the protected header {"alg":"dir","enc":"A256GCM"},
// sealed with AES-256-GCM under the key HKDF-SHA256(secret, salt "", info
// "NextAuth.js Generated Encryption Key", 32 bytes), exactly as next-auth's
// encode and decode in next-auth/jwt. A Next.js app and an authgate server
// configured with the same secret read each other's session cookies.
//
// The payload maps to [authgate.Token] as described in the package doc.
// Decode refuses, before decrypting anything, a value longer than
// [MaxTokenBytes], anything but five base64url parts with an empty key
// part, and every header but the one above (see [ErrHeader]); then a value
// that fails authentication. Of the times it checks only "nbf" (the token
// is refused with [ErrNotYetValid] while it is more than 15 s ahead, as
// NextAuth does); authgate checks the others on every request, from the
// decoded iat, exp and auth_time.
//
// NextAuth v4 seals the session token with the same key whatever the
// cookie is called, so the name argument of Encode and Decode is not
// bound into the value.
//
// A V4 is safe for concurrent use; its key is fixed at construction, so
// a value Decode accepts it accepts with the same result for its whole
// life (a value refused for its "nbf" is accepted later), and authgate
// may cache it.
type V4 struct {
	key *contentKey
	now func() time.Time
}

// NewV4 returns the codec for secret, the app's NEXTAUTH_SECRET (or
// AUTH_SECRET). It returns an error wrapping [ErrSecret] when secret is
// empty.
func NewV4(secret string) (*V4, error) {
	if secret == "" {
		return nil, fmt.Errorf("%w: set the NEXTAUTH_SECRET the Next.js app uses", ErrSecret)
	}
	return &V4{key: newContentKey(encGCM, deriveKey(secret, "", "NextAuth.js Generated Encryption Key", 32), false), now: time.Now}, nil
}

// Encode seals value (an *authgate.Token) as a NextAuth v4 session token.
func (c *V4) Encode(name string, value any) (string, error) {
	pt, err := encodePayload(value)
	if err != nil {
		return "", err
	}
	return c.key.seal(pt)
}

// Decode opens a NextAuth v4 session token into dst (an *authgate.Token).
func (c *V4) Decode(name, value string, dst any) error {
	if len(value) > MaxTokenBytes {
		return ErrTooLarge
	}
	parts, ok := splitCompact(value)
	if !ok {
		return fmt.Errorf("%w: not a compact JWE with direct encryption", ErrMalformed)
	}
	// jose writes exactly this header; anything else is parsed strictly.
	if parts.header != c.key.hdr {
		if _, err := parseHeader(parts.header, false, encGCM); err != nil {
			return err
		}
	}
	pt, err := c.key.open(parts)
	if err != nil {
		return err
	}
	return decodePayload(pt, dst, c.now)
}

// CodecInfo tells authgate that V4's tokens may be minted by a Next.js app
// and that what its Decode accepts may be cached.
func (c *V4) CodecInfo() authgate.CodecInfo {
	return authgate.CodecInfo{Pure: true, Shared: true}
}
