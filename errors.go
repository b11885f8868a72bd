package authgate

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error that authgate's functions and methods return
// wraps one of these, so callers test them with [errors.Is]; the doc of
// each function says which. (The exceptions are [Session.MarshalJSON] and
// [Session.UnmarshalJSON], which encoding/json calls and which return its
// errors.) None of their messages reach a client.
var (
	// ErrConfig reports an invalid [Config] ([New] wraps it with the
	// reason), a claims type or custom [Codec] that cannot encode a
	// token, or a [BcryptHasher] whose Cost bcrypt refuses.
	ErrConfig = errors.New("authgate: invalid configuration")

	// ErrNoSession reports that a request carries no session cookie at all.
	ErrNoSession = errors.New("authgate: no session")

	// ErrInvalidSession reports a session cookie that failed verification:
	// tampered, truncated, minted with an unknown key, for another purpose or
	// malformed. It is expected input, not a system fault.
	ErrInvalidSession = errors.New("authgate: invalid session cookie")

	// ErrSessionExpired reports a session past its idle timeout or its
	// absolute lifetime.
	ErrSessionExpired = errors.New("authgate: session expired")

	// ErrSessionRevoked reports a session that was signed out or revoked
	// server-side, or that the JWT callback (on a refresh or update) or the
	// Session callback ended by returning an error wrapping it. A store
	// that cannot say is not a revocation: that is [ErrStore].
	ErrSessionRevoked = errors.New("authgate: session revoked")

	// ErrSessionTooLarge reports a session that does not fit in
	// [Config.MaxCookieChunks] cookies.
	ErrSessionTooLarge = errors.New("authgate: session too large")

	// ErrInvalidUser reports a [User] without an ID: from Authorize, or
	// passed to [Auth.SignIn] or [Auth.NewSessionCookies].
	ErrInvalidUser = errors.New("authgate: user without ID")

	// ErrAccessDenied reports a sign-in the [Callbacks.SignIn] callback
	// denied or redirected ([Auth.SignIn]).
	ErrAccessDenied = errors.New("authgate: access denied")

	// ErrCallback reports a callback that failed or returned nothing; it
	// wraps the callback's own error. From [Auth.Check] it is a fault, not
	// a verdict on the cookie: the request was refused, the cookie kept.
	ErrCallback = errors.New("authgate: callback failed")

	// ErrStore reports a [RevocationStore] that failed; it wraps the
	// store's own error. [Auth.Check] returns it when the store could not
	// say whether a session is revoked (a fault: the request was refused,
	// the cookie kept), [Auth.SignOut] and [Auth.SignOutEverywhere] when a
	// revocation could not be stored, [Auth.SignIn] and
	// [Auth.NewSessionCookies] when a new session could not be dated (the
	// store failed, or a revocation mark covers every sign-in time up to
	// 15 s ahead). A [Limiter] that fails is not
	// returned by any method: the sign-in it was asked about is answered
	// 503 (error=Busy) and the fault logged.
	ErrStore = errors.New("authgate: store failed")

	// ErrPasswordTooLong reports a password longer than bcrypt's 72-byte
	// limit. It is refused both when hashing and when checking, so a long
	// password can never match on its first 72 bytes.
	ErrPasswordTooLong = errors.New("authgate: password longer than 72 bytes")

	// ErrPasswordMismatch reports a password that does not match its hash.
	ErrPasswordMismatch = errors.New("authgate: password does not match")

	// ErrUnauthenticated is passed to [Config.ErrorHandler] (inside a
	// [*GuardError]) when a guard meets an anonymous request.
	ErrUnauthenticated = errors.New("authgate: authentication required")

	// ErrForbidden is passed to [Config.ErrorHandler] (inside a
	// [*GuardError]) when a guard meets a session that lacks the required
	// role.
	ErrForbidden = errors.New("authgate: forbidden")

	// ErrFreshAuthRequired is passed to [Config.ErrorHandler] (inside a
	// [*GuardError]) by [Auth.RequireFreshAuth] when the session's sign-in
	// is too old. It wraps [ErrUnauthenticated], so handlers that only know
	// that error treat it as "sign in (again)".
	ErrFreshAuthRequired = fmt.Errorf("%w: a recent sign-in is required", ErrUnauthenticated)

	// ErrStrongerAuthRequired is passed to [Config.ErrorHandler] (inside a
	// [*GuardError]) by [Auth.RequireAMR] when the session signed in
	// without one of the required methods. It wraps [ErrUnauthenticated],
	// so handlers that only know that error treat it as "sign in (again)".
	ErrStrongerAuthRequired = fmt.Errorf("%w: a stronger sign-in is required", ErrUnauthenticated)
)

