package authgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// Tests of the credentials sign-in (POST /callback/credentials) and of
// Auth.SignIn, which shares its post-password steps.

func TestSignInFailures(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Callbacks.SignIn = func(ctx context.Context, p authgate.SignInParams[claims]) (authgate.SignInDecision, error) {
			if p.User.ID == "u2" {
				return authgate.Deny(), nil
			}
			return authgate.Allow(), nil
		}
	})
	tests := []struct {
		name, user, password string
		wantStatus           int
		wantURL              string
	}{
		{"A wrong password", "alice", "nope", 401, "/api/auth/error?error=CredentialsSignin&provider=credentials"},
		{"An unknown user", "mallory", "nope", 401, "/api/auth/error?error=CredentialsSignin&provider=credentials"},
		{"A user the signIn callback denies", "bob", "bob-password", 403, "/api/auth/error?error=AccessDenied"},
		{"A password over 72 bytes", "alice", strings.Repeat("x", 73), 401, "/api/auth/error?error=CredentialsSignin&provider=credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.client().signIn(tt.user, tt.password)
			var v struct{ URL string }
			json.Unmarshal([]byte(res.body), &v)
			if res.StatusCode != tt.wantStatus || v.URL != a.url+tt.wantURL {
				t.Fatalf("got %d %q, want %d %q", res.StatusCode, v.URL, tt.wantStatus, a.url+tt.wantURL)
			}
			if sc := sessionSetCookies(res.Response); len(sc) != 0 {
				t.Errorf("got session cookies %v, want none", sc)
			}
		})
	}
}

