package authgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

// Tests of the credentials-step seam (step.go): a password sign-in of a
// user an extension guards answers TwoFactorRequired and a pending cookie;
// a second request with the step's field and that cookie finishes it. The
// real second factor (TOTP) lives in the module totp/, which tests its
// codes; here a fake step checks a fixed code, so the tests are about the
// core's half: the pending cookie, the throttle, the AMR, the device
// token.

// pinStep is a CredentialsStep for the tests: users in its set need the
// PIN "2468" (field "code") or the one-off "backup-1" (field "backup").
type pinStep struct {
	users map[string]bool // user IDs that need the step
	fail  error           // returned by StepRequired and VerifyStep when set

	mu   sync.Mutex
	seen []map[string]string // the fields each VerifyStep saw
	used bool                // backup-1 was used
}

func (p *pinStep) ID() string { return "pin" }

func (p *pinStep) Mount(*authgate.Auth[claims]) (authgate.Endpoints, error) {
	return authgate.Endpoints{}, nil
}

func (p *pinStep) StepFields() []authgate.StepField {
	return []authgate.StepField{{Name: "code", Label: "PIN"}, {Name: "backup", Label: "Backup code"}}
}

func (p *pinStep) StepRequired(ctx context.Context, u *authgate.User[claims]) (bool, error) {
	if p.fail != nil {
		return false, p.fail
	}
	return p.users[u.ID], nil
}

func (p *pinStep) VerifyStep(ctx context.Context, u *authgate.User[claims], c *authgate.Credentials) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fields := map[string]string{}
	for _, n := range c.Names() {
		fields[n] = c.Get(n)
	}
	p.seen = append(p.seen, fields)
	switch {
	case p.fail != nil:
		return nil, p.fail
	case c.Get("code") == "2468":
		return []string{"otp", "mfa"}, nil
	case c.Get("backup") == "backup-1" && !p.used:
		p.used = true
		return []string{"recovery", "mfa"}, nil
	}
	return nil, authgate.ErrStepFailed
}

// stepApp is the test app with the pin step guarding alice (u1), the
// memory adapter (so the pending cookie is single-use) and a route that
// shows the session's AMR.
func stepApp(t *testing.T, edit func(*authgate.Config[claims])) (*app, *pinStep) {
	t.Helper()
	step := &pinStep{users: map[string]bool{"u1": true}}
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Adapter = authgatetest.NewMemoryAdapter()
		c.Extensions = []authgate.Extension[claims]{step}
		if edit != nil {
			edit(c)
		}
	})
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", a.auth.Handler())
	mux.HandleFunc("/amr", func(w http.ResponseWriter, r *http.Request) {
		s, ok := a.auth.Session(r)
		if !ok {
			http.Error(w, "anonymous", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(strings.Join(s.AMR(), " ")))
	})
	mux.Handle("/mfa-only", a.auth.RequireAMR("mfa")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("strong"))
	})))
	a.h = a.auth.Middleware(mux)
	return a, step
}

// step posts the second step as signIn("credentials", {code, redirect:
// false}) does, with the fields of kv (name, value, …).
func (c *client) step(kv ...string) response {
	c.t.Helper()
	form := url.Values{"redirect": {"false"}, "csrfToken": {c.csrf()}, "callbackUrl": {c.app.url + "/whoami"}, "json": {"true"}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	return c.postForm("/api/auth/callback/credentials", form)
}

// errorCode returns the error query parameter of a JSON {url} answer.
func errorCode(t *testing.T, res response) string {
	t.Helper()
	var v struct{ URL string }
	if err := json.Unmarshal([]byte(res.body), &v); err != nil {
		t.Fatalf("answer is not {url}: %d %q", res.StatusCode, res.body)
	}
	u, err := url.Parse(v.URL)
	if err != nil || !u.IsAbs() {
		t.Fatalf("url %q is not absolute", v.URL)
	}
	return u.Query().Get("error")
}

const pendingCookie = "authgate.check.step"

func TestCredentialsStepSignsInInTwoRequests(t *testing.T) {
	t.Parallel()
	a, step := stepApp(t, nil)
	c := a.client()

	res := c.signIn("alice", "alice-password")
	if res.StatusCode != 401 || errorCode(t, res) != authgate.CodeTwoFactorRequired {
		t.Fatalf("the password of a user with a step: got %d %s, want 401 TwoFactorRequired", res.StatusCode, res.body)
	}
	if signedIn(res.Response) {
		t.Error("the password alone set a session cookie")
	}
	if c.cookie("authgate.device") != "" {
		t.Error("the password alone gave the browser a device token")
	}
	var pending *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == pendingCookie {
			pending = ck
		}
	}
	if pending == nil || !pending.HttpOnly || pending.MaxAge <= 0 || pending.MaxAge > 300 {
		t.Fatalf("pending cookie: got %+v, want an HttpOnly cookie of at most 5 minutes", pending)
	}
	if strings.Contains(pending.Value, "alice") || strings.Contains(pending.Value, "u1") {
		t.Error("the pending cookie shows who it is for: it must be encrypted")
	}
	if got := c.get("/amr"); got.StatusCode != 401 {
		t.Errorf("after the password alone: GET /amr %d, want anonymous", got.StatusCode)
	}

	compares := a.hasher.compares.Load()
	res = c.step("code", "2468")
	if res.StatusCode != 200 || !signedIn(res.Response) {
		t.Fatalf("the right code: got %d %s, want 200 and a session", res.StatusCode, res.body)
	}
	if n := a.hasher.compares.Load() - compares; n != 0 {
		t.Errorf("the second step compared %d passwords, want none", n)
	}
	if got := c.get("/amr").body; got != "pwd otp mfa" {
		t.Errorf("session AMR: got %q, want \"pwd otp mfa\"", got)
	}
	if got := c.get("/mfa-only"); got.StatusCode != 200 {
		t.Errorf("RequireAMR(mfa) after both steps: %d, want 200", got.StatusCode)
	}
	if c.cookie("authgate.device") == "" {
		t.Error("no device token after both steps")
	}
	if c.cookie(pendingCookie) != "" {
		t.Error("the pending cookie outlived the sign-in")
	}
	if len(step.seen) != 1 || step.seen[0]["password"] != "" {
		t.Errorf("VerifyStep saw %v, want one call without a password", step.seen)
	}
	if !strings.Contains(a.logs.String(), "event=signin_step") {
		t.Error("the pending step is not logged")
	}
}

func TestCredentialsStepRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// before runs after the password step (with pending) or instead of
		// it; then the step is sent with fields.
		password bool
		before   func(a *app, c *client)
		fields   []string
		want     string
	}{
		{"a wrong code is refused as wrong credentials", true, nil, []string{"code", "1357"}, authgate.CodeCredentialsSignin},
		{"a code without a pending cookie is refused", false, nil, []string{"code", "2468"}, authgate.CodeTwoFactorExpired},
		{"a code after the pending cookie expired is refused", true, func(a *app, c *client) { a.clk.Advance(5*time.Minute + time.Second) },
			[]string{"code", "2468"}, authgate.CodeTwoFactorExpired},
		{"a tampered pending cookie is refused", true, func(a *app, c *client) {
			c.setCookie(pendingCookie, strings.Repeat("A", len(c.cookie(pendingCookie))))
		}, []string{"code", "2468"}, authgate.CodeTwoFactorExpired},
		{"the password is not accepted as the second step", true, nil,
			[]string{"username", "alice", "password", "alice-password", "code", "alice-password"}, authgate.CodeCredentialsSignin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, step := stepApp(t, nil)
			c := a.client()
			if tt.password {
				if res := c.signIn("alice", "alice-password"); res.StatusCode != 401 {
					t.Fatalf("password: %d", res.StatusCode)
				}
			}
			if tt.before != nil {
				tt.before(a, c)
			}
			res := c.step(tt.fields...)
			if res.StatusCode != 401 || errorCode(t, res) != tt.want || signedIn(res.Response) {
				t.Fatalf("got %d %s, want 401 %s and no session", res.StatusCode, res.body, tt.want)
			}
			if c.cookie("authgate.device") != "" {
				t.Error("a refused second step gave a device token")
			}
			for _, f := range step.seen {
				if _, ok := f["password"]; ok {
					t.Error("VerifyStep saw the password field")
				}
			}
		})
	}
}

func TestCredentialsStepWrongCodeKeepsThePendingSignIn(t *testing.T) {
	t.Parallel()
	a, _ := stepApp(t, nil)
	c := a.client()
	c.signIn("alice", "alice-password")
	if res := c.step("code", "0000"); res.StatusCode != 401 {
		t.Fatalf("wrong code: %d", res.StatusCode)
	}
	if res := c.step("code", "2468"); res.StatusCode != 200 || !signedIn(res.Response) {
		t.Fatalf("the right code after a wrong one: %d %s, want a session without the password again", res.StatusCode, res.body)
	}
}

func TestCredentialsStepPendingCookieIsUsedOnce(t *testing.T) {
	t.Parallel()
	a, _ := stepApp(t, nil)
	c := a.client()
	c.signIn("alice", "alice-password")
	copied := c.cookie(pendingCookie)
	if res := c.step("code", "2468"); res.StatusCode != 200 {
		t.Fatalf("first use: %d", res.StatusCode)
	}
	thief := a.client()
	thief.setCookie(pendingCookie, copied)
	if res := thief.step("code", "2468"); res.StatusCode != 401 || errorCode(t, res) != authgate.CodeTwoFactorExpired {
		t.Fatalf("a copy of the used pending cookie: %d %s, want 401 TwoFactorExpired", res.StatusCode, res.body)
	}
}

func TestCredentialsStepRecoveryFieldAndAMR(t *testing.T) {
	t.Parallel()
	a, _ := stepApp(t, nil)
	c := a.client()
	c.signIn("alice", "alice-password")
	if res := c.step("backup", "backup-1"); res.StatusCode != 200 {
		t.Fatalf("backup code: %d %s", res.StatusCode, res.body)
	}
	if got := c.get("/amr").body; got != "pwd recovery mfa" {
		t.Errorf("AMR: got %q, want \"pwd recovery mfa\"", got)
	}
}

