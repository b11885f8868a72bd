package authgate_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
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

func TestLogLinesRepeatAtMost64BytesOfTheRequest(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := a.client()
	long := strings.Repeat("u", 10<<10)
	c.signIn(long, "wrong")
	logs := a.logs.String()
	if strings.Contains(logs, strings.Repeat("u", 65)) {
		t.Errorf("a 10 KB username reached the log in full")
	}
	if !strings.Contains(logs, strings.Repeat("u", 64)+"…(10240 bytes)") {
		t.Errorf("got log %q, want the username's first 64 bytes and its length", logs)
	}
}

// echoCodec is a Codec whose Decode error repeats the value it was given,
// as a codec's error may repeat a header member or a claim.
type echoCodec struct{ authgate.Codec }

func (echoCodec) Decode(name, value string, dst any) error {
	return errors.New("cannot decode " + value)
}

// TestCodecErrorsAreClippedInTheLog: the 64-byte rule holds for what a
// codec's error repeats of the cookie, too.
func TestCodecErrorsAreClippedInTheLog(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *authgate.Config[claims]) { c.Codec = echoCodec{} })
	c := a.client()
	c.setCookie(sessionCookie, strings.Repeat("v", 3000))
	c.get("/whoami")
	logs := a.logs.String()
	if !strings.Contains(logs, "event=session_rejected") {
		t.Fatalf("no rejection logged:\n%s", logs)
	}
	if strings.Contains(logs, strings.Repeat("v", 65)) {
		t.Errorf("a codec's error brought more than 64 bytes of the cookie into the log:\n%.300s", logs)
	}
}

func TestAFloodOfBadCookiesLogsAFewLinesASecond(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := a.client()
	count := func() (rejected, summaries int) {
		logs := a.logs.String()
		return strings.Count(logs, "event=session_rejected"), strings.Count(logs, "event=suppressed kind=session_rejected count=")
	}
	for second := range 3 {
		for range 200 {
			c.setCookie(sessionCookie, "garbage")
			c.get("/whoami")
		}
		if rejected, _ := count(); rejected != 5*(second+1) {
			t.Fatalf("after %d seconds of 200 bad cookies each: got %d log lines, want %d (5 a second)", second+1, rejected, 5*(second+1))
		}
		a.clk.Advance(time.Second)
	}
	c.setCookie(sessionCookie, "garbage")
	c.get("/whoami")
	logs := a.logs.String()
	if _, summaries := count(); summaries != 3 || !strings.Contains(logs, "count=195") {
		t.Errorf("got %d summary lines, want 3 saying count=195:\n%s", summaries, logs)
	}
}
