package email_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/authgate/authgate/email"
)

func TestNormalizeAddress(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, in, want string // want "" means refused
	}{
		{"a plain address is lower-cased", "Alice@Example.COM", "alice@example.com"},
		{"white space around it is trimmed", " \tbob@example.com\n", "bob@example.com"},
		{"plus addressing and dots are kept", "carol.d+news@mail.example.org", "carol.d+news@mail.example.org"},
		{"fullwidth letters and ＠ become ASCII (NFKC)", "ｄａｖｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "dave@example.com"},
		{"an ideographic space around it is trimmed after NFKC", "\u3000erin@example.com\u3000", "erin@example.com"},
		{"an apostrophe is an atom character", "o'brien@example.ie", "o'brien@example.ie"},
		{"a hyphenated domain", "x@my-host.example", "x@my-host.example"},

		{"empty", "", ""},
		{"only spaces", "   ", ""},
		{"a comma list (GHSA-xv97-c62v-4587)", "a@b.co,evil@attacker.io", ""},
		{"a semicolon list", "a@b.co;evil@attacker.io", ""},
		{"a quoted local part (GHSA-5jpx-9hw9-2fx4)", `"e@attacker.io"@victim.example`, ""},
		{"a fullwidth second @ (GHSA-7rqj-j65f-68wh)", "attacker.io＠victim.example@x.io", ""},
		{"a small commercial at (U+FE6B) becomes a second @", "a\ufe6bb@victim.example", ""},
		{"two @", "a@b@example.com", ""},
		{"no @", "example.com", ""},
		{"no local part", "@example.com", ""},
		{"no domain", "alice@", ""},
		{"a domain without a dot", "alice@localhost", ""},
		{"a trailing dot", "alice@example.com.", ""},
		{"an IP literal", "alice@[192.0.2.1]", ""},
		{"a numeric domain", "alice@192.0.2.1", ""},
		{"CR LF (header injection)", "alice@example.com\r\nBcc: evil@x.io", ""},
		{"NUL", "alice@example.com\x00", ""},
		{"a tab inside", "ali\tce@example.com", ""},
		{"a zero-width space", "ali\u200bce@example.com", ""},
		{"a byte order mark", "\ufeffalice@example.com", ""},
		{"a right-to-left override", "alice@exa\u202emple.com", ""},
		{"a non-ASCII letter (RFC 6531 addresses are refused)", "josé@example.com", ""},
		{"a Cyrillic look-alike", "аlice@example.com", ""},
		{"a display name", "Alice <alice@example.com>", ""},
		{"angle brackets", "<alice@example.com>", ""},
		{"a comment", "alice(x)@example.com", ""},
		{"a space inside", "alice smith@example.com", ""},
		{"a leading dot", ".alice@example.com", ""},
		{"a double dot", "al..ice@example.com", ""},
		{"a percent route", "user%evil.io@relay.example", ""},
		{"a bang path", "evil.io!user@relay.example", ""},
		{"a backslash", `al\ice@example.com`, ""},
		{"a local part over 64 bytes", strings.Repeat("a", 65) + "@example.com", ""},
		{"a label over 63 bytes", "a@" + strings.Repeat("b", 64) + ".com", ""},
		{"an address over 254 bytes", "a@" + strings.Repeat(strings.Repeat("b", 60)+".", 5) + "com", ""},
		{"a label starting with a hyphen", "a@-x.example", ""},
		{"an input over 1 KiB", strings.Repeat(" ", 1100) + "a@b.co", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := email.NormalizeAddress(tt.in)
			if tt.want == "" {
				if err == nil || !errors.Is(err, email.ErrInvalidAddress) || got != "" {
					t.Errorf("NormalizeAddress(%q) = %q, %v; want ErrInvalidAddress", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("NormalizeAddress(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// FuzzNormalizeAddress checks what any accepted address is: one plain,
// printable ASCII address with one @ that normalises to itself, without
// the characters that make lists, quotes, routes or headers.
func FuzzNormalizeAddress(f *testing.F) {
	for _, s := range []string{"alice@example.com", "a@b.co,evil@x.io", `"e@x.io"@v.example`, "ａ＠ｂ．ｃｏ", "x\ufe6by@z.io", "a\r\n@b.co", "o'b+c@d-e.fg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := email.NormalizeAddress(s)
		if err != nil {
			if !errors.Is(err, email.ErrInvalidAddress) || got != "" {
				t.Fatalf("refused %q with %q, %v", s, got, err)
			}
			return
		}
		if strings.Count(got, "@") != 1 || strings.ContainsAny(got, "\",;<>()[]\\:%! \t\r\n") || len(got) > 254 {
			t.Fatalf("accepted %q as %q", s, got)
		}
		for _, r := range got {
			if r < 0x21 || r > 0x7e {
				t.Fatalf("accepted %q as %q with U+%04X", s, got, r)
			}
		}
		if again, err := email.NormalizeAddress(got); err != nil || again != got {
			t.Fatalf("%q does not normalise to itself: %q, %v", got, again, err)
		}
	})
}
