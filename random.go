package authgate

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
)

// randomToken returns 32 bytes from crypto/rand as 64 hex characters, the
// form of NextAuth's CSRF token.
func randomToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand panics on a broken source)
	return hex.EncodeToString(b[:])
}

// newSessionID returns 128 random bits, base64url without padding.
func newSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// randomBytes returns n bytes from crypto/rand.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
