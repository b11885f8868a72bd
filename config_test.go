package authgate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

// Tests of Config: what New refuses, and the defaults it fills in.

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	authorize := func(context.Context, *authgate.Credentials) (*authgate.User[claims], error) { return nil, nil }
	tests := []struct {
		name string
		cfg  authgate.Config[claims]
	}{
		{"No secret", authgate.Config[claims]{URL: "http://x", Authorize: authorize}},
		{"A short secret", authgate.Config[claims]{Secrets: []string{"short"}, URL: "http://x", Authorize: authorize}},
		{"A short second secret", authgate.Config[claims]{Secrets: []string{secretA, "short"}, URL: "http://x", Authorize: authorize}},
		{"No URL", authgate.Config[claims]{Secrets: []string{secretA}, Authorize: authorize}},
		{"A relative URL", authgate.Config[claims]{Secrets: []string{secretA}, URL: "/app", Authorize: authorize}},
		{"A URL with a path", authgate.Config[claims]{Secrets: []string{secretA}, URL: "http://x/app", Authorize: authorize}},
		{"A URL without a host", authgate.Config[claims]{Secrets: []string{secretA}, URL: "http://:3007", Authorize: authorize}},
		{"A URL with only a port and a slash", authgate.Config[claims]{Secrets: []string{secretA}, URL: "https://:443/", Authorize: authorize}},
		{"A non-http URL", authgate.Config[claims]{Secrets: []string{secretA}, URL: "ftp://x", Authorize: authorize}},
		{"A base path without a slash", authgate.Config[claims]{Secrets: []string{secretA}, URL: "http://x", BasePath: "api/auth", Authorize: authorize}},
		{"A base path ending in a slash", authgate.Config[claims]{Secrets: []string{secretA}, URL: "http://x", BasePath: "/api/auth/", Authorize: authorize}},
		{"No Authorize", authgate.Config[claims]{Secrets: []string{secretA}, URL: "http://x"}},
		{"UpdateAge over MaxAge", authgate.Config[claims]{Secrets: []string{secretA}, URL: "http://x", Authorize: authorize, MaxAge: time.Hour, UpdateAge: 2 * time.Hour}},
		{"An off-site sign-in page", authgate.Config[claims]{Secrets: []string{secretA}, URL: "http://x", Authorize: authorize, Pages: authgate.Pages{SignIn: "//evil.example/login"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := authgate.New(tt.cfg); !errors.Is(err, authgate.ErrConfig) {
				t.Fatalf("New: got %v, want ErrConfig", err)
			}
		})
	}
}

// TestShortMaxAgeAloneIsAccepted: UpdateAge defaults to half of MaxAge, so
// a MaxAge shorter than the default UpdateAge is valid on its own.
func TestShortMaxAgeAloneIsAccepted(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *authgate.Config[claims]) { c.MaxAge = time.Hour })
	ck := authgatetest.Cookies(t, a.auth, authgate.User[claims]{ID: "u1"})
	a.clk.Advance(31 * time.Minute) // past the default UpdateAge of MaxAge/2
	if n := len(sessionSetCookies(a.serve(request("GET", "/whoami", ck...)).Result())); n != 1 {
		t.Errorf("a session half its MaxAge old: got %d Set-Cookie lines, want it re-issued (1)", n)
	}
}
