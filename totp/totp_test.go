package totp_test

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/totp"
)

// The sign-in of a user with TOTP, black-box: a real authgate, a real
// sqlstore on SQLite and on PostgreSQL, the injected clock, codes computed
// from the enrolled secret as an authenticator app does.

const pendingCookie = "authgate.check.step"

func TestSignInWithTOTP(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range signInCases {
				t.Run(tc.name, func(t *testing.T) {
					clk := newClock()
					a := newApp(t, be.open(t, clk), clk, tc.opt)
					c := a.client()
					e := c.enrol("alice")
					tc.run(t, a, c, e)
				})
			}
		})
	}
}

var signInCases = []struct {
	name string
	opt  options
	run  func(t *testing.T, a *app, c *client, e enrolled)
}{
	{"the password answers 401 TwoFactorRequired with a pending cookie and no session", options{},
		func(t *testing.T, a *app, _ *client, e enrolled) {
			c := a.client() // a new browser: enrolling made the first one a known device
			res := c.password("alice")
			if res.StatusCode != 401 || errorOf(t, res) != authgate.CodeTwoFactorRequired {
				t.Fatalf("got %d %s, want 401 TwoFactorRequired", res.StatusCode, res.body)
			}
			if c.cookie(pendingCookie) == "" {
				t.Error("no pending cookie")
			}
			if c.amr() != "anonymous" || c.cookie("authgate.device") != "" {
				t.Error("the password alone signed in or gave a device token")
			}
		}},
	{"a wrong code is refused and counted", options{},
		func(t *testing.T, a *app, c *client, e enrolled) {
			c.password("alice")
			before := a.limits.failed.Load()
			wrong := code(t, e.secret, a.clk.Now().Add(-5*time.Minute))
			res := c.credentials("code", wrong)
			if res.StatusCode != 401 || errorOf(t, res) != authgate.CodeCredentialsSignin {
				t.Fatalf("got %d %s, want 401 CredentialsSignin", res.StatusCode, res.body)
			}
			if n := a.limits.failed.Load() - before; n != 1 {
				t.Errorf("the limiter recorded %d failures, want 1", n)
			}
			if c.amr() != "anonymous" {
				t.Error("signed in with a wrong code")
			}
		}},
	{"the right code signs in with otp and mfa in the AMR", options{},
		func(t *testing.T, a *app, c *client, e enrolled) {
			c.password("alice")
			res := c.credentials("code", code(t, e.secret, a.clk.Now()))
			if res.StatusCode != 200 {
				t.Fatalf("got %d %s, want 200", res.StatusCode, res.body)
			}
			if got := c.amr(); got != "pwd otp mfa" {
				t.Errorf("AMR %q, want \"pwd otp mfa\"", got)
			}
			if c.cookie("authgate.device") == "" {
				t.Error("no device token after both steps")
			}
		}},
	{"a code from the previous step is still accepted, one from two steps back is not", options{},
		func(t *testing.T, a *app, c *client, e enrolled) {
			c.password("alice")
			if res := c.credentials("code", code(t, e.secret, a.clk.Now().Add(-60*time.Second))); res.StatusCode != 401 {
				t.Fatalf("two steps back: %d, want 401", res.StatusCode)
			}
			a.clk.Advance(30 * time.Second)
			if res := c.credentials("code", code(t, e.secret, a.clk.Now().Add(-30*time.Second))); res.StatusCode != 200 {
				t.Fatalf("one step back: %d, want 200", res.StatusCode)
			}
		}},
	{"the same code again is refused", options{},
		func(t *testing.T, a *app, c *client, e enrolled) {
			now := code(t, e.secret, a.clk.Now())
			c.password("alice")
			if res := c.credentials("code", now); res.StatusCode != 200 {
				t.Fatalf("first use: %d", res.StatusCode)
			}
			c.signOut()
			a.clk.Advance(10 * time.Second) // same step
			c.password("alice")
			if res := c.credentials("code", now); res.StatusCode != 401 || errorOf(t, res) != authgate.CodeCredentialsSignin {
				t.Fatalf("the code again: %d %s, want 401 CredentialsSignin", res.StatusCode, res.body)
			}
			if !strings.Contains(a.logs.String(), "used already") {
				t.Error("the replay is not logged as such")
			}
		}},
	{"a code without a pending cookie is refused", options{},
		func(t *testing.T, a *app, c *client, e enrolled) {
			res := a.client().credentials("code", code(t, e.secret, a.clk.Now()))
			if res.StatusCode != 401 || errorOf(t, res) != authgate.CodeTwoFactorExpired {
				t.Fatalf("got %d %s, want 401 TwoFactorExpired", res.StatusCode, res.body)
			}
		}},
	{"a code after the pending cookie expired is refused", options{},
		func(t *testing.T, a *app, c *client, e enrolled) {
			c.password("alice")
			a.clk.Advance(5*time.Minute + time.Second)
			res := c.credentials("code", code(t, e.secret, a.clk.Now()))
			if res.StatusCode != 401 || errorOf(t, res) != authgate.CodeTwoFactorExpired {
				t.Fatalf("got %d %s, want 401 TwoFactorExpired", res.StatusCode, res.body)
			}
		}},
	{"the password is not accepted as the second step", options{},
		func(t *testing.T, a *app, c *client, e enrolled) {
			c.password("alice")
			res := c.credentials("username", "alice", "password", "alice-password", "code", "alice-password")
			if res.StatusCode != 401 || c.amr() != "anonymous" {
				t.Fatalf("got %d %s, want 401 and no session", res.StatusCode, res.body)
			}
			// Sending the password again (no code) is a new first step,
			// never a way past the second.
			if res := c.password("alice"); res.StatusCode != 401 || errorOf(t, res) != authgate.CodeTwoFactorRequired {
				t.Fatalf("the password again: %d %s, want TwoFactorRequired", res.StatusCode, res.body)
			}
		}},
	{"a recovery code works once", options{},
		func(t *testing.T, a *app, c *client, e enrolled) {
			c.password("alice")
			typed := strings.ToUpper(strings.ReplaceAll(e.recovery[3], "-", " "))
			if res := c.credentials("recoveryCode", typed); res.StatusCode != 200 {
				t.Fatalf("recovery code: %d %s", res.StatusCode, res.body)
			}
			if got := c.amr(); got != "pwd recovery mfa" {
				t.Errorf("AMR %q, want \"pwd recovery mfa\"", got)
			}
			var st totp.Status
			json.Unmarshal([]byte(c.get("/api/auth/mfa/totp").body), &st)
			if !st.Enabled || st.RecoveryCodesLeft != totp.RecoveryCodeCount-1 {
				t.Errorf("status after using one: %+v", st)
			}
			c.signOut()
			c.password("alice")
			if res := c.credentials("recoveryCode", e.recovery[3]); res.StatusCode != 401 {
				t.Fatalf("the recovery code again: %d, want 401", res.StatusCode)
			}
			if res := c.credentials("recoveryCode", e.recovery[4]); res.StatusCode != 200 {
				t.Fatalf("another recovery code: %d, want 200", res.StatusCode)
			}
		}},
	{"the throttle triggers on wrong codes", options{limiter: authgate.MemoryLimiterOptions{PerAccount: authgate.AttemptBudget{Burst: 6, Every: time.Hour}}},
		func(t *testing.T, a *app, _ *client, e enrolled) {
			// A stranger (the enrolling browser is a known device, budgeted
			// apart). enrol's password sign-in and confirmation gave back
			// what they took; the budget is whole again.
			c := a.client()
			c.password("alice")
			statuses := ""
			for range 8 {
				res := c.credentials("code", "000000")
				statuses += " " + res.Status[:3]
			}
			if want := strings.Repeat(" 401", 6) + " 429 429"; statuses != want {
				t.Fatalf("wrong codes answered%s, want%s: the account's budget of 6", statuses, want)
			}
			res := c.credentials("code", code(t, e.secret, a.clk.Now()))
			if res.StatusCode != 429 || errorOf(t, res) != authgate.CodeTooManyAttempts || res.Header.Get("Retry-After") == "" {
				t.Fatalf("the right code while throttled: %d %s, want 429 with Retry-After", res.StatusCode, res.body)
			}
			// A new password check does not reopen the budget for codes.
			c.password("alice")
			if res := c.credentials("code", "000000"); res.StatusCode != 429 {
				t.Fatalf("after the password again: %d, want still 429", res.StatusCode)
			}
		}},
}

