package providers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
	"github.com/authgate/authgate/providers"
	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// The whole flow through the real authgate handler, against mockoidc (an
// in-process OpenID Connect provider) and a fake of GitHub's endpoints.

func TestOIDCSignIn(t *testing.T) {
	idp := startMockOIDC(t)
	a := newApp(t, []authgate.OAuthProvider{idp.provider(t)}, nil)
	b := a.browser()

	authURL := b.start("oidc", a.srv.URL+"/dashboard?tab=1")
	u, err := url.Parse(authURL)
	if err != nil || !strings.HasPrefix(authURL, idp.AuthorizationEndpoint()+"?") {
		t.Fatalf("authorization URL %q is not mockoidc's", authURL)
	}
	q := u.Query()
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if q.Get(k) == "" {
			t.Errorf("authorization URL has no %s", k)
		}
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("redirect_uri") != a.srv.URL+"/api/auth/callback/oidc" ||
		!strings.Contains(q.Get("scope"), "openid") {
		t.Errorf("authorization URL: got %v", q)
	}
	for _, name := range []string{"authgate.state", "authgate.pkce.code_verifier", "authgate.nonce"} {
		c := b.cookie(name)
		if c == nil {
			t.Fatalf("no %s cookie after POST /signin/oidc", name)
		}
		if strings.Contains(authURL, c.Value) {
			t.Errorf("the authorization URL carries the %s cookie's value", name)
		}
	}

	cb := b.authorize(authURL)
	res := b.get(cb)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != a.srv.URL+"/dashboard?tab=1" {
		t.Fatalf("callback: got %d to %q, want 302 to the callbackUrl", res.StatusCode, res.Header.Get("Location"))
	}
	cleared := map[string]bool{}
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			cleared[c.Name] = true
		}
	}
	for _, name := range []string{"authgate.state", "authgate.pkce.code_verifier", "authgate.nonce"} {
		if !cleared[name] || b.cookie(name) != nil {
			t.Errorf("%s is not cleared after the callback", name)
		}
	}
	s := b.session()
	want := authgate.SessionUser{ID: "oidc:1234567890", Name: "jane.doe", Email: "jane.doe@example.com", Role: "user"}
	if s.User.ID != want.ID || s.User.Name != want.Name || s.User.Email != want.Email || s.User.Role != want.Role {
		t.Errorf("session user: got %+v, want %+v", s.User, want)
	}
	if s.Claims.AccessToken == "" || s.Claims.Provider != "oidc" {
		t.Errorf("the JWT callback did not keep the access token and provider: %+v", s.Claims)
	}
	assertCleanLogs(t, a, cb, s.Claims.AccessToken, idp.ClientSecret)
}

func TestGitHubSignIn(t *testing.T) {
	tests := []struct {
		name, publicEmail, wantEmail string
		noPKCE                       bool
	}{
		{"a public email comes from /user", "public@example.com", "public@example.com", false},
		{"no public email: the primary verified one from /user/emails", "", "octocat@example.com", false},
		{"DisablePKCE for a server without PKCE: state alone", "public@example.com", "public@example.com", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh := startGitHub(t)
			gh.publicEmail, gh.noPKCE = tt.publicEmail, tt.noPKCE
			a := newApp(t, []authgate.OAuthProvider{gh.provider(t)}, nil)
			b := a.browser()
			res := b.signIn("github", "/welcome")
			if res.StatusCode != http.StatusFound || res.Header.Get("Location") != a.srv.URL+"/welcome" {
				t.Fatalf("callback: got %d to %q, want 302 to /welcome", res.StatusCode, res.Header.Get("Location"))
			}
			s := b.session()
			if s.User.ID != "github:583231" || s.User.Name != "octocat" || s.User.Email != tt.wantEmail ||
				s.User.Image != "https://avatars.example/u/583231" || s.User.Role != "user" {
				t.Errorf("session user: got %+v", s.User)
			}
			if s.Claims.Login != "octocat" || !strings.HasPrefix(s.Claims.AccessToken, "gho_") {
				t.Errorf("the JWT callback did not see the profile and account: %+v", s.Claims)
			}
			assertCleanLogs(t, a, "", s.Claims.AccessToken, gh.clientSecret)
		})
	}
}

