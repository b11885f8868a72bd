package authgate

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error that authgate returns wraps one of these, so
// callers test them with [errors.Is]. None of their messages reach a client.
var (
	// ErrConfig reports an invalid [Config]; [New] wraps it with the reason.
	ErrConfig = errors.New("authgate: invalid configuration")

	// ErrNoSession reports that a request carries no session cookie at all.
	ErrNoSession = errors.New("authgate: no session")

	// ErrInvalidSession reports a session cookie that failed verification:
	// tampered, truncated, minted with an unknown key, for another purpose or
	// malformed. It is expected input, not a system fault.
	ErrInvalidSession = errors.New("authgate: invalid session cookie")

	// ErrSessionExpired reports a session past its idle timeout or its
	// absolute lifetime, or one dated in the future.
	ErrSessionExpired = errors.New("authgate: session expired")

	// ErrSessionRevoked reports a session that was signed out or revoked
	// server-side.
	ErrSessionRevoked = errors.New("authgate: session revoked")

	// ErrSessionTooLarge reports a session that does not fit in
	// [Config.MaxCookieChunks] cookies.
	ErrSessionTooLarge = errors.New("authgate: session too large")

	// ErrPasswordTooLong reports a password longer than bcrypt's 72-byte
	// limit. It is refused both when hashing and when checking, so a long
	// password can never match on its first 72 bytes.
	ErrPasswordTooLong = errors.New("authgate: password longer than 72 bytes")

	// ErrPasswordMismatch reports a password that does not match its hash.
	ErrPasswordMismatch = errors.New("authgate: password does not match")

	// ErrCSRF reports a missing or mismatched CSRF token, or a cross-origin
	// unsafe request.
	ErrCSRF = errors.New("authgate: csrf check failed")

	// ErrUnauthenticated is passed to [Config.ErrorHandler] when a guard
	// meets an anonymous request.
	ErrUnauthenticated = errors.New("authgate: authentication required")

	// ErrForbidden is passed to [Config.ErrorHandler] when a guard meets a
	// session that lacks the required role.
	ErrForbidden = errors.New("authgate: forbidden")

	// ErrFreshAuthRequired is passed to [Config.ErrorHandler] by
	// [Auth.RequireFreshAuth] when the session's sign-in is too old. It
	// wraps [ErrUnauthenticated], so handlers that only know that error
	// treat it as "sign in (again)".
	ErrFreshAuthRequired = fmt.Errorf("%w: a recent sign-in is required", ErrUnauthenticated)

	// ErrThrottled reports a sign-in attempt refused by the [Limiter].
	ErrThrottled = errors.New("authgate: too many attempts")

	// ErrBusy reports a sign-in refused because too many password checks
	// are already running.
	ErrBusy = errors.New("authgate: too many concurrent password checks")

	// ErrBodyTooLarge reports a request body over the configured limit.
	ErrBodyTooLarge = errors.New("authgate: request body too large")
)

// CredentialsError lets an [Config.Authorize] function choose the error code
// shown to the client (the "error" query parameter), for example
// "AccountLocked". Any other error from Authorize is logged and answered as
// "CredentialsSignin", so its text never reaches the client.
//
// Code must be a short identifier of ASCII letters, digits, '-' or '_';
// anything else is replaced by "CredentialsSignin".
type CredentialsError struct {
	Code string
}

func (e *CredentialsError) Error() string { return "authgate: credentials refused: " + e.Code }
