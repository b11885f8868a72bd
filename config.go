package authgate

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Config configures an [Auth]. Its zero value is not usable: Secrets and
// URL are required, and so is Authorize or Providers (at least one way to
// sign in). Every other field is optional and its zero value is the
// documented, secure default. [New] copies the Config; changing
// it afterwards has no effect.
type Config[T any] struct {
	// Secrets sign and encrypt everything authgate mints. The first secret
	// signs; every secret verifies, so a new secret can be put first while
	// the old one still accepts existing sessions (key rotation). Each must
	// be at least 32 bytes of high-entropy data (for example
	// `openssl rand -base64 32`). Keys for each purpose (session cookie,
	// CSRF token) are derived from them with HKDF. Required.
	Secrets []string

	// URL is the public origin of the app, such as "https://example.com" or
	// "http://localhost:3000". It decides the Secure flag and the
	// __Secure-/__Host- cookie prefixes (https), prefixes every URL authgate
	// emits, and is the only origin the default redirect policy allows. The
	// Host and X-Forwarded-* headers never override it. It must be an
	// absolute http or https URL with a host and without path, query or user
	// info. Required.
	URL string

	// BasePath is where [Auth.Handler] is mounted. The default is
	// "/api/auth", which is what next-auth/react expects.
	BasePath string

	// Authorize checks submitted credentials and returns the user, or nil
	// when they are wrong. It receives the submitted fields without the
	// protocol's own (csrfToken, callbackUrl, json, redirect). Use
	// [Credentials.PasswordMatches] to compare the password, also for
	// unknown users (pass an empty hash), so that every attempt costs one
	// hash comparison. Returning a *[CredentialsError] chooses the error code
	// shown to the client (401). Any other error is a fault — the user
	// store cannot answer —, not a wrong password: it is logged and
	// answered 503 "Busy" with a Retry-After, so users are not told their
	// password is wrong during an outage; the attempt still counts against
	// the [Limiter]'s budgets, so an Authorize that reports a wrong
	// password as an error cannot be used to guess without limit. Required unless Providers is set; without it the
	// credentials provider is off (POST /callback/credentials answers 404).
	Authorize func(ctx context.Context, c *Credentials) (*User[T], error)

	// Providers are the "Sign in with …" providers (OAuth 2 and OpenID
	// Connect), in the order the sign-in page lists them; the module
	// github.com/authgate/authgate/providers has GitHub, Google, any OpenID
	// Connect issuer and a generic OAuth 2 provider. Their IDs must be
	// unique, valid (see [OAuthProvider]) and not "credentials". A user
	// signed in this way gets User.ID "{provider}:{account id}" (such as
	// "github:583231"), so an OAuth account never shares a subject with a
	// credentials user or another provider's account; the JWT callback may
	// map it to the app's own id. The default is none.
	Providers []OAuthProvider

	// Extensions are further ways to sign in, or steps of one, from
	// packages of their own (a link by e-mail, a second factor, passkeys):
	// [New] mounts each (see [Extension]) and serves its endpoints under
	// BasePath. Their IDs follow the rules of Providers' and are unique
	// among both. The default is none.
	Extensions []Extension[T]

	// Callbacks are the signIn, jwt, session and redirect hooks. Each nil
	// callback uses its documented default.
	Callbacks Callbacks[T]

	// Events are optional notifications of sign-in and sign-out.
	Events Events[T]

	// Pages replaces the built-in pages with the app's own.
	Pages Pages

	// MaxAge is the idle timeout: a session not used for this long expires.
	// The default is 30 days, as in NextAuth.
	MaxAge time.Duration

	// UpdateAge is how often an active session's cookie is re-issued, which
	// slides its idle timeout forward and runs the JWT callback with
	// TriggerRefresh. The default is 24 hours, or half of MaxAge when MaxAge
	// is shorter than 48 hours. It must not exceed MaxAge.
	UpdateAge time.Duration

	// MaxLifetime is the absolute lifetime of a session, counted from
	// sign-in; re-issuing never extends it. The default is 90 days. When it
	// is shorter than MaxAge it caps every cookie's expiry.
	MaxLifetime time.Duration

	// SignOnly stores the token signed (HMAC-SHA256) but not encrypted. The
	// default (false) also encrypts it with AES-256. Signing alone still
	// stops tampering, but anyone holding the cookie (the user, a browser
	// extension, a proxy log) can read every claim, so use it only when the
	// token holds nothing private and a smaller, debuggable cookie matters.
	SignOnly bool

	// Codec encodes the session cookie. The default is securecookie with
	// JSON, HMAC-SHA256 and AES-256 keyed from Secrets (see SignOnly). A
	// custom Codec gets the warm cache and accepts tokens another app
	// minted only when it says so through [CodecDescriber]; the codecs of
	// the module github.com/authgate/authgate/nextauth (NextAuth v4 and
	// Auth.js v5 session tokens) do both.
	Codec Codec

	// SessionCookieName names the session cookie; a session too large for
	// one cookie is split into name.0, name.1, … (see MaxCookieChunks). On
	// https the name gets the "__Host-" prefix, so no sibling subdomain
	// can plant it; with a codec whose [CodecInfo] says Shared (the
	// module github.com/authgate/authgate/nextauth) it gets "__Secure-"
	// instead, the name NextAuth gives it (SECURITY.md says what that
	// leaves open). The default is
	// "authgate.session-token". To share sessions with a Next.js app on the
	// same site, use NextAuth's name, "next-auth.session-token" (v4) or
	// "authjs.session-token" (Auth.js v5), together with the matching Codec
	// of the module github.com/authgate/authgate/nextauth: both apps then
	// read and write the same cookies. Only the session cookie is shared;
	// the CSRF and callback-URL cookies keep authgate's own names. It must
	// be a valid cookie name without a "__Secure-" or "__Host-" prefix of
	// its own and must not end in a chunk suffix such as ".0".
	SessionCookieName string

	// AcceptBearer also reads the session token from an
	// "Authorization: Bearer <token>" header (the token URL-encoded or not,
	// as NextAuth's getToken reads it) when the request carries no session
	// cookie, for server-to-server calls such as a Next.js server calling a
	// Go API on behalf of its user. A bearer session is never re-issued,
	// and a refused one clears nothing; [Auth.SignOut] revokes it. The
	// default (false) ignores the header.
	AcceptBearer bool

	// Hasher hashes and compares passwords. The default is [BcryptHasher]
	// with cost 10. Its cost should match the stored hashes.
	Hasher PasswordHasher

	// Limiter throttles sign-in attempts per account and per client
	// address before any password work, and OAuth callbacks per client
	// address before any request to the provider. The default is an
	// in-memory limiter (see [NewMemoryLimiter]); [NoLimiter] switches
	// throttling off.
	Limiter Limiter

	// Revocations remembers signed-out sessions server-side. The default is
	// an in-memory store (see [NewMemoryRevocationStore]) given MaxAge and
	// MaxLifetime. A store of your own must keep revocations as long as
	// sessions live: [New] refuses one whose Horizon is shorter than
	// MaxLifetime.
	Revocations RevocationStore

	// Adapter stores users, the accounts that sign them in, sessions and
	// single-use tokens (see [Adapter]); the module
	// github.com/authgate/authgate/sqlstore is one for SQLite and
	// PostgreSQL. With an adapter, every sign-in is registered for the
	// device list (GET /api/auth/sessions, [Auth.Devices]), an OAuth
	// sign-in signs in the user its account is linked to (creating the
	// user, once the SignIn callback allows it, or linking the account to
	// the signed-in user), and [Auth.UseCheckCookie] accepts a check
	// cookie once across instances. The default is none: authgate
	// remembers nothing but revocations.
	Adapter Adapter

	// DatabaseSessions keeps sessions in the Adapter (NextAuth's
	// "database" strategy), for credentials and OAuth sign-ins alike: the
	// cookie carries an opaque random token (256 bits and a 128-bit tag),
	// the session row its SHA-256 hash and the token the JWT callback
	// returned, so the callbacks and [Session] work unchanged. A verified
	// session is served from a bounded per-Auth cache for up to a minute
	// without reading the database, and the [RevocationStore] is checked
	// on every request, so a session ended anywhere is refused at once on
	// every instance sharing it. The row's last-seen time (and its sliding
	// expiry) is written at most once per five minutes per session, after
	// the response. It requires Adapter. Switching strategies ends every
	// session of the other one. The default (false) keeps the session in
	// the cookie (the "jwt" strategy).
	DatabaseSessions bool

	// LinkAccountsByEmail lets an OAuth sign-in whose account is not yet
	// linked sign in the stored user with the same e-mail address, linking
	// the account to that user, when the provider marks the address
	// verified and the stored user's address is verified too
	// ([AdapterUser.EmailVerified]). The default (false) never links by
	// e-mail address: a new account with a taken address is refused with
	// error OAuthAccountNotLinked, as in NextAuth. Linking by address
	// trusts every provider to verify addresses honestly.
	LinkAccountsByEmail bool

	// FreshAuthAge is how recent a sign-in must be to end sessions through
	// the device list's endpoints (DELETE /api/auth/sessions/{id}, POST
	// /api/auth/sessions/revoke-others), as [Auth.RequireFreshAuth]
	// checks it. The default is 15 minutes.
	FreshAuthAge time.Duration

	// AccountKey returns the canonical account name used to throttle
	// sign-in attempts; it must be what Authorize uses for the lookup. The
	// default is the "username" field (or "email" when there is no
	// username), trimmed and lower-cased.
	AccountKey func(c *Credentials) string

	// TrustedProxies are the addresses of reverse proxies whose
	// X-Forwarded-For header is believed when finding the client address.
	// The default is none: the client address is RemoteAddr's host.
	TrustedProxies []netip.Prefix

	// MaxConcurrentHashes bounds how many password comparisons run at
	// once; sign-ins that find every slot busy wait their turn (see
	// MaxHashWait): those presenting a device token for their account
	// first, in arrival order, then the others, shared fairly by client
	// address and account. The default is GOMAXPROCS-1 (at least 1),
	// which leaves a core for ordinary requests during a sign-in flood.
	MaxConcurrentHashes int

	// MaxHashWait bounds how long a sign-in may expect to wait in the
	// queue for a password comparison: its place in the queue times the
	// measured duration of one comparison, divided by MaxConcurrentHashes.
	// A sign-in whose expected wait would be longer, or that finds 1024
	// sign-ins already queued, is answered at once with 503 ("Busy") and a
	// Retry-After of its expected wait; so is one whose request ends while
	// it waits, and the stranger at the back of the queue when a fairer
	// arrival (a returning device, or a stranger from an address or
	// account with fewer turns queued) needs its place. The default is 3 seconds: at bcrypt cost 10 (about 75 ms a
	// comparison) and one slot, some 40 sign-ins can queue.
	MaxHashWait time.Duration

	// MaxQueuedPerAddress bounds how many sign-ins from one client address
	// (an IPv4 address or an IPv6 /64) may wait for a password check at
	// once, among attempts without a device token; the next one is
	// answered 503 at once, and since its address already has attempts
	// waiting, its per-address limiter token is not given back. The
	// default is 16: sixteen people behind one NAT address pressing "sign
	// in" at the same instant all queue. Raise it for a large site behind
	// one address (SECURITY.md says when).
	MaxQueuedPerAddress int

	// MaxQueuedPerAccount bounds how many sign-ins to one account may wait
	// for a password check at once, in each lane (strangers, and the
	// account's known devices, counted apart). The default is 8.
	MaxQueuedPerAccount int

	// MaxCookieChunks bounds how many cookies of 3933 bytes one session may
	// be split into, as NextAuth does for large tokens. A bigger session
	// fails to sign in with [ErrSessionTooLarge]. The default is 4; 1
	// disables chunking.
	MaxCookieChunks int

	// MaxBodyBytes bounds request bodies of the protocol handler; a larger
	// body is answered with 413. The default is 16 KiB.
	MaxBodyBytes int64

	// Logger receives one structured event per decision (sign-in, sign-out,
	// rejected cookie, refused CSRF). It never receives a password, secret
	// or cookie value. The default is [slog.Default].
	Logger *slog.Logger

	// ErrorHandler writes the response when a guard refuses a request; err
	// is a [*GuardError] wrapping [ErrUnauthenticated] or [ErrForbidden].
	// The default is [DefaultErrorHandler], which a custom handler can call
	// for the cases it does not handle itself.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Now is the clock. The default is [time.Now]; tests inject their own.
	Now func() time.Time
}

