package nextauth

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
)

// Compact JWE with direct encryption ("alg":"dir"), as NextAuth's tokens
// use it: five base64url parts, header.key.iv.ciphertext.tag, the key part
// empty, the protected header's base64url text as additional data.
//
// Only the two content encryptions NextAuth uses are implemented:
// A256GCM (RFC 7518 §5.3: AES-256-GCM, 96-bit IV, 128-bit tag) and
// A256CBC-HS512 (RFC 7518 §5.2.5: AES-256-CBC with PKCS#7 padding and an
// HMAC-SHA-512 tag truncated to 256 bits over AAD ‖ IV ‖ ciphertext ‖ the
// AAD's length in bits; the 64-byte key is the MAC key followed by the
// encryption key).

const (
	encGCM = "A256GCM"
	encCBC = "A256CBC-HS512"
)

// b64 is unpadded base64url that refuses stray bits in the last character,
// so one token has exactly one spelling.
var b64 = base64.RawURLEncoding.Strict()

// compact is a split compact serialisation. Its strings are slices of the
// token.
type compact struct {
	header, key, iv, ciphertext, tag string
}

// splitCompact splits a compact JWE into its five parts without
// allocating. It refuses more or fewer than five parts, a non-empty key
// part (only "dir" is accepted), an empty part otherwise, and CR or LF
// (which Go's base64 decoder would skip): every other byte outside the
// base64url alphabet fails the strict decoding of its part.
func splitCompact(s string) (compact, bool) {
	var c compact
	var parts [5]string
	if strings.IndexByte(s, '\n') >= 0 || strings.IndexByte(s, '\r') >= 0 {
		return c, false
	}
	for i := range 4 {
		j := strings.IndexByte(s, '.')
		if j < 0 {
			return c, false
		}
		parts[i], s = s[:j], s[j+1:]
	}
	parts[4] = s
	if parts[1] != "" || parts[0] == "" || parts[2] == "" || parts[3] == "" || parts[4] == "" {
		return c, false
	}
	return compact{parts[0], parts[1], parts[2], parts[3], parts[4]}, true
}

// header is a protected header that passed parseHeader: "alg" is "dir",
// "enc" one of the accepted encryptions, and "kid" (when allowKID) the only
// other member.
type header struct {
	enc string
	kid string
}

// parseHeader decodes and checks a protected header strictly, before any
// key is looked at: it must be one JSON object whose members are exactly
// "alg" (= "dir"), "enc" (one of encs) and, when allowKID, an optional
// "kid" string; every other member ("zip", "crit", "cty" for a nested JWS,
// "typ", "jku", …), a duplicate member, a non-string value or trailing
// data is refused. Headers are at most maxHeaderLen bytes.
func parseHeader(h string, allowKID bool, encs ...string) (header, error) {
	var out header
	if len(h) > b64.EncodedLen(maxHeaderLen) {
		return out, fmt.Errorf("%w: header too long", ErrHeader)
	}
	raw, err := b64.DecodeString(h)
	if err != nil {
		return out, fmt.Errorf("%w: header is not base64url", ErrMalformed)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return out, fmt.Errorf("%w: header is not a JSON object", ErrHeader)
	}
	seen := map[string]bool{}
	var alg string
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return out, fmt.Errorf("%w: header is not valid JSON", ErrHeader)
		}
		name, _ := t.(string)
		if seen[name] {
			return out, fmt.Errorf("%w: duplicate header member %q", ErrHeader, name)
		}
		seen[name] = true
		v, err := d.Token()
		if err != nil {
			return out, fmt.Errorf("%w: header is not valid JSON", ErrHeader)
		}
		s, ok := v.(string)
		if !ok {
			return out, fmt.Errorf("%w: header member %q is not a string", ErrHeader, name)
		}
		switch {
		case name == "alg":
			alg = s
		case name == "enc":
			out.enc = s
		case name == "kid" && allowKID && s != "":
			out.kid = s
		default:
			return out, fmt.Errorf("%w: unexpected header member %q", ErrHeader, name)
		}
	}
	if t, err := d.Token(); err != nil || t != json.Delim('}') {
		return out, fmt.Errorf("%w: header is not valid JSON", ErrHeader)
	}
	if _, err := d.Token(); err == nil || d.InputOffset() != int64(len(raw)) {
		return out, fmt.Errorf("%w: trailing data after the header", ErrHeader)
	}
	if alg != "dir" {
		return out, fmt.Errorf("%w: alg %q, want \"dir\"", ErrHeader, alg)
	}
	for _, e := range encs {
		if out.enc == e {
			return out, nil
		}
	}
	return out, fmt.Errorf("%w: enc %q not accepted", ErrHeader, out.enc)
}

