package passkey_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
	"github.com/authgate/authgate/passkey"
)

// Passkeys next to a password sign-in: the extension goes into
// Config.Extensions, and an adapter that stores passkeys into
// Config.Adapter (sqlstore in an app). /providers then lists "passkey",
// and RequireAMR("mfa") lets passkey sign-ins through.
func Example() {
	store := authgatetest.NewMemoryAdapter() // sqlstore.Open(…) in an app
	pk := passkey.New(passkey.Config[struct{}]{})
	auth, err := authgate.New(authgate.Config[struct{}]{
		Secrets:    []string{"an example secret of at least 32 bytes"},
		URL:        "https://example.com",
		Adapter:    store,
		Extensions: []authgate.Extension[struct{}]{pk},
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[struct{}], error) {
			return nil, nil // the app's password check
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", auth.Handler())
	mux.Handle("/billing", auth.RequireAMR("mfa")(http.NotFoundHandler()))

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "https://example.com/api/auth/providers", nil))
	fmt.Println(strings.Contains(w.Body.String(), `"passkey":{"callbackUrl":"https://example.com/api/auth/callback/passkey","id":"passkey","name":"Passkey","signinUrl":"https://example.com/api/auth/signin/passkey","type":"webauthn"}`))

	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "https://example.com/api/auth/webauthn-options/passkey?action=authenticate", nil))
	fmt.Println(w.Code, strings.HasPrefix(w.Body.String(), `{"action":"authenticate","options":{"challenge":`))
	// Output:
	// true
	// 200 true
}
