package bench_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/bench"
)

// BenchmarkJSON prices the part of a cold request that no codec avoids:
// decoding the claims' JSON, for the six claims every variant carries and
// for authgate's Token, which adds the session id, auth_time and audience.
func BenchmarkJSON(b *testing.B) {
	c := bench.TestClaims(time.Now())
	tok := authgate.Token[struct{}]{Subject: c.ID, Name: c.Name, Email: c.Email, Role: c.Role,
		ID: "AAAAAAAAAAAAAAAAAAAAAA", IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, AuthTime: c.IssuedAt,
		Audience: "http://localhost:3000"}
	claimsJSON, _ := json.Marshal(&c)
	tokenJSON, _ := json.Marshal(&tok)
	b.Run("six-claims", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v bench.Claims
			if err := json.Unmarshal(claimsJSON, &v); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(claimsJSON)), "json-B")
	})
	b.Run("authgate-token", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v authgate.Token[struct{}]
			if err := json.Unmarshal(tokenJSON, &v); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(tokenJSON)), "json-B")
	})
}
