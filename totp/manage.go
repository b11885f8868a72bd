package totp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/authgate/authgate"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Errors of the methods that manage a user's factor. Other errors wrap
// [authgate.ErrUnauthenticated] (no valid session; [authgate.ErrFreshAuthRequired]
// when its sign-in is older than [Config.FreshAuth]), [authgate.ErrStore]
// (the adapter or the Limiter failed), [authgate.ErrCallback] or
// [authgate.ErrConfig] (a seed that none of the secrets opens).
var (
	// ErrInvalidCode reports a code or recovery code that is wrong,
	// malformed, or used already.
	ErrInvalidCode = errors.New("totp: invalid code")
	// ErrNotEnabled reports a user without a confirmed TOTP secret.
	ErrNotEnabled = errors.New("totp: not enabled")
	// ErrEnabled reports a setup for a user whose factor is enabled: it
	// must be disabled first.
	ErrEnabled = errors.New("totp: already enabled")
	// ErrNoSetup reports a confirmation without a secret awaiting it.
	ErrNoSetup = errors.New("totp: no secret awaits confirmation")
	// ErrProofRequired reports a change that needs a code or recovery
	// code, given none.
	ErrProofRequired = errors.New("totp: a code or recovery code is required")
	// ErrThrottled reports a code check the Limiter refused; the error is
	// a [*ThrottleError].
	ErrThrottled = errors.New("totp: too many attempts")
)

// ThrottleError is the error of a code check the [authgate.Limiter]
// refused: too many wrong codes for the account or from the address.
type ThrottleError struct {
	// RetryAfter is how long to wait, in whole seconds.
	RetryAfter time.Duration
}

func (e *ThrottleError) Error() string {
	return ErrThrottled.Error() + ": retry after " + strconv.Itoa(int(e.RetryAfter/time.Second)) + "s"
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottleError) Is(target error) bool { return target == ErrThrottled }

// Proof is what proves the user holds the factor: a code from the app, or
// when Code is empty, a recovery code.
type Proof struct {
	Code         string
	RecoveryCode string
}

// Status is a user's second factor as [Factor.Status] reports it.
type Status struct {
	// Enabled reports a confirmed secret: sign-in asks for a code.
	Enabled bool `json:"enabled"`
	// Pending reports a secret set up but not yet confirmed.
	Pending bool `json:"pending"`
	// RecoveryCodesLeft is how many recovery codes are unused.
	RecoveryCodesLeft int `json:"recoveryCodesLeft"`
}

// Enrolment is a new secret awaiting its first code ([Factor.Confirm]).
type Enrolment struct {
	// Secret is the seed in base32, for typing into an app.
	Secret string
	// URL is the otpauth:// URL the QR code holds.
	URL string
	// QRCode is a 256×256 PNG of URL.
	QRCode []byte
}

// Change is the outcome of a change to a user's factor.
type Change struct {
	// RecoveryCodes are the user's new recovery codes, formatted
	// "xxxx-xxxx-xxxx", after Confirm and RegenerateRecoveryCodes: show
	// them once; they are stored only as hashes.
	RecoveryCodes []string
	// OtherSessions is how many other sessions the user has (ASVS 5.0
	// 7.4.3: offer to end them after a change of factor), or -1 when the
	// device list could not be read; [authgate.Auth.SignOutOtherDevices]
	// ends them.
	OtherSessions int
}

// accountPrefix keys the Limiter's attempts of the management methods,
// by user id (the sign-in's second step counts under the sign-in's own
// account).
const accountPrefix = "totp:"

// user returns r's session, requiring a sign-in no older than FreshAuth
// when fresh is set.
func (f *Factor[T]) user(r *http.Request, fresh bool) (*authgate.Session[T], error) {
	s, ok := f.auth.FromContext(r.Context())
	if !ok {
		var err error
		if s, err = f.auth.Check(r); err != nil {
			if errors.Is(err, authgate.ErrStore) || errors.Is(err, authgate.ErrCallback) || errors.Is(err, authgate.ErrConfig) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %w", authgate.ErrUnauthenticated, err)
		}
	}
	if fresh && f.now().Sub(s.AuthTime()) > f.cfg.FreshAuth {
		return nil, authgate.ErrFreshAuthRequired
	}
	return s, nil
}

// stored returns r's session (requiring a recent sign-in when fresh is
// set) and its user's stored factor, or nil when they have none.
func (f *Factor[T]) stored(r *http.Request, fresh bool) (*authgate.Session[T], *authgate.SecondFactor, error) {
	s, err := f.user(r, fresh)
	if err != nil {
		return nil, nil, err
	}
	sf, err := f.load(r.Context(), s.User.ID)
	return s, sf, err
}

