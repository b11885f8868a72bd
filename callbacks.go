package authgate

import (
	"context"
	"encoding/json"
	"log/slog"
)

// Callbacks are the four hooks NextAuth users know. Each is optional: a nil
// field means the documented default. Every callback receives the request's
// context first and a typed parameter struct, and may return an error; an
// error always fails closed (the sign-in is refused, or the request is
// refused without a session) and is logged, never shown to the client. An
// error on a request that carries a session is a fault, not a verdict on
// its cookie: the cookie is kept (see [Auth.Middleware]). To end a session
// instead (its user was deleted or disabled), the JWT callback on a
// refresh or update, or the Session callback, returns an error wrapping
// [ErrSessionRevoked]: that is a verdict, and the cookie is cleared as for
// any revoked session.
//
// Callbacks run on the request's goroutine and may be called concurrently
// for different requests.
type Callbacks[T any] struct {
	// SignIn decides whether a user returned by [Config.Authorize] or an
	// [OAuthProvider] may sign in: return [Allow], [Deny] or [RedirectTo]. The zero SignInDecision
	// denies. The default allows every user.
	SignIn func(ctx context.Context, p SignInParams[T]) (SignInDecision, error)

	// JWT shapes the token stored in the session cookie. It runs at sign-in
	// (TriggerSignIn, with the user and account), on an update from the
	// client (TriggerUpdate, with the client's data) and when the cookie is
	// re-issued, at most once per [Config.UpdateAge] (TriggerRefresh: the
	// place to reload a role from the database). It returns the token to
	// store; the registered claims (ID, IssuedAt, ExpiresAt, AuthTime,
	// Audience) are set by authgate afterwards and cannot be changed here.
	//
	// The default returns p.Token unchanged. At sign-in p.Token already
	// holds the user's ID (as Subject), name, email, image (as Picture),
	// role, roles and claims.
	//
	// On a refresh or update, an error wrapping [ErrSessionRevoked] ends
	// the session (the user no longer exists, or lost access); any other
	// error is a fault that keeps the cookie for a later request.
	JWT func(ctx context.Context, p JWTParams[T]) (*Token[T], error)

	// Session builds the session handlers read from the context and the
	// client reads from GET /api/auth/session. It runs on every request that
	// carries a valid session, so it must be cheap and must not do I/O.
	//
	// The default returns p.Session unchanged: the token's subject, name,
	// email, picture, role, roles and claims copied into the session. An
	// error wrapping [ErrSessionRevoked] ends the session; any other error
	// is a fault.
	Session func(ctx context.Context, p SessionParams[T]) (*Session[T], error)

	// Redirect validates every URL authgate redirects to: callbackUrl from
	// the client, the callback-url cookie, and URLs from SignIn. It returns
	// the absolute URL to use.
	//
	// The default ([SameOrigin]) allows only paths and absolute URLs on the
	// public origin ([Config.URL]) and answers the origin itself for
	// anything else. Whatever a custom Redirect returns is still required to
	// be an absolute http or https URL without user info or control
	// characters; otherwise the origin is used.
	Redirect func(ctx context.Context, p RedirectParams) (string, error)
}

// Trigger says why the [Callbacks.JWT] callback runs.
type Trigger string

// The triggers of the JWT callback.
const (
	TriggerSignIn  Trigger = "signIn"
	TriggerUpdate  Trigger = "update"
	TriggerRefresh Trigger = "refresh"
)