func TestEnrolmentNeedsAValidCodeAndAFreshSignIn(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			a := newApp(t, be.open(t, clk), clk, options{})
			c := a.client()
			if res := c.api("/mfa/totp/setup", nil); res.StatusCode != 401 {
				t.Fatalf("setup while anonymous: %d, want 401", res.StatusCode)
			}
			c.password("alice")
			var setup struct{ Secret, OtpauthURL, QRCode string }
			res := c.api("/mfa/totp/setup", nil)
			json.Unmarshal([]byte(res.body), &setup)
			if res.StatusCode != 200 || !strings.HasPrefix(setup.OtpauthURL, "otpauth://totp/Acme:alice@example.com?") ||
				!strings.Contains(setup.OtpauthURL, "secret="+setup.Secret) || len(setup.Secret) != 32 {
				t.Fatalf("setup: %d %s", res.StatusCode, res.body)
			}
			if res.Header.Get("Cache-Control") != "no-store" {
				t.Error("the secret may be cached")
			}
			png64, ok := strings.CutPrefix(setup.QRCode, "data:image/png;base64,")
			raw, _ := base64.StdEncoding.DecodeString(png64)
			if img, err := png.Decode(bytes.NewReader(raw)); !ok || err != nil || img.Bounds().Dx() != 256 {
				t.Errorf("qrCode is not a 256-pixel PNG: %v", err)
			}
			// Setting up is not enabling: the password alone still signs in.
			if res := a.client().password("alice"); res.StatusCode != 200 {
				t.Errorf("password sign-in before confirming: %d, want 200", res.StatusCode)
			}
			if res := c.api("/mfa/totp/confirm", map[string]string{"code": "123456"}); res.StatusCode != 400 || !strings.Contains(res.body, `"InvalidCode"`) {
				t.Fatalf("confirm with a wrong code: %d %s, want 400 InvalidCode", res.StatusCode, res.body)
			}
			if res := c.api("/mfa/totp/confirm", map[string]string{"code": code(t, setup.Secret, a.clk.Now()), "csrfToken": "forged"}); res.StatusCode != 403 {
				t.Fatalf("confirm without the CSRF token: %d, want 403", res.StatusCode)
			}
			a.clk.Advance(totp.DefaultFreshAuth + time.Second)
			if res := c.api("/mfa/totp/confirm", map[string]string{"code": code(t, setup.Secret, a.clk.Now())}); res.StatusCode != 401 || !strings.Contains(res.body, `"FreshAuthRequired"`) {
				t.Fatalf("confirm with a stale sign-in: %d %s, want 401 FreshAuthRequired", res.StatusCode, res.body)
			}
			if res := c.api("/mfa/totp/setup", nil); res.StatusCode != 401 {
				t.Fatalf("setup with a stale sign-in: %d, want 401", res.StatusCode)
			}
			c.password("alice") // fresh again
			res = c.api("/mfa/totp/confirm", map[string]string{"code": code(t, setup.Secret, a.clk.Now())})
			var conf struct {
				Enabled          bool
				RecoveryCodes    []string
				SignOutOthersURL string
			}
			json.Unmarshal([]byte(res.body), &conf)
			if res.StatusCode != 200 || !conf.Enabled || len(conf.RecoveryCodes) != 10 || conf.SignOutOthersURL != "/api/auth/sessions/revoke-others" {
				t.Fatalf("confirm: %d %s", res.StatusCode, res.body)
			}
			seen := map[string]bool{}
			for _, rc := range conf.RecoveryCodes {
				if len(rc) != 14 || rc[4] != '-' || rc[9] != '-' || seen[rc] {
					t.Errorf("recovery code %q: want xxxx-xxxx-xxxx, all different", rc)
				}
				seen[rc] = true
			}
			if res := a.client().password("alice"); errorOf(t, res) != authgate.CodeTwoFactorRequired {
				t.Errorf("password sign-in after confirming: %s, want TwoFactorRequired", res.body)
			}
			if res := c.api("/mfa/totp/setup", nil); res.StatusCode != 409 {
				t.Errorf("setup while enabled: %d, want 409", res.StatusCode)
			}
		})
	}
}

