package passkey_test

import (
	"github.com/authgate/authgate"
	"strings"
	"testing"
)

// Whatever a client puts in the callback's data field, with a valid
// challenge cookie and CSRF token, it is refused without a panic, a
// session or a fault.
func FuzzCallbackData(f *testing.F) {
	for _, seed := range []string{
		"", "{}", "null", "[]", `{"id":"","rawId":"","type":"public-key","response":{}}`,
		`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AAAA","userHandle":"AAAA"}}`,
		`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}`,
		strings.Repeat("[", 4000),
	} {
		f.Add(seed, "authenticate")
		f.Add(seed, "register")
	}
	e := memoryEnv(f, edits{auth: func(c *authgate.Config[claims]) { c.Limiter = authgate.NoLimiter() }})
	b := e.browser()
	b.signIn("alice@example.com", "alice-pw")
	f.Fuzz(func(t *testing.T, data, action string) {
		e.t = t // the helpers report to this input's test (inputs run one at a time)
		if action != "register" {
			action = "authenticate"
		}
		if r, _ := b.options("?action=" + action); r.status != 200 {
			t.Fatalf("options: %d %s", r.status, r.body)
		}
		r := b.callback(action, data)
		if r.status != 401 && r.status != 413 {
			t.Fatalf("data %q: got %d %s, want 401 (or 413 when too large)", data, r.status, r.body)
		}
	})
}
