package passkey

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authgate/authgate"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Codes in the "error" of the JSON answers and of the error URLs.
const (
	// CodeVerification is Auth.js's code for a WebAuthn answer that did
	// not verify: a replayed or foreign challenge, a wrong origin or RP
	// ID, a bad signature, no user verification, a counter that did not
	// increase, an unknown or already registered credential.
	CodeVerification = "WebAuthnVerificationError"
	// CodeFreshSignInRequired answers a change that needs a recent
	// sign-in (see [Config.MaxAuthAge]).
	CodeFreshSignInRequired = "FreshAuthRequired"
	// CodeSessionRequired answers a registration without a signed-in user.
	CodeSessionRequired = "SessionRequired"
)

// ceremony is the challenge cookie's value: the provider and action it
// was begun for, go-webauthn's session data (the challenge, the RP ID,
// the user handle of a registration), the signed-in user a registration
// is for, and the limiter attempt the options took, settled by the
// callback.
type ceremony struct {
	Provider string               `json:"p"`
	Action   string               `json:"a"`
	UserID   string               `json:"u,omitempty"`
	Session  webauthn.SessionData `json:"s"`
	Addr     string               `json:"ip"`
	At       int64                `json:"t"`
}

// session returns r's session, nil when r has none, or the fault that kept
// it from being checked.
func (p *Passkeys[T]) session(r *http.Request) (*authgate.Session[T], error) {
	if s, ok := p.auth.FromContext(r.Context()); ok {
		return s, nil
	}
	s, err := p.auth.Check(r)
	switch {
	case err == nil:
		return s, nil
	case isFault(err):
		return nil, err
	}
	return nil, nil
}

// isFault reports an error that is a store or callback fault, not a
// verdict.
func isFault(err error) bool {
	return errors.Is(err, authgate.ErrStore) || errors.Is(err, authgate.ErrCallback)
}

// fresh reports whether s signed in at most MaxAuthAge ago.
func (p *Passkeys[T]) fresh(s *authgate.Session[T]) bool {
	return p.now().Sub(s.AuthTime()) <= p.cfg.MaxAuthAge
}

// serveOptions is GET /webauthn-options/{id}: the options of a ceremony,
// whose state goes into the challenge cookie. With action=register the
// signed-in, recently signed-in user adds a passkey; with
// action=authenticate (or none, for an anonymous visitor) anyone begins a
// discoverable sign-in. The email parameter Auth.js reads is ignored:
// registration is for the session's user only, and sign-in never says
// which passkeys an address has.
func (p *Passkeys[T]) serveOptions(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	ctx := r.Context()
	action := r.URL.Query().Get("action")
	if action != "" && action != "register" && action != "authenticate" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Invalid action"})
		return
	}
	s, err := p.session(r)
	if err != nil {
		p.fault(w, r, "options: session", err)
		return
	}
	switch {
	case action == "" && s != nil:
		// Auth.js's answer: a signed-in user must say what they want.
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Invalid request"})
		return
	case action == "":
		action = "authenticate"
	case action == "register" && s == nil:
		p.log.LogAttrs(ctx, slog.LevelInfo, "passkey: registration refused", slog.String("event", "passkey_refused"),
			slog.String("reason", "no session"), slog.String("addr", p.auth.ClientAddr(r)))
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": CodeSessionRequired})
		return
	case action == "register" && !p.fresh(s):
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": CodeFreshSignInRequired})
		return
	}

	att, ok := p.allow(w, r)
	if !ok {
		return
	}
	c := ceremony{Provider: p.cfg.ID, Action: action, Addr: att.Addr, At: att.Time.UnixNano()}
	var options any
	if action == "register" {
		options, err = p.beginRegistration(ctx, s, &c)
	} else {
		var a *protocol.CredentialAssertion
		var sd *webauthn.SessionData
		a, sd, err = p.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
		if err == nil {
			options, c.Session = a.Response, *sd
		}
	}
	if err == nil {
		err = p.auth.SetCheckCookie(w, r, checkName, c, p.cfg.Timeout)
	}
	if err != nil {
		p.settle(ctx, att, authgate.AttemptNotChecked)
		p.fault(w, r, "options", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"action": action, "options": options})
}

