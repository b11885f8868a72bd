package passkey_test

import (
	"testing"

	"github.com/authgate/authgate"
)

// BenchmarkPasskeySignIn is one whole discoverable sign-in over loopback
// HTTP: the options (challenge cookie, adapter write), the virtual
// authenticator's assertion, the callback (cookie used, go-webauthn's
// verification, the counter written back, the session minted), on the
// memory adapter.
func BenchmarkPasskeySignIn(b *testing.B) {
	e := memoryEnv(b, edits{auth: func(c *authgate.Config[claims]) { c.Limiter = authgate.NoLimiter() }})
	br := e.browser()
	br.signIn("alice@example.com", "alice-pw")
	cred := newCredentialTB(b)
	if r := br.register(cred); r.status != 200 {
		b.Fatal(r.body)
	}
	b.ReportAllocs()
	counter := uint32(0)
	for b.Loop() {
		counter++
		if r := br.passkeySignIn(cred, counter); r.status != 200 {
			b.Fatal(r.body)
		}
	}
}