// TestUnverifiedEmailsAreDropped: an email the provider does not mark
// verified never reaches the session unless the app opts in, for an OpenID
// Connect issuer (email_verified) as for GitHub (/user/emails); and the
// profile says whether it was verified (OAuthProfile.EmailVerified), which
// an adapter records for the user it creates.
func TestUnverifiedEmailsAreDropped(t *testing.T) {
	idp := startMockOIDC(t)
	tests := []struct {
		name         string
		provider     func(t *testing.T) (authgate.OAuthProvider, string)
		wantEmail    string
		wantVerified bool
	}{
		{"OIDC: an email_verified false email is dropped", func(t *testing.T) (authgate.OAuthProvider, string) {
			idp.QueueUser(&mockoidc.MockUser{Subject: "u-unverified", Email: "typed@example.com", EmailVerified: false})
			return idp.provider(t), "oidc"
		}, "", false},
		{"OIDC: a verified email is kept", func(t *testing.T) (authgate.OAuthProvider, string) {
			idp.QueueUser(&mockoidc.MockUser{Subject: "u-verified", Email: "checked@example.com", EmailVerified: true})
			return idp.provider(t), "oidc"
		}, "checked@example.com", true},
		{"OIDC: AllowUnverifiedEmail keeps an unverified email", func(t *testing.T) (authgate.OAuthProvider, string) {
			idp.QueueUser(&mockoidc.MockUser{Subject: "u-unverified", Email: "typed@example.com", EmailVerified: false})
			return idp.providerWith(t, func(c *providers.OIDCConfig) { c.AllowUnverifiedEmail = true }), "oidc"
		}, "typed@example.com", false},
		{"GitHub: an unverified primary address is dropped", func(t *testing.T) (authgate.OAuthProvider, string) {
			gh := startGitHub(t)
			gh.primaryUnverified = true
			return gh.provider(t), "github"
		}, "", false},
		{"GitHub: a verified primary address is kept", func(t *testing.T) (authgate.OAuthProvider, string) {
			return startGitHub(t).provider(t), "github"
		}, "octocat@example.com", true},
		{"GitHub: AllowUnverifiedEmail keeps an unverified primary address", func(t *testing.T) (authgate.OAuthProvider, string) {
			gh := startGitHub(t)
			gh.primaryUnverified, gh.allowUnverified = true, true
			return gh.provider(t), "github"
		}, "octocat@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, id := tt.provider(t)
			ad := authgatetest.NewMemoryAdapter()
			a := newApp(t, []authgate.OAuthProvider{p}, func(c *authgate.Config[claims]) { c.Adapter = ad })
			b := a.browser()
			if res := b.signIn(id, "/welcome"); res.StatusCode != http.StatusFound || strings.Contains(res.Header.Get("Location"), "error=") {
				t.Fatalf("callback: %d to %q", res.StatusCode, res.Header.Get("Location"))
			}
			s := b.session()
			if got := s.User.Email; got != tt.wantEmail {
				t.Errorf("session email: got %q, want %q", got, tt.wantEmail)
			}
			u, err := ad.User(t.Context(), s.User.ID)
			if err != nil {
				t.Fatalf("the adapter has no user %q: %v", s.User.ID, err)
			}
			if got := !u.EmailVerified.IsZero(); got != tt.wantVerified {
				t.Errorf("stored as verified: %v, want %v", got, tt.wantVerified)
			}
		})
	}
}

