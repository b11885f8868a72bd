package authgate_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

// AppClaims are an app's own claims, typed end to end.
type AppClaims struct {
	Team string `json:"team"`
}

// exampleAuth builds the Auth the examples share.
func exampleAuth() *authgate.Auth[AppClaims] {
	hash, _ := authgate.HashPassword("correct horse")
	auth, err := authgate.New(authgate.Config[AppClaims]{
		Secrets: []string{"an-example-secret-of-at-least-32-bytes!!"},
		URL:     "https://app.example",
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[AppClaims], error) {
			stored := ""
			if c.Username() == "alice" {
				stored = hash
			}
			if !c.PasswordMatches(stored) { // "" still costs one bcrypt compare
				return nil, nil
			}
			return &authgate.User[AppClaims]{ID: "1", Name: "alice", Role: "admin", Claims: AppClaims{Team: "core"}}, nil
		},
	})
	if err != nil {
		panic(err)
	}
	return auth
}

// A minimal app: the protocol handler, the middleware and a guarded page.
func ExampleNew() {
	auth, err := authgate.New(authgate.Config[AppClaims]{
		Secrets: []string{os.Getenv("AUTH_SECRET")},
		URL:     "https://app.example",
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[AppClaims], error) {
			return nil, nil // look the user up and call c.PasswordMatches(hash)
		},
	})
	fmt.Println(err)

	auth = exampleAuth()
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", auth.Handler())
	mux.Handle("/admin", auth.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := authgate.FromContext[AppClaims](r.Context())
		fmt.Fprintln(w, "hello", s.User.Name)
	})))
	_ = auth.Middleware(mux) // pass this to http.ListenAndServe
	// Output:
	// authgate: invalid configuration: secret 0 is 0 bytes; at least 32 are required
}

// The middleware puts the session in the context; anonymous requests pass.
func ExampleAuth_Middleware() {
	auth := exampleAuth()
	h := auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := authgate.FromContext[AppClaims](r.Context()); ok {
			fmt.Println("signed in as", s.User.Name)
			return
		}
		fmt.Println("anonymous")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))

	r := authgatetest.SignIn(exampleT{}, auth, httptest.NewRequest("GET", "/", nil),
		authgate.User[AppClaims]{ID: "1", Name: "alice"})
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// anonymous
	// signed in as alice
}

// RequireRole answers 401 to anonymous API calls, 403 to the wrong role.
func ExampleAuth_RequireRole() {
	auth := exampleAuth()
	admin := auth.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "welcome")
	}))
	for _, role := range []string{"", "user", "admin"} {
		r := httptest.NewRequest("GET", "/admin", nil)
		if role != "" {
			r = authgatetest.SignIn(exampleT{}, auth, r, authgate.User[AppClaims]{ID: "7", Role: role})
		}
		w := httptest.NewRecorder()
		admin.ServeHTTP(w, r)
		fmt.Printf("role=%q: %d %s\n", role, w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// role="": 401 {"error":"unauthenticated"}
	// role="user": 403 {"error":"forbidden"}
	// role="admin": 200 welcome
}

// Handlers read their own typed claims: no type assertion.
func ExampleFromContext() {
	auth := exampleAuth()
	h := auth.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := authgate.FromContext[AppClaims](r.Context())
		fmt.Println(s.User.ID, s.User.Role, s.Claims.Team)
	}))
	r := authgatetest.SignIn(exampleT{}, auth, httptest.NewRequest("GET", "/", nil),
		authgate.User[AppClaims]{ID: "1", Role: "admin", Claims: AppClaims{Team: "core"}})
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// 1 admin core
}

// exampleT lets examples use authgatetest outside a test function.
type exampleT struct{ testingTB }
