package authgate_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authgate/authgate"
)

// TestLogsHoldNoSecrets runs every logged decision and checks the log for
// the password, the secret, the session cookie and the CSRF token.
func TestLogsHoldNoSecrets(t *testing.T) {
	var logs logBuffer
	a := newApp(t, func(c *authgate.Config[claims]) { c.Logger = logs.logger() })
	c := a.client()
	c.signIn("alice", "wrong-password-9")                                               // failed
	res := c.signIn("alice", "alice-password")                                          // ok
	session := c.cookie("authgate.session-token")                                       // the live cookie
	csrf := c.csrf()                                                                    // the live token
	c.postForm("/api/auth/signout", url.Values{"csrfToken": {"bad"}, "json": {"true"}}) // csrf refused
	w := httptest.NewRecorder()
	a.srv.Config.Handler.ServeHTTP(w, request("GET", "/whoami", &http.Cookie{Name: "authgate.session-token", Value: session + "x"}))
	c.postForm("/api/auth/signout", url.Values{"csrfToken": {csrf}, "json": {"true"}}) // signed out
	if res.StatusCode != 200 || session == "" {
		t.Fatalf("sign-in: %d, cookie %q", res.StatusCode, session)
	}

	out := logs.String()
	for _, want := range []string{"event=signin_failed", "event=signin ", "event=csrf_refused", "event=session_rejected", "event=signout"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for name, secret := range map[string]string{
		"a password": "alice-password", "a wrong password": "wrong-password-9", "the secret": secretA,
		"the session cookie": session[:40], "the CSRF token": csrf,
	} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains %s:\n%s", name, out)
		}
	}
}
