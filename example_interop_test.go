package authgate_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/authgate/authgate"
)

// A Go API shared with a Next.js app: the session cookie has NextAuth's
// name (with a codec from the nextauth module it also has NextAuth's
// format, and the __Secure- prefix NextAuth gives it on https), and a
// server-to-server call may carry the token as a bearer token instead of
// a cookie.
func ExampleConfig_sessionCookieName() {
	auth, err := authgate.New(authgate.Config[struct{}]{
		Secrets:           []string{"an-example-secret-of-at-least-32-bytes!!"},
		URL:               "https://app.example",
		SessionCookieName: "next-auth.session-token", // Codec: nextauth.NewV4(secret) in a real app
		AcceptBearer:      true,
		Logger:            slog.New(slog.DiscardHandler),
		Authorize: func(context.Context, *authgate.Credentials) (*authgate.User[struct{}], error) {
			return nil, nil
		},
	})
	if err != nil {
		panic(err)
	}
	api := auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := auth.Session(r); ok {
			fmt.Fprintf(w, "user %s", s.User.ID)
		}
	}))
	cookies, err := auth.NewSessionCookies(context.Background(), &authgate.User[struct{}]{ID: "42"})
	if err != nil {
		panic(err)
	}

	r := httptest.NewRequest("GET", "https://app.example/api/orders", nil)
	r.Header.Set("Authorization", "Bearer "+cookies[0].Value) // no cookie: a server calling
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	fmt.Println(w.Body.String(), w.Header().Values("Vary"), len(w.Result().Cookies()))
	// Output:
	// user 42 [Authorization] 0
}
