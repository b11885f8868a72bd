package totp_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/sqlstore"
	"github.com/authgate/authgate/totp"
)

// Example wires the second factor into an Auth: the Factor is listed as an
// extension over an adapter that stores second factors, its endpoints are
// served by the Auth's handler, and the admin pages need a sign-in with a
// second factor.
func Example() {
	dir, err := os.MkdirTemp("", "totp-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := sqlstore.Open(context.Background(), filepath.Join(dir, "app.db"), sqlstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	mfa := totp.New[struct{}](totp.Config{Issuer: "Acme", EnrolPath: "/account/2fa"})
	auth, err := authgate.New(authgate.Config[struct{}]{
		Secrets:    []string{"an-example-secret-of-at-least-32-bytes!"},
		URL:        "https://example.com",
		Adapter:    store,
		Extensions: []authgate.Extension[struct{}]{mfa},
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[struct{}], error) {
			return nil, nil // look the user up and check c.PasswordMatches(hash)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	// /api/auth/… now also serves /api/auth/mfa/totp/setup, /confirm, … .
	mux.Handle("/api/auth/", auth.Handler())
	mux.Handle("/admin/", mfa.RequireSecondFactor("admin")(http.NotFoundHandler()))
	fmt.Println("second step fields:", mfa.StepFields()[0].Name, mfa.StepFields()[1].Name)
	// Output:
	// second step fields: code recoveryCode
}
