package authgate_test

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// Tests of sign-in throttling through the Limiter, as the protocol applies
// it: per account, per client address (trusted proxies included), before
// any password check; and NoLimiter. The memory limiter's own contract is
// tested in limiter_memory_test.go.

func TestThrottling(t *testing.T) {
	t.Parallel()
	t.Run("The eleventh attempt against one account is answered 429 with Retry-After, even with the right password", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, nil)
		c := a.client().from("198.51.100.7")
		for i := range 10 {
			if res := c.signIn("alice", "wrong"); res.StatusCode != 401 {
				t.Fatalf("failure %d: got %d, want 401", i+1, res.StatusCode)
			}
		}
		before := a.hasher.compares.Load()
		res := c.signIn("alice", "alice-password")
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "90" {
			t.Fatalf("11th attempt: got %d Retry-After %q, want 429 and 90", res.StatusCode, res.Header.Get("Retry-After"))
		}
		var body struct{ URL string }
		if err := json.Unmarshal([]byte(res.body), &body); err != nil || !strings.Contains(body.URL, "error=TooManyAttempts") {
			t.Errorf("11th attempt body: got %q, want a url with error=TooManyAttempts", res.body)
		}
		if signedIn(res.Response) {
			t.Error("11th attempt: got a session cookie, want none")
		}
		if n := a.hasher.compares.Load() - before; n != 0 {
			t.Errorf("a throttled attempt: got %d password comparisons, want 0 (throttle before bcrypt)", n)
		}
		a.clk.Advance(90 * time.Second)
		if res := c.signIn("alice", "alice-password"); res.StatusCode != 200 || !signedIn(res.Response) {
			t.Errorf("after Retry-After: got %d, want 200 and a session", res.StatusCode)
		}
	})

	t.Run("A different account from another address is unaffected, and so is the victim from their own address", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, nil)
		attacker := a.client().from("198.51.100.7")
		for range 10 {
			attacker.signIn("alice", "wrong")
		}
		if res := attacker.signIn("alice", "wrong"); res.StatusCode != 429 {
			t.Fatalf("attacker's 11th attempt: got %d, want 429", res.StatusCode)
		}
		if res := a.client().from("203.0.113.20").signIn("bob", "bob-password"); res.StatusCode != 200 || !signedIn(res.Response) {
			t.Errorf("bob from another address: got %d, want 200 and a session", res.StatusCode)
		}
		if res := a.client().from("203.0.113.21").signIn("alice", "alice-password"); res.StatusCode != 200 || !signedIn(res.Response) {
			t.Errorf("alice from her own address during the attack: got %d, want 200 and a session", res.StatusCode)
		}
	})

	t.Run("Case and space variants of a username count as one account", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, nil)
		c := a.client().from("198.51.100.7")
		for i, name := range []string{"alice", "Alice", " alice", "ALICE ", "aLiCe", "alice", "alice\t", "Alice", "alice", "ALICE"} {
			if res := c.signIn(name, "wrong"); res.StatusCode != 401 {
				t.Fatalf("failure %d (%q): got %d, want 401", i+1, name, res.StatusCode)
			}
		}
		if res := c.signIn("alice", "wrong"); res.StatusCode != 429 {
			t.Errorf("11th attempt: got %d, want 429", res.StatusCode)
		}
	})

	t.Run("Unknown and existing accounts are throttled with identical answers", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, nil)
		c := a.client()
		for range 10 {
			c.from("198.51.100.7").signIn("alice", "wrong")
			c.from("198.51.100.8").signIn("nobody", "wrong")
		}
		existing := c.from("198.51.100.7").signIn("alice", "wrong")
		unknown := c.from("198.51.100.8").signIn("nobody", "wrong")
		if existing.StatusCode != 429 {
			t.Fatalf("got %d, want 429", existing.StatusCode)
		}
		sameResponse(t, existing, unknown)
	})
}

func TestNoLimiter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		limiter authgate.Limiter // nil: the default
		want    int              // the status of the 21st attempt
	}{
		{"The default limiter throttles the 21st attempt", nil, 429},
		{"NoLimiter lets the 21st attempt through", authgate.NoLimiter(), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, func(c *authgate.Config[claims]) {
				if tt.limiter != nil {
					c.Limiter = tt.limiter
				}
			})
			c := a.client()
			for range 20 {
				c.signIn("alice", "wrong")
			}
			if res := c.signIn("alice", "alice-password"); res.StatusCode != tt.want {
				t.Errorf("21st attempt: got %d, want %d", res.StatusCode, tt.want)
			}
		})
	}
}

// each returns f(0) … f(9).
func each(f func(i int) string) []string {
	var out []string
	for i := range 10 {
		out = append(out, f(i))
	}
	return out
}

func TestClientAddressForThrottling(t *testing.T) {
	t.Parallel()
	proxies := func(cfg *authgate.Config[claims]) {
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	}
	// spoofed is a different X-Forwarded-For for each of ten attempts.
	spoofed := each(func(i int) string { return netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}).String() })

	tests := []struct {
		name    string
		edit    func(*authgate.Config[claims])
		remote  string   // of every attempt
		xffs    []string // X-Forwarded-For of the ten failures (nil: none)
		nextXFF string   // of the 11th attempt
		want    int
	}{
		{"X-Forwarded-For from a direct client is ignored", nil, "203.0.113.5", spoofed, "192.0.2.99", 429},
		{"X-Forwarded-For from an untrusted proxy is ignored", proxies, "203.0.113.5", spoofed, "192.0.2.99", 429},
		{"A trusted proxy's X-Forwarded-For names the client", proxies, "10.0.0.1", slices.Repeat([]string{"192.0.2.1"}, 10), "192.0.2.99", 401},
		{"A client cannot escape by prepending to a trusted proxy's chain", proxies, "10.0.0.1",
			each(func(i int) string { return netip.AddrFrom4([4]byte{6, 6, 6, byte(i)}).String() + ", 192.0.2.1" }), "6.6.6.6, 192.0.2.1", 429},
		{"A trusted proxy's entries with ports name the client", proxies, "10.0.0.1", slices.Repeat([]string{"192.0.2.1:5678"}, 10), "[2001:db8::99]:443", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newApp(t, tt.edit).client().from(tt.remote)
			for i := range 10 {
				var hdr []string
				if tt.xffs != nil {
					hdr = []string{"X-Forwarded-For", tt.xffs[i]}
				}
				c.signIn("alice", "wrong", hdr...)
			}
			if got := c.signIn("alice", "wrong", "X-Forwarded-For", tt.nextXFF).StatusCode; got != tt.want {
				t.Errorf("11th attempt: got %d, want %d", got, tt.want)
			}
		})
	}
}
