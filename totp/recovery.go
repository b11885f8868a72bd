package totp

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"strings"
)

// Recovery codes: ten look-up secrets of twelve symbols from Crockford's
// base32 alphabet (60 bits each, shown as "xxxx-xxxx-xxxx"), drawn from
// crypto/rand by rejection sampling, so no symbol is likelier than
// another. Only salted hashes are stored: PBKDF2-HMAC-SHA256 (an approved
// password hash, as ASVS 5.0 6.5.2 and NIST SP 800-63B ask for look-up
// secrets under 112 bits) with a random 128-bit salt per set and 50 000
// iterations. All codes of a set share the salt, so checking a code costs
// one hash however many codes are left. A code is used by deleting its
// hash in one atomic step of the adapter (UseRecoveryCode).

const (
	// RecoveryCodeCount is how many recovery codes a user gets.
	RecoveryCodeCount = 10
	// recoverySymbols is the length of a code without its dashes.
	recoverySymbols = 12
	// recoveryAlphabet is Crockford's base32, lower-case: no i, l, o or u,
	// so a code read aloud or written down is not misread.
	recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	// recoveryIterations is the PBKDF2 work factor (about 8 ms on one
	// core of a 2020s server).
	recoveryIterations = 50_000
	recoverySaltLen    = 16
	recoveryHashLen    = 32
	// recoveryVersion is the first byte of a stored hash: PBKDF2-SHA256,
	// recoveryIterations, a 16-byte salt.
	recoveryVersion = 1
	// maxRecoveryInput bounds a submitted code before it is normalised.
	maxRecoveryInput = 64
)

// randomSymbols returns n symbols of alphabet drawn uniformly from rnd:
// bytes at or above the largest multiple of len(alphabet) are rejected
// instead of being reduced modulo it.
func randomSymbols(rnd io.Reader, alphabet string, n int) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	for len(out) < n {
		if _, err := io.ReadFull(rnd, buf); err != nil {
			return "", fmt.Errorf("totp: random: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

// formatRecovery shows a code in groups of four.
func formatRecovery(code string) string {
	return code[:4] + "-" + code[4:8] + "-" + code[8:]
}

// normalizeRecovery returns the canonical form of a typed code: dashes and
// spaces dropped, lower-cased, and the letters Crockford's alphabet leaves
// out read as the digits they look like (i and l as 1, o as 0). It reports
// false for anything that cannot be a code.
func normalizeRecovery(s string) (string, bool) {
	if len(s) > maxRecoveryInput {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'i' || r == 'l':
			r = '1'
		case r == 'o':
			r = '0'
		case r > 0x7f || !strings.ContainsRune(recoveryAlphabet, r):
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != recoverySymbols {
		return "", false
	}
	return b.String(), true
}

// hashRecovery returns the stored form of a canonical code under salt.
func hashRecovery(salt []byte, code string) []byte {
	dk, err := pbkdf2.Key(sha256.New, code, salt, recoveryIterations, recoveryHashLen)
	if err != nil {
		panic("totp: pbkdf2: " + err.Error()) // fixed, valid parameters
	}
	out := make([]byte, 0, 1+len(salt)+len(dk))
	out = append(out, recoveryVersion)
	out = append(out, salt...)
	return append(out, dk...)
}

// newRecoveryCodes returns RecoveryCodeCount new codes, formatted, and
// their stored hashes.
func newRecoveryCodes(rnd io.Reader) (codes []string, hashes [][]byte, err error) {
	salt := make([]byte, recoverySaltLen)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return nil, nil, fmt.Errorf("totp: random: %w", err)
	}
	for range RecoveryCodeCount {
		c, err := randomSymbols(rnd, recoveryAlphabet, recoverySymbols)
		if err != nil {
			return nil, nil, err
		}
		codes = append(codes, formatRecovery(c))
		hashes = append(hashes, hashRecovery(salt, c))
	}
	return codes, hashes, nil
}

// matchRecovery returns the stored hash that canonical code matches, or
// nil. It hashes the code once per distinct salt and compares it with
// every stored hash in constant time.
func matchRecovery(stored [][]byte, code string) []byte {
	const stored1 = 1 + recoverySaltLen + recoveryHashLen
	var match []byte
	var lastSalt, h []byte
	for _, s := range stored {
		if len(s) != stored1 || s[0] != recoveryVersion {
			continue
		}
		salt := s[1 : 1+recoverySaltLen]
		if h == nil || !bytes.Equal(salt, lastSalt) {
			lastSalt, h = salt, hashRecovery(salt, code)
		}
		if subtle.ConstantTimeCompare(h, s) == 1 {
			match = s
		}
	}
	return match
}