func TestPlainFormSignInRedirects(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := a.client()
	res := c.postForm("/api/auth/callback/credentials", url.Values{
		"username": {"alice"}, "password": {"alice-password"}, "csrfToken": {c.csrf()}, "callbackUrl": {"/admin"}})
	if res.StatusCode != 302 || res.Header.Get("Location") != a.url+"/admin" {
		t.Fatalf("got %d Location %q, want 302 to /admin", res.StatusCode, res.Header.Get("Location"))
	}
	res = c.signInForm("alice", "wrong")
	if res.StatusCode != 302 || !strings.Contains(res.Header.Get("Location"), "error=CredentialsSignin") {
		t.Fatalf("got %d Location %q, want 302 to the error", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestEnumerationSafety(t *testing.T) {
	t.Parallel()
	t.Run("Every attempt costs exactly one password comparison", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, nil)
		tests := []struct {
			name, addr, username, password string
			wantStatus                     int
		}{
			{"Unknown user", "198.51.100.1", "nobody", "whatever", 401},
			{"Disabled user with the right password", "198.51.100.2", "carol", "carol-password", 401},
			{"Wrong password", "198.51.100.3", "alice", "wrong", 401},
			{"Empty password", "198.51.100.4", "alice", "", 401},
			{"Right password", "198.51.100.5", "alice", "alice-password", 200},
		}
		for _, tt := range tests {
			before := a.hasher.compares.Load()
			res := a.client().from(tt.addr).signIn(tt.username, tt.password)
			if res.StatusCode != tt.wantStatus {
				t.Errorf("%s: got %d, want %d", tt.name, res.StatusCode, tt.wantStatus)
			}
			if n := a.hasher.compares.Load() - before; n != 1 {
				t.Errorf("%s: got %d comparisons, want 1", tt.name, n)
			}
		}
	})

	t.Run("Unknown user, disabled user and wrong password get byte-identical answers", func(t *testing.T) {
		t.Parallel()
		for _, mode := range []struct {
			name string
			send func(c *client, user, pw string) response
		}{
			{"JSON", func(c *client, user, pw string) response { return c.signIn(user, pw) }},
			{"HTML form", (*client).signInForm},
		} {
			t.Run(mode.name, func(t *testing.T) {
				a := newApp(t, nil)
				c := a.client()
				wrong := mode.send(c.from("198.51.100.1"), "alice", "wrong")
				if wrong.StatusCode == 200 || signedIn(wrong.Response) {
					t.Fatalf("wrong password: got %d %q, want a refusal", wrong.StatusCode, wrong.body)
				}
				sameResponse(t, wrong, mode.send(c.from("198.51.100.2"), "nobody", "wrong"))
				sameResponse(t, wrong, mode.send(c.from("198.51.100.3"), "carol", "carol-password"))
				sameResponse(t, wrong, mode.send(c.from("198.51.100.4"), "alice", "alice-password"+"X"))
			})
		}
	})
}

// TestSignInTimingUnknownVsExisting is the statistical enumeration test
// (SECURITY.md): with real bcrypt at cost 4 (about 1 ms a comparison), the
// median time of a sign-in for an unknown user must be within [0.8, 1.25]
// of the median for an existing user with a wrong password. A login that
// returned early for unknown users would show a ratio near 0.001. The
// attempts are interleaved so drift hits both sides; a failure is retried
// once to absorb a noisy machine. It does not run in parallel, and is
// skipped under -short.
func TestSignInTimingUnknownVsExisting(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical timing test; run without -short")
	}
	const attempts = 200
	measure := func() (unknown, existing time.Duration) {
		a := newApp(t, func(cfg *authgate.Config[claims]) {
			cfg.Limiter = authgate.NoLimiter() // 400 attempts would otherwise be throttled
		})
		c := a.client()
		token := c.csrf()
		var u, e []time.Duration
		timed := func(user string) time.Duration {
			form := url.Values{"username": {user}, "password": {"wrong-password"}, "csrfToken": {token}, "json": {"true"}}
			start := time.Now()
			res := c.postForm("/api/auth/callback/credentials", form)
			d := time.Since(start)
			if res.StatusCode != 401 {
				t.Fatalf("sign-in as %s: got %d, want 401", user, res.StatusCode)
			}
			return d
		}
		// Warm up both paths (first bcrypt, first allocations).
		timed("alice")
		timed("nobody")
		for i := range attempts {
			if i%2 == 0 {
				u = append(u, timed("nobody"))
				e = append(e, timed("alice"))
			} else {
				e = append(e, timed("alice"))
				u = append(u, timed("nobody"))
			}
		}
		return median(u), median(e)
	}
	var ratio float64
	for try := 1; try <= 2; try++ {
		unknown, existing := measure()
		ratio = float64(unknown) / float64(existing)
		t.Logf("try %d: median sign-in unknown user %v, existing user %v, ratio %.3f", try, unknown, existing, ratio)
		if ratio >= 0.8 && ratio <= 1.25 {
			return
		}
	}
	t.Errorf("median sign-in time ratio unknown/existing: got %.3f, want within [0.8, 1.25]", ratio)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// events counts the sign-in and sign-out events of an app.
type events struct {
	mu       sync.Mutex
	signIns  []string // subjects
	signOuts []string // subjects, "" for a sign-out without a session
}

func (e *events) config(c *authgate.Config[claims]) {
	c.Events.SignIn = func(ctx context.Context, ev authgate.SignInEvent[claims]) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.signIns = append(e.signIns, ev.Token.Subject)
	}
	c.Events.SignOut = func(ctx context.Context, ev authgate.SignOutEvent[claims]) {
		e.mu.Lock()
		defer e.mu.Unlock()
		sub := ""
		if ev.Token != nil {
			sub = ev.Token.Subject
		}
		e.signOuts = append(e.signOuts, sub)
	}
}

func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return "sign-ins " + strings.Join(e.signIns, ",") + "; sign-outs " + strings.Join(e.signOuts, ",")
}

// cookieShape is a Set-Cookie line without its value: what must be the
// same whether a sign-in or sign-out went through the protocol or the API.
type cookieShape struct {
	Name     string
	Cleared  bool
	Path     string
	Domain   string
	MaxAge   int
	Expires  time.Time
	Secure   bool
	HttpOnly bool
	SameSite http.SameSite
}