// GuardError is the error a guard passes to [Config.ErrorHandler]. Err
// wraps [ErrUnauthenticated] (possibly as [ErrFreshAuthRequired]) or
// [ErrForbidden]; SignInURL is the sign-in page with a validated
// callbackUrl back to the refused request, so a handler (and
// [DefaultErrorHandler]) can redirect without the [Auth].
type GuardError struct {
	Err       error
	SignInURL string
}

func (e *GuardError) Error() string { return e.Err.Error() }

// Unwrap returns Err, so errors.Is(err, ErrUnauthenticated) works.
func (e *GuardError) Unwrap() error { return e.Err }

// CredentialsError lets an [Config.Authorize] function choose the error code
// shown to the client (the "error" query parameter), for example
// "AccountLocked"; it is answered 401. Any other error from Authorize is a
// fault, logged and answered 503 "Busy" (see [Config.Authorize]); its text
// never reaches the client.
//
// Code must be a short identifier of ASCII letters, digits, '-' or '_';
// anything else is replaced by "CredentialsSignin".
type CredentialsError struct {
	Code string
}

func (e *CredentialsError) Error() string { return "authgate: credentials refused: " + e.Code }

// Error codes authgate puts in the "error" query parameter of the URLs it
// answers with. CredentialsSignin, AccessDenied and Configuration are
// NextAuth's; the others are authgate's additions, shown by the built-in
// sign-in page.
const (
	// CodeCredentialsSignin: wrong credentials (401).
	CodeCredentialsSignin = "CredentialsSignin"
	// CodeAccessDenied: the SignIn callback denied the user (403).
	CodeAccessDenied = "AccessDenied"
	// CodeConfiguration: a server-side fault, such as a failing callback
	// (500).
	CodeConfiguration = "Configuration"
	// CodeMissingCSRF: the CSRF check failed (403).
	CodeMissingCSRF = "MissingCSRF"
	// CodeTooManyAttempts comes with 429 and Retry-After when the
	// [Limiter] refuses a sign-in.
	CodeTooManyAttempts = "TooManyAttempts"
	// CodeBusy comes with 503 when the server cannot answer now: with
	// Retry-After when the password checks are saturated, the [Limiter]
	// failed or a new session could not be dated (see [Auth.SignIn]), and
	// as GET and POST /session's {"error":"Busy"} when a store
	// or callback fault kept the session from being checked (the cookie is
	// kept).
	CodeBusy = "Busy"
	// CodeBadRequest answers a body that is not form or JSON fields of the
	// expected types.
	CodeBadRequest = "BadRequest"
	// CodeOAuthSignin (NextAuth's): building a provider's authorization
	// URL failed.
	CodeOAuthSignin = "OAuthSignin"
	// CodeOAuthCallback (NextAuth's): an OAuth callback was refused — the
	// provider answered an error, a check (state, PKCE, nonce) was missing
	// or wrong, or the code exchange or ID token verification failed. A
	// user who declines at the provider gets CodeAccessDenied.
	CodeOAuthCallback = "OAuthCallback"
	// CodeOAuthAccountNotLinked (NextAuth's): with an [Adapter], an OAuth
	// account that is not linked yet cannot be: its e-mail address belongs
	// to another user (see [Config.LinkAccountsByEmail]), or the signed-in
	// user it would be linked to is not stored in the adapter.
	CodeOAuthAccountNotLinked = "OAuthAccountNotLinked"
)

// validCode reports whether s is a safe error code: 1 to 64 ASCII letters,
// digits, '-' or '_'.
func validCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
