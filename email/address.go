package email

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// ErrInvalidAddress reports an e-mail address that is not exactly one
// plain address: empty, too long, a list, a quoted or commented form, an
// address with control or invisible characters, a route, an IP literal,
// or one that is still not plain ASCII after Unicode NFKC normalisation.
// It is answered with NextAuth's error code EmailSignin, before any mail is
// sent.
var ErrInvalidAddress = errors.New("email: not one plain e-mail address")

// maxInput bounds the submitted address before normalisation (NFKC may
// expand a character up to 18-fold, so the result is bounded again).
const maxInput = 1024

// The lengths RFC 5321 allows: a local part of 64 bytes, a domain of 253,
// a path of 256 including the angle brackets.
const (
	maxLocal   = 64
	maxDomain  = 253
	maxAddress = 254
)

// NormalizeAddress is the default [Config.Normalize]: it returns the
// canonical form of one plain e-mail address, or an error wrapping
// [ErrInvalidAddress]. It normalises before it validates, so that what it
// checks is what a mailer will later see:
//
//  1. Unicode NFKC (golang.org/x/text), which turns look-alikes such as
//     the fullwidth "＠" (U+FF20) and "ａ" into "@" and "a"; then
//     surrounding white space is trimmed.
//  2. Only printable ASCII may remain: no control characters (CR, LF,
//     NUL), no invisible ones (U+200B, U+FEFF, bidi controls), no
//     internationalised addresses (RFC 6531).
//  3. Exactly one "@", with a local part and a domain: a second "@"
//     (also one that NFKC made) is refused.
//  4. The local part is an RFC 5322 dot-atom without the routing
//     characters "%" and "!": no quotes, no spaces, no commas, no
//     brackets or comments, no leading, trailing or double dot, so a list
//     or a quoted address ("evil@x"@victim) cannot pass.
//  5. The domain is at least two labels of letters, digits and inner
//     hyphens, each 1 to 63 bytes, whose last label is not numeric: no IP
//     literal, no trailing dot.
//  6. Lengths within RFC 5321: local part 64 bytes, domain 253, address
//     254.
//  7. The result is lower-cased, as NextAuth does, so one mailbox has one
//     identifier.
func NormalizeAddress(s string) (string, error) {
	if len(s) > maxInput {
		return "", fmt.Errorf("%w: over %d bytes", ErrInvalidAddress, maxInput)
	}
	s = strings.TrimSpace(norm.NFKC.String(s))
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidAddress)
	}
	if len(s) > maxAddress {
		return "", fmt.Errorf("%w: over %d bytes", ErrInvalidAddress, maxAddress)
	}
	for _, r := range s {
		if r > unicode.MaxASCII || r < 0x21 || r == 0x7f {
			return "", fmt.Errorf("%w: a character that is not printable ASCII (U+%04X)", ErrInvalidAddress, r)
		}
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || strings.Contains(domain, "@") {
		return "", fmt.Errorf("%w: not exactly one @", ErrInvalidAddress)
	}
	if err := checkLocal(local); err != nil {
		return "", err
	}
	if err := checkDomain(domain); err != nil {
		return "", err
	}
	return strings.ToLower(s), nil
}

// atext are the characters of an RFC 5322 atom besides letters and
// digits, less the routing characters % and !.
const atext = "#$&'*+-/=?^_`{|}~"

func checkLocal(local string) error {
	if local == "" || len(local) > maxLocal {
		return fmt.Errorf("%w: a local part of %d bytes", ErrInvalidAddress, len(local))
	}
	for _, atom := range strings.Split(local, ".") {
		if atom == "" {
			return fmt.Errorf("%w: an empty atom in the local part", ErrInvalidAddress)
		}
		for i := 0; i < len(atom); i++ {
			if c := atom[i]; !isAlnum(c) && !strings.ContainsRune(atext, rune(c)) {
				return fmt.Errorf("%w: %q in the local part", ErrInvalidAddress, c)
			}
		}
	}
	return nil
}

func checkDomain(domain string) error {
	if len(domain) > maxDomain {
		return fmt.Errorf("%w: a domain of %d bytes", ErrInvalidAddress, len(domain))
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return fmt.Errorf("%w: a domain without a dot", ErrInvalidAddress)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("%w: a domain label that is empty, over 63 bytes or starts or ends with '-'", ErrInvalidAddress)
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !isAlnum(c) && c != '-' {
				return fmt.Errorf("%w: %q in the domain", ErrInvalidAddress, c)
			}
		}
	}
	tld := labels[len(labels)-1]
	if strings.Trim(tld, "0123456789") == "" {
		return fmt.Errorf("%w: a numeric top-level label (an IP address)", ErrInvalidAddress)
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
