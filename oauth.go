package authgate

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// "Sign in with …": the OAuth 2 / OpenID Connect flow, as NextAuth v4 runs
// it. authgate owns the protocol side (the endpoints, the check cookies, the
// callbacks, the session); an [OAuthProvider] owns the talk with one
// provider (the authorization URL, PKCE, the token exchange, ID token
// verification, the profile). Ready-made providers (any OpenID Connect
// issuer, GitHub, Google, and a generic OAuth 2 one) live in the module
// github.com/authgate/authgate/providers, so this module needs no OAuth
// library.
//
// POST /signin/{id} (CSRF-checked) mints a random state, asks the provider
// for its authorization URL (with a PKCE verifier and, for OIDC, a nonce),
// stores each check value in its own short-lived encrypted cookie bound to
// the provider, and answers {url} (or a 302). GET /callback/{id} reads and
// clears those cookies, refuses the request unless every check is present,
// decrypts, names this provider and has not expired, compares the state in
// constant time, lets the provider exchange the code and verify what it
// got, and signs the user in through the same steps as the credentials
// flow. No server-side state: any instance can finish a flow another began.

// OAuthProvider is one "Sign in with …" provider, as [Config.Providers]
// lists them. Implementations must be safe for concurrent use; the
// providers module has ready-made ones.
//
// The provider never sees authgate's cookies and authgate never sees the
// client secret: authgate keeps the check values, the provider uses them.
type OAuthProvider interface {
	// ID names the provider in URLs (/signin/{id}, /callback/{id}) and in
	// [Account.Provider], such as "github" or "oidc": 1 to 64 lower-case
	// ASCII letters, digits, '-' or '_'. It must not change.
	ID() string
	// Name is shown to users: "Sign in with {Name}".
	Name() string
	// AuthCodeURL returns the URL of the provider's authorization endpoint
	// for req, and the PKCE verifier and nonce it used (empty when the
	// provider does not use that check). authgate keeps them in cookies and
	// hands them back to Exchange.
	AuthCodeURL(ctx context.Context, req OAuthRequest) (OAuthRedirect, error)
	// Exchange turns the authorization code of a callback into the user's
	// profile: it redeems the code (with the PKCE verifier), verifies the
	// ID token when there is one (signature, issuer, audience, expiry and
	// nonce) and maps the profile. Any error refuses the sign-in; its text
	// is logged, so it must not contain a code, token or secret.
	Exchange(ctx context.Context, cb OAuthCallback) (*OAuthProfile, error)
}

// OAuthRequest is the argument of [OAuthProvider.AuthCodeURL].
type OAuthRequest struct {
	// RedirectURI is where the provider sends the user back:
	// origin + BasePath + "/callback/" + ID.
	RedirectURI string
	// State is the random state authgate checks on the callback.
	State string
	// Params are extra authorization parameters the client asked for in
	// the query string of POST /signin/{id}, as next-auth/react's third
	// signIn argument sends them. Only prompt, login_hint, max_age,
	// ui_locales, acr_values, display and hd pass, each at most 256 bytes.
	Params url.Values
}

// OAuthRedirect is the result of [OAuthProvider.AuthCodeURL].
type OAuthRedirect struct {
	// URL is the authorization URL to send the user to.
	URL string
	// PKCEVerifier is the PKCE code verifier whose S256 challenge URL
	// carries, or "" when the provider does not use PKCE.
	PKCEVerifier string
	// Nonce is the OpenID Connect nonce URL carries, or "".
	Nonce string
}

// OAuthCallback is the argument of [OAuthProvider.Exchange].
type OAuthCallback struct {
	// RedirectURI is the one AuthCodeURL received.
	RedirectURI string
	// Code is the authorization code from the callback's query string.
	Code string
	// PKCEVerifier and Nonce are the values AuthCodeURL returned, read
	// back from their cookies. authgate has already refused a callback
	// whose cookies are missing; a provider that uses a check must still
	// refuse an empty value.
	PKCEVerifier string
	Nonce        string
}

