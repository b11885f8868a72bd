package providers_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// "Sign in with GitHub": the provider, listed in the Config; its
// endpoints are /api/auth/signin/github and /api/auth/callback/github
// (register the latter as the OAuth app's callback URL).
func ExampleGitHub() {
	gh, err := providers.GitHub(providers.GitHubConfig{
		ClientID:     "Iv1.example",                         // os.Getenv("GITHUB_ID")
		ClientSecret: "example-secret-from-the-environment", // os.Getenv("GITHUB_SECRET")
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	auth, err := authgate.New(authgate.Config[struct{}]{
		Secrets:   []string{"an-example-secret-of-at-least-32-bytes"},
		URL:       "https://app.example",
		Providers: []authgate.OAuthProvider{gh},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	w := httptest.NewRecorder()
	auth.Handler().ServeHTTP(w, httptest.NewRequest("GET", "https://app.example/api/auth/providers", nil))
	fmt.Print(w.Body.String())
	// Output:
	// {"github":{"callbackUrl":"https://app.example/api/auth/callback/github","id":"github","name":"GitHub","signinUrl":"https://app.example/api/auth/signin/github","type":"oauth"}}
}

// Any OAuth 2 provider, described by its endpoints and a profile mapping:
// here GitLab, whose /api/v4/user answers {id, username, name, email,
// avatar_url}.
func ExampleNewOAuth2() {
	gitlab, err := providers.NewOAuth2(providers.OAuth2{
		ID:           "gitlab",
		Name:         "GitLab",
		ClientID:     "example-client-id",
		ClientSecret: "example-client-secret",
		AuthURL:      "https://gitlab.com/oauth/authorize",
		TokenURL:     "https://gitlab.com/oauth/token",
		ProfileURL:   "https://gitlab.com/api/v4/user",
		Scopes:       []string{"read_user"},
		Profile: func(ctx context.Context, p providers.ProfileRequest) (providers.User, error) {
			id, _ := p.Raw["id"].(fmt.Stringer) // numbers arrive as json.Number
			if id == nil {
				return providers.User{}, fmt.Errorf("no id in the profile")
			}
			name, _ := p.Raw["name"].(string)
			email, _ := p.Raw["email"].(string)
			avatar, _ := p.Raw["avatar_url"].(string)
			return providers.User{ID: id.String(), Name: name, Email: email, Image: avatar}, nil
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println(gitlab.ID(), gitlab.Name())
	// Output: gitlab GitLab
}