func TestCredentialsStepIsThrottledPerAccount(t *testing.T) {
	t.Parallel()
	a, _ := stepApp(t, func(c *authgate.Config[claims]) {
		c.Limiter = authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{
			PerAccount: authgate.AttemptBudget{Burst: 4, Every: time.Hour},
		})
	})
	// One password (counted, then given back as a success), then wrong
	// codes from two addresses: the account's budget covers both.
	c := a.client()
	c.signIn("alice", "alice-password")
	other := c.from("198.51.100.7")
	var statuses []int
	for i := range 6 {
		cl := c
		if i%2 == 1 {
			cl = other
		}
		statuses = append(statuses, cl.step("code", "0000").StatusCode)
	}
	if !slices.Equal(statuses, []int{401, 401, 401, 401, 429, 429}) {
		t.Fatalf("wrong codes: got statuses %v, want four 401 then 429", statuses)
	}
	res := c.step("code", "2468")
	if res.StatusCode != 429 || errorCode(t, res) != authgate.CodeTooManyAttempts || res.Header.Get("Retry-After") == "" {
		t.Fatalf("the right code once throttled: %d %s, want 429 TooManyAttempts with Retry-After", res.StatusCode, res.body)
	}
	// Another user's codes are not throttled by alice's failures.
	bob := a.client()
	if res := bob.signIn("bob", "bob-password"); res.StatusCode != 200 {
		t.Errorf("bob (no step) after alice's throttle: %d", res.StatusCode)
	}
}

func TestCredentialsStepFaultsFailClosed(t *testing.T) {
	t.Parallel()
	t.Run("StepRequired cannot answer: 503 and nothing set", func(t *testing.T) {
		a, step := stepApp(t, nil)
		step.fail = errors.New("database down")
		c := a.client()
		res := c.signIn("alice", "alice-password")
		if res.StatusCode != 503 || errorCode(t, res) != authgate.CodeBusy || signedIn(res.Response) || c.cookie(pendingCookie) != "" {
			t.Fatalf("got %d %s, want 503 Busy without a session or pending cookie", res.StatusCode, res.body)
		}
	})
	t.Run("VerifyStep cannot answer: 503 and the pending sign-in stays", func(t *testing.T) {
		a, step := stepApp(t, nil)
		c := a.client()
		c.signIn("alice", "alice-password")
		step.fail = errors.New("database down")
		if res := c.step("code", "2468"); res.StatusCode != 503 || signedIn(res.Response) {
			t.Fatalf("got %d %s, want 503 and no session", res.StatusCode, res.body)
		}
		step.fail = nil
		if res := c.step("code", "2468"); res.StatusCode != 200 {
			t.Fatalf("after the fault: %d, want the pending sign-in to finish", res.StatusCode)
		}
	})
}

func TestCredentialsStepLeavesOtherUsersAlone(t *testing.T) {
	t.Parallel()
	a, _ := stepApp(t, nil)
	c := a.client()
	if res := c.signIn("bob", "bob-password"); res.StatusCode != 200 || !signedIn(res.Response) {
		t.Fatalf("bob (no step): %d %s", res.StatusCode, res.body)
	}
	if got := c.get("/amr").body; got != "pwd" {
		t.Errorf("bob's AMR: %q, want pwd", got)
	}
	if res := a.client().signIn("alice", "wrong"); res.StatusCode != 401 || errorCode(t, res) != authgate.CodeCredentialsSignin {
		t.Errorf("alice's wrong password: %d %s, want CredentialsSignin (no hint of the step)", res.StatusCode, res.body)
	}
}

func TestCredentialsStepWithoutJavaScript(t *testing.T) {
	t.Parallel()
	a, _ := stepApp(t, nil)
	c := a.client()
	res := c.signInForm("alice", "alice-password")
	if res.StatusCode != 302 || !strings.Contains(res.Header.Get("Location"), "error=TwoFactorRequired") {
		t.Fatalf("form post of the password: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	loc, _ := url.Parse(res.Header.Get("Location"))
	res = c.get(loc.RequestURI()) // /error → /signin?error=…
	if res.StatusCode != 302 {
		t.Fatalf("GET %s: %d", loc.RequestURI(), res.StatusCode)
	}
	loc, _ = url.Parse(res.Header.Get("Location"))
	page := c.get(loc.RequestURI())
	if page.StatusCode != 200 || !strings.Contains(page.body, `name="code"`) || !strings.Contains(page.body, `name="backup"`) ||
		strings.Contains(page.body, `name="password"`) {
		t.Fatalf("the sign-in page after TwoFactorRequired: %d, want the step's fields instead of the password:\n%s", page.StatusCode, page.body)
	}
	res = c.postForm("/api/auth/callback/credentials", url.Values{"csrfToken": {c.csrf()}, "code": {"2468"}, "backup": {""}})
	if res.StatusCode != 302 || !signedIn(res.Response) {
		t.Fatalf("form post of the code: %d, want a redirect with a session", res.StatusCode)
	}
}
