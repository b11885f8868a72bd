package email

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/authgate/authgate"
)

// Defaults of [Config].
const (
	// DefaultMaxAge is how long a link works: 10 minutes, the ceiling
	// OWASP ASVS 5.0 (6.5.5) and NIST SP 800-63B-4 set for out-of-band
	// secrets. NextAuth's is 24 hours.
	DefaultMaxAge = 10 * time.Minute
	// DefaultMinPasswordLength is the shortest new password a reset
	// accepts, in characters (NIST SP 800-63B-4's minimum for a
	// single-factor password is 15; 8 with a second factor).
	DefaultMinPasswordLength = 8
	// maxMaxAge bounds MaxAge: a link is a bearer credential in a mailbox.
	maxMaxAge = 24 * time.Hour
)

// Send budgets of the default [Config.Limiter], as budgets of an
// [authgate.MemoryLimiter] whose "account" is the mailbox: per mailbox and
// client address, 3 mails then one every 5 minutes; per mailbox from
// everywhere, 5 then one every 10 minutes (at most 11 in any hour); per
// client address (an IPv4 address or an IPv6 /64) to every mailbox
// together, 20 then one every 3 minutes.
var (
	sendPerMailboxClient = authgate.AttemptBudget{Burst: 3, Every: 5 * time.Minute}
	sendPerMailbox       = authgate.AttemptBudget{Burst: 5, Every: 10 * time.Minute}
	sendPerClient        = authgate.AttemptBudget{Burst: 20, Every: 3 * time.Minute}
)

// NewSendLimiter returns the in-memory [authgate.Limiter] with the send
// budgets [Config.Limiter] defaults to. For several instances, give each a
// github.com/authgate/authgate/redisstore Limiter with the same budgets
// (PerAccountAddress, PerAccount and PerAddress) and a KeyPrefix of its
// own, so that the mails are counted once for the whole site.
func NewSendLimiter() *authgate.MemoryLimiter {
	return authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{
		PerAccountAddress: sendPerMailboxClient, PerAccount: sendPerMailbox, PerAddress: sendPerClient,
	})
}

// SendBudgets returns the budgets of [NewSendLimiter]: per mailbox and
// client, per mailbox, and per client.
func SendBudgets() (perMailboxClient, perMailbox, perClient authgate.AttemptBudget) {
	return sendPerMailboxClient, sendPerMailbox, sendPerClient
}

// Config configures the e-mail extension ([New]). Mailer is required;
// every other field's zero value is the documented default.
type Config struct {
	// Mailer sends the mails, such as an [SMTPMailer]. Required.
	Mailer Mailer

	// MaxAge is how long a link works, at most 24 hours. The default is
	// [DefaultMaxAge], 10 minutes (see docs/email.md for why not
	// NextAuth's 24 hours).
	MaxAge time.Duration

	// Limiter throttles the mails before any is sent: each request is an
	// [authgate.Attempt] whose Account is "mail:" and the normalised
	// address and whose Addr is the client's, allowed through Allow and
	// never given back, so every mail counts against the budgets per
	// (mailbox, client), per mailbox and per client. Sign-in links and
	// password resets share them. The default is [NewSendLimiter]; a
	// github.com/authgate/authgate/redisstore Limiter shares the budgets
	// across instances. Do not pass the Limiter of [authgate.Config]: a
	// sign-in's budgets would then count mails.
	Limiter authgate.Limiter

	// SignInMail and ResetMail make the mails (see [ParseTemplates]). The
	// default ones say where the link signs in, for how long it works, and
	// what to do if you did not ask for it.
	SignInMail, ResetMail *Templates

	// Normalize turns a submitted address into the one the user is
	// stored and mailed under, or returns an error (answered EmailSignin).
	// The default is [NormalizeAddress]. A replacement must refuse
	// everything that is not one plain address: its result is the mail's
	// only recipient.
	Normalize func(string) (string, error)

	// VerifyRequestPage is the app's own "check your e-mail" page, as a
	// path on the app's origin such as "/check-email": GET
	// BasePath/verify-request redirects there, with the query
	// (provider=email and type=email, or type=reset). The default is a
	// built-in page.
	VerifyRequestPage string

	// PasswordReset turns on "forgot password": POST
	// BasePath/forgot-password and GET and POST BasePath/reset-password
	// (see docs/protocol.md). It needs an [authgate.PasswordAdapter] as
	// the Config's Adapter. The default (false) serves neither.
	PasswordReset bool

	// ResetPasswordPage is the app's own page for choosing a new password,
	// as a path such as "/reset-password": the link in the mail points
	// there, with token, email and callbackUrl in the query, and the page
	// posts them with the password to BasePath/reset-password. The default
	// is a built-in page.
	ResetPasswordPage string

	// MinPasswordLength is the shortest new password a reset accepts, in
	// characters; the longest is 72 bytes, bcrypt's limit, which every
	// sign-in enforces too. The default is [DefaultMinPasswordLength].
	MinPasswordLength int

	// Name is the provider's name in GET /providers. The default is
	// "Email", as in NextAuth.
	Name string
}

