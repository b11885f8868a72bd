package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/authgate/authgate"
	"github.com/gorilla/securecookie"
)

// ColdRing is how many distinct sessions the cold variant cycles through:
// four times the warm cache's capacity (4096 entries, evicted oldest first
// per shard), so every request is a first sight.
const ColdRing = 4 * 4096

// Authgate returns authgate's variants: Middleware and a final handler
// reading the role with Auth.FromContext, for a cookie seen before
// (warm), cookies never seen before (cold) and no cookie (anonymous); and,
// to isolate what authgate adds on top of securecookie, authgate with the
// cache off (a custom Codec) next to bare securecookie decoding the very
// same cookie into the same Token; and authgate with the cache off over a
// prototype AES-256-GCM codec (see [GCMCodec]), to show what the codec costs.
func Authgate(now time.Time) ([]Variant, error) {
	warmH, warm, err := authgateVariant(now, 1, nil, nil)
	if err != nil {
		return nil, err
	}
	coldH, cold, err := authgateVariant(now, ColdRing, nil, nil)
	if err != nil {
		return nil, err
	}
	anonH, _, err := authgateVariant(now, 0, nil, nil)
	if err != nil {
		return nil, err
	}
	// The same decode path without the cache, against bare securecookie
	// decoding the very same cookie into the same Token: what authgate adds.
	sc := securecookie.New(hashKey, blockKey)
	sc.SetSerializer(securecookie.JSONEncoder{})
	nocacheH, nocache, err := authgateVariant(now, 1, sc, nil)
	if err != nil {
		return nil, err
	}
	gcm, err := NewGCMCodec(blockKey)
	if err != nil {
		return nil, err
	}
	gcmH, gcmCookies, err := authgateVariant(now, 1, gcm, nil)
	if err != nil {
		return nil, err
	}
	type tokenKey struct{}
	final := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, ok := r.Context().Value(tokenKey{}).(*authgate.Token[struct{}])
		var role string
		if ok {
			role = t.Role
		}
		finish(w, role, ok)
	})
	name := nocache[0].Name
	bareH := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ck, err := r.Cookie(name); err == nil {
			t := new(authgate.Token[struct{}])
			if sc.Decode(name, ck.Value, t) == nil && t.ExpiresAt > time.Now().Unix() {
				r = r.WithContext(context.WithValue(r.Context(), tokenKey{}, t))
			}
		}
		final.ServeHTTP(w, r)
	})
	return []Variant{
		{Name: "securecookie-authgate-token", Handler: bareH, Cookie: nocache[0]},
		{Name: "authgate-nocache", Handler: nocacheH, Cookie: nocache[0]},
		{Name: "authgate-nocache-aesgcm", Handler: gcmH, Cookie: gcmCookies[0]},
		{Name: "authgate-cold", Handler: coldH, Cookie: cold[0], Cookies: cold},
		{Name: "authgate-warm", Handler: warmH, Cookie: warm[0]},
		{Name: "authgate-anonymous", Handler: anonH, Anonymous: true, AnonymousStatus: http.StatusUnauthorized},
	}, nil
}

// authgateVariant builds an Auth (its own warm cache) with defaults and
// edit applied, the guarded handler, and n distinct session cookies
// carrying the claims.
func authgateVariant(now time.Time, n int, codec authgate.Codec, edit func(*authgate.Config[struct{}])) (http.Handler, []*http.Cookie, error) {
	cfg := authgate.Config[struct{}]{
		Secrets: []string{benchSecret},
		URL:     "http://localhost:3000",
		Authorize: func(context.Context, *authgate.Credentials) (*authgate.User[struct{}], error) {
			return nil, nil
		},
		Hasher: authgate.BcryptHasher{Cost: 4}, // only New's dummy hash; never on this path
		Logger: slog.New(slog.DiscardHandler),
		Codec:  codec, // nil: the default, with the warm cache
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := authgate.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	claims := TestClaims(now)
	final := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := a.FromContext(r.Context())
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
