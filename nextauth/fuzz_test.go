package nextauth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/nextauth"
)

// FuzzDecode feeds arbitrary values to both decoders. Invariants: no panic;
// a value that decodes is one an encoder made (it re-encodes and decodes
// to the same subject); every refusal wraps one of the package's sentinels.
func FuzzDecode(f *testing.F) {
	v4, v5 := mustV4(f), mustV5(f, secret, oldSecret)
	good4, _ := v4.Encode(nextauth.V5CookieName, sampleToken())
	good5, _ := v5.Encode(nextauth.V5CookieName, sampleToken())
	for _, s := range []string{
		good4, good5, "", ".", "....", strings.Repeat(".", 100),
		withHeader(good4, header(`{"alg":"none","enc":"A256GCM"}`)),
		withHeader(good4, header(`{"alg":"dir","enc":"A256GCM","zip":"DEF"}`)),
		withHeader(good5, header(`{"alg":"dir","enc":"A256GCM"}`)),
		withHeader(good5, header(`{"alg":"dir","enc":"A256CBC-HS512","kid":"x","kid":"y"}`)),
		flip(good4, 3), flip(good5, 4), good4[:len(good4)/2], good5 + "A",
		"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		for _, c := range []authgate.Codec{v4, v5} {
			tok := new(authgate.Token[Claims])
			err := c.Decode(nextauth.V5CookieName, value, tok)
			if err != nil {
				if !isSentinel(err) {
					t.Fatalf("%T: error %v wraps no sentinel", c, err)
				}
				continue
			}
			again, err := c.Encode(nextauth.V5CookieName, tok)
			if err != nil {
				t.Fatalf("%T: a decoded token does not encode: %v", c, err)
			}
			back := new(authgate.Token[Claims])
			if err := c.Decode(nextauth.V5CookieName, again, back); err != nil || back.Subject != tok.Subject {
				t.Fatalf("%T: re-encoded token: %v, subject %q want %q", c, err, back.Subject, tok.Subject)
			}
		}
	})
}

func isSentinel(err error) bool {
	for _, s := range []error{nextauth.ErrMalformed, nextauth.ErrTooLarge, nextauth.ErrHeader, nextauth.ErrKey, nextauth.ErrDecrypt, nextauth.ErrClaims, nextauth.ErrNotYetValid} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
