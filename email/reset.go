package email

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/authgate/authgate"
)

// Forgot password, on the parts of the sign-in link: the same addresses,
// budgets, tokens (purpose "reset", bound to the user's id as well) and
// mailer. Asking for a reset answers the same for every address and does
// the work after the answer, so neither the answer nor its timing tells
// whether an account uses the address; only an address with a user gets a
// mail. Using the link ends every session and device token of the user
// before the new password is stored, then signs the user in afresh.

// maxPasswordBytes is bcrypt's limit, which every sign-in enforces too.
const maxPasswordBytes = 72

// ErrPasswordPolicy reports a new password shorter than
// [Config.MinPasswordLength] characters or longer than 72 bytes. It is
// answered with the code PasswordPolicy; the link stays usable.
var ErrPasswordPolicy = errors.New("email: the new password is too short or too long")

// ErrResetOff reports a password reset asked of an extension whose
// [Config.PasswordReset] is false.
var ErrResetOff = errors.New("email: password reset is not enabled (Config.PasswordReset)")

// resetWork bounds the background work of one reset request (lookup,
// token, mail); the Mailer's own timeout applies inside it.
const resetWork = 2 * time.Minute

// RequestPasswordReset asks for a password reset link for address, as
// POST BasePath/forgot-password does: it normalises the address and asks
// [Config.Limiter] (the sign-in links' budgets) at once, then, in the
// background, looks the user up and, only when there is one, stores a
// token (ending older reset links of the address) and mails the link to
// the reset page with callbackURL. So it returns as fast for an address
// without a user; a store or mail failure in the background is logged,
// never returned. [Extension.Wait] waits for the background work.
//
// Errors wrap [ErrResetOff], [ErrInvalidAddress], [ErrThrottled] (a
// *[ThrottledError]) or [authgate.ErrStore] (the limiter failed).
func (x *Extension[T]) RequestPasswordReset(r *http.Request, address, callbackURL string) error {
	if x.pw == nil {
		return ErrResetOff
	}
	ctx := r.Context()
	addr, err := x.admit(r, address)
	if err != nil {
		return err
	}
	now := x.now()
	client := x.auth.ClientAddr(r)
	callbackURL = cleanCallback(callbackURL)
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), resetWork)
	x.bg.Add(1)
	go func() {
		defer x.bg.Done()
		defer cancel()
		x.sendReset(bg, addr, callbackURL, client, now)
	}()
	return nil
}

// sendReset is the background half of RequestPasswordReset.
func (x *Extension[T]) sendReset(ctx context.Context, addr, callbackURL, client string, now time.Time) {
	logErr := func(msg string, err error) {
		x.log.LogAttrs(ctx, slog.LevelError, msg, slog.String("event", "email_error"), slog.String("to", addr), slog.String("reason", err.Error()))
	}
	u, err := x.adapter.UserByEmail(ctx, addr)
	switch {
	case errors.Is(err, authgate.ErrNotFound):
		x.log.LogAttrs(ctx, slog.LevelInfo, "email: password reset for an address without a user: no mail", slog.String("event", "reset_unknown"),
			slog.String("to", addr), slog.String("addr", client))
		return
	case err != nil:
		logErr("email: password reset: find the user", err)
		return
	}
	tok, exp, err := x.storeToken(ctx, kindReset, addr, u.ID, now)
	if err != nil {
		logErr("email: password reset: link not stored", err)
		return
	}
	page := x.base + "/reset-password"
	if x.cfg.ResetPasswordPage != "" {
		page = x.auth.Origin() + x.cfg.ResetPasswordPage
	}
	d := MailData{URL: linkURL(page, callbackURL, tok, addr), Host: x.host(), Address: addr, Expires: exp, Minutes: minutes(x.cfg.MaxAge)}
	if err := x.send(ctx, x.cfg.ResetMail, d); err != nil {
		if derr := x.dropToken(ctx, kindReset, addr, u.ID, tok); derr != nil {
			logErr("email: password reset: unsent link not deleted", derr)
		}
		return
	}
	x.log.LogAttrs(ctx, slog.LevelInfo, "email: password reset link sent", slog.String("event", "reset_link_sent"),
		slog.String("to", addr), slog.String("sub", u.ID), slog.String("addr", client))
}

// checkPassword applies the length rules to a new password.
func (x *Extension[T]) checkPassword(pw string) error {
	if n := utf8.RuneCountInString(pw); n < x.cfg.MinPasswordLength || len(pw) > maxPasswordBytes || !utf8.ValidString(pw) {
		return fmt.Errorf("%w: at least %d characters and at most %d bytes", ErrPasswordPolicy, x.cfg.MinPasswordLength, maxPasswordBytes)
	}
	return nil
}

