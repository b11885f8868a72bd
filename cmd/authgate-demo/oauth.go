package main

// oauth.go is what the login page needs to show a "Sign in with …" button
// per provider. The providers themselves, and the role OAuth users get, are
// set up in auth.go; pages.go and templates/login.html show the buttons.

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/authgate/authgate"
)

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
