package providers

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"time"

	"github.com/authgate/authgate"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCConfig configures [OIDC].
type OIDCConfig struct {
	// Issuer is the provider's issuer URL, such as
	// "https://accounts.google.com" or a Keycloak realm
	// ("https://sso.example.com/realms/acme"); its endpoints are read from
	// Issuer + "/.well-known/openid-configuration". Required; https, except
	// on loopback hosts.
	Issuer string
	// ClientID and ClientSecret are the app's credentials at the issuer.
	// Required.
	ClientID, ClientSecret string
	// ID is the provider id; the default is "oidc".
	ID string
	// Name is shown on sign-in buttons; the default is "OpenID Connect".
	Name string
	// Scopes default to "openid email profile"; "openid" is added when
	// missing.
	Scopes []string
	// Profile maps the ID token's claims to a User. The default takes
	// {id: sub, name: name or preferred_username, email, image: picture}.
	Profile func(claims map[string]any) (User, error)
	// AllowUnverifiedEmail keeps the mapped email when the ID token does
	// not say it is verified. The default (false) drops it, whatever
	// Profile mapped, unless the "email_verified" claim is true (or the
	// string "true", as some issuers send it), as [GitHub] drops an
	// unverified address: an unverified email is only what the user typed
	// in at the issuer, and an app that links accounts or grants access by
	// email would trust it. The raw claims, email included, stay in
	// [authgate.OAuthProfile].Profile for the callbacks either way.
	AllowUnverifiedEmail bool
	// HTTPClient sends every request (discovery, keys, token); the default
	// has [DefaultTimeout].
	HTTPClient *http.Client
	// Now is the clock ID token expiry is checked against; the default is
	// [time.Now].
	Now func() time.Time
}

// oidcProvider is an OpenID Connect authgate.OAuthProvider.
type oidcProvider struct {
	cfg      OIDCConfig
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// OIDC returns a provider for any OpenID Connect issuer, configured by
// discovery: it fetches the issuer's configuration now (bounded by ctx and
// the client's timeout), so a wrong issuer fails at start-up. Sign-ins use
// state, PKCE (S256) and a nonce; the ID token's signature (from the
// issuer's keys), issuer, audience, expiry and nonce are verified by
// go-oidc before any profile is used, and a token response without an ID
// token is refused. Like NextAuth's idToken providers, the profile is the
// ID token's claims (no userinfo call). Unlike NextAuth, an email the ID
// token does not mark verified is dropped (see
// [OIDCConfig.AllowUnverifiedEmail]). It fails with an error wrapping
// [ErrConfig] on a missing field or an unreachable or inconsistent
// issuer.
func OIDC(ctx context.Context, c OIDCConfig) (authgate.OAuthProvider, error) {
	if c.ID == "" {
		c.ID = "oidc"
	}
	if c.Name == "" {
		c.Name = "OpenID Connect"
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		return nil, fmt.Errorf("%w: %s: ClientID and ClientSecret are required", ErrConfig, c.ID)
	}
	if err := checkEndpoint(c.Issuer); err != nil {
		return nil, fmt.Errorf("%w: %s: Issuer: %w", ErrConfig, c.ID, err)
	}
	if c.Scopes == nil {
		c.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	hasOpenID := false
	for _, s := range c.Scopes {
		hasOpenID = hasOpenID || s == oidc.ScopeOpenID
	}
	if !hasOpenID {
		c.Scopes = append([]string{oidc.ScopeOpenID}, c.Scopes...)
	}
	if c.Profile == nil {
		c.Profile = defaultOIDCProfile
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: DefaultTimeout}
	}
	// The provider keeps this client for fetching the issuer's keys.
	issuer, err := oidc.NewProvider(oidc.ClientContext(ctx, c.HTTPClient), c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: discovery at %s: %w", ErrConfig, c.ID, c.Issuer, err)
	}
	return &oidcProvider{
		cfg:      c,
		conf:     oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: issuer.Endpoint(), Scopes: c.Scopes},
		verifier: issuer.Verifier(&oidc.Config{ClientID: c.ClientID, Now: c.Now}),
	}, nil
}

func defaultOIDCProfile(claims map[string]any) (User, error) {
	u := User{ID: str(claims, "sub"), Name: str(claims, "name"), Email: str(claims, "email"), Image: str(claims, "picture")}
	if u.Name == "" {
		u.Name = str(claims, "preferred_username")
	}
	return u, nil
}

// emailVerified reports whether an ID token's claims mark its email
// verified: "email_verified" true, or "true" as a string.
func emailVerified(claims map[string]any) bool {
	switch v := claims["email_verified"].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

func (p *oidcProvider) ID() string   { return p.cfg.ID }
func (p *oidcProvider) Name() string { return p.cfg.Name }

func (p *oidcProvider) AuthCodeURL(ctx context.Context, req authgate.OAuthRequest) (authgate.OAuthRedirect, error) {
	return authCodeURL(&p.conf, req, true, true)
}

func (p *oidcProvider) Exchange(ctx context.Context, cb authgate.OAuthCallback) (*authgate.OAuthProfile, error) {
	if cb.Nonce == "" {
		return nil, fmt.Errorf("%w: no nonce to check", ErrIDToken)
	}
	tok, err := exchange(ctx, &p.conf, p.cfg.HTTPClient, cb, true)
	if err != nil {
		return nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: the token response has no id_token", ErrIDToken)
	}
	idt, err := p.verifier.Verify(oidc.ClientContext(ctx, p.cfg.HTTPClient), raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIDToken, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(cb.Nonce)) != 1 {
		return nil, fmt.Errorf("%w: nonce does not match", ErrIDToken)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrIDToken, err)
	}
	u, err := p.cfg.Profile(claims)
	if err != nil {
		return nil, fmt.Errorf("%w: %s profile mapping: %w", ErrProfile, p.cfg.ID, err)
	}
	u.EmailVerified = emailVerified(claims)
	if !p.cfg.AllowUnverifiedEmail && !u.EmailVerified {
		u.Email = ""
	}
	if u.ID == "" || u.ID != idt.Subject {
		return nil, fmt.Errorf("%w: %s profile id is empty or not the id token's subject", ErrProfile, p.cfg.ID)
	}
	return profile(u, claims, tok), nil
}
