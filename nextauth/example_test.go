package nextauth_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/nextauth"
)

// A Go API that reads the session of a Next.js app running next-auth 4
// with the same NEXTAUTH_SECRET. The cookie here is minted by authgate
// itself, in exactly the format next-auth's encode writes.
func Example() {
	const secret = "a-secret-of-at-least-32-bytes-0123456789" // NEXTAUTH_SECRET
	codec, err := nextauth.NewV4(secret)
	if err != nil {
		log.Fatal(err)
	}
	type Claims struct {
		Plan string `json:"plan"` // token.plan in the Next.js jwt callback
	}
	auth, err := authgate.New(authgate.Config[Claims]{
		Secrets:           []string{secret},
		URL:               "http://localhost:3000", // NEXTAUTH_URL
		Codec:             codec,
		SessionCookieName: nextauth.V4CookieName,
		Authorize: func(context.Context, *authgate.Credentials) (*authgate.User[Claims], error) {
			return nil, nil // users sign in on the Next.js side
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	api := auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := auth.Session(r); ok {
			fmt.Fprintf(w, "%s is on plan %s", s.User.Name, s.Claims.Plan)
			return
		}
		http.Error(w, "sign in first", http.StatusUnauthorized)
	}))

	cookies, err := auth.NewSessionCookies(context.Background(), &authgate.User[Claims]{ID: "42", Name: "alice", Claims: Claims{Plan: "pro"}})
	if err != nil {
		log.Fatal(err)
	}
	r := httptest.NewRequest("GET", "http://localhost:3000/api/me", nil)
	r.AddCookie(cookies[0])
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	fmt.Println(cookies[0].Name)
	fmt.Println(w.Body.String())
	// Output:
	// next-auth.session-token
	// alice is on plan pro
}

// An Auth.js v5 codec during a secret rotation: new tokens are sealed with
// the first secret, tokens sealed with the second still open.
func ExampleNewV5() {
	old, _ := nextauth.NewV5("the-previous-AUTH_SECRET-0123456789abcdef")
	rotated, _ := nextauth.NewV5("the-new-AUTH_SECRET-0123456789abcdefghij", "the-previous-AUTH_SECRET-0123456789abcdef")

	v, _ := old.Encode(nextauth.V5CookieName, &authgate.Token[struct{}]{Subject: "42", ID: "s1"})
	var tok authgate.Token[struct{}]
	err := rotated.Decode(nextauth.V5CookieName, v, &tok)
	fmt.Println(tok.Subject, err)
	// Output: 42 <nil>
}
