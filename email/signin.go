package email

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/authgate/authgate"
)

// SendLink mails a sign-in link for address, as POST
// BasePath/signin/email does: it normalises the address ([Config.Normalize]),
// asks [Config.Limiter], stores the link's token (which ends every older
// link of the address) and sends the mail through [Config.Mailer], bounded
// by r's context. The link signs in to callbackURL (which the redirect
// policy checks when it is used; "" means the origin).
//
// Whether the address belongs to a user makes no difference: the SignIn
// callback decides when the link is used. Errors wrap [ErrInvalidAddress]
// (nothing was sent, nothing stored), [ErrThrottled] (a *[ThrottledError]),
// [authgate.ErrStore] (the limiter or the adapter failed) or [ErrSend]
// (the mail was not handed over; its token was deleted again).
func (x *Extension[T]) SendLink(r *http.Request, address, callbackURL string) error {
	ctx := r.Context()
	addr, err := x.admit(r, address)
	if err != nil {
		return err
	}
	now := x.now()
	tok, exp, err := x.storeToken(ctx, kindSignIn, addr, "", now)
	if err != nil {
		x.log.LogAttrs(ctx, slog.LevelError, "email: link not stored", slog.String("event", "email_error"), slog.String("reason", err.Error()))
		return err
	}
	link := linkURL(x.base+"/callback/"+x.id, cleanCallback(callbackURL), tok, addr)
	if err := x.send(ctx, x.cfg.SignInMail, MailData{URL: link, Host: x.host(), Address: addr, Expires: exp, Minutes: minutes(x.cfg.MaxAge)}); err != nil {
		if derr := x.dropToken(ctx, kindSignIn, addr, "", tok); derr != nil {
			x.log.LogAttrs(ctx, slog.LevelError, "email: unsent link not deleted", slog.String("event", "email_error"), slog.String("reason", derr.Error()))
		}
		return err
	}
	x.log.LogAttrs(ctx, slog.LevelInfo, "email: sign-in link sent", slog.String("event", "email_link_sent"),
		slog.String("to", addr), slog.String("addr", x.auth.ClientAddr(r)))
	return nil
}

// send renders d with t and hands the mail to the Mailer, bounded by ctx.
// Errors wrap ErrSend and are logged.
func (x *Extension[T]) send(ctx context.Context, t *Templates, d MailData) error {
	msg, err := t.Render(d)
	if err == nil {
		err = x.cfg.Mailer.Send(ctx, msg)
	}
	if err != nil {
		if !errors.Is(err, ErrSend) {
			err = fmt.Errorf("%w: %w", ErrSend, err)
		}
		x.log.LogAttrs(ctx, slog.LevelError, "email: mail not sent", slog.String("event", "email_error"),
			slog.String("to", d.Address), slog.String("reason", err.Error()))
	}
	return err
}

// UseLink signs in with a link's address and token, as the confirmation
// page's button (POST BasePath/callback/email) does: it uses the token up
// (once, also across instances), finds the user by address — or, for an
// address without a user, lets the SignIn callback decide on a sign-up
// (the user has no ID yet) and creates them only once it allowed it —,
// marks the address verified, and signs in through
// [authgate.Auth.CompleteSignIn] with the account {email, email, address}
// and AMR ["email"]. Call it before writing the response body.
//
// It returns where to send the client: callbackURL (through the redirect
// policy) on success, else an error page. Errors wrap [ErrLinkInvalid]
// (used, expired, superseded, another address, altered: Verification),
// [authgate.ErrStore], or whatever CompleteSignIn returned
// ([authgate.ErrAccessDenied], …).
func (x *Extension[T]) UseLink(w http.ResponseWriter, r *http.Request, address, token, callbackURL string) (string, error) {
	ctx := r.Context()
	fail := func(err error) (string, error) { return x.refuse(w, r, "email_link_refused", err) }
	addr, err := x.normalize(address)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrLinkInvalid, err))
	}
	now := x.now()
	if err := x.useToken(ctx, kindSignIn, addr, "", token, now); err != nil {
		return fail(err)
	}
	user, commit, err := x.linkUser(r, addr, now)
	if err != nil {
		return fail(err)
	}
	return x.auth.CompleteSignIn(w, r, user, authgate.SignInMethod{
		Account:     authgate.Account{Provider: x.id, Type: "email", ProviderAccountID: addr},
		AMR:         []string{"email"},
		CallbackURL: callbackURL,
		Commit:      commit,
	})
}

