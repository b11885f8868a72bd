package totp

import (
	"encoding/base32"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// The code check of RFC 6238. pquerna/otp's totp.ValidateCustom only says
// whether some time step matched, never which, and replay protection
// (RFC 6238 §5.2: the second use of a code MUST NOT be accepted) needs the
// step; so the steps around now are tried here one by one with
// hotp.ValidateCustom, which does the HMAC, the dynamic truncation and the
// constant-time comparison, and the accepted step is handed to the adapter
// to record.

const (
	// period is the length of a time step: 30 seconds, what authenticator
	// apps use and the longest ASVS 5.0 (6.5.5) allows.
	period = 30
	// skew is how many steps either side of now are accepted: one, RFC
	// 6238's recommended allowance for clock drift and slow typing.
	skew = 1
	// maxCodeInput bounds a submitted code before it is normalised.
	maxCodeInput = 32
)

// params are the code's length and HMAC. Authenticator apps expect six
// digits of HMAC-SHA-1 ([defaultParams]); the others serve RFC 6238's test
// vectors.
type params struct {
	digits    otp.Digits
	algorithm otp.Algorithm
}

var defaultParams = params{digits: otp.DigitsSix, algorithm: otp.AlgorithmSHA1}

// b32 encodes a seed as pquerna/otp and the otpauth URL spell it.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// timeStep returns the RFC 6238 time step of t: Unix time / 30 s, rounded
// down.
func timeStep(t time.Time) int64 {
	u := t.Unix()
	s := u / period
	if u%period < 0 {
		s--
	}
	return s
}

// normalizeCode removes the spaces an app shows in a code ("123 456").
func normalizeCode(s string) string {
	if len(s) > maxCodeInput {
		return ""
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '-' {
			return -1
		}
		return r
	}, s)
}

// match is the outcome of matchStep.
type match int

const (
	noMatch  match = iota
	matched        // a step later than the last one used
	replayed       // only a step already used (or older) matched
)

// matchStep returns the latest time step among now's and one either side
// whose code is code and that is later than last (matched); replayed when
// only steps up to last match: a code used already. The codes of all
// three steps are computed and compared whatever matches, so the time
// taken does not tell which step did.
func matchStep(seed []byte, code string, now time.Time, last int64, p params) (int64, match) {
	if len(code) != p.digits.Length() {
		return 0, noMatch
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return 0, noMatch
		}
	}
	secret := b32.EncodeToString(seed)
	cur := timeStep(now)
	best, m := int64(0), noMatch
	for s := cur - skew; s <= cur+skew; s++ {
		if s < 0 {
			continue
		}
		ok, err := hotp.ValidateCustom(code, uint64(s), secret, hotp.ValidateOpts{Digits: p.digits, Algorithm: p.algorithm})
		switch {
		case err != nil || !ok:
		case s > last:
			best, m = s, matched
		case m == noMatch:
			m = replayed
		}
	}
	return best, m
}