// throttled runs check as one attempt of r against the user's account in
// the Auth's Limiter: refused while the budgets are spent, counted as a
// failure unless check succeeds.
func (f *Factor[T]) throttled(r *http.Request, userID string, check func() error) error {
	ctx := r.Context()
	att := authgate.Attempt{Account: accountPrefix + userID, Addr: f.auth.ClientAddr(r), Time: f.now()}
	lim := f.limiter
	retry, err := lim.Allow(ctx, att)
	if err != nil {
		return fmt.Errorf("%w: limiter: %w", authgate.ErrStore, err)
	}
	if retry > 0 {
		return &ThrottleError{RetryAfter: retry}
	}
	err = check()
	o := authgate.AttemptFailed
	if err == nil {
		o = authgate.AttemptSucceeded
	}
	lim.Record(ctx, att, o) // a failure to record leaves the attempt counted as failed
	return err
}

// otherSessions counts r's user's sessions besides r's.
func (f *Factor[T]) otherSessions(r *http.Request) int {
	ds, err := f.auth.Devices(r)
	if err != nil {
		return -1
	}
	n := 0
	for _, d := range ds {
		if !d.Current {
			n++
		}
	}
	return n
}

// Status reports the second factor of r's user. It needs a session, not a
// recent sign-in.
func (f *Factor[T]) Status(r *http.Request) (Status, error) {
	_, sf, err := f.stored(r, false)
	if err != nil || sf == nil {
		return Status{}, err
	}
	return Status{Enabled: sf.Enabled, Pending: !sf.Enabled, RecoveryCodesLeft: len(sf.RecoveryCodes)}, nil
}

// Setup makes a new secret for r's user, stores it sealed and unconfirmed
// (sign-in does not ask for it yet), and returns it with its otpauth URL
// and QR code, for the user's app; [Factor.Confirm] enables it. A second
// Setup before Confirm replaces the secret. The label is the session's
// e-mail address, else its name, else its user id. It needs a recent
// sign-in; an enabled factor must be disabled first ([ErrEnabled]).
func (f *Factor[T]) Setup(r *http.Request) (*Enrolment, error) {
	s, sf, err := f.stored(r, true)
	switch {
	case err != nil:
		return nil, err
	case sf != nil && sf.Enabled:
		return nil, ErrEnabled
	}
	ctx, uid := r.Context(), s.User.ID
	label := s.User.Email
	if label == "" {
		label = s.User.Name
	}
	if label == "" {
		label = uid
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: f.cfg.Issuer, AccountName: label, Period: period,
		SecretSize: 20, Digits: defaultParams.digits, Algorithm: defaultParams.algorithm, Rand: f.cfg.Rand})
	if err != nil {
		return nil, fmt.Errorf("totp: generate: %w", err)
	}
	seed, err := b32.DecodeString(key.Secret())
	if err != nil {
		return nil, fmt.Errorf("totp: generate: %w", err)
	}
	qr, err := qrPNG(key)
	if err != nil {
		return nil, err
	}
	pending := authgate.SecondFactor{TOTPSecret: seal(f.keys[0], uid, seed), Created: f.now().UTC()}
	if err := f.store.SetSecondFactor(ctx, uid, pending); err != nil {
		return nil, fmt.Errorf("%w: store secret: %w", authgate.ErrStore, err)
	}
	return &Enrolment{Secret: key.Secret(), URL: key.URL(), QRCode: qr}, nil
}

// qrPNG draws the key's otpauth URL as a 256×256 PNG QR code
// (github.com/boombuler/barcode, through pquerna/otp).
func qrPNG(key *otp.Key) ([]byte, error) {
	img, err := key.Image(256, 256)
	if err != nil {
		return nil, fmt.Errorf("totp: qr code: %w", err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("totp: qr code: %w", err)
	}
	return b.Bytes(), nil
}

// Confirm enables the secret [Factor.Setup] made for r's user when code is
// its current code, and returns the user's ten recovery codes, to show
// once. The code's check is throttled by the Limiter ([*ThrottleError]).
// It needs a recent sign-in. Errors: [ErrNoSetup], [ErrEnabled],
// [ErrInvalidCode].
func (f *Factor[T]) Confirm(r *http.Request, code string) (*Change, error) {
	s, sf, err := f.stored(r, true)
	switch {
	case err != nil:
		return nil, err
	case sf == nil:
		return nil, ErrNoSetup
	case sf.Enabled:
		return nil, ErrEnabled
	}
	uid := s.User.ID
	seed, err := open(f.keys, uid, sf.TOTPSecret)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", authgate.ErrConfig, err)
	}
	if normalizeCode(code) == "" {
		return nil, fmt.Errorf("%w: none given", ErrInvalidCode)
	}
	if err := f.prove(r, uid, sf, Proof{Code: code}); err != nil {
		return nil, err
	}
	return f.storeCodes(r, uid, seed, sf)
}