func shapes(cs []*http.Cookie) []cookieShape {
	var out []cookieShape
	for _, c := range cs {
		out = append(out, cookieShape{c.Name, c.MaxAge < 0 || c.Value == "", c.Path, c.Domain, c.MaxAge, c.Expires.UTC(), c.Secure, c.HttpOnly, c.SameSite})
	}
	slices.SortFunc(out, func(a, b cookieShape) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// alice is the user the protocol signs in for alice's password, as the
// API is handed it.
var alice = authgate.User[claims]{ID: "u1", Name: "alice", Email: "alice@example.com", Role: "admin"}

// TestSignInAndSignOutMatchTheProtocol signs in and out twice on the same
// kind of client, once through POST /callback/credentials and POST
// /signout, once with Auth.SignIn and Auth.SignOut in an app's handlers,
// and compares what each left: the Set-Cookie lines (names, attributes,
// stale chunks cleared), the CSRF rotation, the session read back, the
// revocation of the signed-out cookie and the events.
func TestSignInAndSignOutMatchTheProtocol(t *testing.T) {
	t.Parallel()
	type outcome struct {
		signIn, signOut []cookieShape
		csrfRotated     bool
		whoami          string
		replayErr       error
		events          string
	}
	// staleChunks are what a bigger, older session left in the browser.
	staleChunks := []string{sessionCookie + ".0", sessionCookie + ".1"}

	run := func(t *testing.T, api bool) outcome {
		var ev events
		a := newApp(t, ev.config)
		c := a.client()
		for _, name := range staleChunks {
			c.setCookie(name, "stale")
		}
		before := c.csrf()
		signInHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u := alice
			if err := a.auth.SignIn(w, r, &u); err != nil {
				t.Errorf("SignIn: %v", err)
			}
		})
		signOutHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := a.auth.SignOut(w, r); err != nil {
				t.Errorf("SignOut: %v", err)
			}
		})
		var in, out response
		if api {
			in = serveWithJar(c, signInHandler)
		} else {
			// Without a callbackUrl, which the protocol would remember in
			// a cookie of its own: that is not part of signing in.
			in = c.postForm("/api/auth/callback/credentials", url.Values{
				"username": {"alice"}, "password": {"alice-password"}, "csrfToken": {c.csrf()}, "json": {"true"}})
		}
		if in.StatusCode != 200 {
			t.Fatalf("sign-in (API %v): got %d %s, want 200", api, in.StatusCode, in.body)
		}
		session := c.cookie(sessionCookie)
		o := outcome{signIn: shapes(in.Cookies()), csrfRotated: c.csrf() != before, whoami: c.get("/whoami").body}
		if api {
			out = serveWithJar(c, signOutHandler)
		} else {
			out = c.signOut()
		}
		o.signOut = shapes(out.Cookies())
		_, o.replayErr = a.auth.Check(request("GET", "/", &http.Cookie{Name: sessionCookie, Value: session}))
		o.events = ev.String()
		return o
	}
	protocol, api := run(t, false), run(t, true)
	// The one difference: a password sign-in also gives the browser a
	// device token (device.go); SignIn authenticates another way.
	protocol.signIn = slices.DeleteFunc(protocol.signIn, func(c cookieShape) bool { return c.Name == "authgate.device" })

	if !slices.Equal(api.signIn, protocol.signIn) {
		t.Errorf("sign-in Set-Cookie:\ngot  %+v (SignIn)\nwant %+v (protocol)", api.signIn, protocol.signIn)
	}
	if !slices.Equal(api.signOut, protocol.signOut) {
		t.Errorf("sign-out Set-Cookie:\ngot  %+v (SignOut)\nwant %+v (protocol)", api.signOut, protocol.signOut)
	}
	for _, o := range []struct {
		name string
		o    outcome
	}{{"protocol", protocol}, {"API", api}} {
		if !o.o.csrfRotated {
			t.Errorf("%s: the CSRF token survived sign-in, want it rotated", o.name)
		}
		if o.o.whoami != "u1 admin pro" {
			t.Errorf("%s: session read back: got %q, want %q", o.name, o.o.whoami, "u1 admin pro")
		}
		if !errors.Is(o.o.replayErr, authgate.ErrSessionRevoked) {
			t.Errorf("%s: the signed-out cookie replayed: got %v, want ErrSessionRevoked", o.name, o.o.replayErr)
		}
		if want := "sign-ins u1; sign-outs u1"; o.o.events != want {
			t.Errorf("%s: events: got %q, want %q", o.name, o.o.events, want)
		}
		cleared := map[string]bool{}
		for _, s := range o.o.signIn {
			cleared[s.Name] = s.Cleared
		}
		for _, name := range staleChunks {
			if c, ok := cleared[name]; !ok || !c {
				t.Errorf("%s: sign-in left the stale chunk %s", o.name, name)
			}
		}
	}
}

// serveWithJar serves h with c's cookies as an app's own route would, and
// puts the cookies it sets into c's jar.
func serveWithJar(c *client, h http.Handler) response {
	c.t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, request("POST", "/account", c.cookies()...))
	res := w.Result()
	u, _ := url.Parse(c.app.url)
	c.hc.Jar.SetCookies(u, res.Cookies())
	return response{res, w.Body.String()}
}

