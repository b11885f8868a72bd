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
	// AllowUnverifiedEmail keeps an email Google does not mark verified;
	// see [OIDCConfig.AllowUnverifiedEmail]. The default drops it.
	AllowUnverifiedEmail bool
}

// Google returns the "Sign in with Google" provider: [OIDC] with Google's
// issuer, id "google" and name "Google" (discovery runs now, so it needs
// the network at start-up). An email Google's ID token does not mark
// verified ("email_verified") is dropped unless AllowUnverifiedEmail is
// set.
func Google(ctx context.Context, c GoogleConfig) (authgate.OAuthProvider, error) {
	return OIDC(ctx, OIDCConfig{
		ID: "google", Name: "Google", Issuer: GoogleIssuer,
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: c.Scopes, HTTPClient: c.HTTPClient,
		AllowUnverifiedEmail: c.AllowUnverifiedEmail,
	})
}
