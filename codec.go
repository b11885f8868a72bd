package authgate

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/gorilla/securecookie"
)

// Codec turns a value into a cookie value and back, binding it to the
// cookie's name. It has the shape of [securecookie.Codec], so a
// *securecookie.SecureCookie is a Codec. Decode must fail for a value that
// was not produced by Encode with the same name, and must be safe for
// concurrent use.
//
// The default codec is securecookie with JSON, HMAC-SHA256 and
// AES-256 (CTR), keyed per purpose from [Config.Secrets]. The module
// github.com/authgate/authgate/nextauth has codecs for NextAuth's own
// session tokens (v4 and Auth.js v5). A Codec may describe itself to
// authgate by implementing [CodecDescriber].
type Codec interface {
	Encode(name string, value any) (string, error)
	Decode(name, value string, dst any) error
}

// CodecInfo is what a [Codec] tells authgate about itself through
// [CodecDescriber]. Its zero value, which a Codec without CodecInfo gets,
// is the cautious one: no cache, only tokens of authgate's own shape.
type CodecInfo struct {
	// Pure reports that a value Decode accepts, it accepts with the same
	// result for the codec's whole life (keys fixed at construction, no
	// denylist of its own; a value refused until a time it names, such as
	// a JWT's "nbf", may be accepted later), so authgate may remember
	// verified tokens in its warm cache.
	Pure bool

	// Shared reports that another application holding the same secret (a
	// Next.js app with NextAuth) mints tokens this codec decodes, and
	// re-issues tokens without asking authgate's revocation store. authgate
	// then accepts tokens without its own claims, with these defaults: a
	// token without "aud" belongs to this deployment (the secret, and for
	// Auth.js the cookie name, already bind it); a token without
	// "auth_time" counts as signed in at its "iat" for the idle and
	// absolute lifetimes, but since the other app moves "iat" forward at
	// every re-issue, its sign-in time is unknown for everything else:
	// every revocation mark of its subject ([Auth.SignOutEverywhere])
	// refuses it, whatever its "iat", [Auth.RequireFreshAuth] never lets it
	// through ([Session.AuthTime] is zero), and authgate re-issues it
	// without "auth_time"; and a
	// session id may be any 1 to 64 characters of the base64url alphabet
	// (NextAuth's are UUIDs), not only authgate's own 22. A revocation is
	// kept until the session's absolute end (auth_time + MaxLifetime), not
	// MaxAge after the sign-out, since the other app keeps re-issuing
	// copies. The codec must give every copy of one session the same id,
	// also those the other app re-issued (the nextauth codecs read "sid",
	// or derive an id from what NextAuth copies). A present "aud" must
	// still be this deployment's, and every time rule and revocation
	// applies as to authgate's own tokens.
	Shared bool
}

// CodecDescriber is implemented by a [Codec] that describes itself. It is
// read once, by [New].
type CodecDescriber interface {
	Codec
	CodecInfo() CodecInfo
}

// Key purposes. Each purpose gets its own keys, derived with HKDF, so a
// value minted for one purpose never verifies as another.
const (
	purposeSession = "authgate session cookie v1"
	purposeCSRF    = "authgate csrf token v1"
)

// deriveKey derives a 32-byte key for purpose from secret with HKDF-SHA256.
func deriveKey(secret []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, purpose, 32)
	if err != nil {
		// Only possible for a length over 255*32 bytes.
		panic("authgate: hkdf: " + err.Error())
	}
	return k
}

// jsonSerializer is securecookie.JSONEncoder's wire format (plain JSON)
// decoded with json.Unmarshal instead of a json.Decoder: the same bytes,
// three fewer allocations on the cold path.
type jsonSerializer struct{}

func (jsonSerializer) Serialize(src any) ([]byte, error) { return json.Marshal(src) }

func (jsonSerializer) Deserialize(src []byte, dst any) error { return json.Unmarshal(src, dst) }

// rotatingCodec encodes with the first securecookie and decodes with each in
// turn: key rotation.
type rotatingCodec []*securecookie.SecureCookie

// newSessionCodec builds the default session codec from the secrets.
// maxAge is the securecookie timestamp limit (defence in depth on top of
// the token's own exp). securecookie's own length limit is off: authgate
// bounds the value before decoding (sessionValue) and after encoding
// (encode), so an oversized session reports ErrSessionTooLarge.
func newSessionCodec(secrets [][]byte, signOnly bool, maxAgeSeconds int) rotatingCodec {
	c := make(rotatingCodec, 0, len(secrets))
	for _, s := range secrets {
		hashKey := deriveKey(s, purposeSession+" hmac")
		var blockKey []byte
		if !signOnly {
			blockKey = deriveKey(s, purposeSession+" aes")
		}
		sc := securecookie.New(hashKey, blockKey)
		sc.SetSerializer(jsonSerializer{})
		sc.MaxLength(0)
		sc.MaxAge(maxAgeSeconds)
		c = append(c, sc)
	}
	return c
}

func (c rotatingCodec) Encode(name string, value any) (string, error) {
	return c[0].Encode(name, value)
}

func (c rotatingCodec) Decode(name, value string, dst any) error {
	var first error
	for _, sc := range c {
		err := sc.Decode(name, value, dst)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return fmt.Errorf("%w: %w", ErrInvalidSession, first)
}