// maxHeaderLen bounds a decoded protected header.
const maxHeaderLen = 256

// headerB64 returns the base64url text of a header as jose (NextAuth's
// encoder) writes it: members in the order alg, enc, kid.
func headerB64(enc, kid string) string {
	h := `{"alg":"dir","enc":"` + enc + `"`
	if kid != "" {
		h += `,"kid":"` + kid + `"`
	}
	return b64.EncodeToString([]byte(h + "}"))
}

// contentKey is a derived content-encryption key for one encryption.
type contentKey struct {
	enc string
	gcm cipher.AEAD  // A256GCM
	cbc cipher.Block // A256CBC-HS512: the AES key (second half)
	mac []byte       // A256CBC-HS512: the HMAC key (first half)
	kid string       // JWK thumbprint (v5)
	hdr string       // the header jose writes for this key
	// hdrBytes is hdr as bytes, the usual additional data.
	hdrBytes []byte
}

// deriveKey runs HKDF-SHA-256 as NextAuth does.
func deriveKey(secret, salt, info string, n int) []byte {
	k, err := hkdf.Key(sha256.New, []byte(secret), []byte(salt), info, n)
	if err != nil {
		panic("nextauth: hkdf: " + err.Error()) // only for n > 255×32
	}
	return k
}

// newContentKey builds the cipher for enc from key (32 bytes for A256GCM,
// 64 for A256CBC-HS512). withKID adds the key's JWK thumbprint, as Auth.js
// does.
func newContentKey(enc string, key []byte, withKID bool) *contentKey {
	ck := &contentKey{enc: enc}
	switch enc {
	case encGCM:
		b, _ := aes.NewCipher(key) // 32 bytes: cannot fail
		ck.gcm, _ = cipher.NewGCM(b)
	case encCBC:
		ck.mac = key[:32]
		ck.cbc, _ = aes.NewCipher(key[32:])
	default:
		panic("nextauth: unknown enc " + enc)
	}
	if withKID {
		ck.kid = thumbprint(key)
	}
	ck.hdr = headerB64(enc, ck.kid)
	ck.hdrBytes = []byte(ck.hdr)
	return ck
}

// thumbprint is the RFC 7638 JWK thumbprint of a symmetric key, hashed
// with SHA-256 for a 32-byte key and SHA-512 for a 64-byte key, as Auth.js
// computes its "kid" (`sha${bits}`).
func thumbprint(key []byte) string {
	jwk := []byte(`{"k":"` + b64.EncodeToString(key) + `","kty":"oct"}`)
	if len(key) == 64 {
		s := sha512.Sum512(jwk)
		return b64.EncodeToString(s[:])
	}
	s := sha256.Sum256(jwk)
	return b64.EncodeToString(s[:])
}

// seal encrypts plaintext into a compact JWE under ck's header.
func (ck *contentKey) seal(plaintext []byte) (string, error) {
	aad := ck.hdrBytes
	var iv, ct, tag []byte
	switch ck.enc {
	case encGCM:
		iv = make([]byte, 12)
		rand.Read(iv)
		out := ck.gcm.Seal(nil, iv, plaintext, aad)
		ct, tag = out[:len(out)-16], out[len(out)-16:]
	case encCBC:
		iv = make([]byte, 16)
		rand.Read(iv)
		pad := 16 - len(plaintext)%16
		ct = make([]byte, len(plaintext)+pad)
		copy(ct, plaintext)
		for i := len(plaintext); i < len(ct); i++ {
			ct[i] = byte(pad)
		}
		cipher.NewCBCEncrypter(ck.cbc, iv).CryptBlocks(ct, ct)
		tag = ck.cbcTag(aad, iv, ct)
	}
	var sb strings.Builder
	sb.Grow(len(ck.hdr) + 4 + b64.EncodedLen(len(iv)) + b64.EncodedLen(len(ct)) + b64.EncodedLen(len(tag)))
	sb.WriteString(ck.hdr)
	sb.WriteString("..")
	sb.WriteString(b64.EncodeToString(iv))
	sb.WriteByte('.')
	sb.WriteString(b64.EncodeToString(ct))
	sb.WriteByte('.')
	sb.WriteString(b64.EncodeToString(tag))
	return sb.String(), nil
}

