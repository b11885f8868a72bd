package providers

import (
	"context"
	"net/http"

	"github.com/authgate/authgate"
)

// GoogleIssuer is Google's OpenID Connect issuer.
const GoogleIssuer = "https://accounts.google.com"

// GoogleConfig configures [Google].
type GoogleConfig struct {
	// ClientID and ClientSecret are the OAuth client's (Google Cloud
	// console, "OAuth 2.0 Client IDs"). Required.
	ClientID, ClientSecret string
	// Scopes default to "openid email profile".
	Scopes []string
	// HTTPClient sends every request; the default has [DefaultTimeout].
	HTTPClient *http.Client
}

// Google returns the "Sign in with Google" provider: [OIDC] with Google's
// issuer, id "google" and name "Google" (discovery runs now, so it needs
// the network at start-up). Google's ID token says whether the email is
// verified ("email_verified" in the profile); check it before trusting the
// address.
func Google(ctx context.Context, c GoogleConfig) (authgate.OAuthProvider, error) {
	return OIDC(ctx, OIDCConfig{
		ID: "google", Name: "Google", Issuer: GoogleIssuer,
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: c.Scopes, HTTPClient: c.HTTPClient,
	})
}