// OAuthProfile is what [OAuthProvider.Exchange] returns: the user mapped to
// NextAuth's {id, name, email, image}, the provider's raw profile, and the
// tokens, which become the [Account] the callbacks receive.
type OAuthProfile struct {
	// ID is the user's id at the provider (GitHub's numeric id, the ID
	// token's "sub"). It must not be empty.
	ID    string
	Name  string
	Email string
	// EmailVerified reports that the provider says the user proved they
	// own Email (an ID token's "email_verified", GitHub's verified primary
	// address). Only then may [Config.LinkAccountsByEmail] link by it.
	EmailVerified bool
	Image         string
	// Profile is the provider's profile as it sent it (an OpenID Connect
	// provider's ID token claims, GitHub's /user), for the callbacks.
	Profile map[string]any

	AccessToken  string
	RefreshToken string
	TokenType    string
	Scope        string
	IDToken      string
	// Expiry is when AccessToken expires; zero when the provider did not
	// say.
	Expiry time.Time
}

// maxOAuthParam bounds each value of the callback's query string and each
// extra authorization parameter.
const (
	maxCodeLen    = 4096
	maxOAuthParam = 256
)

// authorizationParams are the extra parameters a client may pass to the
// provider's authorization endpoint.
var authorizationParams = []string{"prompt", "login_hint", "max_age", "ui_locales", "acr_values", "display", "hd"}

// checkValue is what an OAuth check cookie (check.go) holds: the value,
// the provider it was minted for and, in the state cookie only, which
// other checks the flow uses.
type checkValue struct {
	Value    string `json:"v"`
	Provider string `json:"p"`
	PKCE     bool   `json:"pkce,omitempty"`
	Nonce    bool   `json:"nonce,omitempty"`
}

// oauthState is what the Auth keeps for the OAuth flow, built in New.
type oauthState struct {
	providers   map[string]OAuthProvider
	order       []OAuthProvider // as configured, for /providers and the sign-in page
	stateCookie string
	pkceCookie  string
	nonceCookie string
}

// initOAuth prepares the providers and the check cookies' names. The
// providers were validated by Config.validate.
func (a *Auth[T]) initOAuth() {
	o := &a.oauth
	o.providers = make(map[string]OAuthProvider, len(a.cfg.Providers))
	o.order = a.cfg.Providers
	for _, p := range a.cfg.Providers {
		o.providers[p.ID()] = p
	}
	prefix := ""
	if a.secure {
		prefix = hostPrefix // a sibling domain cannot plant a check
	}
	o.stateCookie = prefix + "authgate.state"
	o.pkceCookie = prefix + "authgate.pkce.code_verifier"
	o.nonceCookie = prefix + "authgate.nonce"
}

