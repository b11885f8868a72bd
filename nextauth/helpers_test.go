package nextauth_test

import (
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/nextauth"
)

// Claims are an app's typed claims, which NextAuth keeps at the top level.
type Claims struct {
	Plan  string `json:"plan,omitempty"`
	OrgID int    `json:"orgId,omitempty"`
}

const (
	secret    = "interop-secret-0123456789abcdefghijklmnop"
	oldSecret = "interop-old-secret-0123456789abcdefghijk"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// sampleToken is a token as authgate issues it, with every claim set.
func sampleToken() *authgate.Token[Claims] {
	return &authgate.Token[Claims]{
		Subject:   "user-42",
		Name:      "Alice Example",
		Email:     "alice@example.com",
		Picture:   "https://example.com/a.png",
		Role:      "admin",
		Roles:     []string{"admin", "billing"},
		Claims:    Claims{Plan: "pro", OrgID: 7},
		ID:        "AAAAAAAAAAAAAAAAAAAAAA",
		IssuedAt:  t0.Unix(),
		ExpiresAt: t0.Add(24 * time.Hour).Unix(),
		AuthTime:  t0.Add(-time.Hour).Unix(),
		Audience:  "http://localhost:3000",
	}
}

func mustV4(t testing.TB) *nextauth.V4 {
	t.Helper()
	c, err := nextauth.NewV4(secret)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustV5(t testing.TB, secrets ...string) *nextauth.V5 {
	t.Helper()
	if len(secrets) == 0 {
		secrets = []string{secret}
	}
	c, err := nextauth.NewV5(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
