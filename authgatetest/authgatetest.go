// Package authgatetest helps apps test their own guarded handlers without
// signing in through the protocol: it mints real session cookies with the
// app's own [authgate.Auth], so the middleware and guards verify them
// exactly as they verify a browser's.
package authgatetest

import (
	"context"
	"net/http"
	"testing"

	"github.com/authgate/authgate"
)

// Cookies returns the session cookies for user, as a successful sign-in
// would set them (the app's JWT callback runs with TriggerSignIn). It fails
// the test on error.
func Cookies[T any](tb testing.TB, a *authgate.Auth[T], user authgate.User[T]) []*http.Cookie {
	tb.Helper()
	cookies, err := a.NewSessionCookies(context.Background(), &user)
	if err != nil {
		tb.Fatalf("authgatetest: mint session for %q: %v", user.ID, err)
	}
	return cookies
}

// SignIn adds a session for user to r's cookies and returns r, so a test
// can write:
//
//	req := authgatetest.SignIn(t, auth, httptest.NewRequest("GET", "/admin", nil), authgate.User[Claims]{ID: "1", Role: "admin"})
func SignIn[T any](tb testing.TB, a *authgate.Auth[T], r *http.Request, user authgate.User[T]) *http.Request {
	tb.Helper()
	for _, c := range Cookies(tb, a, user) {
		r.AddCookie(c)
	}
	return r
}
