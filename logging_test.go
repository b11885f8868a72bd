package authgate_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestLogsHoldNoSecrets runs every logged decision and checks the log for
// the events, and for the password, the secret, the session cookie and the
// CSRF token.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := a.client()
	c.signIn("alice", "wrong-password-9")                                               // failed
	res := c.signIn("alice", "alice-password")                                          // ok
	session := c.cookie(sessionCookie)                                                  // the live cookie
	csrf := c.csrf()                                                                    // the live token
	c.postForm("/api/auth/signout", url.Values{"csrfToken": {"bad"}, "json": {"true"}}) // csrf refused
	a.serve(request("GET", "/whoami", &http.Cookie{Name: sessionCookie, Value: session + "x"}))
	c.postForm("/api/auth/signout", url.Values{"csrfToken": {csrf}, "json": {"true"}}) // signed out
	if res.StatusCode != 200 || session == "" {
		t.Fatalf("sign-in: got %d, cookie %q; want 200 and a cookie", res.StatusCode, session)
	}

	out := a.logs.String()
	for _, want := range []string{"event=signin_failed", "event=signin ", "event=csrf_refused", "event=session_rejected", "event=signout"} {
		if !strings.Contains(out, want) {
			t.Errorf("log: got no %q, want it in:\n%s", want, out)
		}
	}
	for _, tt := range []struct{ name, secret string }{
		{"A password", "alice-password"},
		{"A wrong password", "wrong-password-9"},
		{"The secret", secretA},
		{"The session cookie", session[:40]},
		{"The CSRF token", csrf},
	} {
		if strings.Contains(out, tt.secret) {
			t.Errorf("%s: got it in the log, want it absent:\n%s", tt.name, out)
		}
	}
}