func TestChangesOfferToEndTheOtherSessions(t *testing.T) {
	a := newApp(t, nil, nil, options{})
	phone := a.client()
	phone.password("alice")
	c := a.client()
	e := c.enrol("alice")
	c.password("alice")
	c.credentials("code", code(t, e.secret, a.clk.Now()))

	res := c.api("/mfa/recovery/regenerate", nil)
	var ch struct {
		RecoveryCodes []string
		OtherSessions int
	}
	json.Unmarshal([]byte(res.body), &ch)
	if res.StatusCode != 200 || len(ch.RecoveryCodes) != 10 || ch.OtherSessions != 1 {
		t.Fatalf("regenerate: %d %s, want new codes and otherSessions 1 (the phone)", res.StatusCode, res.body)
	}
	for _, old := range e.recovery {
		for _, nw := range ch.RecoveryCodes {
			if old == nw {
				t.Fatal("a regenerated code equals an old one")
			}
		}
	}
	c.signOut()
	c.password("alice")
	if res := c.credentials("recoveryCode", e.recovery[0]); res.StatusCode != 401 {
		t.Errorf("an old recovery code after regenerating: %d, want 401", res.StatusCode)
	}
	if res := c.credentials("recoveryCode", ch.RecoveryCodes[0]); res.StatusCode != 200 {
		t.Fatalf("a new recovery code: %d", res.StatusCode)
	}

	if res := c.api("/mfa/totp/disable", nil); res.StatusCode != 400 || !strings.Contains(res.body, `"CodeRequired"`) {
		t.Fatalf("disable without a code: %d %s, want 400 CodeRequired", res.StatusCode, res.body)
	}
	a.clk.Advance(30 * time.Second)
	res = c.api("/mfa/totp/disable", map[string]string{"code": code(t, e.secret, a.clk.Now())})
	if res.StatusCode != 200 || !strings.Contains(res.body, `"enabled":false`) || !strings.Contains(res.body, `"otherSessions":1`) {
		t.Fatalf("disable: %d %s", res.StatusCode, res.body)
	}
	if res := a.client().password("alice"); res.StatusCode != 200 {
		t.Errorf("password sign-in after disabling: %d, want 200", res.StatusCode)
	}
}

