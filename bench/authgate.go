package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/authgate/authgate"
)

// ColdRing is how many distinct sessions the cold variant cycles through:
// four times the warm cache's capacity (4096 entries, evicted oldest first
// per shard), so every request is a first sight.
const ColdRing = 4 * 4096

// Authgate returns authgate's variants: Middleware and a final handler
// reading the role with authgate.FromContext, for a cookie seen before
// (warm), cookies never seen before (cold) and no cookie (anonymous).
func Authgate(now time.Time) ([]Variant, error) {
	warmH, warm, err := authgateVariant(now, 1)
	if err != nil {
		return nil, err
	}
	coldH, cold, err := authgateVariant(now, ColdRing)
	if err != nil {
		return nil, err
	}
	anonH, _, err := authgateVariant(now, 0)
	if err != nil {
		return nil, err
	}
	return []Variant{
		{Name: "authgate-cold", Handler: coldH, Cookie: cold[0], Cookies: cold},
		{Name: "authgate-warm", Handler: warmH, Cookie: warm[0]},
		{Name: "authgate-anonymous", Handler: anonH, Anonymous: true, AnonymousStatus: http.StatusUnauthorized},
	}, nil
}

// authgateVariant builds an Auth (its own warm cache) with defaults, the
// guarded handler, and n distinct session cookies carrying the claims.
func authgateVariant(now time.Time, n int) (http.Handler, []*http.Cookie, error) {
	a, err := authgate.New(authgate.Config[struct{}]{
		Secrets: []string{"bench-secret-0123456789abcdefghijklmnop"},
		URL:     "http://localhost:3000",
		Authorize: func(context.Context, *authgate.Credentials) (*authgate.User[struct{}], error) {
			return nil, nil
		},
		Hasher: authgate.BcryptHasher{Cost: 4}, // only New's dummy hash; never on this path
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, nil, err
	}
	claims := TestClaims(now)
	final := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := authgate.FromContext[struct{}](r.Context())
		var role string
		if ok {
			role = s.User.Role
		}
		finish(w, role, ok)
	})
	cookies := make([]*http.Cookie, n)
	for i := range cookies {
		id := claims.ID
		if i > 0 {
			id += "-" + strconv.Itoa(i)
		}
		cs, err := a.NewSessionCookies(context.Background(), &authgate.User[struct{}]{
			ID: id, Name: claims.Name, Email: claims.Email, Role: claims.Role,
		})
		if err != nil {
			return nil, nil, err
		}
		if len(cs) != 1 {
			return nil, nil, fmt.Errorf("authgate: %d session cookies, want 1", len(cs))
		}
		cookies[i] = &http.Cookie{Name: cs[0].Name, Value: cs[0].Value}
	}
	return a.Middleware(final), cookies, nil
}