// Extension is the e-mail extension: sign-in links by e-mail in NextAuth
// v4's protocol, and, with [Config.PasswordReset], "forgot password". Put
// it in [authgate.Config.Extensions]; [authgate.New] mounts it. Its methods
// are safe for concurrent use once mounted.
type Extension[T any] struct {
	cfg Config
	id  string

	auth    *authgate.Auth[T]
	adapter authgate.Adapter
	pw      authgate.PasswordAdapter // nil without PasswordReset
	keys    [][]byte
	log     *slog.Logger
	now     func() time.Time        // the Auth's clock
	hasher  authgate.PasswordHasher // the Auth's, for new passwords
	base    string                  // origin + base path

	bg sync.WaitGroup // password-reset mails sent in the background
}

// ID is the provider id of the extension: "email", as next-auth/react's
// signIn("email") names it.
const ID = "email"

// New checks c and returns the extension, to be listed in
// [authgate.Config.Extensions]. It returns an error when Mailer is nil,
// MaxAge or MinPasswordLength is out of range, or a page is not a path on
// the app's origin. Mounting it (in authgate.New) fails without an
// [authgate.Config.Adapter], or with PasswordReset and an adapter that is
// not an [authgate.PasswordAdapter].
func New[T any](c Config) (*Extension[T], error) {
	if c.Mailer == nil {
		return nil, errors.New("email: Config.Mailer is required")
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.MaxAge < time.Minute || c.MaxAge > maxMaxAge {
		return nil, fmt.Errorf("email: MaxAge %v is outside 1m..24h", c.MaxAge)
	}
	if c.Limiter == nil {
		c.Limiter = NewSendLimiter()
	}
	if c.SignInMail == nil {
		c.SignInMail = defaultSignInMail
	}
	if c.ResetMail == nil {
		c.ResetMail = defaultResetMail
	}
	if c.Normalize == nil {
		c.Normalize = NormalizeAddress
	}
	if c.MinPasswordLength == 0 {
		c.MinPasswordLength = DefaultMinPasswordLength
	}
	if c.MinPasswordLength < 1 || c.MinPasswordLength > maxPasswordBytes {
		return nil, fmt.Errorf("email: MinPasswordLength %d is outside 1..%d", c.MinPasswordLength, maxPasswordBytes)
	}
	for name, p := range map[string]string{"VerifyRequestPage": c.VerifyRequestPage, "ResetPasswordPage": c.ResetPasswordPage} {
		if p != "" && !isLocalPath(p) {
			return nil, fmt.Errorf("email: %s %q must be a path on the app's origin, such as /check-email", name, p)
		}
	}
	if c.Name == "" {
		c.Name = "Email"
	}
	return &Extension[T]{cfg: c, id: ID}, nil
}

// ID implements [authgate.Extension]: "email".
func (x *Extension[T]) ID() string { return x.id }

// Mount implements [authgate.Extension]: it keeps a's adapter, keys,
// logger and URL, and returns the endpoints (docs/protocol.md):
//
//	POST /signin/email      send a sign-in link (next-auth/react's signIn("email"))
//	GET  /verify-request    "check your e-mail"
//	GET  /callback/email    the link: a confirmation page (HEAD and GET use nothing up)
//	POST /callback/email    the page's button: uses the link and signs in
//
// and with [Config.PasswordReset]:
//
//	POST /forgot-password   send a password reset link
//	GET  /reset-password    the link: the new-password form
//	POST /reset-password    set the new password, end every session, sign in
func (x *Extension[T]) Mount(a *authgate.Auth[T]) (authgate.Endpoints, error) {
	if x.auth != nil {
		return authgate.Endpoints{}, errors.New("email: the extension is mounted already (one Extension per Auth)")
	}
	ac := a.Config()
	x.adapter = ac.Adapter
	if x.adapter == nil {
		return authgate.Endpoints{}, errors.New("email: sign-in links need an Adapter (authgate.Config.Adapter) for the users and tokens")
	}
	if x.cfg.PasswordReset {
		pw, ok := x.adapter.(authgate.PasswordAdapter)
		if !ok {
			return authgate.Endpoints{}, errors.New("email: PasswordReset needs an Adapter that stores passwords (authgate.PasswordAdapter)")
		}
		x.pw = pw
	}
	x.auth = a
	x.keys = a.Keys(keyPurpose)
	x.log, x.now, x.hasher = ac.Logger, ac.Now, ac.Hasher
	x.base = a.Origin() + a.BasePath()
	routes := map[string]http.Handler{
		"POST /signin/email":   http.HandlerFunc(x.serveSend),
		"GET /verify-request":  http.HandlerFunc(x.serveVerifyRequest),
		"GET /callback/email":  http.HandlerFunc(x.serveConfirm),
		"POST /callback/email": http.HandlerFunc(x.serveUse),
	}
	if x.cfg.PasswordReset {
		routes["POST /forgot-password"] = http.HandlerFunc(x.serveForgot)
		routes["GET /reset-password"] = http.HandlerFunc(x.serveResetPage)
		routes["POST /reset-password"] = http.HandlerFunc(x.serveReset)
	}
	return authgate.Endpoints{Type: "email", Name: x.cfg.Name, Routes: routes}, nil
}

// Wait blocks until the password-reset mails being sent in the background
// are sent or have failed, or ctx ends: call it when the server shuts
// down, after [http.Server.Shutdown].
func (x *Extension[T]) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { x.bg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// isLocalPath reports whether p is a path on the app's own origin.
func isLocalPath(p string) bool {
	if len(p) < 1 || p[0] != '/' || (len(p) > 1 && (p[1] == '/' || p[1] == '\\')) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x21 || c == 0x7f || c == '?' || c == '#' || c == '\\' {
			return false
		}
	}
	return true
}
