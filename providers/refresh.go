package providers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/authgate/authgate"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Tokens are what a refresh returns: a new access token and, when the
// provider rotates them, a new refresh token (else the old one is kept).
type Tokens struct {
	AccessToken  string
	RefreshToken string
	TokenType    string
	Scope        string
	// IDToken is a new ID token when an OpenID Connect provider sent one;
	// its signature, issuer, audience and expiry were verified.
	IDToken string
	// ExpiresAt is when AccessToken expires, in seconds since the Unix
	// epoch (as [authgate.Account.ExpiresAt]); 0 when the provider did
	// not say.
	ExpiresAt int64
}

// Refresh redeems refreshToken at p's token endpoint (the refresh_token
// grant, through x/oauth2) for a new access token: the way to keep a
// session's access token alive from the JWT callback (TriggerRefresh) when
// the app stored [authgate.Account.RefreshToken] at sign-in. p must be a
// provider from this package; others fail with an error wrapping
// [ErrConfig]. A refused or failed refresh wraps [ErrExchange] (a new ID
// token that does not verify, [ErrIDToken]); the app decides whether that
// ends the session. Safe for concurrent use.
func Refresh(ctx context.Context, p authgate.OAuthProvider, refreshToken string) (Tokens, error) {
	if refreshToken == "" {
		return Tokens{}, fmt.Errorf("%w: no refresh token", ErrExchange)
	}
	switch p := p.(type) {
	case *oauth2Provider:
		return refresh(ctx, &p.conf, p.cfg.HTTPClient, refreshToken, nil)
	case *oidcProvider:
		return refresh(ctx, &p.conf, p.cfg.HTTPClient, refreshToken, func(raw string) error {
			_, err := p.verifier.Verify(oidc.ClientContext(ctx, p.cfg.HTTPClient), raw)
			return err
		})
	}
	return Tokens{}, fmt.Errorf("%w: %T is not a provider of this package", ErrConfig, p)
}

func refresh(ctx context.Context, conf *oauth2.Config, client *http.Client, refreshToken string, verify func(string) error) (Tokens, error) {
	// An expired token makes the source go to the token endpoint at once.
	src := conf.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, client),
		&oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)})
	tok, err := src.Token()
	if err != nil {
		return Tokens{}, exchangeError(err)
	}
	if tok.AccessToken == "" {
		return Tokens{}, fmt.Errorf("%w: no access token", ErrExchange)
	}
	out := Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.Type()}
	if out.RefreshToken == "" {
		out.RefreshToken = refreshToken
	}
	if !tok.Expiry.IsZero() {
		out.ExpiresAt = tok.Expiry.Unix()
	}
	if s, ok := tok.Extra("scope").(string); ok {
		out.Scope = s
	}
	if raw, ok := tok.Extra("id_token").(string); ok && raw != "" && verify != nil {
		if err := verify(raw); err != nil {
			return Tokens{}, fmt.Errorf("%w: refreshed id token: %w", ErrIDToken, err)
		}
		out.IDToken = raw
	}
	return out, nil
}
