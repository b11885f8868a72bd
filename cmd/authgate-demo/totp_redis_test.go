package main

// The second factor on two demo processes sharing one database and one
// real redis-server (as in redis_test.go): the pending sign-in started on
// one finishes on the other, and a code used on one is refused on the
// other, because the adapter advances the last used time step atomically.

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/redisstore/redistest"
)

// previousStepCode returns the code of the step before now, after waiting
// out the last seconds of a step: confirming with it leaves the current
// step unused, so a sign-in right after can use the current code (the
// processes run on the real clock).
func previousStepCode(t *testing.T, secret string) string {
	t.Helper()
	if left := 30 - time.Now().Unix()%30; left < 3 {
		time.Sleep(time.Duration(left) * time.Second)
	}
	return totpCode(t, secret, time.Now().Add(-30*time.Second))
}

func TestTwoInstancesShareTheSecondFactor(t *testing.T) {
	srv := redistest.Start(t)
	db := filepath.Join(t.TempDir(), "demo.db")
	env := cleanEnv("AUTH_SECRET="+testSecret, "AUTH_URL="+publicURL, "REDIS_URL="+srv.URL())
	a := startServe(t, env, "-db", db, "-addr", "127.0.0.1:0")
	password := ""
	for _, line := range a.stdout {
		if m := demoPassword.FindStringSubmatch(line); m != nil && m[1] == "alice" {
			password = m[2]
		}
	}
	b := startServe(t, env, "-db", db, "-addr", "127.0.0.1:0")
	addrA, addrB := listenAddr(t, a), listenAddr(t, b)

	// Enrol on A, confirming with the previous step's code.
	c := (&demo{}).client(t)
	if s := signInOn(t, c, addrA, "alice", password); s != 200 {
		t.Fatalf("sign in on A: %d", s)
	}
	resp, body := postPage(t, c, addrA+"/account/2fa/setup", nil)
	m := secretOnPage.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("setup on A: %d", resp.StatusCode)
	}
	secret := m[1]
	if _, body := postPage(t, c, addrA+"/account/2fa/confirm", url.Values{"code": {previousStepCode(t, secret)}}); !strings.Contains(body, `id="totp-on"`) {
		t.Fatalf("confirm on A:\n%s", body)
	}

	now := totpCode(t, secret, time.Now())
	phone, laptop := (&demo{}).client(t), (&demo{}).client(t)
	if s, u := signInJSON(t, phone, addrA, "alice", password); s != 401 || !strings.Contains(u, "TwoFactorRequired") {
		t.Fatalf("password on A: %d %s", s, u)
	}
	if s, _ := signInJSON(t, laptop, addrB, "alice", password); s != 401 {
		t.Fatalf("password on B: %d", s)
	}
	if s, u := stepJSON(t, phone, addrB, "code", now); s != 200 {
		t.Fatalf("the code on B, after the password on A: %d %s, want 200", s, u)
	}
	if s, u := stepJSON(t, laptop, addrA, "code", now); s != 401 || !strings.Contains(u, "error=CredentialsSignin") {
		t.Fatalf("the same code on A: %d %s, want 401 CredentialsSignin", s, u)
	}
}