// aad returns the additional data for header h: the key's own header
// bytes when h is exactly that (no allocation), else a copy of h.
func (ck *contentKey) aad(h string) []byte {
	if h == ck.hdr {
		return ck.hdrBytes
	}
	return []byte(h)
}

// cbcTag is A256CBC-HS512's authentication tag.
func (ck *contentKey) cbcTag(aad, iv, ct []byte) []byte {
	m := hmac.New(sha512.New, ck.mac)
	m.Write(aad)
	m.Write(iv)
	m.Write(ct)
	var al [8]byte
	binary.BigEndian.PutUint64(al[:], uint64(len(aad))*8)
	m.Write(al[:])
	return m.Sum(nil)[:32]
}

// open authenticates and decrypts c with ck. The header has been checked
// already. Every failure is ErrDecrypt, without saying which part failed.
func (ck *contentKey) open(c compact) ([]byte, error) {
	ivLen, tagLen := 12, 16
	if ck.enc == encCBC {
		ivLen, tagLen = 16, 32
	}
	if b64.DecodedLen(len(c.iv)) != ivLen || b64.DecodedLen(len(c.tag)) != tagLen {
		return nil, fmt.Errorf("%w: IV or tag of the wrong length", ErrMalformed)
	}
	ctLen := b64.DecodedLen(len(c.ciphertext))
	// One buffer for the base64 text of IV, ciphertext and tag, one for
	// their bytes side by side; GCM opens in place.
	text := make([]byte, 0, len(c.iv)+len(c.ciphertext)+len(c.tag))
	text = append(append(append(text, c.iv...), c.ciphertext...), c.tag...)
	buf := make([]byte, ivLen+ctLen+tagLen)
	iv, body := buf[:ivLen], buf[ivLen:]
	if n, err := b64.Decode(iv, text[:len(c.iv)]); err != nil || n != ivLen {
		return nil, fmt.Errorf("%w: IV is not base64url", ErrMalformed)
	}
	text = text[len(c.iv):]
	n, err := b64.Decode(body, text[:len(c.ciphertext)])
	if err != nil || n != ctLen {
		return nil, fmt.Errorf("%w: ciphertext is not base64url", ErrMalformed)
	}
	if m, err := b64.Decode(body[ctLen:], text[len(c.ciphertext):]); err != nil || m != tagLen {
		return nil, fmt.Errorf("%w: tag is not base64url", ErrMalformed)
	}
	aad := ck.aad(c.header)
	switch ck.enc {
	case encGCM:
		pt, err := ck.gcm.Open(body[:0], iv, body, aad)
		if err != nil {
			return nil, ErrDecrypt
		}
		return pt, nil
	default:
		ct, tag := body[:ctLen], body[ctLen:]
		if ctLen == 0 || ctLen%16 != 0 {
			return nil, ErrDecrypt
		}
		if subtle.ConstantTimeCompare(ck.cbcTag(aad, iv, ct), tag) != 1 {
			return nil, ErrDecrypt
		}
		cipher.NewCBCDecrypter(ck.cbc, iv).CryptBlocks(ct, ct)
		pad := int(ct[ctLen-1])
		if pad == 0 || pad > 16 {
			return nil, ErrDecrypt
		}
		for _, b := range ct[ctLen-pad:] {
			if int(b) != pad {
				return nil, ErrDecrypt
			}
		}
		return ct[:ctLen-pad], nil
	}
}
