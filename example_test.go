package authgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/authgate/authgate"
)

// AppClaims are an app's own claims, typed end to end.
type AppClaims struct {
	Team string `json:"team"`
}

// exampleAuth builds the Auth the examples share: one user, alice, with
// the password "correct horse".
func exampleAuth() *authgate.Auth[AppClaims] {
	hash, err := authgate.HashPassword("correct horse")
	if err != nil {
		panic(err)
	}
	users := map[string]struct{ id, hash, role, team string }{"alice": {"1", hash, "admin", "core"}}
	auth, err := authgate.New(authgate.Config[AppClaims]{
		Secrets: []string{"an-example-secret-of-at-least-32-bytes!!"}, // os.Getenv("AUTH_SECRET") in an app
		URL:     "https://app.example",
		Logger:  slog.New(slog.DiscardHandler),
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[AppClaims], error) {
			u, found := users[c.Username()]           // your database
			if !c.PasswordMatches(u.hash) || !found { // an unknown user's hash is "": still one bcrypt
				return nil, nil
			}
			return &authgate.User[AppClaims]{ID: u.id, Name: c.Username(), Role: u.role, Claims: AppClaims{Team: u.team}}, nil
		},
	})
	if err != nil {
		panic(err)
	}
	return auth
}

// withSession returns r carrying a session cookie for user, as a browser
// that signed in would send it (package authgatetest does this in tests).
func withSession(auth *authgate.Auth[AppClaims], r *http.Request, user authgate.User[AppClaims]) *http.Request {
	cookies, err := auth.NewSessionCookies(r.Context(), &user)
	if err != nil {
		panic(err)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

// A working app: the protocol handler, the middleware and a guarded page.
// A client signs in as next-auth/react does (a CSRF token, then the
// credentials) and reads the page with the cookie it got.
func ExampleNew() {
	auth := exampleAuth() // authgate.New(authgate.Config[AppClaims]{…}), above
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", auth.Handler())
	mux.Handle("/me", auth.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := auth.Session(r) // RequireAuth let only sessions through
		fmt.Fprintf(w, "hello %s of team %s", s.User.Name, s.Claims.Team)
	})))
	app := auth.Middleware(mux) // pass this to http.ListenAndServe

	// The client: GET /api/auth/csrf, then POST the credentials with the
	// token and its cookie.
	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "https://app.example/api/auth/csrf", nil))
	var csrf struct{ CsrfToken string }
	if err := json.NewDecoder(w.Body).Decode(&csrf); err != nil {
		panic(err)
	}
	form := url.Values{"username": {"alice"}, "password": {"correct horse"}, "csrfToken": {csrf.CsrfToken}, "json": {"true"}}
	r := httptest.NewRequest("POST", "https://app.example/api/auth/callback/credentials", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	w = httptest.NewRecorder()
	app.ServeHTTP(w, r)
	fmt.Println("sign-in:", w.Code)

	// The session cookie signs in the next request.
	r = httptest.NewRequest("GET", "https://app.example/me", nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	w = httptest.NewRecorder()
	app.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body)

	// Without it, /me is refused.
	w = httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "https://app.example/me", nil))
	fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	// Output:
	// sign-in: 200
	// 200 hello alice of team core
	// 401 {"error":"unauthenticated"}
}

// The middleware puts the session in the context, where Session reads it;
// anonymous requests pass.
func ExampleAuth_Middleware() {
	auth := exampleAuth()
	h := auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := auth.Session(r); ok {
			fmt.Println("signed in as", s.User.Name)
			return
		}
		fmt.Println("anonymous")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	h.ServeHTTP(httptest.NewRecorder(), withSession(auth, httptest.NewRequest("GET", "/", nil), authgate.User[AppClaims]{ID: "1", Name: "alice"}))
	// Output:
	// anonymous
	// signed in as alice
}

// Session also works without the middleware: it reads the cookie itself.
func ExampleAuth_Session() {
	auth := exampleAuth()
	r := withSession(auth, httptest.NewRequest("GET", "/", nil), authgate.User[AppClaims]{ID: "1", Name: "alice", Claims: AppClaims{Team: "core"}})
	if s, ok := auth.Session(r); ok {
		fmt.Println(s.User.Name, s.Claims.Team)
	}
	_, ok := auth.Session(httptest.NewRequest("GET", "/", nil))
	fmt.Println("anonymous has a session:", ok)
	// Output:
	// alice core
	// anonymous has a session: false
}

