package totp

import (
	"crypto/rand"
	"testing"
	"time"
	"unicode/utf8"
)

// The cost of one second step, without the store: a code (three HMACs
// after opening the sealed seed) and a recovery code (one PBKDF2 hash).

func BenchmarkCheckCode(b *testing.B) {
	key := make([]byte, 32)
	seed := []byte("12345678901234567890")
	sealed := seal(key, "u1", seed)
	now := time.Unix(59, 0)
	b.ReportAllocs()
	for b.Loop() {
		s, err := open([][]byte{key}, "u1", sealed)
		if err != nil {
			b.Fatal(err)
		}
		if _, m := matchStep(s, "287082", now, 0, defaultParams); m != matched {
			b.Fatal("no match")
		}
	}
}

func BenchmarkCheckRecoveryCode(b *testing.B) {
	codes, hashes, err := newRecoveryCodes(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	code, _ := normalizeRecovery(codes[9])
	b.ReportAllocs()
	for b.Loop() {
		if matchRecovery(hashes, code) == nil {
			b.Fatal("no match")
		}
	}
}

// FuzzNormalizeRecovery: whatever is typed, the result is a valid code or
// nothing, and a valid code normalises to itself.
func FuzzNormalizeRecovery(f *testing.F) {
	f.Add("abcd-efgh-jkmn")
	f.Add("ABCD EFGH JKMN")
	f.Add("0l1i-o000-0000")
	f.Add("\xff\xfe-----")
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := normalizeRecovery(s)
		if !ok {
			return
		}
		if len(c) != recoverySymbols || !utf8.ValidString(c) {
			t.Fatalf("%q normalised to %q", s, c)
		}
		for _, r := range c {
			if r > 0x7f || recoveryAlphabet[indexOf(byte(r))] != byte(r) {
				t.Fatalf("%q normalised to %q, outside the alphabet", s, c)
			}
		}
		if again, ok := normalizeRecovery(c); !ok || again != c {
			t.Fatalf("%q is not a fixed point", c)
		}
	})
}

func indexOf(b byte) int {
	for i := 0; i < len(recoveryAlphabet); i++ {
		if recoveryAlphabet[i] == b {
			return i
		}
	}
	return 0
}

// FuzzReadJSONObject: a body is read as string members each once, or
// refused; never a panic.
func FuzzReadJSONObject(f *testing.F) {
	f.Add(`{"csrfToken":"x","code":"123456"}`)
	f.Add(`{"a":"1","a":"2"}`)
	f.Add(`{"a":1}`)
	f.Add(`{"a":"1"} {}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := readJSONObject([]byte(s))
		if ok && m == nil {
			t.Fatal("ok without a map")
		}
	})
}
