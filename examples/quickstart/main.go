// Command quickstart is the README's quick start: a site with a public
// page, a page for signed-in users and one for admins.
//
//	AUTH_SECRET=$(openssl rand -base64 32) go run ./examples/quickstart
package main

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/authgate/authgate"
)

// Claims are your own session claims, typed end to end.
type Claims struct {
	Team string `json:"team,omitempty"`
}

type user struct{ id, hash, role, team string }

func main() {
	users := map[string]user{} // stands in for your database
	for name, u := range map[string]user{"alice": {id: "1", role: "admin", team: "core"}, "bob": {id: "2", role: "user"}} {
		u.hash, _ = authgate.HashPassword(name + "-password") // demo passwords: alice-password, bob-password
		users[name] = u
	}
	addr := cmp.Or(os.Getenv("ADDR"), "localhost:3000")

	auth, err := authgate.New(authgate.Config[Claims]{
		Secrets: []string{os.Getenv("AUTH_SECRET")}, // at least 32 bytes
		URL:     "http://" + addr,                   // the public origin
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[Claims], error) {
			u, found := users[c.Username()]
			if !c.PasswordMatches(u.hash) || !found { // unknown user: hash "", still one bcrypt
				return nil, nil // → 401 CredentialsSignin
			}
			return &authgate.User[Claims]{ID: u.id, Name: c.Username(), Role: u.role, Claims: Claims{Team: u.team}}, nil
		},
	})
	if err != nil {
		log.Fatal(err) // a missing or short secret, a bad URL, …
	}

	mux := http.NewServeMux()
	mux.Handle("/api/auth/", auth.Handler()) // NextAuth's REST protocol: sign in, session, sign out
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		s, ok := auth.Session(r)
		if !ok {
			fmt.Fprintln(w, "anonymous")
			return
		}
		fmt.Fprintln(w, s.User.Name, s.User.Role, s.Claims.Team)
	})
	mux.Handle("/dashboard", auth.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := auth.Session(r)
		fmt.Fprintln(w, "hello", s.User.Name)
	})))
	mux.Handle("/admin", auth.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "admin area")
	})))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err) // the port is in use, …
	}
	log.Printf("serving http://%s", addr)
	log.Fatal(http.Serve(ln, auth.Middleware(mux)))
}
