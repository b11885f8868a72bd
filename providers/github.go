package providers

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/authgate/authgate"
)

// GitHub's endpoints, as NextAuth's GitHub provider uses them.
const (
	GitHubAuthURL  = "https://github.com/login/oauth/authorize"
	GitHubTokenURL = "https://github.com/login/oauth/access_token"
	GitHubAPIURL   = "https://api.github.com"
)

// GitHubConfig configures [GitHub].
type GitHubConfig struct {
	// ClientID and ClientSecret are the OAuth app's (GITHUB_ID and
	// GITHUB_SECRET). Required.
	ClientID, ClientSecret string
	// ID is the provider id; the default is "github".
	ID string
	// Scopes default to "read:user user:email", as in NextAuth.
	Scopes []string
	// AuthURL, TokenURL and APIURL default to GitHub's (github.com and
	// api.github.com); set them for GitHub Enterprise Server or a test
	// double.
	AuthURL, TokenURL, APIURL string
	// DisablePKCE stops sending a PKCE challenge, for a GitHub Enterprise
	// Server that predates GitHub's PKCE support. The default (false)
	// sends one.
	DisablePKCE bool
	// HTTPClient sends every request; the default has [DefaultTimeout].
	HTTPClient *http.Client
	// AllowUnverifiedEmail takes the primary address from /user/emails
	// even when GitHub does not mark it verified, as NextAuth does. The
	// default (false) takes it only when verified.
	AllowUnverifiedEmail bool
}

// GitHub returns the "Sign in with GitHub" provider. GitHub is OAuth 2, not
// OpenID Connect: there is no ID token. The profile is GET {APIURL}/user,
// mapped as NextAuth does to {id: String(id), name: name or login, email,
// image: avatar_url}. The profile's public email is one GitHub has
// verified (GitHub lets a user make only a verified address public). When
// the profile shows none, GET {APIURL}/user/emails supplies the primary
// one, and only if GitHub marks it verified (NextAuth takes it whether
// verified or not; see AllowUnverifiedEmail).
// The sign-in uses state and PKCE. It fails with [ErrConfig] when the
// client id or secret is missing.
func GitHub(c GitHubConfig) (authgate.OAuthProvider, error) {
	if c.ID == "" {
		c.ID = "github"
	}
	if c.Scopes == nil {
		c.Scopes = []string{"read:user", "user:email"}
	}
	if c.AuthURL == "" {
		c.AuthURL = GitHubAuthURL
	}
	if c.TokenURL == "" {
		c.TokenURL = GitHubTokenURL
	}
	api := strings.TrimSuffix(c.APIURL, "/")
	if api == "" {
		api = GitHubAPIURL
	}
	return NewOAuth2(OAuth2{
		ID: c.ID, Name: "GitHub", ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		AuthURL: c.AuthURL, TokenURL: c.TokenURL, ProfileURL: api + "/user", Scopes: c.Scopes,
		HTTPClient: c.HTTPClient, DisablePKCE: c.DisablePKCE,
		Profile: func(ctx context.Context, p ProfileRequest) (User, error) {
			// A public address is verified: GitHub lets a user make only a
			// verified one public.
			u := User{ID: str(p.Raw, "id"), Name: str(p.Raw, "name"), Email: str(p.Raw, "email"), Image: str(p.Raw, "avatar_url")}
			u.EmailVerified = u.Email != ""
			if u.Name == "" {
				u.Name = str(p.Raw, "login")
			}
			if u.Email == "" {
				var emails []struct {
					Email    string `json:"email"`
					Primary  bool   `json:"primary"`
					Verified bool   `json:"verified"`
				}
				if err := getJSON(ctx, p.Client, api+"/user/emails", &emails); err != nil {
					return u, fmt.Errorf("github emails: %w", err)
				}
				for _, e := range emails {
					if e.Primary && (e.Verified || c.AllowUnverifiedEmail) {
						u.Email, u.EmailVerified = e.Email, e.Verified
					}
				}
			}
			return u, nil
		},
	})
}
