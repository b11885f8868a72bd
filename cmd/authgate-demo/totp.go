package main

// totp.go is the demo's second factor: the totp extension (codes from an
// authenticator app, recovery codes) and the "Two-factor authentication"
// page at /account/2fa, where a signed-in user enrols with the QR code,
// sees and regenerates recovery codes, and turns it off. The page's forms
// call the extension's Go methods (Setup, Confirm, …); the same operations
// are JSON endpoints under /api/auth/mfa/… for a single-page app. The
// sign-in's code step needs nothing here: authgate answers the password
// with TwoFactorRequired and the login form (static/login.js) asks for the
// code.

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/totp"
)

// enrolPath is the "Two-factor authentication" page.
const enrolPath = "/account/2fa"

// newTOTP is the demo's second factor, listed in Config.Extensions: codes
// named "authgate demo" in the user's app; changing it needs a sign-in
// from the last 15 minutes, like the other sensitive pages.
func newTOTP() *totp.Factor[Claims] {
	return totp.New[Claims](totp.Config{Issuer: "authgate demo", EnrolPath: enrolPath})
}

// requireSecondFactor wraps h with the -require-2fa policy: users with
// one of its roles must have signed in with a second factor, and one
// without any is sent to /account/2fa first. Without roles h is
// unchanged.
func (a *app) requireSecondFactor(h http.Handler) http.Handler {
	if len(a.mfaRoles) == 0 {
		return h
	}
	return a.mfa.RequireSecondFactor(a.mfaRoles...)(h)
}

// mountTOTP puts the two-factor page and its forms on mux. The forms are
// app routes outside authgate's handler: Go's CSRF defence guards them,
// and the extension's methods check that the sign-in is recent.
func (a *app) mountTOTP(mux *http.ServeMux) {
	mux.Handle("GET "+enrolPath, a.auth.RequireAuth(http.HandlerFunc(a.totpPage)))
	protect := http.NewCrossOriginProtection()
	for _, action := range []string{"setup", "confirm", "regenerate", "disable"} {
		mux.Handle("POST "+enrolPath+"/"+action, protect.Handler(a.auth.RequireAuth(http.HandlerFunc(a.totpAction))))
	}
}

// totpData is what templates/totp.html shows.
type totpData struct {
	Status totp.Status
	// AMR is how this session signed in.
	AMR string
	// Setup: the new secret, its otpauth URL and QR code (a data URL).
	Secret, URL string
	QRCode      template.URL
	// RecoveryCodes are new codes, shown once.
	RecoveryCodes []string
	// OtherSessions is how many other sessions to offer ending.
	OtherSessions int
	// Confirming shows the code form of a setup.
	Confirming bool
	// CallbackURL is where to go once enrolled (from RequireSecondFactor).
	CallbackURL string
}

// totpPage is GET /account/2fa.
func (a *app) totpPage(w http.ResponseWriter, r *http.Request) {
	a.renderTOTP(w, r, totpData{}, "", "")
}

// renderTOTP renders the page with the user's current status.
func (a *app) renderTOTP(w http.ResponseWriter, r *http.Request, d totpData, notice, problem string) {
	st, err := a.mfa.Status(r)
	if err != nil {
		a.totpFailed(w, r, err)
		return
	}
	d.Status = st
	if s, ok := a.auth.Session(r); ok {
		d.AMR = strings.Join(s.AMR(), " ")
	}
	if cb := r.FormValue("callbackUrl"); strings.HasPrefix(cb, "/") && !strings.HasPrefix(cb, "//") && !strings.Contains(cb, "\\") {
		d.CallbackURL = cb
	}
	a.render(w, r, http.StatusOK, "totp", pageData{Title: "Two-factor authentication", TOTP: &d, Notice: notice, Error: problem})
}

// totpAction is POST /account/2fa/{setup,confirm,regenerate,disable}.
func (a *app) totpAction(w http.ResponseWriter, r *http.Request) {
	proof := totp.Proof{Code: r.PostFormValue("code"), RecoveryCode: r.PostFormValue("recoveryCode")}
	switch action := r.URL.Path[len(enrolPath)+1:]; action {
	case "setup":
		e, err := a.mfa.Setup(r)
		if err != nil {
			a.totpFailed(w, r, err)
			return
		}
		a.renderTOTP(w, r, totpData{Secret: e.Secret, URL: e.URL, Confirming: true,
			QRCode: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRCode))}, "", "")
	case "confirm":
		c, err := a.mfa.Confirm(r, proof.Code)
		if err != nil {
			a.totpFailed(w, r, err)
			return
		}
		a.renderTOTP(w, r, totpData{RecoveryCodes: c.RecoveryCodes, OtherSessions: c.OtherSessions},
			"Two-factor authentication is on. Keep these recovery codes somewhere safe: each works once, and they are shown only now.", "")
	case "regenerate":
		c, err := a.mfa.RegenerateRecoveryCodes(r, proof)
		if err != nil {
			a.totpFailed(w, r, err)
			return
		}
		a.renderTOTP(w, r, totpData{RecoveryCodes: c.RecoveryCodes, OtherSessions: c.OtherSessions},
			"New recovery codes: the old ones no longer work.", "")
	case "disable":
		c, err := a.mfa.Disable(r, proof)
		if err != nil {
			a.totpFailed(w, r, err)
			return
		}
		a.renderTOTP(w, r, totpData{OtherSessions: c.OtherSessions}, "Two-factor authentication is off.", "")
	default:
		http.NotFound(w, r)
	}
}

// totpFailed answers an error of the extension: a stale sign-in goes to
// the login form and back, a wrong code is shown on the page, a fault is
// 503.
func (a *app) totpFailed(w http.ResponseWriter, r *http.Request, err error) {
	var te *totp.ThrottleError
	problem := ""
	switch {
	case errors.Is(err, authgate.ErrFreshAuthRequired):
		http.Redirect(w, r, "/login?error=FreshSignIn&callbackUrl=%2Faccount%2F2fa", http.StatusSeeOther)
		return
	case errors.As(err, &te):
		problem = "Too many wrong codes. Try again in " + strconv.Itoa(int(te.RetryAfter.Seconds())) + " seconds."
	case errors.Is(err, totp.ErrInvalidCode):
		problem = "That code is not right (or was used already). Try the current one."
		if strings.HasSuffix(r.URL.Path, "/confirm") {
			// The secret stays set up: the app already has it.
			a.renderTOTP(w, r, totpData{Confirming: true}, "", problem)
			return
		}
	case errors.Is(err, totp.ErrProofRequired):
		problem = "Enter a code from your app, or a recovery code."
	case errors.Is(err, totp.ErrEnabled), errors.Is(err, totp.ErrNotEnabled), errors.Is(err, totp.ErrNoSetup):
		problem = "That does not apply any more: the page was out of date."
	default:
		a.log.Error("two-factor page", "err", err)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "two-factor authentication is not available right now; try again in a moment", http.StatusServiceUnavailable)
		return
	}
	a.renderTOTP(w, r, totpData{}, "", problem)
}