// validProviderID reports whether id may name a provider.
func validProviderID(id string) bool {
	if id == "" || len(id) > 64 || id == "credentials" {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// providerList answers GET /providers: every provider by id, with
// credentials when Authorize is set and the extensions that have a type,
// in NextAuth's shape.
func (a *Auth[T]) providerList() map[string]any {
	out := make(map[string]any, len(a.oauth.order)+1)
	if a.cfg.Authorize != nil {
		out["credentials"] = map[string]string{
			"id": "credentials", "name": "Credentials", "type": "credentials",
			"signinUrl": a.url("/signin/credentials"), "callbackUrl": a.url("/callback/credentials"),
		}
	}
	for _, p := range a.oauth.order {
		out[p.ID()] = map[string]string{
			"id": p.ID(), "name": p.Name(), "type": "oauth",
			"signinUrl": a.url("/signin/" + p.ID()), "callbackUrl": a.url("/callback/" + p.ID()),
		}
	}
	for _, e := range a.extensions {
		if e.Type != "" {
			out[e.id] = map[string]string{
				"id": e.id, "name": e.Name, "type": e.Type,
				"signinUrl": a.url("/signin/" + e.id), "callbackUrl": a.url("/callback/" + e.id),
			}
		}
	}
	return out
}

// serveOAuthSignIn is POST /signin/{id} for an OAuth provider, after the
// CSRF check: it sets the check cookies and sends the client to the
// provider.
func (a *Auth[T]) serveOAuthSignIn(w http.ResponseWriter, r *http.Request, p OAuthProvider, b body, jsonMode bool) {
	ctx := r.Context()
	id := p.ID()
	params := url.Values{}
	q := r.URL.Query()
	for _, k := range authorizationParams {
		if v := q.Get(k); v != "" && len(v) <= maxOAuthParam && !hasCtl(v) {
			params.Set(k, v)
		}
	}
	state := randomToken()
	red, err := p.AuthCodeURL(ctx, OAuthRequest{RedirectURI: a.url("/callback/" + id), State: state, Params: params})
	if err == nil {
		if u, perr := url.Parse(red.URL); perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			err = fmt.Errorf("authgate: provider %s returned an authorization URL that is not absolute http(s)", id)
		}
	}
	if err != nil {
		a.logDecision(ctx, slog.LevelError, "authgate: oauth sign-in failed",
			slog.String("event", "oauth_signin_error"), slog.String("provider", id), slog.String("reason", err.Error()))
		a.answer(w, r, jsonMode, http.StatusInternalServerError, a.url("/error", "error", CodeOAuthSignin))
		return
	}
	exp := a.now().Add(checkMaxAge)
	checks := []struct {
		name, value string
		c           checkValue
	}{
		{a.oauth.stateCookie, state, checkValue{PKCE: red.PKCEVerifier != "", Nonce: red.Nonce != ""}},
		{a.oauth.pkceCookie, red.PKCEVerifier, checkValue{}},
		{a.oauth.nonceCookie, red.Nonce, checkValue{}},
	}
	for _, c := range checks {
		if c.value == "" {
			// A check this flow does not use: drop one an earlier flow
			// may have left.
			if _, ok := cookieValue(r, c.name); ok {
				http.SetCookie(w, a.cookie(c.name, "", time.Unix(0, 0), -1))
			}
			continue
		}
		c.c.Value, c.c.Provider = c.value, id
		if err := a.setCheck(w, c.name, c.c, exp, ""); err != nil {
			a.logDecision(ctx, slog.LevelError, "authgate: oauth sign-in failed",
				slog.String("event", "oauth_signin_error"), slog.String("provider", id), slog.String("reason", "encode check cookie: "+err.Error()))
			a.answer(w, r, jsonMode, http.StatusInternalServerError, a.url("/error", "error", CodeOAuthSignin))
			return
		}
	}
	a.callbackURL(w, r, b.fields) // remembered in the callback-url cookie for the return
	a.logDecision(ctx, slog.LevelInfo, "authgate: oauth sign-in started",
		slog.String("event", "oauth_signin"), slog.String("provider", id), slog.String("addr", a.clientAddr(r)))
	a.answer(w, r, jsonMode, http.StatusOK, red.URL)
}

// readCheck decodes the check cookie name and verifies it names provider
// and has not expired.
func (a *Auth[T]) readCheck(r *http.Request, name, provider string, now time.Time) (checkValue, error) {
	var c checkValue
	e, err := a.readCheckEnvelope(r, name, now)
	if err != nil {
		return c, err
	}
	switch err := json.Unmarshal(e.Value, &c); {
	case err != nil:
		return c, fmt.Errorf("%w: %s cookie does not decode", ErrCheckCookie, name)
	case c.Provider != provider:
		return c, fmt.Errorf("%w: %s cookie was minted for another provider", ErrCheckCookie, name)
	case c.Value == "":
		return c, fmt.Errorf("%w: %s cookie is empty", ErrCheckCookie, name)
	}
	return c, nil
}

// clearChecks expires the check cookies the request carries: they are used
// once, whatever the outcome.
func (a *Auth[T]) clearChecks(w http.ResponseWriter, r *http.Request) {
	var seen [3]bool
	names := [3]string{a.oauth.stateCookie, a.oauth.pkceCookie, a.oauth.nonceCookie}
	it := newCookieIter(r)
	for {
		k, _, ok := it.next()
		if !ok {
			break
		}
		for i, name := range names {
			if k == name && !seen[i] {
				seen[i] = true
				http.SetCookie(w, a.cookie(name, "", time.Unix(0, 0), -1))
			}
		}
	}
}

// serveOAuthCallback is GET /callback/{id}: the provider sent the user
// back. Every outcome is a 302: to the callback URL when signed in, to the
// error page with NextAuth's code otherwise.
func (a *Auth[T]) serveOAuthCallback(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("provider")
	p, ok := a.oauth.providers[id]
	if !ok {
		if id == "credentials" {
			w.Header().Set("Allow", "POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		http.NotFound(w, r)
		return
	}
	ctx := r.Context()
	noCache(w)
	a.clearChecks(w, r)
	addr := a.clientAddr(r)
	fail := func(level slog.Level, code, reason string) {
		// Anyone can send a browser (or a script) to a callback URL at no
		// cost: the refusals are rate-limited like other noisy events.
		a.logNoisy(ctx, noisyOAuth, level, "authgate: oauth callback refused",
			slog.String("event", "oauth_callback_refused"), slog.String("provider", id),
			slog.String("reason", reason), slog.String("addr", addr))
		http.Redirect(w, r, a.url("/error", "error", code), http.StatusFound)
	}

	q := r.URL.Query()
	if e := q.Get("error"); e != "" || q.Has("error") {
		code := CodeOAuthCallback
		if e == "access_denied" {
			code = CodeAccessDenied
		}
		if !validCode(e) {
			e = "(unprintable)"
		}
		fail(slog.LevelInfo, code, "provider answered error="+e)
		return
	}
	now := a.now()
	st, err := a.readCheck(r, a.oauth.stateCookie, id, now)
	if err != nil {
		fail(slog.LevelWarn, CodeOAuthCallback, err.Error())
		return
	}
	got := q.Get("state")
	if len(q["state"]) != 1 || subtle.ConstantTimeCompare([]byte(got), []byte(st.Value)) != 1 {
		fail(slog.LevelWarn, CodeOAuthCallback, "state missing or does not match its cookie")
		return
	}
	cb := OAuthCallback{RedirectURI: a.url("/callback/" + id), Code: q.Get("code")}
	if len(q["code"]) != 1 || cb.Code == "" || len(cb.Code) > maxCodeLen || hasCtl(cb.Code) {
		fail(slog.LevelWarn, CodeOAuthCallback, "no (or a malformed) code")
		return
	}
	if st.PKCE {
		c, err := a.readCheck(r, a.oauth.pkceCookie, id, now)
		if err != nil {
			fail(slog.LevelWarn, CodeOAuthCallback, err.Error())
			return
		}
		cb.PKCEVerifier = c.Value
	}
	if st.Nonce {
		c, err := a.readCheck(r, a.oauth.nonceCookie, id, now)
		if err != nil {
			fail(slog.LevelWarn, CodeOAuthCallback, err.Error())
			return
		}
		cb.Nonce = c.Value
	}

	// Every exchange is a request to the provider on the client's behalf,
	// so it is charged to the client's address budget first, as a
	// credentials sign-in is (no account: one per address); a success
	// gives it back. A client whose budget is spent gets 429 before any
	// outbound request.
	att := Attempt{Addr: addr, Time: now}
	retry, err := a.cfg.Limiter.Allow(ctx, att)
	switch {
	case err != nil:
		a.logDecision(ctx, slog.LevelError, "authgate: oauth callback refused",
			slog.String("event", "oauth_callback_refused"), slog.String("provider", id),
			slog.String("reason", "limiter: "+err.Error()), slog.String("addr", addr))
		http.Redirect(w, r, a.url("/error", "error", CodeBusy), http.StatusFound)
		return
	case retry > 0:
		a.logNoisy(ctx, noisyOAuth, slog.LevelWarn, "authgate: oauth callback throttled",
			slog.String("event", "oauth_callback_throttled"), slog.String("provider", id), slog.String("addr", addr))
		w.Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
		a.renderPage(w, http.StatusTooManyRequests, pageData{Kind: "error", Title: "Error",
			Message: signInMessages[CodeTooManyAttempts], Action: a.url("/error", "error", CodeTooManyAttempts)})
		return
	}
	prof, err := p.Exchange(ctx, cb)
	if err == nil && (prof == nil || prof.ID == "") {
		err = errors.New("the provider returned a profile without id")
	}
	outcome := AttemptSucceeded
	if err != nil {
		outcome = AttemptFailed
	}
	if rerr := a.cfg.Limiter.Record(ctx, att, outcome); rerr != nil {
		a.logDecision(ctx, slog.LevelError, "authgate: limiter record failed",
			slog.String("event", "limiter_error"), slog.String("reason", rerr.Error()), slog.String("addr", addr))
	}
	if err != nil {
		fail(slog.LevelWarn, CodeOAuthCallback, "exchange: "+truncateReason(err.Error()))
		return
	}

	account := Account{
		Provider: id, Type: "oauth", ProviderAccountID: prof.ID,
		AccessToken: prof.AccessToken, RefreshToken: prof.RefreshToken, IDToken: prof.IDToken,
		Scope: prof.Scope, TokenType: prof.TokenType,
	}
	if !prof.Expiry.IsZero() {
		account.ExpiresAt = prof.Expiry.Unix()
	}
	via := signInVia[T]{provider: &account, profile: prof.Profile}
	user := &User[T]{ID: id + ":" + prof.ID, Name: prof.Name, Email: prof.Email, Image: prof.Image}
	if a.cfg.Adapter != nil {
		user, via.commit, err = a.oauthUser(ctx, r, prof, account)
		switch {
		case errors.Is(err, errNotLinked):
			fail(slog.LevelWarn, CodeOAuthAccountNotLinked, err.Error())
			return
		case err != nil:
			fail(slog.LevelError, CodeBusy, err.Error())
			return
		}
	}
	redirect, err := a.signInUser(w, r, user, via, []slog.Attr{slog.String("provider", id), slog.String("addr", addr)})
	switch {
	case errors.Is(err, ErrAccessDenied):
		http.Redirect(w, r, a.url("/error", "error", CodeAccessDenied), http.StatusFound)
	case errors.Is(err, errNotLinked):
		http.Redirect(w, r, a.url("/error", "error", CodeOAuthAccountNotLinked), http.StatusFound)
	case errors.Is(err, ErrStore): // the new session could not be dated or stored
		w.Header().Set("Retry-After", "1")
		a.renderPage(w, http.StatusServiceUnavailable, pageData{Kind: "error", Title: "Error",
			Message: signInMessages[CodeBusy], Action: a.url("/error", "error", CodeBusy)})
	case err != nil:
		http.Redirect(w, r, a.url("/error", "error", CodeConfiguration), http.StatusFound)
	case redirect != "":
		http.Redirect(w, r, redirect, http.StatusFound)
	default:
		// The return goes to the callback-url cookie set by POST
		// /signin/{id}, never to a callbackUrl on this request.
		http.Redirect(w, r, a.callbackURL(w, r, map[string]string{"callbackUrl": ""}), http.StatusFound)
	}
}

// truncateReason bounds an error text from a provider in a log line.
func truncateReason(s string) string {
	const max = 300
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