// TestCallbackRefusals: every way a callback can be wrong ends on the
// error page with NextAuth's code, with no session.
func TestCallbackRefusals(t *testing.T) {
	idp := startMockOIDC(t)
	gh := startGitHub(t)
	tests := []struct {
		name     string
		provider string
		// tamper gets the browser after POST /signin and the callback URL
		// the provider sent it to; it returns the URL to visit instead.
		tamper   func(t *testing.T, a *app, b *browser, cb string) string
		wantCode string
	}{
		{"no state in the callback", "oidc", func(t *testing.T, a *app, b *browser, cb string) string {
			return withQuery(cb, "state", "")
		}, "OAuthCallback"},
		{"a state that does not match its cookie", "oidc", func(t *testing.T, a *app, b *browser, cb string) string {
			return withQuery(cb, "state", strings.Repeat("a", 64))
		}, "OAuthCallback"},
		{"no state cookie", "github", func(t *testing.T, a *app, b *browser, cb string) string {
			b.setCookie("authgate.state", "")
			return cb
		}, "OAuthCallback"},
		{"a forged state cookie", "github", func(t *testing.T, a *app, b *browser, cb string) string {
			b.setCookie("authgate.state", "forged")
			return cb
		}, "OAuthCallback"},
		{"no PKCE cookie", "oidc", func(t *testing.T, a *app, b *browser, cb string) string {
			b.setCookie("authgate.pkce.code_verifier", "")
			return cb
		}, "OAuthCallback"},
		{"the PKCE verifier of another sign-in", "oidc", func(t *testing.T, a *app, b *browser, cb string) string {
			other := a.browser()
			other.start("oidc", "/")
			b.setCookie("authgate.pkce.code_verifier", other.cookie("authgate.pkce.code_verifier").Value)
			return cb
		}, "OAuthCallback"},
		{"the PKCE verifier of another sign-in at GitHub", "github", func(t *testing.T, a *app, b *browser, cb string) string {
			other := a.browser()
			other.start("github", "/")
			b.setCookie("authgate.pkce.code_verifier", other.cookie("authgate.pkce.code_verifier").Value)
			return cb
		}, "OAuthCallback"},
		{"no nonce cookie", "oidc", func(t *testing.T, a *app, b *browser, cb string) string {
			b.setCookie("authgate.nonce", "")
			return cb
		}, "OAuthCallback"},
		{"the nonce of another sign-in", "oidc", func(t *testing.T, a *app, b *browser, cb string) string {
			other := a.browser()
			other.start("oidc", "/")
			b.setCookie("authgate.nonce", other.cookie("authgate.nonce").Value)
			return cb
		}, "OAuthCallback"},
		{"check cookies minted for another provider", "github", func(t *testing.T, a *app, b *browser, cb string) string {
			return strings.Replace(cb, "/callback/github?", "/callback/oidc?", 1)
		}, "OAuthCallback"},
		{"check cookies older than 15 minutes", "oidc", func(t *testing.T, a *app, b *browser, cb string) string {
			a.clk.Advance(15*time.Minute + time.Second)
			return cb
		}, "OAuthCallback"},
		{"a code the provider does not know (failed exchange)", "oidc", func(t *testing.T, a *app, b *browser, cb string) string {
			return withQuery(cb, "code", "not-a-code")
		}, "OAuthCallback"},
		{"a code GitHub does not know", "github", func(t *testing.T, a *app, b *browser, cb string) string {
			return withQuery(cb, "code", "not-a-code")
		}, "OAuthCallback"},
		{"no code", "github", func(t *testing.T, a *app, b *browser, cb string) string {
			return withQuery(cb, "code", "")
		}, "OAuthCallback"},
		{"the user declined at the provider", "oidc", func(t *testing.T, a *app, b *browser, cb string) string {
			u, _ := url.Parse(cb)
			return a.srv.URL + "/api/auth/callback/oidc?error=access_denied&state=" + url.QueryEscape(u.Query().Get("state"))
		}, "AccessDenied"},
		{"the provider answered server_error", "github", func(t *testing.T, a *app, b *browser, cb string) string {
			return a.srv.URL + "/api/auth/callback/github?error=server_error&error_description=boom"
		}, "OAuthCallback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t, []authgate.OAuthProvider{idp.provider(t), gh.provider(t)}, nil)
			b := a.browser()
			cb := b.authorize(b.start(tt.provider, "/dashboard"))
			target := tt.tamper(t, a, b, cb)
			assertRefused(t, a, b, b.get(target), tt.wantCode)
		})
	}
}

