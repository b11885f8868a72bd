package authgate

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"
)

// Auth is a configured authentication gate: the protocol handler, the
// session middleware and the guards. Create it with [New]. An Auth is safe
// for concurrent use; its configuration is fixed at construction.
type Auth[T any] struct {
	cfg Config[T]
	key *contextKey // this Auth's context key (context.go)

	origin   string // "https://example.com"
	basePath string // "/api/auth"
	secure   bool   // origin is https
	audience string // "aud" of session tokens

	sessionCookie  string
	csrfCookie     string
	callbackCookie string

	codec      Codec
	cache      *tokenCache[T] // verified tokens by cookie value; nil with an impure custom Codec (cache.go)
	shared     bool           // the codec decodes tokens another app mints (CodecInfo.Shared)
	csrfKeys   [][]byte       // first signs, all verify
	log        *slog.Logger
	now        func() time.Time
	cop        *http.CrossOriginProtection
	checker    *passwordChecker
	errorFn    func(http.ResponseWriter, *http.Request, error)
	noisy      [noisyKinds]noisyLog // rate limits of the noisy log events (log.go)
	oauth      oauthState           // "Sign in with …" (oauth.go)
	store      *sessionStore[T]     // with an Adapter (dbsession.go); nil without
	checkCodec rotatingCodec        // check cookies (check.go)

	deviceCookie string        // the device token's cookie (device.go)
	deviceCodec  rotatingCodec // its codec

	extensions []mountedExtension // extension.go
	handler    http.Handler
}

// hostPrefix is the cookie-name prefix browsers accept only on a Secure,
// Path=/ cookie without Domain, set by the host itself.
const hostPrefix = "__Host-"

// New validates cfg, fills in its defaults and returns an Auth. It returns
// an error wrapping [ErrConfig] when a secret is missing or shorter than 32
// bytes, when URL is missing or not an absolute http(s) origin, when
// BasePath or Pages are not clean paths, when Authorize is nil and no
// Providers are set, when a provider's id is invalid or repeated, when the
// session timeouts contradict each other, or when Revocations' horizon
// ([RevocationStore.Horizon]) is shorter than MaxLifetime.
func New[T any](cfg Config[T]) (*Auth[T], error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Limiter == nil {
		cfg.Limiter = NewMemoryLimiter(MemoryLimiterOptions{})
	}
	if cfg.Revocations == nil {
		cfg.Revocations = NewMemoryRevocationStore(MemoryRevocationOptions{Now: cfg.Now, Logger: cfg.Logger, MaxAge: cfg.MaxAge, MaxLifetime: cfg.MaxLifetime})
	}
	if h := cfg.Revocations.Horizon(); h < cfg.MaxLifetime {
		return nil, fmt.Errorf("%w: Revocations keeps revocations for sessions of up to %v, shorter than MaxLifetime (%v): it would accept signed-out sessions again before they expire; give the store the same MaxLifetime", ErrConfig, h, cfg.MaxLifetime)
	}
	u, _ := url.Parse(cfg.URL) // validated above
	a := &Auth[T]{
		cfg:      cfg,
		key:      new(contextKey),
		origin:   strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host),
		basePath: cfg.BasePath,
		secure:   strings.EqualFold(u.Scheme, "https"),
		log:      cfg.Logger,
		now:      cfg.Now,
		errorFn:  cfg.ErrorHandler,
	}
	a.audience = a.origin

	secrets := make([][]byte, len(cfg.Secrets))
	for i, s := range cfg.Secrets {
		secrets[i] = []byte(s)
		a.csrfKeys = append(a.csrfKeys, deriveKey(secrets[i], purposeCSRF))
	}
	a.codec = cfg.Codec
	if a.codec == nil {
		// The securecookie timestamp is checked against the absolute
		// lifetime too: a second, independent expiry check.
		maxAge := int((cfg.MaxLifetime + clockSkew).Seconds())
		a.codec = newSessionCodec(secrets, cfg.SignOnly, maxAge)
		a.cache = newTokenCache[T]()
	} else if d, ok := a.codec.(CodecDescriber); ok {
		info := d.CodecInfo()
		a.shared = info.Shared
		if info.Pure {
			a.cache = newTokenCache[T]()
		}
	}

	if cfg.DatabaseSessions {
		a.cache = nil // the cookie is an opaque token: dbsession.go has its own cache
	}
	a.checkCodec = newCheckCodec(cfg.Secrets)
	a.initSessions()
	// On https every cookie authgate names is __Host-: Secure, Path=/ and
	// no Domain, so no sibling subdomain can plant one. The one
	// exception is a shared codec's session cookie, which must keep the
	// name the other app (NextAuth) gives it: __Secure- (SECURITY.md).
	a.sessionCookie = cfg.SessionCookieName
	a.csrfCookie = "authgate.csrf-token"
	a.callbackCookie = "authgate.callback-url"
	if a.secure {
		sessionPrefix := hostPrefix
		if a.shared {
			sessionPrefix = "__Secure-"
		}
		a.sessionCookie = sessionPrefix + a.sessionCookie
		a.csrfCookie = hostPrefix + a.csrfCookie
		a.callbackCookie = hostPrefix + a.callbackCookie
	}

	a.cop = http.NewCrossOriginProtection()
	if err := a.cop.AddTrustedOrigin(a.origin); err != nil {
		return nil, fmt.Errorf("%w: URL %q: %w", ErrConfig, cfg.URL, err)
	}

	n := cfg.MaxConcurrentHashes
	if n == 0 {
		// Leave a core for everything else: a login flood must not
		// starve ordinary requests.
		n = max(1, runtime.GOMAXPROCS(0)-1)
	}
	// The dummy hash is made with the configured hasher, so comparing an
	// unknown user's password against it costs what a real check costs;
	// making it is the first measurement of one check's duration.
	start := cfg.Now()
	dummy, err := cfg.Hasher.Hash(randomToken()[:32])
	if err != nil {
		return nil, fmt.Errorf("%w: Hasher cannot hash: %w", ErrConfig, err)
	}
	a.checker = newPasswordChecker(cfg.Now, cfg.Hasher, dummy, n, cfg.MaxHashWait, cfg.Now().Sub(start))
	a.checker.perAddr, a.checker.perAcct = cfg.MaxQueuedPerAddress, cfg.MaxQueuedPerAccount

	if a.errorFn == nil {
		a.errorFn = DefaultErrorHandler
	}
	a.initOAuth()
	a.initDevice()
	if a.extensions, err = a.mountExtensions(); err != nil {
		return nil, err
	}
	if a.handler, err = a.newHandler(a.extensions); err != nil {
		return nil, err
	}
	return a, nil
}

// BasePath returns the path [Auth.Handler] serves, such as "/api/auth".
func (a *Auth[T]) BasePath() string { return a.basePath }

// signInPage returns the absolute URL of the sign-in page.
func (a *Auth[T]) signInPage() string {
	if a.cfg.Pages.SignIn != "" {
		return a.origin + a.cfg.Pages.SignIn
	}
	return a.origin + a.basePath + "/signin"
}
