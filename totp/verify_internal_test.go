package totp

import (
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
)

// RFC 6238 Appendix B, through matchStep: the seeds are ASCII, SHA-1's
// 20 bytes, SHA-256's 32 and SHA-512's 64 (RFC 6238 erratum 2866), the
// codes 8 digits.
func TestRFC6238AppendixBVectors(t *testing.T) {
	seeds := map[otp.Algorithm][]byte{
		otp.AlgorithmSHA1:   []byte("12345678901234567890"),
		otp.AlgorithmSHA256: []byte("12345678901234567890123456789012"),
		otp.AlgorithmSHA512: []byte(strings.Repeat("1234567890", 6) + "1234"),
	}
	vectors := []struct {
		unix                 int64
		step                 int64
		sha1, sha256, sha512 string
	}{
		{59, 0x1, "94287082", "46119246", "90693936"},
		{1111111109, 0x23523EC, "07081804", "68084774", "25091201"},
		{1111111111, 0x23523ED, "14050471", "67062674", "99943326"},
		{1234567890, 0x273EF07, "89005924", "91819424", "93441116"},
		{2000000000, 0x3F940AA, "69279037", "90698825", "38618901"},
		{20000000000, 0x27BC86AA, "65353130", "77737706", "47863826"},
	}
	for _, v := range vectors {
		at := time.Unix(v.unix, 0)
		if got := timeStep(at); got != v.step {
			t.Errorf("T at %d: got %#x, want %#x", v.unix, got, v.step)
		}
		for alg, code := range map[otp.Algorithm]string{otp.AlgorithmSHA1: v.sha1, otp.AlgorithmSHA256: v.sha256, otp.AlgorithmSHA512: v.sha512} {
			p := params{digits: otp.DigitsEight, algorithm: alg}
			step, m := matchStep(seeds[alg], code, at, -1, p)
			if m != matched || step != v.step {
				t.Errorf("%s at %d: code %s gave step %#x (%v), want %#x", alg, v.unix, code, step, m, v.step)
			}
			// The same code is refused once its step is the last used.
			if _, m := matchStep(seeds[alg], code, at, v.step, p); m != replayed {
				t.Errorf("%s at %d: code %s after its step was used: %v, want replayed", alg, v.unix, code, m)
			}
		}
		// Authenticator apps show the last six digits (SHA-1).
		if step, m := matchStep(seeds[otp.AlgorithmSHA1], v.sha1[2:], at, -1, defaultParams); m != matched || step != v.step {
			t.Errorf("six digits %s at %d: step %#x (%v), want %#x", v.sha1[2:], v.unix, step, m, v.step)
		}
	}
}

func TestMatchStepWindow(t *testing.T) {
	seed := []byte("12345678901234567890")
	// 94287082 is step 1 (Unix 30 to 59).
	tests := []struct {
		name string
		unix int64
		last int64
		want match
		step int64
	}{
		{"within its step", 45, 0, matched, 1},
		{"one step later (clock drift)", 75, 0, matched, 1},
		{"one step earlier (a fast phone)", 15, -1, matched, 1},
		{"two steps later", 105, 0, noMatch, 0},
		{"its step already used", 45, 1, replayed, 0},
		{"a later step already used", 75, 2, replayed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, m := matchStep(seed, "287082", time.Unix(tt.unix, 0), tt.last, defaultParams)
			if m != tt.want || step != tt.step {
				t.Errorf("got step %d (%v), want %d (%v)", step, m, tt.step, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "28708", "2870822", "28708a", "２８７０８２", " 287082"} {
		if _, m := matchStep(seed, bad, time.Unix(45, 0), 0, defaultParams); m != noMatch {
			t.Errorf("code %q: %v, want no match", bad, m)
		}
	}
	if got := normalizeCode(" 287 082 "); got != "287082" {
		t.Errorf("normalizeCode: %q", got)
	}
	if got := normalizeCode(strings.Repeat("1", maxCodeInput+1)); got != "" {
		t.Errorf("normalizeCode of an over-long input: %q, want empty", got)
	}
}

func TestTimeStepRoundsDown(t *testing.T) {
	for unix, want := range map[int64]int64{0: 0, 29: 0, 30: 1, -1: -1, -30: -1, -31: -2} {
		if got := timeStep(time.Unix(unix, 0)); got != want {
			t.Errorf("timeStep(%d) = %d, want %d", unix, got, want)
		}
	}
}

// FuzzMatchStep: any input is refused or matches, never panics, and a
// match is always a step around now later than last.
func FuzzMatchStep(f *testing.F) {
	f.Add("287082", int64(45), int64(0))
	f.Add("94287082", int64(59), int64(-1))
	f.Add("", int64(0), int64(0))
	f.Add("\x00\xff12345", int64(-100), int64(5))
	seed := []byte("12345678901234567890")
	f.Fuzz(func(t *testing.T, code string, unix, last int64) {
		if unix > 1<<40 || unix < -(1<<40) {
			return
		}
		now := time.Unix(unix, 0)
		step, m := matchStep(seed, normalizeCode(code), now, last, defaultParams)
		if m == matched && (step <= last || step < timeStep(now)-skew || step > timeStep(now)+skew) {
			t.Fatalf("matched step %d with last %d at %d", step, last, unix)
		}
	})
}