// beginRegistration returns the creation options for s's user: their
// stable user handle, their passkeys excluded (an authenticator holding
// one says so instead of making a second).
func (p *Passkeys[T]) beginRegistration(ctx context.Context, s *authgate.Session[T], c *ceremony) (any, error) {
	h, err := p.store.UserHandle(ctx, s.User.ID)
	if err != nil {
		return nil, err
	}
	have, err := p.store.Passkeys(ctx, s.User.ID)
	if err != nil {
		return nil, err
	}
	exclude := make([]protocol.CredentialDescriptor, len(have))
	for i := range have {
		c := credential(&have[i])
		exclude[i] = c.Descriptor()
	}
	name := s.User.Email
	if name == "" {
		name = s.User.Name
	}
	if name == "" {
		name = s.User.ID
	}
	display := s.User.Name
	if display == "" {
		display = name
	}
	cr, sd, err := p.wa.BeginRegistration(&waUser{handle: h, name: name, display: display}, webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, err
	}
	c.UserID, c.Session = s.User.ID, *sd
	return cr.Response, nil
}

// allow asks the Limiter whether r's address may begin a ceremony. Each
// ceremony takes one unit of the address's budget, as a password attempt
// does (every options request writes a single-use challenge to the
// adapter); the callback settles it, so a completed ceremony gives it back
// and an abandoned or failed one keeps it. On refusal it answers r itself.
func (p *Passkeys[T]) allow(w http.ResponseWriter, r *http.Request) (authgate.Attempt, bool) {
	att := authgate.Attempt{Addr: p.auth.ClientAddr(r), Time: p.now()}
	retry, err := p.limiter.Allow(r.Context(), att)
	switch {
	case err != nil:
		p.fault(w, r, "limiter", err)
		return att, false
	case retry > 0:
		p.log.LogAttrs(r.Context(), slog.LevelWarn, "passkey: ceremony throttled", slog.String("event", "passkey_throttled"),
			slog.String("addr", att.Addr))
		w.Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": authgate.CodeTooManyAttempts})
		return att, false
	}
	return att, true
}

// settle reports how the ceremony of att ended to the Limiter.
func (p *Passkeys[T]) settle(ctx context.Context, att authgate.Attempt, o authgate.Outcome) {
	if err := p.limiter.Record(ctx, att, o); err != nil {
		p.log.LogAttrs(ctx, slog.LevelError, "passkey: limiter record failed", slog.String("event", "limiter_error"),
			slog.String("reason", err.Error()))
	}
}

// result is how a callback ends: the status, where the client goes, and
// the ceremony's outcome for the Limiter.
type result struct {
	status  int
	url     string
	outcome authgate.Outcome
}

