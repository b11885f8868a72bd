package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/oauth2-proxy/mockoidc"
)

// startIdP runs mockoidc, an in-process OpenID Connect provider, on a
// loopback port. It signs in its default user (jane.doe) without a login
// page.
func startIdP(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return m
}

// withIdP configures the demo's oidc provider as -oidc-issuer and
// -oidc-client-id with OIDC_CLIENT_SECRET do.
func withIdP(t *testing.T, m *mockoidc.MockOIDC) func(*Options) {
	t.Helper()
	provs, err := buildProviders(context.Background(), OAuthOptions{
		OIDCIssuer: m.Issuer(), OIDCClientID: m.ClientID, OIDCClientSecret: m.ClientSecret,
		GitHubID: "gh-id", GitHubSecret: "gh-secret",
	})
	if err != nil || len(provs) != 2 {
		t.Fatalf("buildProviders: %v, %d providers", err, len(provs))
	}
	return func(o *Options) { o.Providers = provs }
}

// TestLoginWithOIDCWithoutJavaScript: the login page's "Sign in with …"
// button as a plain form post, through mockoidc and back, signs in with
// role user; the session survives its refresh (OAuth users have no row in
// the users table).
func TestLoginWithOIDCWithoutJavaScript(t *testing.T) {
	idp := startIdP(t)
	clk := &clock{t: time.Now()}
	d := startDemo(t, "", withIdP(t, idp), func(o *Options) {
		o.Now = clk.Now
		o.UpdateAge = time.Hour
		o.MaxAge = 24 * time.Hour
	})
	c := d.client(t)
	res, body := get(t, c, d.URL+"/login?callbackUrl=%2Fdashboard", "text/html")
	for _, want := range []string{`id="signin-oidc"`, "Sign in with OpenID Connect", `id="signin-github"`, "Sign in with GitHub",
		`action="/api/auth/signin/oidc"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/login lacks %s", want)
		}
	}
	iu, _ := url.Parse(idp.Issuer())
	idpOrigin := iu.Scheme + "://" + iu.Host
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+idpOrigin) ||
		!strings.Contains(csp, "https://github.com") {
		t.Errorf("the CSP does not let the buttons' posts go on to the providers: %q", csp)
	}

	// The form post (no JavaScript): csrfToken from the page, callbackUrl.
	u, _ := url.Parse(d.URL)
	var csrf string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "authgate.csrf-token" {
			csrf, _, _ = strings.Cut(ck.Value, "%7C")
		}
	}
	form := url.Values{"csrfToken": {csrf}, "callbackUrl": {"/dashboard"}}
	r, err := c.PostForm(d.URL+"/api/auth/signin/oidc", form)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(loc, idp.AuthorizationEndpoint()) {
		t.Fatalf("POST /api/auth/signin/oidc: %d to %q, want 302 to mockoidc", r.StatusCode, loc)
	}
	for i := 0; i < 3 && !strings.HasPrefix(loc, d.URL+"/dashboard"); i++ {
		r, _ = get(t, c, loc, "text/html")
		loc = r.Header.Get("Location")
	}
	if loc != d.URL+"/dashboard" {
		t.Fatalf("the flow ended at %q, want /dashboard", loc)
	}
	check := func(when string) {
		t.Helper()
		_, body := get(t, c, d.URL+"/api/auth/session", "application/json")
		var s authgate.Session[Claims]
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatal(err)
		}
		// The OIDC account is linked to a user the adapter created at the
		// first sign-in; the session names that user.
		u, err := d.Store.Adapter().UserByAccount(context.Background(), "oidc", "1234567890")
		if err != nil {
			t.Fatalf("%s: the account is not linked: %v", when, err)
		}
		if s.User.ID != u.ID || s.User.Name != "jane.doe" || s.User.Email != "jane.doe@example.com" || s.User.Role != "user" || u.Role != "user" {
			t.Errorf("%s: session %s, stored user %+v", when, body, u)
		}
	}
	check("after the sign-in")
	if r, _ := get(t, c, d.URL+"/admin", "application/json"); r.StatusCode != http.StatusForbidden {
		t.Errorf("GET /admin as an OIDC user: %d, want 403", r.StatusCode)
	}
	clk.Add(time.Hour + time.Minute) // past UpdateAge: TriggerRefresh runs
	check("after the refresh")
}

func TestBuildProvidersRefusesHalfAConfiguration(t *testing.T) {
	tests := []struct {
		name string
		o    OAuthOptions
	}{
		{"an issuer without a client id", OAuthOptions{OIDCIssuer: "https://issuer.example", OIDCClientSecret: "s"}},
		{"a client id without an issuer", OAuthOptions{OIDCClientID: "id", OIDCClientSecret: "s"}},
		{"no OIDC_CLIENT_SECRET", OAuthOptions{OIDCIssuer: "https://issuer.example", OIDCClientID: "id"}},
		{"GITHUB_ID without GITHUB_SECRET", OAuthOptions{GitHubID: "id"}},
		{"an issuer that does not answer", OAuthOptions{OIDCIssuer: "http://127.0.0.1:1", OIDCClientID: "id", OIDCClientSecret: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := buildProviders(context.Background(), tt.o); err == nil {
				t.Fatalf("got %d providers, want an error", len(p))
			}
		})
	}
	if p, err := buildProviders(context.Background(), OAuthOptions{}); err != nil || len(p) != 0 {
		t.Errorf("no flags: %d providers, %v; want none", len(p), err)
	}
}

// TestServeWithOIDCFlags runs the binary with -oidc-issuer, -oidc-client-id
// and OIDC_CLIENT_SECRET, and with half of them.
func TestServeWithOIDCFlags(t *testing.T) {
	idp := startIdP(t)
	db := t.TempDir() + "/demo.db"
	s := startServe(t, cleanEnv("OIDC_CLIENT_SECRET="+idp.ClientSecret),
		"-db", db, "-addr", "127.0.0.1:0", "-oidc-issuer", idp.Issuer(), "-oidc-client-id", idp.ClientID)
	c := &http.Client{Timeout: 10 * time.Second}
	_, body := get(t, c, s.URL+"/api/auth/providers", "application/json")
	var list map[string]struct{ Type, CallbackURL string }
	if err := json.Unmarshal([]byte(body), &list); err != nil || list["oidc"].Type != "oauth" ||
		list["oidc"].CallbackURL != s.URL+"/api/auth/callback/oidc" || list["credentials"].Type != "credentials" {
		t.Errorf("/api/auth/providers: %s", body)
	}
	if _, body := get(t, c, s.URL+"/login", "text/html"); !strings.Contains(body, "Sign in with OpenID Connect") {
		t.Errorf("/login has no OIDC button")
	}
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}

	code, _, stderr := runCLI(t, "", "serve", "-db", db, "-addr", "127.0.0.1:0", "-oidc-issuer", idp.Issuer())
	if code != 1 || !strings.Contains(stderr, "OIDC_CLIENT_SECRET") {
		t.Errorf("-oidc-issuer alone: exit %d, stderr %q; want 1 naming what is missing", code, stderr)
	}
}
