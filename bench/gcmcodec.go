package bench

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"unsafe"
)

// GCMCodec is a prototype authgate.Codec measured next to the default one:
// JSON sealed with AES-256-GCM (a random 96-bit nonce, the cookie name as
// additional data), base64url once: the shape of the NextAuth-compatible JWE
// ("dir" + "A256GCM") that authgate's codec doc plans. One AEAD pass
// replaces securecookie's HMAC-SHA256 + AES-CTR, its two base64 layers and
// its json.Decoder. It is a benchmark instrument, not authgate's codec.
type GCMCodec struct {
	aead cipher.AEAD
}

// NewGCMCodec returns a GCMCodec keyed with a 32-byte key.
func NewGCMCodec(key []byte) (*GCMCodec, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &GCMCodec{aead: g}, nil
}

func (c *GCMCodec) Encode(name string, value any) (string, error) {
	js, err := json.Marshal(value)
	if err != nil {
		return "", err
	}
	out := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(js)+c.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return "", err
	}
	out = c.aead.Seal(out, out, js, []byte(name))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

var errGCM = errors.New("bench: gcm: invalid value")

func (c *GCMCodec) Decode(name, value string, dst any) error {
	if len(value) > 8192 {
		return errGCM
	}
	buf := make([]byte, base64.RawURLEncoding.DecodedLen(len(value)))
	// base64 and Open only read value and name: no copies of them.
	n, err := base64.RawURLEncoding.Decode(buf, unsafe.Slice(unsafe.StringData(value), len(value)))
	ns := c.aead.NonceSize()
	if err != nil || n < ns+c.aead.Overhead() {
		return errGCM
	}
	pt, err := c.aead.Open(buf[ns:ns], buf[:ns], buf[ns:n], unsafe.Slice(unsafe.StringData(name), len(name)))
	if err != nil {
		return errGCM
	}
	return json.Unmarshal(pt, dst)
}
