// Package passkey signs users in with passkeys (WebAuthn discoverable
// credentials) as an [authgate.Extension], in the wire shape of Auth.js
// v5's experimental passkey provider, so next-auth/webauthn's
// signIn("passkey") works against a Go server, and with a small browser
// helper of its own for apps on next-auth v4 (whose next-auth/react has no
// passkeys).
//
//	pk := passkey.New(passkey.Config[Claims]{})
//	auth, err := authgate.New(authgate.Config[Claims]{
//		Adapter:    store, // an authgate.PasskeyAdapter, such as sqlstore's
//		Extensions: []authgate.Extension[Claims]{pk},
//		// …
//	})
//
// Every WebAuthn step (options, challenge, origin and RP ID checks,
// attestation and signature verification, the sign counter) is done by
// github.com/go-webauthn/webauthn; this package decides who may register,
// keeps the ceremony's state in authgate's check cookie, stores through
// the adapter and signs in through [authgate.Auth.CompleteSignIn].
//
// # Endpoints
//
// Under authgate's BasePath (default /api/auth), for the ID "passkey":
//
//   - GET /providers lists {"passkey": {"type": "webauthn", …}}.
//   - GET /webauthn-options/passkey?action=register|authenticate answers
//     {"action", "options"} (the inner PublicKeyCredentialCreationOptions
//     or …RequestOptions JSON) and sets the challenge cookie: encrypted,
//     HttpOnly, __Host- on https, single-use across instances, five
//     minutes. Without action it authenticates an anonymous visitor.
//   - POST /callback/passkey (form fields data, action, csrfToken,
//     callbackUrl, optional name) verifies the browser's answer. A
//     registration stores the passkey for the signed-in user; an
//     authentication signs its owner in. It answers {"url"} as JSON when
//     the request has X-Auth-Return-Redirect: 1 (Auth.js v5) or json=true
//     (next-auth v4 clients), else a 302; failures send the client to
//     BasePath/error?error=WebAuthnVerificationError (or MissingCSRF,
//     TooManyAttempts, Busy, AccessDenied, Configuration).
//   - GET /passkey/credentials lists the signed-in user's passkeys; PATCH
//     and DELETE /passkey/credentials/{id} rename and delete one (CSRF
//     token in the body or X-CSRF-Token).
//   - GET /passkey/client.js is the browser helper (ES module, export
//     signIn), and /passkey/simplewebauthn-browser.js the copy of
//     @simplewebauthn/browser it imports.
//
// # Where it is stricter than Auth.js
//
// Registration needs a signed-in user whose sign-in is recent
// ([Config.MaxAuthAge]): a user just signed in by an e-mail link has one,
// an anonymous visitor naming an address never does, so no passkey can be
// attached to an address its owner has not proven (an account pre-hijack).
// The callback checks the CSRF token. Each user has one stable random user
// handle ([authgate.PasskeyAdapter.UserHandle]), so authenticators replace
// rather than pile up a user's passkeys. Sign-in is discoverable only (no
// user name typed, no allowCredentials telling who has which key). After
// every sign-in the sign counter, backup state and last use are written
// back ([authgate.PasskeyAdapter.UsePasskey]); a counter that did not
// increase is refused, logged and remembered as a clone warning. Deleting
// the last way a user can sign in is refused ([ErrLastSignIn]).
//
// A passkey sign-in verifies the user (user verification is required), so
// its session's AMR is ["hwk", "user", "mfa"]: [authgate.Auth.RequireAMR]
// ("mfa") and second-factor policies accept it.
package passkey
