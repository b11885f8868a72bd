// Package authgate is NextAuth.js-style authentication for net/http: a
// username and password sign-in, an encrypted session cookie, and a typed
// session in the request context, with NextAuth v4's callbacks (signIn,
// jwt, session, redirect) and its REST protocol, so an unmodified
// next-auth/react front end works against a Go server.
//
// # Usage
//
//	auth, err := authgate.New(authgate.Config[Claims]{
//		Secrets: []string{os.Getenv("AUTH_SECRET")},
//		URL:     "https://app.example",
//		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[Claims], error) {
//			u, found := users[c.Username()] // your database; u.Hash is "" for an unknown user
//			if !c.PasswordMatches(u.Hash) || !found {
//				return nil, nil // wrong password or unknown user: same answer, same time
//			}
//			return &authgate.User[Claims]{ID: u.ID, Name: c.Username(), Role: u.Role}, nil
//		},
//	})
//	mux.Handle("/api/auth/", auth.Handler())
//	mux.Handle("/dashboard", auth.RequireAuth(dashboard))
//	mux.Handle("/admin", auth.RequireRole("admin")(adminPage))
//	http.ListenAndServe(":3000", auth.Middleware(mux))
//
// and in a handler:
//
//	s, ok := auth.Session(r) // a *Session[Claims]; false when anonymous
//
// # The flow
//
// A sign-in (POST /api/auth/callback/credentials) passes the CSRF checks,
// the [Limiter], then [Config.Authorize], whose password check waits its
// turn in a bounded queue; the [Callbacks.SignIn] callback
// may allow, deny or redirect; [Callbacks.JWT] shapes the [Token], which is
// encoded by the [Codec] (securecookie: JSON, HMAC-SHA256, AES-256) into an
// HttpOnly cookie. On every later request [Auth.Middleware] verifies the
// cookie, checks its times and the [RevocationStore], runs
// [Callbacks.Session] and stores the [Session] in the context, where
// [Auth.Session] reads it and [Auth.RequireAuth] and [Auth.RequireRole]
// enforce it. [Auth.SignIn] and [Auth.SignOut] do what the protocol's
// sign-in and sign-out do, for an app's own flows.
//
// # Sign in with …
//
// [Config.Providers] adds OAuth 2 and OpenID Connect providers next to (or
// instead of) the credentials flow: POST /api/auth/signin/{id} sends the
// user to the provider with a state, a PKCE challenge and, for OIDC, a
// nonce kept in short-lived encrypted cookies; GET /api/auth/callback/{id}
// checks them, lets the [OAuthProvider] exchange the code and verify the
// ID token, and signs the user in through the same callbacks, with the
// [Account] (tokens included) and the provider's profile. Ready-made
// providers (GitHub, Google, any OIDC issuer, any OAuth 2 provider) are in
// the module github.com/authgate/authgate/providers.
//
// Other ways to sign in live in packages of their own and plug in as an
// [Extension] ([Config.Extensions]): each serves its endpoints under the
// base path, and finishes through [Auth.CompleteSignIn], which records how
// the user authenticated ([Session.AMR]) for guards such as
// [Auth.RequireAMR]. With an [Adapter] ([Config.Adapter]) authgate also
// remembers users, linked accounts and sessions (docs/architecture.md in
// the repository shows the layout).
//
// # Typed sessions
//
// Every type is generic in T, the app's own claims: a struct the app
// declares once. [User.Claims] carries it from Authorize into
// [Token.Claims] (the default JWT callback copies it), [Session.Claims]
// carries it to handlers, and [Auth.Session] returns it with the Auth's own
// T, so a handler reads s.User.ID, s.User.Role or s.Claims.Team with no
// type assertion. The built-in fields (ID, name, email, image, role, roles,
// expiry) are plain typed fields of [User], [Token], [SessionUser]. Go's
// type inference picks T up from the Config literal in [New]; an app
// without claims of its own uses struct{}. Unlike an untyped map of claims
// or an interface value, a typed T needs no type assertion in a handler and
// no guessing of a claim's name.
//
// A session belongs to the Auth that verified it: each Auth keeps it in
// the request context under a key of its own, so two Auths in one program
// (an admin site beside a user site, with their own secrets and cookie
// names) never see each other's sessions, even with the same T.
// [Auth.FromContext] reads it where only the context is at hand.
//
// # Limits
//
// Sign-in is throttled by the [Limiter] before any password work. Failures
// count: by default 10 per account and address (refilling over 15
// minutes), 50 then 50 an hour per account, and 50 then 200 an hour per
// address ([MemoryLimiterOptions]); a correct password gives its tokens
// back, so many users behind one NAT address are not refused while their
// passwords are right, and only a generous success budget per account
// (600, then 600 an hour) stops a valid account from making password
// checks free. Behind a proxy, list it in [Config.TrustedProxies].
//
// Password checks run [Config.MaxConcurrentHashes] at a time. A browser
// that signed in before carries a device token; its next sign-ins wait in
// a lane of their own, served first and budgeted apart, so a flood of
// strangers can neither crowd out nor lock out returning users. Strangers
// share their lane fairly by client address and account, each holding at
// most [Config.MaxQueuedPerAddress] and [Config.MaxQueuedPerAccount]
// places, while their expected wait stays under [Config.MaxHashWait]; past
// it they are answered 503 with a Retry-After from the queue, and an
// address that floods the queue pays for its refusals. SECURITY.md in the
// repository gives the model, the numbers under attack and what to tune.
//
// # Failure
//
// Everything fails closed. [New] refuses a weak or missing secret, a
// missing or relative URL and contradictory timeouts. A tampered,
// truncated, expired, future-dated, revoked or foreign cookie is expected
// input: the request is anonymous and the cookie cleared, never a 500.
//
// A fault is not a sign-out. When the [RevocationStore] cannot answer, or
// the Session or JWT callback fails, the request is refused (anonymous for
// the middleware, 503 from the guards and from GET and POST /session) but
// the cookie is left as it is, so the same cookie works again once the
// fault is over; [Auth.Check] then returns an error wrapping [ErrStore] or
// [ErrCallback] instead of a verdict, and the fault is logged at error
// level, at most a few lines a second. A failing callback at sign-in
// refuses the sign-in. Errors wrap the sentinels in this package (test
// them with [errors.Is]) and their text never reaches a client. Every
// decision is logged once through log/slog, never with a password, secret
// or cookie value.
//
// # Concurrency
//
// An [Auth] is safe for concurrent use. Callbacks, the Limiter, the
// RevocationStore and the PasswordHasher are called concurrently from
// request goroutines.
package authgate
