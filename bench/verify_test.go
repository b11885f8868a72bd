package bench

import (
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/nextauth"
)

// BenchmarkVerify prices verification alone, without the request around
// it: the floor's HMAC-SHA256 + JSON decode of its Claims, and a NextAuth v4
// token of the same claims (as authgate issues it) opened into an
// authgate.Token by the nextauth codec (standard library) and by go-jose.
func BenchmarkVerify(b *testing.B) {
	now := time.Now()
	claims := TestClaims(now)
	floor := newFloorCodec(hashKey)
	fv, err := floor.encode(cookieName, &claims)
	if err != nil {
		b.Fatal(err)
	}
	v4, err := nextauth.NewV4(benchSecret)
	if err != nil {
		b.Fatal(err)
	}
	tok := &authgate.Token[struct{}]{Subject: claims.ID, Name: claims.Name, Email: claims.Email, Role: claims.Role,
		ID: "AAAAAAAAAAAAAAAAAAAAAA", IssuedAt: claims.IssuedAt, ExpiresAt: claims.ExpiresAt, AuthTime: claims.IssuedAt,
		Audience: "http://localhost:3000"}
	tv, err := v4.Encode(nextauth.V4CookieName, tok)
	if err != nil {
		b.Fatal(err)
	}
	jv, err := newJoseV4(v4, benchSecret)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("floor-hmac-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c Claims
			if !floor.decode(cookieName, fv, &c) {
				b.Fatal("refused")
			}
		}
	})
	for _, tc := range []struct {
		name  string
		codec authgate.Codec
	}{{"nextauth-v4-stdlib", v4}, {"nextauth-v4-gojose", jv}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var t authgate.Token[struct{}]
				if err := tc.codec.Decode(nextauth.V4CookieName, tv, &t); err != nil || t.Role != WantRole {
					b.Fatal(err)
				}
			}
		})
	}
}