// Account describes how a user signed in. For the credentials provider,
// Provider and Type are "credentials" and ProviderAccountID is the user's ID.
// For an [OAuthProvider], Provider is its ID, Type is "oauth" (OpenID
// Connect providers too, as in NextAuth), ProviderAccountID the user's id
// at the provider, and the token fields hold what the provider issued: the
// JWT callback may copy them into the token (for example to call the
// provider's API or refresh the access token later).
//
// The tokens are secrets: an Account logged through log/slog shows only
// its provider, type and account id (see [Account.LogValue]), and authgate
// never logs them or puts them in a URL.
type Account struct {
	Provider          string `json:"provider"`
	Type              string `json:"type"`
	ProviderAccountID string `json:"providerAccountId"`

	AccessToken  string `json:"access_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	// ExpiresAt is when AccessToken expires, in seconds since the Unix
	// epoch; 0 when the provider did not say.
	ExpiresAt int64  `json:"expires_at,omitempty"`
	IDToken   string `json:"id_token,omitempty"`
	Scope     string `json:"scope,omitempty"`
	TokenType string `json:"token_type,omitempty"`
}

// LogValue keeps the tokens out of logs: it shows the provider, the type
// and the account id only.
func (a Account) LogValue() slog.Value {
	return slog.GroupValue(slog.String("provider", a.Provider), slog.String("type", a.Type),
		slog.String("providerAccountId", a.ProviderAccountID))
}

// String is LogValue for fmt's %v and %+v: no token.
func (a Account) String() string {
	return "{" + a.Provider + " " + a.Type + " " + a.ProviderAccountID + "}"
}

// GoString is String for fmt's %#v.
func (a Account) GoString() string { return "authgate.Account" + a.String() }

// SignInParams are the arguments of [Callbacks.SignIn].
type SignInParams[T any] struct {
	User        *User[T]
	Account     Account
	Credentials *Credentials
	// Profile is the provider's raw profile for an OAuth sign-in (nil for
	// credentials).
	Profile map[string]any
}

// SignInDecision is the answer of [Callbacks.SignIn]. Build it with [Allow],
// [Deny] or [RedirectTo]; the zero value denies.
type SignInDecision struct {
	allow    bool
	redirect string
}

// Allow lets the sign-in proceed.
func Allow() SignInDecision { return SignInDecision{allow: true} }

// Deny refuses the sign-in with error code AccessDenied (HTTP 403).
func Deny() SignInDecision { return SignInDecision{} }

// RedirectTo refuses the sign-in and sends the client to url instead, as
// NextAuth does when signIn returns a string. The URL goes through
// [Callbacks.Redirect] like every other redirect.
func RedirectTo(url string) SignInDecision { return SignInDecision{redirect: url} }

// JWTParams are the arguments of [Callbacks.JWT].
type JWTParams[T any] struct {
	// Token is the token so far; the callback may modify it in place and
	// return it.
	Token   *Token[T]
	Trigger Trigger
	// User and Account are set only for TriggerSignIn.
	User    *User[T]
	Account *Account
	// Profile is the provider's raw profile, only for TriggerSignIn through
	// an OAuth provider.
	Profile map[string]any
	// Data is the JSON the client sent with update(data), only for
	// TriggerUpdate; it is nil when the client sent none. Its size is
	// bounded by [Config.MaxBodyBytes].
	Data json.RawMessage
}

// SessionParams are the arguments of [Callbacks.Session].
type SessionParams[T any] struct {
	// Session is the default session built from Token; the callback may
	// modify it in place and return it.
	Session *Session[T]
	Token   *Token[T]
}

// RedirectParams are the arguments of [Callbacks.Redirect].
type RedirectParams struct {
	// URL is the requested destination, exactly as received.
	URL string
	// BaseURL is the public origin, such as "https://example.com".
	BaseURL string
}

// Events are optional notifications. They run synchronously after the
// action succeeded; they cannot change its outcome. A panic in an event is
// not recovered.
type Events[T any] struct {
	// SignIn runs after a successful sign-in, once the cookie is set.
	SignIn func(ctx context.Context, e SignInEvent[T])
	// SignOut runs after a sign-out; Token is nil when the request carried
	// no valid session.
	SignOut func(ctx context.Context, e SignOutEvent[T])
}

// SignInEvent is the argument of [Events.SignIn].
type SignInEvent[T any] struct {
	User    *User[T]
	Account Account
	Token   *Token[T]
}

// SignOutEvent is the argument of [Events.SignOut].
type SignOutEvent[T any] struct {
	Token *Token[T]
}
