package bench

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/nextauth"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/gorilla/securecookie"
)

// The nextauth codecs behind authgate, and what the warm cache costs on a
// miss.

// benchSecret is the secret of every authgate variant.
const benchSecret = "bench-secret-0123456789abcdefghijklmnop"

// NextAuth returns authgate's variants with the NextAuth v4 codec: a ring
// of ColdRing distinct tokens verified cold with the warm cache on (every
// request a miss that also inserts) and with it off (the codec behind a
// wrapper that does not report CodecInfo), the same ring decoded by go-jose
// instead of the standard library (the library decision), and one token
// seen before (warm). Besides, authgate's default codec on a cold ring
// with the cache off ("authgate-nocache-cold"), to compare with
// "authgate-cold" (cache on): the price of a miss.
func NextAuth(now time.Time) ([]Variant, error) {
	v4, err := nextauth.NewV4(benchSecret)
	if err != nil {
		return nil, err
	}
	name := func(c *authgate.Config[struct{}]) { c.SessionCookieName = nextauth.V4CookieName }
	coldH, cold, err := authgateVariant(now, ColdRing, v4, name)
	if err != nil {
		return nil, err
	}
	nocacheH, _, err := authgateVariant(now, 0, opaqueCodec{v4}, name)
	if err != nil {
		return nil, err
	}
	jose4, err := newJoseV4(v4, benchSecret)
	if err != nil {
		return nil, err
	}
	joseH, _, err := authgateVariant(now, 0, jose4, name)
	if err != nil {
		return nil, err
	}
	warmH, warm, err := authgateVariant(now, 1, v4, name)
	if err != nil {
		return nil, err
	}
	// The ring is minted by an Auth like authgate-cold's (same secret and
	// URL), so the codec below decodes it; only its cache is off.
	_, defCold, err := authgateVariant(now, ColdRing, nil, nil)
	if err != nil {
		return nil, err
	}
	defNocacheH, _, err := authgateVariant(now, 0, opaqueCodec{DefaultCodec(benchSecret)}, nil)
	if err != nil {
		return nil, err
	}
	return []Variant{
		{Name: "authgate-nocache-cold", Handler: defNocacheH, Cookie: defCold[0], Cookies: defCold},
		{Name: "nextauth-v4-cold", Handler: coldH, Cookie: cold[0], Cookies: cold},
		{Name: "nextauth-v4-nocache-cold", Handler: nocacheH, Cookie: cold[0], Cookies: cold},
		{Name: "nextauth-v4-gojose-nocache-cold", Handler: joseH, Cookie: cold[0], Cookies: cold},
		{Name: "nextauth-v4-warm", Handler: warmH, Cookie: warm[0]},
	}, nil
}

// opaqueCodec hides a codec's CodecInfo: authgate then keeps no cache.
type opaqueCodec struct{ c authgate.Codec }

func (o opaqueCodec) Encode(name string, v any) (string, error) { return o.c.Encode(name, v) }
func (o opaqueCodec) Decode(name, v string, dst any) error      { return o.c.Decode(name, v, dst) }

// DefaultCodec rebuilds authgate's default session codec for secret as
// codec.go documents it (securecookie, HMAC-SHA256 and AES-256 keys from
// HKDF-SHA256 per purpose, plain JSON), so the same cookies decode with the
// cache off.
func DefaultCodec(secret string) authgate.Codec {
	k := func(purpose string) []byte {
		b, _ := hkdf.Key(sha256.New, []byte(secret), nil, purpose, 32)
		return b
	}
	sc := securecookie.New(k("authgate session cookie v1 hmac"), k("authgate session cookie v1 aes"))
	sc.SetSerializer(plainJSON{})
	sc.MaxLength(0)
	sc.MaxAge(int((90*24*time.Hour + 15*time.Second).Seconds()))
	return sc
}

type plainJSON struct{}

func (plainJSON) Serialize(src any) ([]byte, error)     { return json.Marshal(src) }
func (plainJSON) Deserialize(src []byte, dst any) error { return json.Unmarshal(src, dst) }

// joseV4 decodes NextAuth v4 tokens with go-jose instead of the standard
// library (encoding with the nextauth codec): the alternative the codec's
// library was chosen against. Its payload mapping is a plain
// json.Unmarshal, which for a Token[struct{}] is all the nextauth codec's
// mapping does besides reading "sid".
type joseV4 struct {
	enc authgate.Codec
	key []byte
}

func newJoseV4(enc authgate.Codec, secret string) (*joseV4, error) {
	k, err := hkdf.Key(sha256.New, []byte(secret), nil, "NextAuth.js Generated Encryption Key", 32)
	if err != nil {
		return nil, err
	}
	return &joseV4{enc: enc, key: k}, nil
}

func (j *joseV4) Encode(name string, v any) (string, error) { return j.enc.Encode(name, v) }

var errJose = errors.New("bench: go-jose: invalid token")

func (j *joseV4) Decode(name, value string, dst any) error {
	if len(value) > nextauth.MaxTokenBytes {
		return errJose
	}
	obj, err := jose.ParseEncryptedCompact(value, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return fmt.Errorf("%w: %w", errJose, err)
	}
	for k := range obj.Header.ExtraHeaders {
		if k != "enc" {
			return errJose // zip, crit, cty, … (go-jose would inflate zip itself)
		}
	}
	pt, err := obj.Decrypt(j.key)
	if err != nil {
		return fmt.Errorf("%w: %w", errJose, err)
	}
	return json.Unmarshal(pt, dst)
}