func TestRegenerateWithoutASecondFactorSignInNeedsACode(t *testing.T) {
	a := newApp(t, nil, nil, options{})
	c := a.client()
	c.password("alice") // a password-only session, before enrolling
	var setup struct{ Secret string }
	json.Unmarshal([]byte(c.api("/mfa/totp/setup", nil).body), &setup)
	c.api("/mfa/totp/confirm", map[string]string{"code": code(t, setup.Secret, a.clk.Now())})
	if res := c.api("/mfa/recovery/regenerate", nil); res.StatusCode != 400 || !strings.Contains(res.body, `"CodeRequired"`) {
		t.Fatalf("regenerate in a password-only session: %d %s, want 400 CodeRequired", res.StatusCode, res.body)
	}
	a.clk.Advance(30 * time.Second)
	if res := c.api("/mfa/recovery/regenerate", map[string]string{"code": code(t, setup.Secret, a.clk.Now())}); res.StatusCode != 200 {
		t.Fatalf("regenerate with a code: %d %s", res.StatusCode, res.body)
	}
}

func TestAStolenDatabaseRowHoldsNoUsableSeed(t *testing.T) {
	clk := newClock()
	store := openSQLite(t, clk)
	a := newApp(t, store, clk, options{})
	c := a.client()
	e := c.enrol("alice")
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.secret)
	if err != nil {
		t.Fatal(err)
	}
	row, err := store.SecondFactor(t.Context(), "u-alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range [][]byte{seed, []byte(e.secret), []byte(strings.ToLower(e.secret)), []byte(hex.EncodeToString(seed))} {
		if bytes.Contains(row.TOTPSecret, leak) {
			t.Fatalf("the stored secret contains the seed in the clear (%q)", leak)
		}
	}
	for _, h := range row.RecoveryCodes {
		for _, rc := range e.recovery {
			if bytes.Contains(h, []byte(rc)) || bytes.Contains(h, []byte(strings.ReplaceAll(rc, "-", ""))) {
				t.Fatal("a recovery code is stored in the clear")
			}
		}
	}

	t.Run("a deployment with other secrets cannot check codes with it", func(t *testing.T) {
		thief := newApp(t, store, clk, options{secrets: []string{secretB}})
		tc := thief.client()
		tc.password("alice")
		res := tc.credentials("code", code(t, e.secret, clk.Now()))
		if res.StatusCode != 503 || tc.amr() != "anonymous" {
			t.Fatalf("got %d %s, want 503 (fails closed) and no session", res.StatusCode, res.body)
		}
		if !strings.Contains(thief.logs.String(), "does not open") {
			t.Log(thief.logs.String())
			t.Error("the unreadable seed is not logged")
		}
	})
	t.Run("the row copied to another user does not open for them", func(t *testing.T) {
		if err := store.SetSecondFactor(t.Context(), "u-bob", *row); err != nil {
			t.Fatal(err)
		}
		b := a.client()
		if res := b.password("bob"); errorOf(t, res) != authgate.CodeTwoFactorRequired {
			t.Fatalf("bob with alice's row: %s", res.body)
		}
		if res := b.credentials("code", code(t, e.secret, clk.Now())); res.StatusCode == 200 {
			t.Fatal("alice's sealed seed signed bob in")
		}
	})
}

