package totp

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"testing/iotest"
)

// countingReader returns 0, 1, …, 255, 0, 1, … : every byte value equally
// often, so a uniform draw gives every symbol exactly as often.
type countingReader struct{ next byte }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.next
		c.next++
	}
	return len(p), nil
}

func TestRecoverySymbolsHaveNoModuloBias(t *testing.T) {
	tests := []struct {
		name     string
		alphabet string
	}{
		{"32 symbols (the recovery alphabet)", recoveryAlphabet},
		{"36 symbols (256 = 7·36 + 4: the last 4 byte values must be rejected)", "abcdefghijklmnopqrstuvwxyz0123456789"},
		{"10 symbols", "0123456789"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := 256 - 256%len(tt.alphabet)
			// Exactly ten passes over the accepted byte values.
			n := 10 * limit
			s, err := randomSymbols(&countingReader{}, tt.alphabet, n)
			if err != nil {
				t.Fatal(err)
			}
			want := n / len(tt.alphabet)
			for _, r := range tt.alphabet {
				if got := strings.Count(s, string(r)); got != want {
					t.Errorf("symbol %q drawn %d times, want %d", r, got, want)
				}
			}
		})
	}
}

func TestRandomSymbolsFailsOnAShortRead(t *testing.T) {
	if _, err := randomSymbols(iotest.ErrReader(iotest.ErrTimeout), recoveryAlphabet, 12); err == nil {
		t.Fatal("a failing source gave symbols")
	}
	if _, _, err := newRecoveryCodes(bytes.NewReader(make([]byte, 20))); err == nil {
		t.Fatal("a source running dry gave codes")
	}
}

func TestRecoveryCodesHashAndMatch(t *testing.T) {
	codes, hashes, err := newRecoveryCodes(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
		t.Fatalf("%d codes, %d hashes", len(codes), len(hashes))
	}
	for i, c := range codes {
		canon, ok := normalizeRecovery(c)
		if !ok {
			t.Fatalf("code %q does not normalise", c)
		}
		if got := matchRecovery(hashes, canon); !bytes.Equal(got, hashes[i]) {
			t.Errorf("code %d matched %x, want its own hash", i, got)
		}
		if len(hashes[i]) != 1+recoverySaltLen+recoveryHashLen || bytes.Contains(hashes[i], []byte(canon)) {
			t.Errorf("hash %d: %d bytes or holds the code", i, len(hashes[i]))
		}
	}
	if got := matchRecovery(hashes, "000000000000"); got != nil {
		t.Error("a wrong code matched")
	}
	// Two sets of the same codes get different salts.
	_, again, _ := newRecoveryCodes(rand.Reader)
	if bytes.Equal(hashes[0][1:1+recoverySaltLen], again[0][1:1+recoverySaltLen]) {
		t.Error("two sets share a salt")
	}
}

func TestNormalizeRecovery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abcd-efgh-jkmn", "abcdefghjkmn"},
		{"ABCD EFGH JKMN", "abcdefghjkmn"},
		{"0l1i-o000-0000", "011100000000"}, // Crockford: l and i read as 1, o as 0
		{"abcd-efgh-jkm", ""},              // too short
		{"abcd-efgh-jkmnp", ""},            // too long
		{"abcd-efgh-jkmu", ""},             // u is not in the alphabet
		{"abcd-efgh-jkm\u00e9", ""},
		{strings.Repeat("-", maxRecoveryInput+1), ""},
	}
	for _, tt := range tests {
		got, ok := normalizeRecovery(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("normalizeRecovery(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestSealOpensOnlyForItsUserAndKeys(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	seed := []byte("12345678901234567890")
	sealed := seal(k1, "u1", seed)
	if bytes.Contains(sealed, seed) {
		t.Fatal("the sealed seed holds the seed")
	}
	if got, err := open([][]byte{k2, k1}, "u1", sealed); err != nil || !bytes.Equal(got, seed) {
		t.Fatalf("open with the key second: %q, %v", got, err)
	}
	for name, try := range map[string]func() ([]byte, error){
		"another user":     func() ([]byte, error) { return open([][]byte{k1}, "u2", sealed) },
		"another key":      func() ([]byte, error) { return open([][]byte{k2}, "u1", sealed) },
		"a flipped byte":   func() ([]byte, error) { b := bytes.Clone(sealed); b[20] ^= 1; return open([][]byte{k1}, "u1", b) },
		"a truncated seal": func() ([]byte, error) { return open([][]byte{k1}, "u1", sealed[:20]) },
		"another version":  func() ([]byte, error) { b := bytes.Clone(sealed); b[0] = 2; return open([][]byte{k1}, "u1", b) },
		"nothing":          func() ([]byte, error) { return open([][]byte{k1}, "u1", nil) },
	} {
		if _, err := try(); err != errSealed {
			t.Errorf("%s: %v, want errSealed", name, err)
		}
	}
	if bytes.Equal(seal(k1, "u1", seed), sealed) {
		t.Error("two seals of one seed are equal: the nonce is not random")
	}
}