// ResetPassword sets a new password with a reset link's address and
// token, as POST BasePath/reset-password does: it checks the length rules
// first (a refused password leaves the link usable), uses the token up
// (once, also across instances), ends every session and device token of
// the user ([authgate.Auth.SignOutEverywhere], on every instance sharing
// the revocation store), stores the password hashed with
// [authgate.Config.Hasher], marks the address verified and signs the user
// in afresh through [authgate.Auth.CompleteSignIn] (account {email,
// email, address}, AMR ["email"]). Call it before writing the response
// body.
//
// It returns where to send the client: callbackURL (through the redirect
// policy) on success, else an error page ("" for ErrPasswordPolicy).
// Errors wrap [ErrResetOff], [ErrPasswordPolicy], [ErrLinkInvalid] (used,
// expired, superseded, another address or user: Verification),
// [authgate.ErrStore], or what CompleteSignIn returned. When the sessions
// could not be ended, the password is not changed.
func (x *Extension[T]) ResetPassword(w http.ResponseWriter, r *http.Request, address, token, password, callbackURL string) (string, error) {
	if x.pw == nil {
		return x.errorURL("Configuration"), ErrResetOff
	}
	ctx := r.Context()
	fail := func(err error) (string, error) { return x.refuse(w, r, "reset_refused", err) }
	if err := x.checkPassword(password); err != nil {
		return "", err
	}
	addr, err := x.normalize(address)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrLinkInvalid, err))
	}
	if !validToken(token) {
		return fail(fmt.Errorf("%w: malformed token", ErrLinkInvalid))
	}
	u, err := x.adapter.UserByEmail(ctx, addr)
	switch {
	case errors.Is(err, authgate.ErrNotFound):
		return fail(fmt.Errorf("%w: no user has the address", ErrLinkInvalid))
	case err != nil:
		return fail(fmt.Errorf("%w: find the user: %w", authgate.ErrStore, err))
	}
	now := x.now()
	if err := x.useToken(ctx, kindReset, addr, u.ID, token, now); err != nil {
		return fail(err)
	}
	// Sessions first: if they cannot be ended, the old password stays
	// and so does every session — never a new password beside a thief's
	// live session.
	if err := x.auth.SignOutEverywhere(ctx, u.ID); err != nil {
		return fail(err)
	}
	hash, err := x.hasher.Hash(password)
	if err != nil {
		return fail(fmt.Errorf("email: hash the new password: %w", err))
	}
	switch err := x.pw.SetPasswordHash(ctx, u.ID, hash); {
	case errors.Is(err, authgate.ErrNotFound):
		return fail(fmt.Errorf("%w: the user is gone", ErrLinkInvalid))
	case err != nil:
		return fail(fmt.Errorf("%w: store the password: %w", authgate.ErrStore, err))
	}
	x.log.LogAttrs(ctx, slog.LevelInfo, "email: password reset", slog.String("event", "password_reset"),
		slog.String("sub", u.ID), slog.String("addr", x.auth.ClientAddr(r)))
	return x.auth.CompleteSignIn(w, r, fromAdapter[T](u), authgate.SignInMethod{
		Account:     authgate.Account{Provider: x.id, Type: "email", ProviderAccountID: addr},
		AMR:         []string{"email"},
		CallbackURL: callbackURL,
		Commit:      func(c context.Context, _ *authgate.AdapterUser) error { return x.markVerified(c, u, now) },
	})
}

// serveForgot is POST BasePath/forgot-password: the same answer for
// every valid address, NextAuth's verify-request URL with type=reset.
func (x *Extension[T]) serveForgot(w http.ResponseWriter, r *http.Request) {
	x.serveMailRequest(w, r, kindReset, x.RequestPasswordReset)
}

// serveResetPage is GET (and HEAD) BasePath/reset-password: the link in
// the mail. It uses nothing up and shows the new-password form.
func (x *Extension[T]) serveResetPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	x.resetForm(w, r, http.StatusOK, q.Get("email"), q.Get("token"), q.Get("callbackUrl"), q.Get("error"))
}

// resetForm shows the new-password form for a link, with the message of
// code, or sends an unusable link to Verification.
func (x *Extension[T]) resetForm(w http.ResponseWriter, r *http.Request, status int, address, token, callbackURL, code string) {
	addr, err := x.normalize(address)
	if err != nil || !validToken(token) {
		http.Redirect(w, r, x.errorURL(CodeVerification), http.StatusFound)
		return
	}
	msg := ""
	if code == CodePasswordPolicy {
		msg = fmt.Sprintf("Choose a password of at least %d characters (and at most %d bytes).", x.cfg.MinPasswordLength, maxPasswordBytes)
	}
	x.render(w, status, page{Kind: "reset", Title: "Choose a new password", Host: x.host(), Address: addr,
		Action: x.base + "/reset-password", CSRF: x.auth.CSRFToken(w, r), Token: token,
		Callback: cleanCallback(callbackURL), Message: msg, MinLength: x.cfg.MinPasswordLength})
}

// serveReset is POST BasePath/reset-password ([Extension.ResetPassword]).
// A password that breaks the length rules gets the form again (400; JSON
// clients {"error":"PasswordPolicy"}), or, with Config.ResetPasswordPage,
// a redirect back to it with error=PasswordPolicy.
func (x *Extension[T]) serveReset(w http.ResponseWriter, r *http.Request) {
	f, jsonMode, ok := x.readProtected(w, r)
	if !ok {
		return
	}
	target, err := x.ResetPassword(w, r, f["email"], f["token"], f["password"], f["callbackUrl"])
	if errors.Is(err, ErrPasswordPolicy) {
		switch {
		case jsonMode:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": CodePasswordPolicy})
		case x.cfg.ResetPasswordPage != "":
			back := linkURL(x.auth.Origin()+x.cfg.ResetPasswordPage, cleanCallback(f["callbackUrl"]), f["token"], f["email"])
			http.Redirect(w, r, back+"&error="+url.QueryEscape(CodePasswordPolicy), http.StatusSeeOther)
		default:
			x.resetForm(w, r, http.StatusBadRequest, f["email"], f["token"], f["callbackUrl"], CodePasswordPolicy)
		}
		return
	}
	answer(w, r, jsonMode, statusOf(err), target)
}