func TestRotatingSecretsKeepsSeedsReadable(t *testing.T) {
	clk := newClock()
	store := openSQLite(t, clk)
	old := newApp(t, store, clk, options{secrets: []string{secretA}})
	e := old.client().enrol("alice")

	rotated := newApp(t, store, clk, options{secrets: []string{secretB, secretA}})
	c := rotated.client()
	c.password("alice")
	if res := c.credentials("code", code(t, e.secret, clk.Now())); res.StatusCode != 200 {
		t.Fatalf("sign-in after putting a new secret first: %d %s", res.StatusCode, res.body)
	}
	// Regenerating rewrites the row, sealed under the new first secret:
	// the old one can then go.
	if res := c.api("/mfa/recovery/regenerate", nil); res.StatusCode != 200 {
		t.Fatalf("regenerate: %d %s", res.StatusCode, res.body)
	}
	clk.Advance(30 * time.Second)
	onlyNew := newApp(t, store, clk, options{secrets: []string{secretB}})
	d := onlyNew.client()
	d.password("alice")
	if res := d.credentials("code", code(t, e.secret, clk.Now())); res.StatusCode != 200 {
		t.Fatalf("sign-in with the old secret removed after resealing: %d %s", res.StatusCode, res.body)
	}
}

func TestACodeUsedOnOneInstanceIsRefusedOnTheOther(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			store := be.open(t, clk)
			one := newApp(t, store, clk, options{})
			two := newApp(t, store, clk, options{})
			e := one.client().enrol("alice")
			now := code(t, e.secret, clk.Now())

			c1, c2 := one.client(), two.clientFrom("198.51.100.9")
			c1.password("alice")
			c2.password("alice")
			if res := c1.credentials("code", now); res.StatusCode != 200 {
				t.Fatalf("the code on instance one: %d %s", res.StatusCode, res.body)
			}
			if res := c2.credentials("code", now); res.StatusCode != 401 {
				t.Fatalf("the same code on instance two: %d %s, want 401", res.StatusCode, res.body)
			}
			// The pending cookie is single-use across instances too.
			c3 := one.client()
			c3.password("alice")
			pending := c3.cookie(pendingCookie)
			clk.Advance(30 * time.Second)
			if res := c3.credentials("code", code(t, e.secret, clk.Now())); res.StatusCode != 200 {
				t.Fatalf("the next code on instance one: %d", res.StatusCode)
			}
			clk.Advance(30 * time.Second)
			thief := two.client()
			thief.setCookie(pendingCookie, pending)
			if res := thief.credentials("code", code(t, e.secret, clk.Now())); res.StatusCode != 401 || errorOf(t, res) != authgate.CodeTwoFactorExpired {
				t.Fatalf("the used pending cookie on instance two: %d %s, want 401 TwoFactorExpired", res.StatusCode, res.body)
			}
		})
	}
}