// storeCodes stores sf enabled, with the seed sealed under the first
// secret and a new set of recovery codes, and reports the change.
func (f *Factor[T]) storeCodes(r *http.Request, uid string, seed []byte, sf *authgate.SecondFactor) (*Change, error) {
	codes, hashes, err := newRecoveryCodes(f.cfg.Rand)
	if err != nil {
		return nil, err
	}
	next := authgate.SecondFactor{TOTPSecret: seal(f.keys[0], uid, seed), Enabled: true, LastStep: sf.LastStep,
		RecoveryCodes: hashes, Created: sf.Created}
	if err := f.store.SetSecondFactor(r.Context(), uid, next); err != nil {
		return nil, fmt.Errorf("%w: store second factor: %w", authgate.ErrStore, err)
	}
	return &Change{RecoveryCodes: codes, OtherSessions: f.otherSessions(r)}, nil
}

// Disable removes r's user's second factor when p proves they hold it (a
// code, or a recovery code), throttled by the Limiter; a secret set up but
// not confirmed is removed without proof. It needs a recent sign-in.
// Errors: [ErrNotEnabled], [ErrProofRequired], [ErrInvalidCode],
// [*ThrottleError].
func (f *Factor[T]) Disable(r *http.Request, p Proof) (*Change, error) {
	s, sf, err := f.stored(r, true)
	ctx := r.Context()
	switch {
	case err != nil:
		return nil, err
	case sf == nil:
		return nil, ErrNotEnabled
	case sf.Enabled && p == (Proof{}):
		return nil, ErrProofRequired
	case sf.Enabled:
		if err := f.prove(r, s.User.ID, sf, p); err != nil {
			return nil, err
		}
	}
	if err := f.store.DeleteSecondFactor(ctx, s.User.ID); err != nil && !errors.Is(err, authgate.ErrNotFound) {
		return nil, fmt.Errorf("%w: delete second factor: %w", authgate.ErrStore, err)
	}
	return &Change{OtherSessions: f.otherSessions(r)}, nil
}

// RegenerateRecoveryCodes replaces r's user's recovery codes with ten new
// ones, which it returns to show once; the old ones stop working. It needs
// a recent sign-in that used a second factor (AMR "mfa"), or else p: a
// code or a recovery code, throttled by the Limiter. Errors:
// [ErrNotEnabled], [ErrProofRequired], [ErrInvalidCode],
// [*ThrottleError].
func (f *Factor[T]) RegenerateRecoveryCodes(r *http.Request, p Proof) (*Change, error) {
	s, sf, err := f.stored(r, true)
	switch {
	case err != nil:
		return nil, err
	case sf == nil || !sf.Enabled:
		return nil, ErrNotEnabled
	}
	uid := s.User.ID
	seed, err := open(f.keys, uid, sf.TOTPSecret)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", authgate.ErrConfig, err)
	}
	if !slices.Contains(s.AMR(), AMRMFA) {
		if p == (Proof{}) {
			return nil, ErrProofRequired
		}
		if err := f.prove(r, uid, sf, p); err != nil {
			return nil, err
		}
	}
	return f.storeCodes(r, uid, seed, sf)
}

// prove checks p against sf and uses it up, as one attempt the Limiter
// counts.
func (f *Factor[T]) prove(r *http.Request, uid string, sf *authgate.SecondFactor, p Proof) error {
	return f.throttled(r, uid, func() error {
		_, err := f.check(r.Context(), uid, sf, p)
		return err
	})
}

// Remove deletes the second factor of the user userID without any proof:
// for an administrator or a support process that verified the user's
// identity some other way (ASVS 5.0 6.4.4). It ends none of the user's
// sessions; [authgate.Auth.SignOutEverywhere] does. Errors:
// [ErrNotEnabled] (nothing stored), [authgate.ErrStore].
func (f *Factor[T]) Remove(ctx context.Context, userID string) error {
	err := f.store.DeleteSecondFactor(ctx, userID)
	switch {
	case errors.Is(err, authgate.ErrNotFound):
		return ErrNotEnabled
	case err != nil:
		return fmt.Errorf("%w: delete second factor: %w", authgate.ErrStore, err)
	}
	return nil
}
