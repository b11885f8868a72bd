// Package totp adds a second factor to authgate's credentials sign-in:
// time-based one-time codes (RFC 6238) from an authenticator app, with
// recovery codes for when the app is lost.
//
// A [Factor] is an [authgate.Extension] and an [authgate.CredentialsStep]:
// list it in [authgate.Config.Extensions], with an adapter that stores
// second factors ([authgate.SecondFactorAdapter], such as the module
// github.com/authgate/authgate/sqlstore):
//
//	mfa := totp.New[Claims](totp.Config{Issuer: "Acme", EnrolPath: "/account/2fa"})
//	auth, err := authgate.New(authgate.Config[Claims]{
//		Adapter:    store,
//		Extensions: []authgate.Extension[Claims]{mfa},
//		// Secrets, URL, Authorize, …
//	})
//
// A user who enabled it signs in in two steps over NextAuth's own
// credentials channel, so next-auth/react's client works unchanged:
// signIn("credentials", {username, password, redirect: false}) resolves to
// {ok: false, error: "TwoFactorRequired"}, and
// signIn("credentials", {code, redirect: false}) (or {recoveryCode}) then
// signs in. The session's AMR is ["pwd", "otp", "mfa"] after a code and
// ["pwd", "recovery", "mfa"] after a recovery code, for
// [authgate.Auth.RequireAMR] and the callbacks to read.
//
// Codes are RFC 6238's defaults, which every authenticator app speaks:
// HMAC-SHA-1, six digits, 30-second steps, one step of clock drift either
// side, computed and compared by github.com/pquerna/otp. A code is
// accepted once: the adapter records the accepted time step atomically, so
// two instances sharing the database cannot both accept it. Wrong codes
// are throttled per account by the Auth's [authgate.Limiter]. Seeds are
// stored sealed with a key derived from [authgate.Config.Secrets], recovery
// codes only as salted hashes. docs/totp.md in the repository tells the
// whole design.
//
// Users manage their factor through JSON endpoints under the Auth's base
// path (GET /mfa/totp, POST /mfa/totp/setup, /mfa/totp/confirm,
// /mfa/totp/disable and /mfa/recovery/regenerate) or the same Go methods
// ([Factor.Setup], [Factor.Confirm], …); every change needs a recent
// sign-in. [Factor.RequireSecondFactor] makes a role need a second factor.
package totp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/authgate/authgate"
)

// ID is the extension's id.
const ID = "totp"

// AMR values a second step adds after "pwd" (RFC 8176 names the first
// two; "recovery" is authgate's, for a recovery code, which RFC 8176 has
// no name for).
const (
	AMROTP      = "otp"
	AMRMFA      = "mfa"
	AMRRecovery = "recovery"
)

// DefaultFreshAuth is the default of [Config.FreshAuth].
const DefaultFreshAuth = 15 * time.Minute

// Config configures a [Factor]. Issuer is required; every other field's
// zero value is its documented default.
type Config struct {
	// Issuer names the app in authenticator apps, such as "Acme": it is
	// the issuer and the label's prefix of the otpauth URL. Required.
	Issuer string
	// FreshAuth is how recent the user's sign-in must be to set up,
	// confirm, disable or change the second factor (ASVS 5.0 7.5.1: full
	// re-authentication before changing MFA). The default is
	// [DefaultFreshAuth], 15 minutes.
	FreshAuth time.Duration
	// EnrolPath is the app's page where [Factor.RequireSecondFactor]
	// sends a browser whose user has no second factor yet, such as
	// "/account/2fa"; it gets a callbackUrl back. It must be a path
	// beginning with one "/". The default ("") answers 403 instead.
	EnrolPath string
	// Rand is the source of seeds, recovery codes and their salts. The
	// default is crypto/rand; tests may pass a deterministic reader.
	Rand io.Reader
}

// Factor is the TOTP second factor: an [authgate.Extension] and
// [authgate.CredentialsStep] for an Auth with claims of type T. Create it
// with [New] and list it in [authgate.Config.Extensions]; it is ready once
// [authgate.New] has mounted it, and safe for concurrent use from then on.
// One Factor serves one Auth.
type Factor[T any] struct {
	cfg      Config
	auth     *authgate.Auth[T]
	store    authgate.SecondFactorAdapter
	passkeys authgate.PasskeyAdapter // nil unless the adapter stores passkeys
	keys     [][]byte                // seal with keys[0], open with any
	now      func() time.Time        // the Auth's clock
	limiter  authgate.Limiter        // the Auth's, for code checks
}

var _ authgate.CredentialsStep[struct{}] = (*Factor[struct{}])(nil)