// serveCallback is POST /callback/{id}: the browser's answer to a
// ceremony, in Auth.js's form fields.
func (p *Passkeys[T]) serveCallback(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, p.maxBody)
	if err := r.ParseForm(); err != nil {
		status := http.StatusBadRequest
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		writeJSON(w, status, map[string]string{"error": authgate.CodeBadRequest, "url": p.errorURL(authgate.CodeBadRequest)})
		return
	}
	f := r.PostForm
	jsonMode := r.Header.Get("X-Auth-Return-Redirect") == "1" || f.Get("json") == "true"
	// Auth.js sends the token and does not check it; authgate does.
	token := f.Get("csrfToken")
	if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(p.auth.CSRFToken(w, r))) != 1 {
		p.log.LogAttrs(ctx, slog.LevelWarn, "passkey: csrf refused", slog.String("event", "csrf_refused"),
			slog.String("addr", p.auth.ClientAddr(r)))
		p.answer(w, r, jsonMode, http.StatusForbidden, p.errorURL(authgate.CodeMissingCSRF))
		return
	}
	var c ceremony
	if err := p.auth.UseCheckCookie(w, r, checkName, &c); err != nil {
		if errors.Is(err, authgate.ErrStore) {
			p.answerFault(w, r, jsonMode, "challenge cookie", err)
			return
		}
		p.refused(ctx, r, "challenge cookie: "+err.Error())
		p.answer(w, r, jsonMode, http.StatusUnauthorized, p.errorURL(CodeVerification))
		return
	}
	action := f.Get("action")
	if c.Provider != p.cfg.ID || c.Action != action {
		p.refused(ctx, r, "the challenge cookie is for another provider or action")
		p.answer(w, r, jsonMode, http.StatusUnauthorized, p.errorURL(CodeVerification))
		return
	}
	att := authgate.Attempt{Addr: c.Addr, Time: time.Unix(0, c.At)}
	data := []byte(f.Get("data"))
	var res result
	if action == "register" {
		res = p.finishRegistration(w, r, &c, data, f.Get("name"), f.Get("callbackUrl"))
	} else {
		res = p.finishAuthentication(w, r, &c, data, f.Get("callbackUrl"))
	}
	p.settle(ctx, att, res.outcome)
	p.answer(w, r, jsonMode, res.status, res.url)
}

