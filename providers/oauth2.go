package providers

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"golang.org/x/oauth2"
)

// Sentinel errors. Every error this package returns wraps one of them; the
// texts never hold a code, token or secret, since authgate logs them.
var (
	// ErrConfig reports an invalid provider configuration; the
	// constructors wrap it with the reason.
	ErrConfig = errors.New("providers: invalid configuration")
	// ErrExchange reports a refused or failed code exchange: the token
	// endpoint answered an error, was unreachable, or sent no token.
	ErrExchange = errors.New("providers: code exchange failed")
	// ErrIDToken reports an ID token that is missing or did not verify
	// (signature, issuer, audience, expiry or nonce).
	ErrIDToken = errors.New("providers: invalid id token")
	// ErrProfile reports a profile that could not be fetched or mapped, or
	// has no user id.
	ErrProfile = errors.New("providers: profile unavailable")
)

// DefaultTimeout bounds every request a provider makes (discovery, token,
// profile) when no HTTPClient is given.
const DefaultTimeout = 10 * time.Second

// maxProfileBytes bounds a profile response.
const maxProfileBytes = 1 << 20

// User is a profile mapped to NextAuth's {id, name, email, image}.
type User struct {
	ID    string
	Name  string
	Email string
	// EmailVerified reports that the provider says the user proved they
	// own Email; authgate links accounts by address only then, and only
	// when the app opts in (authgate.Config.LinkAccountsByEmail). A
	// Profile function sets it only from the provider's own statement.
	EmailVerified bool
	Image         string
}

// ProfileRequest is the argument of [OAuth2.Profile].
type ProfileRequest struct {
	// Raw is the JSON object the profile endpoint returned (numbers as
	// [json.Number]); nil when [OAuth2.ProfileURL] is empty.
	Raw map[string]any
	// Token is what the token endpoint returned.
	Token *oauth2.Token
	// Client sends requests with the access token, for providers whose
	// profile needs a second call (GitHub's /user/emails). Its requests
	// are bounded by the provider's timeout.
	Client *http.Client
}

// OAuth2 describes any OAuth 2 provider with the authorization code flow,
// for [NewOAuth2]: its endpoints, scopes, and a function that maps its
// profile. GitHub in this package is built with it.
type OAuth2 struct {
	// ID names the provider in URLs (/api/auth/signin/{ID}); see
	// [authgate.OAuthProvider]. Required.
	ID string
	// Name is shown on sign-in buttons. The default is ID.
	Name string
	// ClientID and ClientSecret are the app's credentials at the provider.
	// Required.
	ClientID     string
	ClientSecret string
	// AuthURL and TokenURL are the provider's authorization and token
	// endpoints. Required; https, except on loopback hosts (tests).
	AuthURL  string
	TokenURL string
	// ProfileURL is fetched with the access token; its JSON object is
	// ProfileRequest.Raw. Empty: Profile receives no Raw.
	ProfileURL string
	// Scopes are requested at the authorization endpoint.
	Scopes []string
	// DisablePKCE turns PKCE (S256) off for providers that reject it. The
	// default (false) sends a code challenge on every sign-in; state is
	// always checked.
	DisablePKCE bool
	// Profile maps the profile to a User. Required. It must return a
	// non-empty ID; an error refuses the sign-in.
	Profile func(ctx context.Context, p ProfileRequest) (User, error)
	// HTTPClient sends every request to the provider. The default is a
	// client with [DefaultTimeout].
	HTTPClient *http.Client
}

// oauth2Provider is an authgate.OAuthProvider from an OAuth2 description.
type oauth2Provider struct {
	cfg  OAuth2
	conf oauth2.Config
}

// NewOAuth2 validates d and returns it as an [authgate.OAuthProvider]. It
// is safe for concurrent use. It fails with an error wrapping [ErrConfig]
// when a required field is missing or an endpoint is not https (http is
// allowed on loopback hosts only).
func NewOAuth2(d OAuth2) (authgate.OAuthProvider, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	return &oauth2Provider{cfg: d, conf: oauth2.Config{
		ClientID: d.ClientID, ClientSecret: d.ClientSecret, Scopes: d.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: d.AuthURL, TokenURL: d.TokenURL},
	}}, nil
}

func (d *OAuth2) validate() error {
	switch {
	case d.ID == "":
		return fmt.Errorf("%w: no ID", ErrConfig)
	case d.ClientID == "" || d.ClientSecret == "":
		return fmt.Errorf("%w: %s: ClientID and ClientSecret are required", ErrConfig, d.ID)
	case d.Profile == nil:
		return fmt.Errorf("%w: %s: no Profile function", ErrConfig, d.ID)
	}
	for name, u := range map[string]string{"AuthURL": d.AuthURL, "TokenURL": d.TokenURL, "ProfileURL": d.ProfileURL} {
		if u == "" && name == "ProfileURL" {
			continue
		}
		if err := checkEndpoint(u); err != nil {
			return fmt.Errorf("%w: %s: %s: %w", ErrConfig, d.ID, name, err)
		}
	}
	if d.Name == "" {
		d.Name = d.ID
	}
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: DefaultTimeout}
	}
	return nil
}

