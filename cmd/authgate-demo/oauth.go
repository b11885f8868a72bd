package main

// oauth.go is the demo's "Sign in with …": the providers built from the
// command line and environment, the role OAuth users get, and what the
// login page needs to show a button per provider. auth.go lists the
// providers in the Config; pages.go and templates/login.html show them.

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// OAuthOptions are the -oidc-* flags and the provider secrets from the
// environment.
type OAuthOptions struct {
	OIDCIssuer       string // -oidc-issuer
	OIDCClientID     string // -oidc-client-id
	OIDCClientSecret string // OIDC_CLIENT_SECRET
	GitHubID         string // GITHUB_ID
	GitHubSecret     string // GITHUB_SECRET
}

// buildProviders returns the providers o configures: "oidc" when an issuer
// is given (its discovery runs now, so a wrong issuer stops the demo at
// start-up), "github" when GITHUB_ID is set. A half-configured provider is
// an error, not a silently missing button.
func buildProviders(ctx context.Context, o OAuthOptions) ([]authgate.OAuthProvider, error) {
	var out []authgate.OAuthProvider
	if o.OIDCIssuer != "" || o.OIDCClientID != "" {
		if o.OIDCIssuer == "" || o.OIDCClientID == "" || o.OIDCClientSecret == "" {
			return nil, fmt.Errorf("-oidc-issuer, -oidc-client-id and OIDC_CLIENT_SECRET go together")
		}
		p, err := providers.OIDC(ctx, providers.OIDCConfig{
			Issuer: o.OIDCIssuer, ClientID: o.OIDCClientID, ClientSecret: o.OIDCClientSecret,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if o.GitHubID != "" || o.GitHubSecret != "" {
		p, err := providers.GitHub(providers.GitHubConfig{ClientID: o.GitHubID, ClientSecret: o.GitHubSecret})
		if err != nil {
			return nil, fmt.Errorf("GITHUB_ID and GITHUB_SECRET go together: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// oauthRole is the role of a user who signs in with a provider: "user".
// The demo has no table of OAuth users, so nobody becomes admin this way;
// an app would look the account up here (the JWT callback) instead.
const oauthRole = "user"

// isOAuthSubject reports whether a session's subject came from a provider
// ("github:583231"): authgate prefixes provider accounts with the
// provider's id, and the demo's own users have numeric ids.
func isOAuthSubject(sub string) bool { return strings.Contains(sub, ":") }

// loginProvider is a "Sign in with …" button on the login page.
type loginProvider struct{ ID, Name string }

func loginProviders(ps []authgate.OAuthProvider) []loginProvider {
	out := make([]loginProvider, len(ps))
	for i, p := range ps {
		out[i] = loginProvider{p.ID(), p.Name()}
	}
	return out
}

// formTargets returns the origins of the providers' authorization
// endpoints, for the pages' Content-Security-Policy: a provider button
// works without JavaScript too, as a form POST that authgate answers with
// a redirect to the provider, and form-action governs that redirect.
func formTargets(ctx context.Context, ps []authgate.OAuthProvider) string {
	var origins []string
	for _, p := range ps {
		r, err := p.AuthCodeURL(ctx, authgate.OAuthRequest{RedirectURI: "http://localhost/", State: "x"})
		if err != nil {
			continue
		}
		if u, err := url.Parse(r.URL); err == nil && u.Host != "" {
			origins = append(origins, u.Scheme+"://"+u.Host)
		}
	}
	slices.Sort(origins)
	origins = slices.Compact(origins)
	if len(origins) == 0 {
		return ""
	}
	return " " + strings.Join(origins, " ")
}