// Pages names the app's own pages, as paths on [Config.URL] (for example
// "/login"). An empty field keeps the built-in page.
type Pages struct {
	// SignIn receives ?callbackUrl=…&error=… instead of the built-in form;
	// guards send anonymous browsers here.
	SignIn string
	// SignOut replaces the built-in sign-out confirmation page.
	SignOut string
	// Error receives ?error=CODE instead of the built-in error page.
	Error string
}

// Defaults of [Config].
const (
	DefaultBasePath        = "/api/auth"
	DefaultMaxAge          = 30 * 24 * time.Hour
	DefaultUpdateAge       = 24 * time.Hour
	DefaultMaxLifetime     = 90 * 24 * time.Hour
	DefaultMaxCookieChunks = 4
	// DefaultSessionCookieName is the session cookie's name, before the
	// __Host- prefix https adds.
	DefaultSessionCookieName   = "authgate.session-token"
	DefaultMaxBodyBytes        = 16 << 10
	DefaultMaxHashWait         = 3 * time.Second
	DefaultMaxQueuedPerAddress = 16
	DefaultMaxQueuedPerAccount = 8
)

const minSecretBytes = 32

// defaultFreshAuthAge is Config.FreshAuthAge's default.
const defaultFreshAuthAge = 15 * time.Minute