// A sign-up handler signs the new user in at once, without a password
// round trip.
func ExampleAuth_SignIn() {
	auth := exampleAuth()
	signUp := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := &authgate.User[AppClaims]{ID: "2", Name: "bob", Claims: AppClaims{Team: "web"}} // just created
		if err := auth.SignIn(w, r, user); err != nil {
			http.Error(w, "sign-in failed", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/welcome", http.StatusSeeOther)
	})
	w := httptest.NewRecorder()
	signUp.ServeHTTP(w, httptest.NewRequest("POST", "/signup", nil))
	fmt.Println(w.Code, w.Header().Get("Location"))

	next := httptest.NewRequest("GET", "/welcome", nil)
	for _, c := range w.Result().Cookies() {
		next.AddCookie(c)
	}
	s, _ := auth.Session(next)
	fmt.Println(s.User.Name, s.Claims.Team)

	err := auth.SignIn(httptest.NewRecorder(), next, nil)
	fmt.Println(errors.Is(err, authgate.ErrInvalidUser))
	// Output:
	// 303 /welcome
	// bob web
	// true
}

// An account-deletion handler ends the session as POST /signout does.
func ExampleAuth_SignOut() {
	auth := exampleAuth()
	r := withSession(auth, httptest.NewRequest("POST", "/account/delete", nil), authgate.User[AppClaims]{ID: "1"})
	w := httptest.NewRecorder()
	if err := auth.SignOut(w, r); err != nil {
		fmt.Println(err)
	}
	for _, c := range w.Result().Cookies() {
		fmt.Println(c.Name, "cleared:", c.MaxAge < 0)
	}
	_, err := auth.Check(r) // the old cookie is revoked
	fmt.Println(errors.Is(err, authgate.ErrSessionRevoked))
	// Output:
	// __Host-authgate.session-token cleared: true
	// true
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
			r = withSession(auth, r, authgate.User[AppClaims]{ID: "7", Role: role})
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

// A custom ErrorHandler handles one case itself and leaves the rest to
// DefaultErrorHandler.
func ExampleDefaultErrorHandler() {
	hash, _ := authgate.HashPassword("correct horse")
	hashes := map[string]string{"alice": hash}
	auth, err := authgate.New(authgate.Config[AppClaims]{
		Secrets: []string{"an-example-secret-of-at-least-32-bytes!!"},
		URL:     "https://app.example",
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[AppClaims], error) {
			hash, found := hashes[c.Username()]
			if !c.PasswordMatches(hash) || !found {
				return nil, nil
			}
			return &authgate.User[AppClaims]{ID: "1"}, nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, authgate.ErrForbidden) {
				http.Error(w, "ask an admin for access", http.StatusForbidden)
				return
			}
			authgate.DefaultErrorHandler(w, r, err)
		},
	})
	if err != nil {
		panic(err)
	}
	page := auth.RequireRole("admin")(http.NotFoundHandler())
	nav := httptest.NewRequest("GET", "/reports", nil)
	nav.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	page.ServeHTTP(w, nav)
	fmt.Println(w.Code, w.Header().Get("Location"))

	r := httptest.NewRequest("GET", "/reports", nil)
	cookies, _ := auth.NewSessionCookies(r.Context(), &authgate.User[AppClaims]{ID: "1", Role: "user"})
	r.AddCookie(cookies[0])
	w = httptest.NewRecorder()
	page.ServeHTTP(w, r)
	fmt.Print(w.Code, " ", w.Body)
	// Output:
	// 302 https://app.example/api/auth/signin?callbackUrl=https%3A%2F%2Fapp.example%2Freports
	// 403 ask an admin for access
}

// Code that has the request's context but not the request (a service
// layer called with r.Context()) reads the session with the Auth's
// FromContext, typed, with no type assertion. Each Auth has its own
// context key, so it only ever sees sessions it verified.
func ExampleAuth_FromContext() {
	auth := exampleAuth()
	h := auth.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := auth.FromContext(r.Context())
		fmt.Println(s.User.ID, s.User.Role, s.Claims.Team)
	}))
	h.ServeHTTP(httptest.NewRecorder(), withSession(auth, httptest.NewRequest("GET", "/", nil),
		authgate.User[AppClaims]{ID: "1", Role: "admin", Claims: AppClaims{Team: "core"}}))
	// Output:
	// 1 admin core
}