// New returns a Factor configured by cfg; [authgate.New] checks cfg when
// it mounts it.
func New[T any](cfg Config) *Factor[T] {
	if cfg.FreshAuth == 0 {
		cfg.FreshAuth = DefaultFreshAuth
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Factor[T]{cfg: cfg}
}

// ID returns "totp".
func (f *Factor[T]) ID() string { return ID }

// Mount is called by [authgate.New]. It fails when Issuer is empty,
// FreshAuth is negative, EnrolPath is not a local path, the Auth has no
// adapter storing second factors, or the Factor is mounted a second time.
func (f *Factor[T]) Mount(a *authgate.Auth[T]) (authgate.Endpoints, error) {
	switch {
	case f.auth != nil:
		return authgate.Endpoints{}, errors.New("totp: a Factor serves one Auth")
	case strings.TrimSpace(f.cfg.Issuer) == "":
		return authgate.Endpoints{}, errors.New("totp: Config.Issuer is required")
	case f.cfg.FreshAuth < 0:
		return authgate.Endpoints{}, errors.New("totp: Config.FreshAuth is negative")
	case f.cfg.EnrolPath != "" && (!strings.HasPrefix(f.cfg.EnrolPath, "/") || strings.HasPrefix(f.cfg.EnrolPath, "//") || strings.ContainsAny(f.cfg.EnrolPath, "\\?#")):
		return authgate.Endpoints{}, fmt.Errorf("totp: Config.EnrolPath %q is not a local path", f.cfg.EnrolPath)
	}
	ac := a.Config()
	store, ok := ac.Adapter.(authgate.SecondFactorAdapter)
	if !ok {
		return authgate.Endpoints{}, errors.New("totp: authgate.Config.Adapter must implement authgate.SecondFactorAdapter (sqlstore does)")
	}
	f.auth, f.store, f.keys = a, store, a.Keys(sealPurpose)
	f.now, f.limiter = ac.Now, ac.Limiter
	f.passkeys, _ = ac.Adapter.(authgate.PasskeyAdapter)
	return authgate.Endpoints{Routes: f.routes()}, nil
}

// StepFields are the second request's fields: "code" (six digits from
// the app) or "recoveryCode".
func (f *Factor[T]) StepFields() []authgate.StepField {
	return []authgate.StepField{
		{Name: "code", Label: "Code from your authenticator app"},
		{Name: "recoveryCode", Label: "Or a recovery code"},
	}
}

// StepRequired reports whether user has confirmed a TOTP secret; until
// then (no secret, or one awaiting its first code) the password alone
// signs in. An adapter error is returned (the sign-in fails closed).
func (f *Factor[T]) StepRequired(ctx context.Context, user *authgate.User[T]) (bool, error) {
	return f.Enabled(ctx, user.ID)
}

// VerifyStep checks the second request's "code" (or, when it is empty,
// "recoveryCode") for user and uses it up: it returns AMR ["otp", "mfa"]
// or ["recovery", "mfa"]. A wrong, malformed or used code, or a user who
// disabled the factor meanwhile, is an error wrapping
// [authgate.ErrStepFailed] and [ErrInvalidCode] or [ErrNotEnabled]; the
// adapter failing, or a seed no secret opens, is a fault.
func (f *Factor[T]) VerifyStep(ctx context.Context, user *authgate.User[T], c *authgate.Credentials) ([]string, error) {
	amr, err := f.verify(ctx, user.ID, Proof{Code: c.Get("code"), RecoveryCode: c.Get("recoveryCode")})
	if errors.Is(err, ErrInvalidCode) || errors.Is(err, ErrNotEnabled) {
		return nil, fmt.Errorf("%w: %w", authgate.ErrStepFailed, err)
	}
	return amr, err
}

// Enabled reports whether the user userID has confirmed a TOTP secret.
// Errors wrap [authgate.ErrStore].
func (f *Factor[T]) Enabled(ctx context.Context, userID string) (bool, error) {
	sf, err := f.load(ctx, userID)
	return sf != nil && sf.Enabled, err
}

// load returns the stored factor of userID, or nil when there is none.
func (f *Factor[T]) load(ctx context.Context, userID string) (*authgate.SecondFactor, error) {
	sf, err := f.store.SecondFactor(ctx, userID)
	switch {
	case errors.Is(err, authgate.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%w: second factor: %w", authgate.ErrStore, err)
	}
	return sf, nil
}

// verify checks p for the user userID, whose factor must be enabled.
func (f *Factor[T]) verify(ctx context.Context, userID string, p Proof) ([]string, error) {
	sf, err := f.load(ctx, userID)
	switch {
	case err != nil:
		return nil, err
	case sf == nil || !sf.Enabled:
		return nil, ErrNotEnabled
	}
	return f.check(ctx, userID, sf, p)
}

// check verifies p against the stored factor sf of userID and uses it up
// in the adapter: a code's time step, or a recovery code.
func (f *Factor[T]) check(ctx context.Context, userID string, sf *authgate.SecondFactor, p Proof) ([]string, error) {
	if code := normalizeCode(p.Code); code != "" {
		seed, err := open(f.keys, userID, sf.TOTPSecret)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", authgate.ErrConfig, err)
		}
		step, m := matchStep(seed, code, f.now(), sf.LastStep, defaultParams)
		switch m {
		case noMatch:
			return nil, ErrInvalidCode
		case replayed:
			return nil, fmt.Errorf("%w: used already", ErrInvalidCode)
		}
		switch err := f.store.UseTOTPStep(ctx, userID, step); {
		case errors.Is(err, authgate.ErrConflict):
			return nil, fmt.Errorf("%w: used already (concurrently)", ErrInvalidCode)
		case errors.Is(err, authgate.ErrNotFound):
			return nil, ErrNotEnabled
		case err != nil:
			return nil, fmt.Errorf("%w: use time step: %w", authgate.ErrStore, err)
		}
		return []string{AMROTP, AMRMFA}, nil
	}
	if p.RecoveryCode == "" {
		return nil, fmt.Errorf("%w: none given", ErrInvalidCode)
	}
	code, ok := normalizeRecovery(p.RecoveryCode)
	if !ok {
		return nil, ErrInvalidCode
	}
	h := matchRecovery(sf.RecoveryCodes, code)
	if h == nil {
		return nil, ErrInvalidCode
	}
	switch err := f.store.UseRecoveryCode(ctx, userID, h); {
	case errors.Is(err, authgate.ErrNotFound):
		return nil, fmt.Errorf("%w: recovery code used already", ErrInvalidCode)
	case err != nil:
		return nil, fmt.Errorf("%w: use recovery code: %w", authgate.ErrStore, err)
	}
	return []string{AMRRecovery, AMRMFA}, nil
}