// finishRegistration verifies a new credential for the user the ceremony
// was begun for, who must still be signed in, and stores it. The session
// is left as it is: adding a passkey is not a sign-in, so it neither makes
// the session fresh nor adds "mfa" to its AMR.
func (p *Passkeys[T]) finishRegistration(w http.ResponseWriter, r *http.Request, c *ceremony, data []byte, name, callbackURL string) result {
	ctx := r.Context()
	s, err := p.session(r)
	if err != nil {
		return p.faultResult(r, "registration: session", err)
	}
	if s == nil || s.User.ID != c.UserID {
		p.refused(ctx, r, "registration: not signed in as the user it was begun for")
		return result{http.StatusUnauthorized, p.errorURL(CodeSessionRequired), authgate.AttemptFailed}
	}
	h, err := p.store.UserHandle(ctx, c.UserID)
	if err != nil {
		return p.faultResult(r, "registration: user handle", err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(data)
	if err != nil {
		p.refused(ctx, r, "registration: "+describe(err))
		return result{http.StatusUnauthorized, p.errorURL(CodeVerification), authgate.AttemptFailed}
	}
	cred, err := p.wa.CreateCredential(&waUser{handle: h}, c.Session, parsed)
	if err != nil {
		p.refused(ctx, r, "registration: "+describe(err))
		return result{http.StatusUnauthorized, p.errorURL(CodeVerification), authgate.AttemptFailed}
	}
	if name == "" {
		name = "Passkey"
	}
	if err := validName(name); err != nil {
		name = "Passkey"
	}
	rec := record(c.UserID, name, cred)
	rec.Created = p.now().UTC()
	rec.LastUsed = rec.Created
	switch err := p.store.CreatePasskey(ctx, rec); {
	case errors.Is(err, authgate.ErrConflict):
		p.refused(ctx, r, "registration: the credential is registered already")
		return result{http.StatusUnauthorized, p.errorURL(CodeVerification), authgate.AttemptFailed}
	case err != nil:
		return p.faultResult(r, "registration: store", err)
	}
	p.log.LogAttrs(ctx, slog.LevelInfo, "passkey: registered", slog.String("event", "passkey_registered"),
		slog.String("sub", c.UserID), slog.String("credential", shortID(cred.ID)), slog.Bool("synced", cred.Flags.BackupState))
	target := p.origin
	if callbackURL != "" {
		target, _ = authgate.SameOrigin(ctx, authgate.RedirectParams{URL: callbackURL, BaseURL: p.origin})
	}
	return result{http.StatusOK, target, authgate.AttemptSucceeded}
}

// finishAuthentication verifies a discoverable sign-in: the credential is
// found by its id, its owner's stable user handle must match the one the
// authenticator returned, go-webauthn checks the challenge, origin, RP ID,
// user verification, signature and counter; the counter, backup state and
// last use are written back before the owner is signed in.
func (p *Passkeys[T]) finishAuthentication(w http.ResponseWriter, r *http.Request, c *ceremony, data []byte, callbackURL string) result {
	ctx := r.Context()
	parsed, err := protocol.ParseCredentialRequestResponseBytes(data)
	if err != nil {
		p.refused(ctx, r, "sign-in: "+describe(err))
		return result{http.StatusUnauthorized, p.errorURL(CodeVerification), authgate.AttemptFailed}
	}
	var (
		stored *authgate.Passkey
		fault  error
	)
	owner := func(rawID, userHandle []byte) (webauthn.User, error) {
		k, err := p.store.Passkey(ctx, rawID)
		if err != nil {
			if !errors.Is(err, authgate.ErrNotFound) {
				fault = err
			}
			return nil, err
		}
		h, err := p.store.UserHandle(ctx, k.UserID)
		if err != nil {
			fault = err
			return nil, err
		}
		stored = k
		// @simplewebauthn/browser 9 (next-auth/webauthn's) gives the
		// authenticator user.id as the text it received, the handle's
		// base64url, and returns it as that text: the same handle.
		if !bytes.Equal(userHandle, h) && bytes.Equal(userHandle, []byte(base64.RawURLEncoding.EncodeToString(h))) {
			h = userHandle
		}
		return &waUser{handle: h, creds: []webauthn.Credential{credential(k)}}, nil
	}
	_, cred, err := p.wa.ValidatePasskeyLogin(owner, c.Session, parsed)
	switch {
	case fault != nil:
		return p.faultResult(r, "sign-in: find the credential", fault)
	case err != nil:
		p.refused(ctx, r, "sign-in: "+describe(err))
		return result{http.StatusUnauthorized, p.errorURL(CodeVerification), authgate.AttemptFailed}
	case cred.Authenticator.CloneWarning:
		return p.counterRefused(r, stored, parsed.Response.AuthenticatorData.Counter)
	}
	upd := used(stored, cred)
	upd.LastUsed = p.now().UTC()
	switch err := p.store.UsePasskey(ctx, upd); {
	case errors.Is(err, authgate.ErrConflict):
		// Another sign-in with this counter value won the race.
		return p.counterRefused(r, stored, parsed.Response.AuthenticatorData.Counter)
	case errors.Is(err, authgate.ErrNotFound):
		p.refused(ctx, r, "sign-in: the passkey was deleted meanwhile")
		return result{http.StatusUnauthorized, p.errorURL(CodeVerification), authgate.AttemptFailed}
	case err != nil:
		return p.faultResult(r, "sign-in: store the counter", err)
	}
	user, err := p.cfg.User(ctx, stored.UserID)
	switch {
	case errors.Is(err, authgate.ErrNotFound):
		p.refused(ctx, r, "sign-in: the passkey's user does not exist")
		return result{http.StatusForbidden, p.errorURL(authgate.CodeAccessDenied), authgate.AttemptSucceeded}
	case err != nil:
		return p.faultResult(r, "sign-in: find the user", err)
	}
	target, err := p.auth.CompleteSignIn(w, r, user, authgate.SignInMethod{
		Account: authgate.Account{Provider: p.cfg.ID, Type: "webauthn",
			ProviderAccountID: base64.StdEncoding.EncodeToString(stored.CredentialID)},
		AMR:         AMR,
		CallbackURL: callbackURL,
	})
	status := http.StatusOK
	switch {
	case errors.Is(err, authgate.ErrAccessDenied):
		status = http.StatusForbidden
	case errors.Is(err, authgate.ErrStore):
		status = http.StatusServiceUnavailable
	case err != nil:
		status = http.StatusInternalServerError
	}
	return result{status, target, authgate.AttemptSucceeded}
}

// counterRefused refuses a sign-in whose counter did not increase: the
// credential may have been copied. It is logged, and the clone warning
// stored for the user to see in their list.
func (p *Passkeys[T]) counterRefused(r *http.Request, k *authgate.Passkey, counter uint32) result {
	ctx := r.Context()
	p.log.LogAttrs(ctx, slog.LevelWarn, "passkey: sign counter did not increase", slog.String("event", "passkey_clone_warning"),
		slog.String("sub", k.UserID), slog.String("credential", shortID(k.CredentialID)),
		slog.Uint64("stored", uint64(k.SignCount)), slog.Uint64("presented", uint64(counter)), slog.String("addr", p.auth.ClientAddr(r)))
	warn := *k
	warn.CloneWarning = true
	if err := p.store.UpdatePasskey(ctx, &warn); err != nil {
		p.log.LogAttrs(ctx, slog.LevelError, "passkey: clone warning not stored", slog.String("event", "passkey_error"),
			slog.String("reason", err.Error()))
	}
	return result{http.StatusUnauthorized, p.errorURL(CodeVerification), authgate.AttemptFailed}
}

// refused logs a ceremony that did not verify.
func (p *Passkeys[T]) refused(ctx context.Context, r *http.Request, reason string) {
	p.log.LogAttrs(ctx, slog.LevelWarn, "passkey: refused", slog.String("event", "passkey_refused"),
		slog.String("reason", clip(reason)), slog.String("addr", p.auth.ClientAddr(r)))
}

// faultResult logs a store (or callback) fault of a callback: the
// ceremony is answered Busy, and its limiter unit given back.
func (p *Passkeys[T]) faultResult(r *http.Request, what string, err error) result {
	p.log.LogAttrs(r.Context(), slog.LevelError, "passkey: fault", slog.String("event", "passkey_error"),
		slog.String("step", what), slog.String("reason", clip(err.Error())))
	return result{http.StatusServiceUnavailable, p.errorURL(authgate.CodeBusy), authgate.AttemptNotChecked}
}

// fault answers a JSON endpoint that could not be served: 503 Busy,
// logged; no cookie is touched.
func (p *Passkeys[T]) fault(w http.ResponseWriter, r *http.Request, what string, err error) {
	p.faultResult(r, what, err)
	w.Header().Set("Retry-After", "1")
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": authgate.CodeBusy})
}

// answerFault answers a callback that could not be served.
func (p *Passkeys[T]) answerFault(w http.ResponseWriter, r *http.Request, jsonMode bool, what string, err error) {
	res := p.faultResult(r, what, err)
	w.Header().Set("Retry-After", "1")
	p.answer(w, r, jsonMode, res.status, res.url)
}

// answer sends the client to target: {"url": target} with status for a
// client that asked for JSON (X-Auth-Return-Redirect: 1 or json=true),
// else a 302.
func (p *Passkeys[T]) answer(w http.ResponseWriter, r *http.Request, jsonMode bool, status int, target string) {
	if jsonMode {
		writeJSON(w, status, map[string]string{"url": target})
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// describe is go-webauthn's reason for a refusal, for the log: its
// details and debug information (never a key or a signature).
func describe(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		if pe.DevInfo != "" {
			return pe.Type + ": " + pe.Details + " (" + pe.DevInfo + ")"
		}
		return pe.Type + ": " + pe.Details
	}
	return err.Error()
}

// clip bounds a logged string.
func clip(s string) string {
	if len(s) <= 200 {
		return s
	}
	for i := 200; i > 196; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return s[:196] + "…"
}

// shortID is a credential id for the log: enough to tell keys apart.
func shortID(id []byte) string {
	s := base64.RawURLEncoding.EncodeToString(id)
	if len(s) > 12 {
		s = s[:12]
	}
	return s
}

// validName checks a passkey's name.
func validName(name string) error {
	n := 0
	for _, c := range name {
		n++
		if c == utf8.RuneError || !unicode.IsPrint(c) {
			return ErrBadName
		}
	}
	if n == 0 || n > 64 {
		return ErrBadName
	}
	return nil
}

// noStore marks an answer as never cached.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"Configuration"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
