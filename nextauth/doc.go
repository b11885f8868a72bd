// Package nextauth lets an authgate server and a Next.js app share one
// session: it provides [authgate.Codec]s that read and write NextAuth's own
// session tokens, NextAuth v4 ([V4], next-auth 4.x) and Auth.js v5 ([V5],
// @auth/core and next-auth 5). With the same secret, a Go API behind
// [authgate.Auth.Middleware] accepts the session cookie the Next.js app
// set, and the Next.js app's getToken() and getServerSession() accept the
// cookie authgate set, so endpoints can move between the two one at a
// time.
//
// # Usage
//
//	codec, err := nextauth.NewV4(os.Getenv("NEXTAUTH_SECRET"))
//	…
//	auth, err := authgate.New(authgate.Config[Claims]{
//		Secrets:           []string{os.Getenv("NEXTAUTH_SECRET")}, // ≥ 32 bytes
//		URL:               "https://app.example",                  // NEXTAUTH_URL
//		Codec:             codec,
//		SessionCookieName: nextauth.V4CookieName, // "__Secure-" is added on https
//		AcceptBearer:      true,                  // optional: server-to-server calls
//		…
//	})
//
// For Auth.js v5 use [NewV5] (several secrets rotate keys) and
// [V5CookieName]. Mount the Go API on the same origin as the Next.js app
// (a path prefix behind one reverse proxy, or Next.js rewrites), so the
// browser sends it the cookie.
//
// # Claims
//
// authgate's [authgate.Token] already uses NextAuth's names for the
// registered claims (sub, name, email, picture, iat, exp, jti) and keeps
// its own beside them (role, roles, auth_time, aud). The app's typed claims
// (Token.Claims) are written at the top level of the payload, as a
// NextAuth jwt callback writes them (token.plan = …), and read back from
// there; an app claim whose JSON name is one of the built-in ones is
// refused when encoding ([ErrClaims]).
//
// NextAuth replaces "jti" with a fresh UUID whenever it re-encodes a token
// (every GET /api/auth/session) but copies every other claim. So the codecs
// also write authgate's session id as "sid", and read the id from "sid"
// when present, else from "jti": per-session revocation ([authgate.Auth.SignOut])
// holds across a Next.js refresh. auth_time and aud survive the same way.
//
// A token minted by the Next.js app has none of authgate's claims. The
// codecs report [authgate.CodecInfo] Shared, and authgate then applies the
// defaults [authgate.CodecInfo] documents: no "aud" means this deployment,
// no "auth_time" means signed in at "iat" (so a Next.js app that wants
// strict absolute lifetimes and fresh-sign-in checks sets token.auth_time
// in its jwt callback at sign-in), and a UUID is a valid session id. Every
// other rule applies as to authgate's own tokens: expiry (without
// NextAuth's 15 s tolerance: authgate is stricter), the idle and absolute
// timeouts, issue times in the future, revocation, and the warm cache
// (the codecs report Pure).
//
// # Security
//
// Decode refuses, in this order and before any decryption: a value longer
// than [MaxTokenBytes] ([ErrTooLarge]); anything but five base64url parts
// with an empty key part ([ErrMalformed]); a protected header other than
// the format's (alg "dir"; enc A256GCM for v4, A256CBC-HS512 or A256GCM
// for v5; kid for v5; no zip, crit, cty or any other member) ([ErrHeader]).
// Then the authentication tag is checked in constant time ([ErrDecrypt]),
// and only then is the payload parsed. Every base64 part is decoded
// strictly, so one token has one spelling.
//
// # Implementation
//
// The codecs use only the standard library (crypto/aes, crypto/cipher,
// crypto/hkdf, crypto/hmac). github.com/go-jose/go-jose/v4 was measured
// against it (bench module, BenchmarkVerify and BenchmarkRequest): opening
// the same v4 token took it about ten times as long (18.6 µs against
// 1.8 µs) with 94 allocations against 10, and it would have added a
// dependency; it serves as an independent test oracle of the wire format
// instead (oracle_test.go),
// next to the real next-auth and @auth/core packages from npm
// (examples/nextauth-interop).
package nextauth