func TestAuthSignIn(t *testing.T) {
	t.Parallel()
	decide := func(d authgate.SignInDecision, err error) func(*authgate.Config[claims]) {
		return func(c *authgate.Config[claims]) {
			c.Callbacks.SignIn = func(context.Context, authgate.SignInParams[claims]) (authgate.SignInDecision, error) {
				return d, err
			}
		}
	}
	tests := []struct {
		name    string
		edit    func(*authgate.Config[claims])
		user    *authgate.User[claims]
		wantErr error
	}{
		{"A user the signIn callback allows is signed in", decide(authgate.Allow(), nil), &alice, nil},
		{"A user the signIn callback denies is refused", decide(authgate.Deny(), nil), &alice, authgate.ErrAccessDenied},
		{"A user the signIn callback redirects is refused", decide(authgate.RedirectTo("/verify"), nil), &alice, authgate.ErrAccessDenied},
		{"A failing signIn callback refuses the user", decide(authgate.Allow(), errors.New("db down")), &alice, authgate.ErrCallback},
		{"A nil user is refused", nil, nil, authgate.ErrInvalidUser},
		{"A user without an ID is refused", nil, &authgate.User[claims]{Name: "alice"}, authgate.ErrInvalidUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, tt.edit)
			user := tt.user
			if user != nil {
				u := *user // SignIn gets its own copy
				user = &u
			}
			w := httptest.NewRecorder()
			err := a.auth.SignIn(w, request("POST", "/signup"), user)
			if (err == nil) != (tt.wantErr == nil) || !errors.Is(err, tt.wantErr) {
				t.Fatalf("SignIn: got %v, want %v", err, tt.wantErr)
			}
			if got, want := signedIn(w.Result()), tt.wantErr == nil; got != want {
				t.Errorf("session cookie set: got %v, want %v", got, want)
			}
			if got, want := strings.Contains(a.logs.String(), "event=signin "), tt.wantErr == nil; got != want {
				t.Errorf("sign-in logged: got %v, want %v", got, want)
			}
		})
	}
}

// plainHasher is a fast PasswordHasher for fuzzing ("plain:" + password),
// with bcrypt's 72-byte rule.
type plainHasher struct{}

func (plainHasher) Hash(pw string) (string, error) { return "plain:" + pw, nil }

func (plainHasher) Compare(hash, pw string) error {
	if len(pw) > 72 {
		return authgate.ErrPasswordTooLong
	}
	if hash != "plain:"+pw {
		return authgate.ErrPasswordMismatch
	}
	return nil
}

// fuzzApp is the app for fuzzing the sign-in: a fast hasher, no limiter,
// and an Authorize (alice's password is "pw") that reports what it saw to
// seen and counts its calls.
type fuzzApp struct {
	*app
	token     string // a valid CSRF token
	cookie    string // its cookie's value
	mac       string // the MAC part of the cookie's value
	calls     int
	lastCreds *authgate.Credentials
}

func newFuzzApp(f *testing.F) *fuzzApp {
	fa := &fuzzApp{}
	fa.app = newApp(f, func(c *authgate.Config[claims]) {
		c.URL = "https://app.example"
		c.Hasher = plainHasher{}
		c.Limiter = authgate.NoLimiter()
		c.Authorize = func(ctx context.Context, cr *authgate.Credentials) (*authgate.User[claims], error) {
			fa.calls++
			fa.lastCreds = cr
			hash := ""
			if cr.Username() == "alice" {
				hash = "plain:pw"
			}
			if !cr.PasswordMatches(hash) {
				return nil, nil
			}
			return &authgate.User[claims]{ID: "u1"}, nil
		}
	})
	c := fa.client()
	fa.token = c.csrf()
	fa.cookie = c.cookie("__Host-" + csrfCookie)
	_, fa.mac, _ = strings.Cut(fa.cookie, "%7C")
	if fa.mac == "" {
		f.Fatalf("GET /csrf: cookie %q, want token%%7Cmac", fa.cookie)
	}
	return fa
}