// checkEndpoint accepts an absolute https URL, or http on a loopback host.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if h := u.Hostname(); h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1" {
			return nil
		}
	}
	return fmt.Errorf("%q is not https", raw)
}

func (p *oauth2Provider) ID() string   { return p.cfg.ID }
func (p *oauth2Provider) Name() string { return p.cfg.Name }

func (p *oauth2Provider) AuthCodeURL(ctx context.Context, req authgate.OAuthRequest) (authgate.OAuthRedirect, error) {
	return authCodeURL(&p.conf, req, !p.cfg.DisablePKCE, false)
}

// authCodeURL builds the authorization URL with state, PKCE (S256) and a
// nonce as asked.
func authCodeURL(base *oauth2.Config, req authgate.OAuthRequest, pkce, nonce bool) (authgate.OAuthRedirect, error) {
	conf := *base
	conf.RedirectURL = req.RedirectURI
	var out authgate.OAuthRedirect
	opts := make([]oauth2.AuthCodeOption, 0, len(req.Params)+2)
	for k, v := range req.Params {
		opts = append(opts, oauth2.SetAuthURLParam(k, v[0]))
	}
	// After the app's parameters, so none can replace a check.
	if pkce {
		out.PKCEVerifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(out.PKCEVerifier))
	}
	if nonce {
		out.Nonce = rand.Text()
		opts = append(opts, oauth2.SetAuthURLParam("nonce", out.Nonce))
	}
	out.URL = conf.AuthCodeURL(req.State, opts...)
	return out, nil
}

// exchange redeems the code with the PKCE verifier when the flow used one.
func exchange(ctx context.Context, base *oauth2.Config, client *http.Client, cb authgate.OAuthCallback, pkce bool) (*oauth2.Token, error) {
	conf := *base
	conf.RedirectURL = cb.RedirectURI
	var opts []oauth2.AuthCodeOption
	if pkce {
		if cb.PKCEVerifier == "" {
			return nil, fmt.Errorf("%w: no PKCE verifier", ErrExchange)
		}
		opts = append(opts, oauth2.VerifierOption(cb.PKCEVerifier))
	}
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, client), cb.Code, opts...)
	if err != nil {
		return nil, exchangeError(err)
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("%w: no access token", ErrExchange)
	}
	return tok, nil
}

// exchangeError describes a failed exchange without the response body
// (which [oauth2.RetrieveError.Error] includes).
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		code := re.ErrorCode
		if !safeCode(code) {
			code = "(unprintable)"
		}
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Errorf("%w: token endpoint answered status %d, error %q", ErrExchange, status, code)
	}
	return fmt.Errorf("%w: %w", ErrExchange, err)
}

// safeCode reports whether s is a short OAuth error code fit for a log.
func safeCode(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func (p *oauth2Provider) Exchange(ctx context.Context, cb authgate.OAuthCallback) (*authgate.OAuthProfile, error) {
	tok, err := exchange(ctx, &p.conf, p.cfg.HTTPClient, cb, !p.cfg.DisablePKCE)
	if err != nil {
		return nil, err
	}
	client := p.conf.Client(context.WithValue(ctx, oauth2.HTTPClient, p.cfg.HTTPClient), tok)
	var raw map[string]any
	if p.cfg.ProfileURL != "" {
		if err := getJSON(ctx, client, p.cfg.ProfileURL, &raw); err != nil {
			return nil, err
		}
	}
	u, err := p.cfg.Profile(ctx, ProfileRequest{Raw: raw, Token: tok, Client: client})
	if err != nil {
		return nil, fmt.Errorf("%w: %s profile mapping: %w", ErrProfile, p.cfg.ID, err)
	}
	if u.ID == "" {
		return nil, fmt.Errorf("%w: %s profile has no id", ErrProfile, p.cfg.ID)
	}
	return profile(u, raw, tok), nil
}

// profile assembles what authgate receives.
func profile(u User, raw map[string]any, tok *oauth2.Token) *authgate.OAuthProfile {
	out := &authgate.OAuthProfile{
		ID: u.ID, Name: u.Name, Email: u.Email, EmailVerified: u.EmailVerified && u.Email != "", Image: u.Image, Profile: raw,
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.Type(), Expiry: tok.Expiry,
	}
	if s, ok := tok.Extra("scope").(string); ok {
		out.Scope = s
	}
	if s, ok := tok.Extra("id_token").(string); ok {
		out.IDToken = s
	}
	return out
}

// getJSON GETs u with client and decodes its JSON (at most
// maxProfileBytes, numbers as json.Number) into v.
func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProfile, err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: GET %s: %w", ErrProfile, redactURL(u), err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s: status %d", ErrProfile, redactURL(u), res.StatusCode)
	}
	dec := json.NewDecoder(io.LimitReader(res.Body, maxProfileBytes))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: GET %s: %w", ErrProfile, redactURL(u), err)
	}
	return nil
}

// redactURL drops the query string, which a custom endpoint might use for
// a key.
func redactURL(u string) string {
	s, _, _ := strings.Cut(u, "?")
	return s
}

// str returns m[k] as a string: strings as they are, numbers in decimal.
func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return fmt.Sprint(v)
	}
	return ""
}
