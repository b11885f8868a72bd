package nextauth

import "errors"

// Sentinel errors. Every error the codecs return wraps one of these, so
// callers test them with [errors.Is] (authgate itself wraps a decoding
// error in [authgate.ErrInvalidSession]). No message carries a token or a
// secret.
var (
	// ErrMalformed reports a value that is not a compact JWE with direct
	// encryption: not five base64url parts, a non-empty key part, an IV or
	// tag of the wrong length.
	ErrMalformed = errors.New("nextauth: malformed token")

	// ErrTooLarge reports a value longer than [MaxTokenBytes].
	ErrTooLarge = errors.New("nextauth: token too large")

	// ErrHeader reports a protected header the codec does not accept: "alg"
	// other than "dir", an "enc" the format does not use, or any other
	// member ("zip", "crit", "cty", …). It is checked before any key is
	// used.
	ErrHeader = errors.New("nextauth: unexpected token header")

	// ErrKey reports an Auth.js token whose "kid" names none of the
	// codec's secrets.
	ErrKey = errors.New("nextauth: no secret matches the token's key id")

	// ErrDecrypt reports a token that fails authentication: tampered,
	// truncated, or sealed with another secret or for another cookie.
	ErrDecrypt = errors.New("nextauth: token does not decrypt")

	// ErrClaims reports a payload that does not map to the token: not a
	// JSON object, a claim of the wrong type (an "nbf" that is not a
	// number), a member name written with escapes, or (when encoding) an
	// app claim whose name is one of the built-in claims.
	ErrClaims = errors.New("nextauth: token claims do not map")

	// ErrNotYetValid reports a token whose "nbf" (not before) is more
	// than 15 seconds after the codec's clock, which NextAuth's own decode
	// refuses too.
	ErrNotYetValid = errors.New("nextauth: token not yet valid")

	// ErrSecret reports a missing secret.
	ErrSecret = errors.New("nextauth: no secret")
)