// validate checks c and fills in every default. It reports the first
// problem, wrapped in ErrConfig.
func (c *Config[T]) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if len(c.Secrets) == 0 {
		return bad("no secret: set Secrets (at least %d bytes, e.g. from AUTH_SECRET)", minSecretBytes)
	}
	for i, s := range c.Secrets {
		if len(s) < minSecretBytes {
			return bad("secret %d is %d bytes; at least %d are required", i, len(s), minSecretBytes)
		}
	}
	if c.URL == "" {
		return bad("no URL: set the public origin, such as https://example.com")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return bad("URL %q is not an absolute http or https URL", c.URL)
	}
	if u.Hostname() == "" {
		return bad("URL %q has no host: name the one browsers use, such as http://localhost:3000", c.URL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return bad("URL %q must be an origin only (no user info, path, query or fragment); put the mount path in BasePath", c.URL)
	}
	if c.BasePath == "" {
		c.BasePath = DefaultBasePath
	}
	if !validBasePath(c.BasePath) {
		return bad("BasePath %q must start with '/', not end with '/', and contain only unreserved path characters", c.BasePath)
	}
	if c.Authorize == nil && len(c.Providers) == 0 && len(c.Extensions) == 0 {
		return bad("no way to sign in: no Authorize function, no Providers and no Extensions")
	}
	seen := map[string]bool{}
	for i, p := range c.Providers {
		if p == nil {
			return bad("Providers[%d] is nil", i)
		}
		if id := p.ID(); !validProviderID(id) || seen[id] {
			return bad("Providers[%d]: id %q is invalid, reserved or used twice (1-64 of a-z, 0-9, '-', '_')", i, id)
		}
		seen[p.ID()] = true
	}
	for i, x := range c.Extensions {
		if x == nil {
			return bad("Extensions[%d] is nil", i)
		}
		if id := x.ID(); !validProviderID(id) || seen[id] {
			return bad("Extensions[%d]: id %q is invalid, reserved or used twice (1-64 of a-z, 0-9, '-', '_')", i, id)
		}
		seen[x.ID()] = true
	}
	for name, p := range map[string]string{"SignIn": c.Pages.SignIn, "SignOut": c.Pages.SignOut, "Error": c.Pages.Error} {
		if p != "" && (!strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\?#") || hasCtl(p)) {
			return bad("Pages.%s %q must be a path on the app's origin, such as /login", name, p)
		}
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.UpdateAge == 0 {
		c.UpdateAge = min(DefaultUpdateAge, c.MaxAge/2)
	}
	if c.MaxLifetime == 0 {
		c.MaxLifetime = DefaultMaxLifetime
	}
	if c.MaxAge < time.Second || c.UpdateAge < 0 || c.MaxLifetime < time.Second {
		return bad("MaxAge and MaxLifetime must be at least a second, UpdateAge not negative")
	}
	if c.UpdateAge > c.MaxAge {
		return bad("UpdateAge (%v) exceeds MaxAge (%v): sessions would expire before they are re-issued", c.UpdateAge, c.MaxAge)
	}
	if c.MaxCookieChunks == 0 {
		c.MaxCookieChunks = DefaultMaxCookieChunks
	}
	if c.MaxCookieChunks < 1 || c.MaxCookieChunks > 32 {
		return bad("MaxCookieChunks %d is outside 1..32", c.MaxCookieChunks)
	}
	if c.SessionCookieName == "" {
		c.SessionCookieName = DefaultSessionCookieName
	}
	if !validCookieName(c.SessionCookieName) {
		return bad("SessionCookieName %q must be a cookie name of letters, digits and -._ without a __Secure- or __Host- prefix or a .N chunk suffix", c.SessionCookieName)
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxBodyBytes < 1024 {
		return bad("MaxBodyBytes %d is below 1024", c.MaxBodyBytes)
	}
	if c.MaxConcurrentHashes < 0 {
		return bad("MaxConcurrentHashes %d is negative", c.MaxConcurrentHashes)
	}
	if c.MaxQueuedPerAddress == 0 {
		c.MaxQueuedPerAddress = DefaultMaxQueuedPerAddress
	}
	if c.MaxQueuedPerAccount == 0 {
		c.MaxQueuedPerAccount = DefaultMaxQueuedPerAccount
	}
	if c.MaxQueuedPerAddress < 1 || c.MaxQueuedPerAccount < 1 {
		return bad("MaxQueuedPerAddress and MaxQueuedPerAccount must be at least 1")
	}
	if c.DatabaseSessions && c.Adapter == nil {
		return bad("DatabaseSessions needs an Adapter")
	}
	if c.DatabaseSessions && c.Codec != nil {
		return bad("a Codec is not used with DatabaseSessions (the cookie is an opaque token): set one or the other")
	}
	if c.FreshAuthAge == 0 {
		c.FreshAuthAge = defaultFreshAuthAge
	}
	if c.FreshAuthAge < 0 {
		return bad("FreshAuthAge %v is negative", c.FreshAuthAge)
	}
	if c.MaxHashWait == 0 {
		c.MaxHashWait = DefaultMaxHashWait
	}
	if c.MaxHashWait < 0 {
		return bad("MaxHashWait %v is negative", c.MaxHashWait)
	}
	if c.Hasher == nil {
		c.Hasher = BcryptHasher{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

func validBasePath(p string) bool {
	if p == "/" || !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		return false
	}
	for i := 0; i < len(p); i++ {
		b := p[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("/-._~", b) >= 0) {
			return false
		}
	}
	return true
}

func hasCtl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// validCookieName reports whether name can serve as SessionCookieName.
func validCookieName(name string) bool {
	if len(name) > 64 || strings.HasPrefix(strings.ToLower(name), "__secure-") || strings.HasPrefix(strings.ToLower(name), "__host-") {
		return false
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 && chunkIndex(name[i:]) >= 0 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	switch name {
	case "", "authgate.csrf-token", "authgate.callback-url", deviceCookieName,
		"authgate.state", "authgate.pkce.code_verifier", "authgate.nonce":
		return false
	}
	return true
}