// TestReplayedCallback: the check cookies are gone after the callback, so
// the same callback URL is refused when the browser (or an attacker who
// captured it) visits it again.
func TestReplayedCallback(t *testing.T) {
	for _, provider := range []string{"oidc", "github"} {
		t.Run(provider, func(t *testing.T) {
			a := newApp(t, []authgate.OAuthProvider{startMockOIDC(t).provider(t), startGitHub(t).provider(t)}, nil)
			b := a.browser()
			cb := b.authorize(b.start(provider, "/dashboard"))
			if res := b.get(cb); res.StatusCode != http.StatusFound || !strings.HasSuffix(res.Header.Get("Location"), "/dashboard") {
				t.Fatalf("first callback: %d to %q", res.StatusCode, res.Header.Get("Location"))
			}
			b.setCookie("authgate.session-token", "") // a fresh browser, apart from what it replays
			assertRefused(t, a, b, b.get(cb), "OAuthCallback")
		})
	}
}

// TestHostileIDTokens: mockoidc's ID token replaced by a hostile one; each
// is refused by go-oidc's verification (or authgate's nonce check).
func TestHostileIDTokens(t *testing.T) {
	idp := startMockOIDC(t)
	sign := func(t *testing.T, m *mockoidc.MockOIDC, c jwt.MapClaims) string {
		tok, err := m.Keypair.SignJWT(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name string
		edit idTokenEdit
	}{
		{"another issuer", func(t *testing.T, m *mockoidc.MockOIDC, c jwt.MapClaims) string {
			c["iss"] = "https://evil.example"
			return sign(t, m, c)
		}},
		{"another audience", func(t *testing.T, m *mockoidc.MockOIDC, c jwt.MapClaims) string {
			c["aud"] = []string{"another-client"}
			return sign(t, m, c)
		}},
		{"another nonce", func(t *testing.T, m *mockoidc.MockOIDC, c jwt.MapClaims) string {
			c["nonce"] = "someone-elses-nonce"
			return sign(t, m, c)
		}},
		{"no nonce", func(t *testing.T, m *mockoidc.MockOIDC, c jwt.MapClaims) string {
			delete(c, "nonce")
			return sign(t, m, c)
		}},
		{"expired", func(t *testing.T, m *mockoidc.MockOIDC, c jwt.MapClaims) string {
			c["iat"], c["nbf"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
			return sign(t, m, c)
		}},
		{"alg none", func(t *testing.T, m *mockoidc.MockOIDC, c jwt.MapClaims) string {
			tok, err := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"HS256 keyed with the client secret", func(t *testing.T, m *mockoidc.MockOIDC, c jwt.MapClaims) string {
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(m.ClientSecret))
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"an unknown key under the issuer's key id", func(t *testing.T, m *mockoidc.MockOIDC, c jwt.MapClaims) string {
			other, err := mockoidc.RandomKeypair(2048)
			if err != nil {
				t.Fatal(err)
			}
			kid, _ := m.Keypair.KeyID()
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
			tok.Header["kid"] = kid
			s, err := tok.SignedString(other.PrivateKey)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"an unknown key with its own key id", func(t *testing.T, m *mockoidc.MockOIDC, c jwt.MapClaims) string {
			other, err := mockoidc.RandomKeypair(2048)
			if err != nil {
				t.Fatal(err)
			}
			return sign(t, &mockoidc.MockOIDC{Keypair: other}, c)
		}},
		{"another subject's token with a tampered payload", func(t *testing.T, m *mockoidc.MockOIDC, c jwt.MapClaims) string {
			tok := strings.Split(sign(t, m, c), ".")
			c["sub"] = "admin"
			forged := strings.Split(sign(t, m, c), ".")
			return tok[0] + "." + forged[1] + "." + tok[2]
		}},
		{"no id_token in the token response", func(t *testing.T, m *mockoidc.MockOIDC, c jwt.MapClaims) string {
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t, []authgate.OAuthProvider{idp.provider(t)}, nil)
			b := a.browser()
			cb := b.authorize(b.start("oidc", "/dashboard"))
			idp.edit.Store(&tt.edit)
			defer idp.edit.Store(nil)
			assertRefused(t, a, b, b.get(cb), "OAuthCallback")
			if !strings.Contains(a.logs.String(), "invalid id token") {
				t.Errorf("the log does not say the ID token was refused:\n%s", a.logs)
			}
		})
	}
	// The same hook, leaving the token as mockoidc signed it, signs in: the
	// refusals above are the edits', not the hook's.
	t.Run("the unedited token is accepted", func(t *testing.T) {
		a := newApp(t, []authgate.OAuthProvider{idp.provider(t)}, nil)
		b := a.browser()
		cb := b.authorize(b.start("oidc", "/dashboard"))
		var keep idTokenEdit = sign
		idp.edit.Store(&keep)
		defer idp.edit.Store(nil)
		if res := b.get(cb); !strings.HasSuffix(res.Header.Get("Location"), "/dashboard") {
			t.Fatalf("callback: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
}

// TestSignInCallbackOrder: the signIn callback sees the user, account and
// profile and may refuse; the JWT callback runs after it, once.
func TestSignInCallbackOrder(t *testing.T) {
	gh := startGitHub(t)
	var order []string
	a := newApp(t, []authgate.OAuthProvider{gh.provider(t)}, func(c *authgate.Config[claims]) {
		jwtCB := c.Callbacks.JWT
		c.Callbacks.SignIn = func(ctx context.Context, p authgate.SignInParams[claims]) (authgate.SignInDecision, error) {
			order = append(order, "signIn:"+p.Account.Provider+":"+p.Account.ProviderAccountID+":"+p.User.ID)
			if p.Account.AccessToken == "" || p.Account.TokenType != "Bearer" || p.Account.Scope != "read:user,user:email" || p.Profile["login"] != "octocat" {
				t.Errorf("signIn callback: account %v, profile %v", p.Account, p.Profile)
			}
			if p.Profile["login"] == "octocat" && len(order) > 1 {
				return authgate.Deny(), nil
			}
			return authgate.Allow(), nil
		}
		c.Callbacks.JWT = func(ctx context.Context, p authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
			if p.Trigger == authgate.TriggerSignIn {
				order = append(order, "jwt:"+string(p.Trigger))
			}
			return jwtCB(ctx, p)
		}
	})
	b := a.browser()
	if res := b.signIn("github", "/"); res.StatusCode != http.StatusFound || res.Header.Get("Location") != a.srv.URL+"/" {
		t.Fatalf("first sign-in: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if got := strings.Join(order, " "); got != "signIn:github:583231:github:583231 jwt:signIn" {
		t.Errorf("callback order: got %q", got)
	}
	// The second sign-in is denied by the callback: AccessDenied.
	b2 := a.browser()
	assertRefused(t, a, b2, b2.signIn("github", "/"), "AccessDenied")
}

func TestProviderConfigErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		make func() error
	}{
		{"OIDC without a client secret", func() error {
			_, err := providers.OIDC(ctx, providers.OIDCConfig{Issuer: "https://issuer.example", ClientID: "x"})
			return err
		}},
		{"OIDC with a plain-http issuer off loopback", func() error {
			_, err := providers.OIDC(ctx, providers.OIDCConfig{Issuer: "http://issuer.example", ClientID: "x", ClientSecret: "y"})
			return err
		}},
		{"OIDC whose discovery fails", func() error {
			_, err := providers.OIDC(ctx, providers.OIDCConfig{Issuer: "http://127.0.0.1:1/none", ClientID: "x", ClientSecret: "y"})
			return err
		}},
		{"GitHub without credentials", func() error {
			_, err := providers.GitHub(providers.GitHubConfig{})
			return err
		}},
		{"OAuth2 without a profile function", func() error {
			_, err := providers.NewOAuth2(providers.OAuth2{ID: "x", ClientID: "a", ClientSecret: "b",
				AuthURL: "https://a.example/auth", TokenURL: "https://a.example/token"})
			return err
		}},
		{"OAuth2 with a javascript: endpoint", func() error {
			_, err := providers.NewOAuth2(providers.OAuth2{ID: "x", ClientID: "a", ClientSecret: "b",
				AuthURL: "javascript:alert(1)", TokenURL: "https://a.example/token",
				Profile: func(context.Context, providers.ProfileRequest) (providers.User, error) { return providers.User{}, nil }})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.make(); !errors.Is(err, providers.ErrConfig) {
				t.Fatalf("got %v, want an error wrapping ErrConfig", err)
			}
		})
	}
}

// assertRefused checks a refused callback: a 302 to the error page with
// code, no session, the check cookies gone, and a log line with a reason.
func assertRefused(t *testing.T, a *app, b *browser, res response, code string) {
	t.Helper()
	want := a.srv.URL + "/api/auth/error?error=" + code
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
		t.Fatalf("callback: got %d to %q, want 302 to %q", res.StatusCode, res.Header.Get("Location"), want)
	}
	for _, c := range res.Cookies() {
		if strings.Contains(c.Name, "session-token") && c.MaxAge >= 0 {
			t.Errorf("a refused callback set the session cookie")
		}
	}
	if s := b.session(); s.User.ID != "" {
		t.Errorf("signed in as %q after a refused callback", s.User.ID)
	}
	for _, name := range []string{"authgate.state", "authgate.pkce.code_verifier", "authgate.nonce"} {
		if b.cookie(name) != nil {
			t.Errorf("%s is still set after the callback", name)
		}
	}
	if logs := a.logs.String(); !strings.Contains(logs, "event=oauth_callback_refused") && !strings.Contains(logs, "event=signin_denied") {
		t.Errorf("no oauth_callback_refused or signin_denied log line:\n%s", logs)
	}
	assertCleanLogs(t, a, "", "", "")
}

// assertCleanLogs fails when a log line holds the callback's code or
// state, a token, a check cookie's value or a client secret.
func assertCleanLogs(t *testing.T, a *app, callbackURL string, secrets ...string) {
	t.Helper()
	logs := a.logs.String()
	if callbackURL != "" {
		u, _ := url.Parse(callbackURL)
		secrets = append(secrets, u.Query().Get("code"), u.Query().Get("state"))
	}
	for _, s := range secrets {
		if len(s) >= 8 && strings.Contains(logs, s) {
			t.Errorf("the log holds a secret value %.8q…:\n%s", s, logs)
		}
	}
	for _, marker := range []string{"gho_", "eyJ"} { // GitHub tokens, JWTs
		if strings.Contains(logs, marker) {
			t.Errorf("the log holds a token (%s…):\n%s", marker, logs)
		}
	}
}

// withQuery returns u with key set to value ("" removes it).
func withQuery(u, key, value string) string {
	p, _ := url.Parse(u)
	q := p.Query()
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	p.RawQuery = q.Encode()
	return p.String()
}

// TestRefresh: the refresh token an app kept in its JWT at sign-in buys a
// new access token from the provider; a bad one is refused.
func TestRefresh(t *testing.T) {
	idp := startMockOIDC(t)
	prov := idp.provider(t)
	a := newApp(t, []authgate.OAuthProvider{prov}, nil)
	b := a.browser()
	b.signIn("oidc", "/")
	s := b.session()
	if s.Claims.RefreshToken == "" {
		t.Fatalf("no refresh token kept at sign-in: %+v", s.Claims)
	}
	idp.FastForward(2 * time.Second) // a new token, not the same one re-minted
	got, err := providers.Refresh(context.Background(), prov, s.Claims.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if got.AccessToken == "" || got.AccessToken == s.Claims.AccessToken || got.RefreshToken == "" ||
		got.ExpiresAt <= time.Now().Unix() || got.IDToken == "" {
		t.Errorf("Refresh: got %+v", got)
	}
	tests := []struct {
		name  string
		prov  authgate.OAuthProvider
		token string
		want  error
	}{
		{"a refresh token the provider did not issue", prov, "not-a-refresh-token", providers.ErrExchange},
		{"no refresh token", prov, "", providers.ErrExchange},
		{"a provider from elsewhere", otherProvider{}, s.Claims.RefreshToken, providers.ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := providers.Refresh(context.Background(), tt.prov, tt.token); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// otherProvider is an authgate.OAuthProvider from outside this package.
type otherProvider struct{ authgate.OAuthProvider }
