// Package providers holds "Sign in with …" providers for authgate: any
// OpenID Connect issuer configured by discovery ([OIDC]), [Google],
// [GitHub], and [NewOAuth2] for any other OAuth 2 provider described by its
// endpoints and a profile-mapping function. Each returns an
// [authgate.OAuthProvider] to list in [authgate.Config.Providers]:
//
//	gh, err := providers.GitHub(providers.GitHubConfig{
//		ClientID: os.Getenv("GITHUB_ID"), ClientSecret: os.Getenv("GITHUB_SECRET"),
//	})
//	auth, err := authgate.New(authgate.Config[Claims]{
//		Secrets: []string{os.Getenv("AUTH_SECRET")}, URL: "https://app.example",
//		Providers: []authgate.OAuthProvider{gh},
//	})
//
// The token exchange and PKCE are golang.org/x/oauth2's, ID token
// verification is github.com/coreos/go-oidc's; this package only wires
// them to authgate and maps profiles. It is its own module so that the
// authgate module stays free of both.
//
// Providers are safe for concurrent use. Every error wraps one of the
// sentinels below and never holds a code, token or secret: authgate logs
// it.
package providers
