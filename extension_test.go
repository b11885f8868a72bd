package authgate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

// Tests of the extension seam: an Extension's endpoints are served under
// the base path like the core's, it is listed in /providers when it has a
// type, and it signs users in through CompleteSignIn with its AMR, which
// RequireAMR reads.

// codeExtension is a small sign-in method for the tests: POST
// /signin/code with the right code signs alice in with AMR ["otp"].
type codeExtension struct {
	id     string
	typ    string
	routes map[string]http.Handler // extra routes, to test refusals
	err    error                   // returned by Mount
	auth   *authgate.Auth[claims]
}

func (x *codeExtension) ID() string { return x.id }

func (x *codeExtension) Mount(a *authgate.Auth[claims]) (authgate.Endpoints, error) {
	x.auth = a
	routes := map[string]http.Handler{"POST /signin/" + x.id: http.HandlerFunc(x.signIn)}
	for p, h := range x.routes {
		routes[p] = h
	}
	return authgate.Endpoints{Type: x.typ, Name: "A code", Routes: routes}, x.err
}

func (x *codeExtension) signIn(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("code") != "123456" || r.PostFormValue("csrfToken") != x.auth.CSRFToken(w, r) {
		http.Error(w, "no", http.StatusUnauthorized)
		return
	}
	u, err := x.auth.CompleteSignIn(w, r, &authgate.User[claims]{ID: "1", Name: "alice", Role: "admin"},
		authgate.SignInMethod{Account: authgate.Account{Provider: x.id, Type: "code", ProviderAccountID: "1"}, AMR: []string{"otp"}})
	if err != nil {
		http.Error(w, "refused", http.StatusForbidden)
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"url": u})
}

func TestExtensionsAreServedListedAndSignIn(t *testing.T) {
	t.Parallel()
	x := &codeExtension{id: "code", typ: "email"}
	a := newApp(t, func(c *authgate.Config[claims]) { c.Extensions = []authgate.Extension[claims]{x} })
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", a.auth.Handler())
	mux.Handle("/mfa-only", a.auth.RequireAMR("otp")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("strong"))
	})))
	a.h = a.auth.Middleware(mux)
	c := a.client()

	var providers map[string]map[string]string
	if err := json.Unmarshal([]byte(c.get("/api/auth/providers").body), &providers); err != nil {
		t.Fatal(err)
	}
	if p := providers["code"]; p["type"] != "email" || p["name"] != "A code" || !strings.HasSuffix(p["signinUrl"], "/api/auth/signin/code") {
		t.Errorf("/providers lists the extension as %v, want type email, its name and signinUrl", p)
	}

	if res := c.postForm("/api/auth/signin/code", url.Values{"csrfToken": {c.csrf()}, "code": {"123456"}}, "Sec-Fetch-Site", "cross-site"); res.StatusCode != 403 {
		t.Errorf("a cross-site POST to the extension: got %d, want 403 as for the core's endpoints", res.StatusCode)
	}
	if res := c.get("/mfa-only"); res.StatusCode != 401 {
		t.Errorf("RequireAMR while anonymous: got %d, want 401", res.StatusCode)
	}
	res := c.postForm("/api/auth/signin/code", url.Values{"csrfToken": {c.csrf()}, "code": {"123456"}})
	if res.StatusCode != 200 || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("the extension's sign-in: got %d %q (nosniff %q), want 200 and nosniff", res.StatusCode, res.body, res.Header.Get("X-Content-Type-Options"))
	}
	if res := c.get("/mfa-only"); res.StatusCode != 200 || res.body != "strong" {
		t.Errorf("RequireAMR(otp) after an otp sign-in: got %d %q, want 200", res.StatusCode, res.body)
	}

	p := a.client()
	if res := p.signIn("alice", "alice-password"); !signedIn(res.Response) {
		t.Fatalf("password sign-in: %d", res.StatusCode)
	}
	if res := p.get("/mfa-only"); res.StatusCode != 401 {
		t.Errorf("RequireAMR(otp) after a password sign-in: got %d, want 401", res.StatusCode)
	}
}

func TestNewRefusesBadExtensions(t *testing.T) {
	t.Parallel()
	ok := http.NotFoundHandler()
	for _, tt := range []struct {
		name string
		x    *codeExtension
	}{
		{"an id that is not valid", &codeExtension{id: "Code!"}},
		{"the credentials id", &codeExtension{id: "credentials"}},
		{"a route without a method", &codeExtension{id: "code", routes: map[string]http.Handler{"/x": ok}}},
		{"a route that is not a path", &codeExtension{id: "code", routes: map[string]http.Handler{"GET x": ok}}},
		{"a route without a handler", &codeExtension{id: "code", routes: map[string]http.Handler{"GET /x": nil}}},
		{"a route the core serves", &codeExtension{id: "code", routes: map[string]http.Handler{"GET /session": ok}}},
		{"a failing Mount", &codeExtension{id: "code", err: errors.New("no key")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := newConfig(appURL, newClock())
			cfg.Extensions = []authgate.Extension[claims]{tt.x}
			if _, err := authgate.New(cfg); !errors.Is(err, authgate.ErrConfig) {
				t.Errorf("New: got %v, want ErrConfig", err)
			}
		})
	}
	t.Run("two extensions with one id", func(t *testing.T) {
		t.Parallel()
		cfg := newConfig(appURL, newClock())
		cfg.Extensions = []authgate.Extension[claims]{&codeExtension{id: "code"}, &codeExtension{id: "code"}}
		if _, err := authgate.New(cfg); !errors.Is(err, authgate.ErrConfig) {
			t.Errorf("New: got %v, want ErrConfig", err)
		}
	})
}

