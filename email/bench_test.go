package email_test

import (
	"testing"

	"github.com/authgate/authgate/email"
)

func BenchmarkNormalizeAddress(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := email.NormalizeAddress("Alice.Smith+news@Mail.Example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignInByLink is one whole sign-in on SQLite through the real
// SMTP server: request the link, read the mail, open the page, confirm.
func BenchmarkSignInByLink(b *testing.B) {
	b.ReportAllocs()
	e := newEnv(b, options{})
	e.addUser("bench@example.com", "")
	for b.Loop() {
		br := e.browser()
		if res := br.signInWithLink("bench@example.com"); res.location() != e.url+"/dashboard" {
			b.Fatalf("→ %q", res.location())
		}
	}
}
