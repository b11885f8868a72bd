package main

// devoidc.go is -dev-oidc: "Sign in with OpenID Connect" on a laptop, with
// no account anywhere. It starts mockoidc, a development OpenID Connect
// provider, on a loopback port inside the demo's process, and points the
// demo's oidc provider at it, as -oidc-issuer, -oidc-client-id and
// OIDC_CLIENT_SECRET would. mockoidc signs every visitor in as its one
// user, jane.doe, with no login page: for trying the flow, never for a
// deployment.

import (
	"log/slog"
	"net"

	"github.com/oauth2-proxy/mockoidc"
)

// startDevOIDC starts the development provider and fills o with its
// issuer and client credentials. The returned function stops it.
func startDevOIDC(o *OAuthOptions, logger *slog.Logger) (func(), error) {
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if err := m.Start(ln, nil); err != nil {
		ln.Close()
		return nil, err
	}
	o.OIDCIssuer, o.OIDCClientID, o.OIDCClientSecret = m.Issuer(), m.ClientID, m.ClientSecret
	logger.Info("-dev-oidc: a development OpenID Connect provider signs everyone in as jane.doe, without a password",
		slog.String("issuer", m.Issuer()))
	return func() { m.Shutdown() }, nil
}