func TestExtensionReadsTheConfigAndTheClientAddress(t *testing.T) {
	t.Parallel()
	x := &codeExtension{id: "code"}
	newApp(t, func(c *authgate.Config[claims]) {
		c.Extensions = []authgate.Extension[claims]{x}
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	cfg := x.auth.Config()
	if cfg.Limiter == nil || cfg.Logger == nil || cfg.Now == nil || cfg.BasePath != "/api/auth" || cfg.FreshAuthAge != 15*time.Minute {
		t.Errorf("Config: got Limiter %v, Logger %v, BasePath %q, FreshAuthAge %v; want the defaults filled in", cfg.Limiter, cfg.Logger, cfg.BasePath, cfg.FreshAuthAge)
	}
	if cfg.Secrets != nil {
		t.Error("Config hands out the secrets; want them withheld (extensions use Keys)")
	}
	cfg.TrustedProxies[0] = netip.MustParsePrefix("0.0.0.0/0")
	if again := x.auth.Config(); again.TrustedProxies[0].Bits() != 8 {
		t.Error("changing the returned Config changed the Auth's")
	}
	k1, k2 := x.auth.Keys("test v1"), x.auth.Keys("test v2")
	if len(k1) != 1 || len(k1[0]) != 32 || bytes.Equal(k1[0], k2[0]) || !bytes.Equal(k1[0], x.auth.Keys("test v1")[0]) {
		t.Errorf("Keys: got %d keys; want one 32-byte key per secret, stable for a purpose and distinct across purposes", len(k1))
	}
	if bytes.Contains(k1[0], []byte(secretA)) || bytes.Equal(k1[0], []byte(secretA)[:32]) {
		t.Error("Keys returned the secret itself")
	}
	for _, tt := range []struct {
		name, remote, forwarded, want string
	}{
		{"a direct client is its own address", "192.0.2.7:5000", "203.0.113.9", "192.0.2.7"},
		{"behind a trusted proxy the forwarded client counts", "10.1.2.3:5000", "203.0.113.9", "203.0.113.9"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		r.Header.Set("X-Forwarded-For", tt.forwarded)
		if got := x.auth.ClientAddr(r); got != tt.want {
			t.Errorf("%s: ClientAddr got %q, want %q", tt.name, got, tt.want)
		}
	}
	if x.auth.Origin() != appURL {
		t.Errorf("Origin = %q, want %q", x.auth.Origin(), appURL)
	}
}

// signUpExtension signs in a user who is not stored yet: CompleteSignIn
// gets an empty ID and a Commit that creates the user in the adapter.
type signUpExtension struct {
	auth    *authgate.Auth[claims]
	created []string
}

func (x *signUpExtension) ID() string { return "signup" }

func (x *signUpExtension) Mount(a *authgate.Auth[claims]) (authgate.Endpoints, error) {
	x.auth = a
	return authgate.Endpoints{Routes: map[string]http.Handler{"POST /signup": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		email := r.PostFormValue("email")
		_, err := a.CompleteSignIn(w, r, &authgate.User[claims]{Email: email}, authgate.SignInMethod{
			Account: authgate.Account{Provider: "signup", Type: "email", ProviderAccountID: email},
			AMR:     []string{"email"},
			Commit: func(ctx context.Context, u *authgate.AdapterUser) error {
				if err := a.Config().Adapter.CreateUser(ctx, u); err != nil {
					return fmt.Errorf("%w: %w", authgate.ErrStore, err)
				}
				x.created = append(x.created, u.ID)
				return nil
			},
		})
		if err != nil {
			http.Error(w, "refused", http.StatusForbidden)
		}
	})}}, nil
}

func TestCompleteSignInCommitsASignUpOnlyOnceTheSignInCallbackAllowsIt(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("allowed %v", allow), func(t *testing.T) {
			t.Parallel()
			x := &signUpExtension{}
			ad := authgatetest.NewMemoryAdapter()
			var sawID []string
			a := newApp(t, func(c *authgate.Config[claims]) {
				c.Adapter = ad
				c.Extensions = []authgate.Extension[claims]{x}
				c.Callbacks.SignIn = func(ctx context.Context, p authgate.SignInParams[claims]) (authgate.SignInDecision, error) {
					sawID = append(sawID, p.User.ID)
					if allow {
						return authgate.Allow(), nil
					}
					return authgate.Deny(), nil
				}
			})
			c := a.client()
			res := c.postForm("/api/auth/signup", url.Values{"email": {"new@example.com"}})
			if len(sawID) != 1 || sawID[0] != "" {
				t.Errorf("the SignIn callback saw the user ids %q, want one empty id (a sign-up)", sawID)
			}
			_, err := ad.UserByEmail(context.Background(), "new@example.com")
			if !allow {
				if res.StatusCode != http.StatusForbidden || !errors.Is(err, authgate.ErrNotFound) || len(x.created) != 0 {
					t.Errorf("denied: got %d, user lookup %v, created %q; want 403 and no user", res.StatusCode, err, x.created)
				}
				return
			}
			if err != nil || len(x.created) != 1 || !signedIn(res.Response) {
				t.Fatalf("allowed: got %d, user lookup %v, created %q; want a session and one user", res.StatusCode, err, x.created)
			}
			if who := c.get("/whoami").body; !strings.HasPrefix(who, x.created[0]+" ") {
				t.Errorf("/whoami = %q, want the new user's id %s as the subject", who, x.created[0])
			}
		})
	}
}