// FuzzCredentialsBody posts arbitrary bodies with arbitrary content types
// to the credentials sign-in. "@CSRF@" in the body stands for the valid
// CSRF token, so the fuzzer gets past the CSRF check and into the parser.
// Its seed corpus is in testdata/fuzz/FuzzCredentialsBody.
//
// Invariants: no panic and no 5xx; a body over MaxBodyBytes is 413 and
// nothing else is; Authorize sees only what the body really said (each
// field once, as a string, no protocol field, no password over 72 bytes);
// a session is issued only for alice's password.
func FuzzCredentialsBody(f *testing.F) {
	a := newFuzzApp(f)
	f.Add("application/x-www-form-urlencoded", []byte("username=alice&password=pw&csrfToken=@CSRF@&json=true"))
	f.Add("application/json", []byte(`{"username":"alice","password":"pw","csrfToken":"@CSRF@","json":"true"}`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		// alice's sign-in must work, or the target proves nothing.
		mustSignIn := string(body) == "username=alice&password=pw&csrfToken=@CSRF@&json=true" && contentType == "application/x-www-form-urlencoded" ||
			string(body) == `{"username":"alice","password":"pw","csrfToken":"@CSRF@","json":"true"}` && contentType == "application/json"
		body = []byte(strings.ReplaceAll(string(body), "@CSRF@", a.token))
		a.lastCreds = nil
		r := httptest.NewRequest("POST", "https://app.example/api/auth/callback/credentials", strings.NewReader(string(body)))
		r.Header["Content-Type"] = []string{contentType}
		r.Header.Set("Cookie", "__Host-"+csrfCookie+"="+a.cookie)
		rec := a.serve(r)
		seen := a.lastCreds

		if mustSignIn && (rec.Code != 200 || seen == nil) {
			t.Fatalf("alice's sign-in: got %d %s, want 200", rec.Code, rec.Body)
		}
		switch rec.Code {
		case 200, 302, 400, 401, 403, 413, 415:
		default:
			t.Fatalf("status %d for %q %q: %s", rec.Code, contentType, body, rec.Body)
		}
		if tooBig := len(body) > authgate.DefaultMaxBodyBytes; tooBig != (rec.Code == 413) {
			t.Fatalf("%d-byte body: got %d", len(body), rec.Code)
		}
		if signedIn(rec.Result()) && (seen == nil || seen.Username() != "alice" || seen.Password() != "pw") {
			t.Fatalf("session issued for %q", body)
		}
		if seen == nil {
			return
		}
		if len(seen.Password()) > 72 {
			t.Fatalf("Authorize saw a %d-byte password", len(seen.Password()))
		}
		want, ok := oracleFields(contentType, body)
		if !ok {
			t.Fatalf("Authorize ran for a body the oracle refuses: %q %q", contentType, body)
		}
		for _, k := range []string{"csrfToken", "callbackUrl", "json", "redirect"} {
			delete(want, k)
		}
		names := seen.Names()
		slices.Sort(names)
		var wantNames []string
		for k := range want {
			wantNames = append(wantNames, k)
		}
		slices.Sort(wantNames)
		if !slices.Equal(names, wantNames) {
			t.Fatalf("Authorize saw fields %q, want %q", names, wantNames)
		}
		for k, v := range want {
			if seen.Get(k) != v {
				t.Fatalf("field %q: Authorize saw %q, want %q", k, seen.Get(k), v)
			}
		}
	})
}

// oracleFields parses body with the standard library alone: the fields a
// correct parser must hand to Authorize, or false when it must refuse the
// body (repeated field, non-string JSON member, other content type).
func oracleFields(contentType string, body []byte) (map[string]string, bool) {
	mt, _, _ := mime.ParseMediaType(contentType)
	out := map[string]string{}
	switch mt {
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, false
		}
		for k, v := range vals {
			if len(v) != 1 {
				return nil, false
			}
			out[k] = v[0]
		}
	case "application/json":
		if len(body) == 0 {
			return out, true
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || m == nil && string(body) != "null" {
			return nil, false
		}
		for k, v := range m {
			if k == "data" {
				continue
			}
			flag := k == "json" || k == "redirect"
			switch v := v.(type) {
			case string:
				out[k] = v
			case bool:
				if !flag {
					return nil, false
				}
				out[k] = strconv.FormatBool(v)
			case float64:
				if !flag {
					return nil, false
				}
				out[k] = strconv.FormatBool(v != 0)
			case nil:
				// The core reads null as "" (a JSON quirk of decoding into
				// a string); refusing it would be fine too.
				out[k] = ""
			default:
				return nil, false
			}
		}
	case "":
		return out, len(body) == 0
	default:
		return nil, false
	}
	return out, true
}
