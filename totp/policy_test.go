package totp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/authgate/authgate/totp"
)

// RequireSecondFactor: a role that needs a sign-in with a second factor.

func TestRequireSecondFactor(t *testing.T) {
	a := newApp(t, nil, nil, options{cfg: totp.Config{EnrolPath: "/account/2fa"}})
	html := []string{"Accept", "text/html"}

	t.Run("an admin without a second factor is sent to enrol", func(t *testing.T) {
		c := a.client()
		c.password("alice")
		res := c.get("/admin", html...)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/2fa?callbackUrl=%2Fadmin" {
			t.Fatalf("browser: %d %q, want 303 to /account/2fa?callbackUrl=%%2Fadmin", res.StatusCode, res.Header.Get("Location"))
		}
		res = c.get("/admin")
		if res.StatusCode != 403 || !strings.Contains(res.body, `"error":"SecondFactorRequired"`) || !strings.Contains(res.body, `"enrolUrl"`) {
			t.Fatalf("API client: %d %s, want 403 SecondFactorRequired with enrolUrl", res.StatusCode, res.body)
		}
	})
	t.Run("a user without the role passes", func(t *testing.T) {
		c := a.client()
		c.password("bob")
		if res := c.get("/admin"); res.StatusCode != 200 {
			t.Fatalf("bob: %d", res.StatusCode)
		}
	})
	t.Run("anonymous requests are refused as by RequireAuth", func(t *testing.T) {
		if res := a.client().get("/admin"); res.StatusCode != 401 {
			t.Fatalf("anonymous: %d, want 401", res.StatusCode)
		}
	})
	t.Run("a passkey sign-in (AMR with mfa) satisfies it", func(t *testing.T) {
		c := a.client()
		c.send("POST", "/test/passkey-signin?user=alice", "", "", "Sec-Fetch-Site", "same-origin")
		if got := c.amr(); !strings.Contains(got, "mfa") {
			t.Fatalf("passkey stand-in AMR %q", got)
		}
		if res := c.get("/admin"); res.StatusCode != 200 {
			t.Fatalf("admin after a passkey sign-in: %d %s, want 200", res.StatusCode, res.body)
		}
	})

	// alice enrols in a password-only session, which stays open.
	c := a.client()
	c.password("alice")
	e := c.enrolIn()
	t.Run("an admin with TOTP whose session lacks it must sign in again", func(t *testing.T) {
		res := c.get("/admin", html...)
		if res.StatusCode != 302 || !strings.Contains(res.Header.Get("Location"), "/api/auth/signin?callbackUrl=") {
			t.Fatalf("browser: %d %q, want RequireAMR's redirect to sign in", res.StatusCode, res.Header.Get("Location"))
		}
		if res := c.get("/admin"); res.StatusCode != 401 {
			t.Fatalf("API client: %d, want 401", res.StatusCode)
		}
	})
	t.Run("the admin signed in with password and code passes", func(t *testing.T) {
		d := a.client()
		d.password("alice")
		d.credentials("code", code(t, e.secret, a.clk.Now()))
		if res := d.get("/admin", html...); res.StatusCode != 200 || res.body != "admin page" {
			t.Fatalf("after both steps: %d %s", res.StatusCode, res.body)
		}
	})
}

func TestRequireSecondFactorPanicsWithoutRoles(t *testing.T) {
	a := newApp(t, nil, nil, options{})
	for _, roles := range [][]string{nil, {""}, {"admin", ""}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RequireSecondFactor(%q) did not panic", roles)
				}
			}()
			a.mfa.RequireSecondFactor(roles...)
		}()
	}
}
