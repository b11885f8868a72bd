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
// refused when encoding ([ErrClaims]). Names match exactly, as in
// JavaScript: "Role" is not "role", "JTI" not "jti" (an app claim called
// "Role" reaches the claims type only when it has a member of that exact
// name).
//
// What a Next.js app may rely on in a token authgate minted: "sub" and
// "id" (both the user's id, as token.sub and the token.id a jwt callback
// sets at sign-in; the app's claims may carry an "id" of their own, which
// is then written instead), "name", "email", "picture" (when set), "role"
// and "roles" (when set), the app's claims at the top level, "iat", "exp"
// and "jti" (as NextAuth writes them), and authgate's "sid", "auth_time"
// and "aud". A Next.js callback written for its own tokens, such as
//
//	jwt({ token, user }) { if (user) { token.id = user.id; token.role = user.role } return token }
//	session({ session, token }) { session.user.id = token.id; session.user.role = token.role; return session }
//
// therefore reads authgate's tokens unchanged. Claims authgate does not
// know (neither the Token's nor the app's claims type's) are dropped when
// authgate re-issues a token.
//
// # Sessions shared with a Next.js app
//
// NextAuth re-encodes the token whenever the Next.js app serves a session
// (every GET /api/auth/session, getServerSession with a refresh): it copies
// every claim but gives the token a new "jti", "iat" and "exp", and it
// never asks authgate's revocation store. So:
//
//   - authgate writes its session id as "sid" too, and reads the id from
//     "sid" when present. A token without "sid" (minted by the Next.js app)
//     gets an id derived from "sub" and "auth_time", which NextAuth keeps:
//     every re-issued copy of one sign-in has the same id, and signing one
//     out ([authgate.Auth.SignOut]) ends them all. Without "auth_time" too,
//     the id is derived from "sub" alone: signing out one such token ends
//     every such token of that user (failing closed).
//   - A token without "auth_time" counts as signed in at its "iat" for the
//     time rules, but "iat" moves forward at every Next.js refresh; so a
//     revocation mark ([authgate.Auth.SignOutEverywhere], or a store's
//     fold) refuses it whatever its "iat", until the mark expires
//     (MaxLifetime). A user of such an app who signed out everywhere
//     cannot use a Next.js-minted session in the Go API for that long.
//     Its session is never fresh for [authgate.Auth.RequireFreshAuth], and
//     authgate re-issues it without "auth_time".
//   - A revocation is kept until the session's absolute end (auth_time +
//     MaxLifetime), not MaxAge after the sign-out: NextAuth keeps copies
//     alive as long as they are used. Without "auth_time" there is no
//     fixed end; the revocation is then kept MaxLifetime from the sign-out,
//     after which a copy the Next.js app kept re-issuing all along is
//     accepted again.
//
// A Next.js app that shares sessions with authgate should therefore set
// both in its jwt callback at sign-in:
//
//	jwt({ token, user }) {
//		if (user) {
//			token.id = user.id
//			token.role = user.role
//			token.sid = crypto.randomUUID()                 // one id for the session's whole life
//			token.auth_time = Math.floor(Date.now() / 1000) // when the user signed in
//		}
//		return token
//	}
//
// The other defaults of [authgate.CodecInfo] Shared apply to such tokens:
// no "aud" means this deployment, and a UUID is a valid session id. Every
// other rule applies as to authgate's own tokens: expiry (without
// NextAuth's 15 s tolerance: authgate is stricter), "nbf" (with NextAuth's
// 15 s tolerance, checked by Decode: [ErrNotYetValid]), the idle and
// absolute timeouts, issue times in the future, revocation, and the warm
// cache (the codecs report Pure). The Next.js app itself does not consult
// authgate's revocations: a token signed out through authgate stays valid
// in the Next.js app until it expires there.
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