// linkUser returns the user a used link for addr signs in, and the commit
// that stores what the sign-in changes once the SignIn callback allowed
// it: the address marked verified, or the new user created (verified). A
// user who is not stored yet has no ID, so the SignIn callback can tell a
// sign-up, as NextAuth's placeholder user does.
func (x *Extension[T]) linkUser(r *http.Request, addr string, now time.Time) (*authgate.User[T], func(context.Context, *authgate.AdapterUser) error, error) {
	stored, err := x.adapter.UserByEmail(r.Context(), addr)
	switch {
	case err == nil:
		return fromAdapter[T](stored), func(c context.Context, _ *authgate.AdapterUser) error { return x.markVerified(c, stored, now) }, nil
	case !errors.Is(err, authgate.ErrNotFound):
		return nil, nil, fmt.Errorf("%w: find the user: %w", authgate.ErrStore, err)
	}
	create := func(c context.Context, u *authgate.AdapterUser) error {
		u.Email, u.EmailVerified = addr, now.UTC()
		err := x.adapter.CreateUser(c, u)
		if errors.Is(err, authgate.ErrConflict) {
			// Another sign-in made a user with this address meanwhile
			// (another link, an OAuth sign-up): this link proved the
			// mailbox, so it signs in to that user, as the next link would.
			won, ferr := x.adapter.UserByEmail(c, addr)
			if ferr != nil {
				return fmt.Errorf("%w: find the user: %w", authgate.ErrStore, ferr)
			}
			u.ID = won.ID
			return x.markVerified(c, won, now)
		}
		if err != nil {
			return fmt.Errorf("%w: create the user: %w", authgate.ErrStore, err)
		}
		return nil
	}
	return &authgate.User[T]{Email: addr}, create, nil
}

// markVerified stores that u proved their address now, unless they had.
func (x *Extension[T]) markVerified(c context.Context, u *authgate.AdapterUser, now time.Time) error {
	if !u.EmailVerified.IsZero() {
		return nil
	}
	v := *u
	v.EmailVerified = now.UTC()
	if err := x.adapter.UpdateUser(c, &v); err != nil {
		return fmt.Errorf("%w: mark the address verified: %w", authgate.ErrStore, err)
	}
	return nil
}

// fromAdapter is the User a stored user signs in as.
func fromAdapter[T any](u *authgate.AdapterUser) *authgate.User[T] {
	return &authgate.User[T]{ID: u.ID, Name: u.Name, Email: u.Email, Image: u.Image, Role: u.Role}
}

// serveSend is POST BasePath/signin/email: next-auth/react's
// signIn("email", {email}). It answers NextAuth's verify-request URL, or
// an error page: EmailSignin (400 for a bad address, 503 when the mail
// failed), TooManyAttempts (429) or Busy (503).
func (x *Extension[T]) serveSend(w http.ResponseWriter, r *http.Request) {
	x.serveMailRequest(w, r, kindSignIn, x.SendLink)
}

// serveMailRequest answers a POST that asks for a mail of kind: ask
// (SendLink, RequestPasswordReset) does the work with the body's email and
// callbackUrl; the answer is NextAuth's verify-request URL or an error
// page.
func (x *Extension[T]) serveMailRequest(w http.ResponseWriter, r *http.Request, kind string, ask func(*http.Request, string, string) error) {
	f, jsonMode, ok := x.readProtected(w, r)
	if !ok {
		return
	}
	if err := ask(r, f["email"], f["callbackUrl"]); err != nil {
		status, target := x.failure(w, err)
		answer(w, r, jsonMode, status, target)
		return
	}
	answer(w, r, jsonMode, http.StatusOK, x.verifyURL(kind))
}

// serveConfirm is GET (and HEAD) BasePath/callback/email: the link in the
// mail. It uses nothing up — a link scanner that fetches it, or a HEAD,
// leaves the link working — and shows a page with one button that posts
// the token back (serveUse).
func (x *Extension[T]) serveConfirm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	addr, err := x.normalize(q.Get("email"))
	if err != nil || !validToken(q.Get("token")) {
		http.Redirect(w, r, x.errorURL(CodeVerification), http.StatusFound)
		return
	}
	x.render(w, http.StatusOK, page{Kind: "confirm", Title: "Sign in", Host: x.host(), Address: addr,
		Action: x.base + "/callback/" + x.id, CSRF: x.auth.CSRFToken(w, r),
		Token: q.Get("token"), Callback: cleanCallback(q.Get("callbackUrl"))})
}

// serveUse is POST BasePath/callback/email: the confirmation page's
// button ([Extension.UseLink]).
func (x *Extension[T]) serveUse(w http.ResponseWriter, r *http.Request) {
	f, jsonMode, ok := x.readProtected(w, r)
	if !ok {
		return
	}
	target, err := x.UseLink(w, r, f["email"], f["token"], f["callbackUrl"])
	answer(w, r, jsonMode, statusOf(err), target)
}

// statusOf is the HTTP status of a sign-in's outcome.
func statusOf(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrLinkInvalid), errors.Is(err, authgate.ErrAccessDenied):
		return http.StatusForbidden
	case errors.Is(err, authgate.ErrStore):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// serveVerifyRequest is GET BasePath/verify-request: "check your e-mail",
// or a redirect to [Config.VerifyRequestPage] with the same query.
func (x *Extension[T]) serveVerifyRequest(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("type")
	if kind != kindReset {
		kind = kindSignIn
	}
	if x.cfg.VerifyRequestPage != "" {
		http.Redirect(w, r, x.auth.Origin()+x.cfg.VerifyRequestPage+"?provider="+x.id+"&type="+kind, http.StatusFound)
		return
	}
	x.render(w, http.StatusOK, page{Kind: "verify-" + kind, Title: "Check your e-mail", Host: x.host(), Minutes: minutes(x.cfg.MaxAge), Action: x.auth.Origin()})
}
