package main

// passkey.go is the demo's passkey set-up: authgate's passkey extension
// (github.com/authgate/authgate/passkey) signing in the demo's users, and
// the "Your passkeys" page that lists, renames and deletes them. The
// buttons ("Add a passkey" on the dashboard, "Sign in with a passkey" on
// the login page) are static/passkey.js, on the browser helper the
// extension serves at /api/auth/passkey/client.js.

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/passkey"
)

// newPasskeys is the passkey extension: the relying party is the demo's
// URL, whose host name is the RP ID, and a passkey signs its owner in with
// the same session fields as the password form (the username as the
// name). Browsers offer passkeys on https and on http://localhost only,
// and an IP address cannot be an RP ID: on such a URL (such as
// http://127.0.0.1:8080) passkeys are off, and it returns nil.
func (a *app) newPasskeys(publicURL string) *passkey.Passkeys[Claims] {
	u, err := url.Parse(publicURL)
	if err != nil {
		return nil
	}
	if _, err := netip.ParseAddr(u.Hostname()); err == nil {
		a.log.Warn("passkeys are off: an IP address cannot be a WebAuthn RP ID; use a host name such as http://localhost:"+u.Port(),
			"url", publicURL)
		return nil
	}
	return passkey.New(passkey.Config[Claims]{
		User: func(ctx context.Context, id string) (*authgate.User[Claims], error) {
			u, err := a.store.UserByID(ctx, id)
			if errors.Is(err, ErrNoUser) {
				return nil, authgate.ErrNotFound
			}
			if err != nil {
				return nil, err
			}
			name := u.Username
			if name == "" {
				name = u.Email
			}
			return &authgate.User[Claims]{ID: u.ID, Name: name, Email: u.Email, Role: u.Role}, nil
		},
	})
}

// passkeyExtensions is the Extensions entry of authgate's Config: the
// passkey extension, when passkeys are on.
func (a *app) passkeyExtensions() []authgate.Extension[Claims] {
	if a.passkeys == nil {
		return nil
	}
	return []authgate.Extension[Claims]{a.passkeys}
}

// mountPasskeys adds the "Your passkeys" page and its forms to mux, when
// passkeys are on.
func (a *app) mountPasskeys(mux *http.ServeMux) {
	if a.passkeys == nil {
		return
	}
	mux.Handle("GET /passkeys", a.auth.RequireAuth(http.HandlerFunc(a.passkeyList)))
	cop := http.NewCrossOriginProtection()
	mux.Handle("POST /passkeys/rename", cop.Handler(a.auth.RequireAuth(http.HandlerFunc(a.renamePasskey))))
	mux.Handle("POST /passkeys/delete", cop.Handler(a.auth.RequireAuth(http.HandlerFunc(a.deletePasskey))))
}

// passkeyMessages are the notices and errors of ?added, ?renamed, ?deleted
// and ?error on /passkeys.
var passkeyMessages = map[string]string{
	"added":      "Your passkey is added. Next time, sign in with it: no password.",
	"renamed":    "The passkey is renamed.",
	"deleted":    "The passkey is deleted.",
	"LastSignIn": "That passkey is your last way to sign in: add another one (or a password) first.",
	"BadName":    "A name is 1 to 64 printable characters.",
	"NotFound":   "That passkey does not exist any more.",
}

// passkeyList is GET /passkeys: the signed-in user's passkeys.
func (a *app) passkeyList(w http.ResponseWriter, r *http.Request) {
	list, err := a.passkeys.Credentials(r)
	if err != nil {
		a.log.Error("list passkeys", "err", err)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "the passkey list is not available right now; try again in a moment", http.StatusServiceUnavailable)
		return
	}
	q := r.URL.Query()
	d := pageData{Title: "Your passkeys", Passkeys: list, Error: passkeyMessages[q.Get("error")]}
	for _, k := range []string{"added", "renamed", "deleted"} {
		if q.Has(k) {
			d.Notice = passkeyMessages[k]
		}
	}
	a.render(w, r, http.StatusOK, "passkeys", d)
}

// renamePasskey is POST /passkeys/rename (form fields id, name).
func (a *app) renamePasskey(w http.ResponseWriter, r *http.Request) {
	a.passkeyChange(w, r, "renamed", a.passkeys.Rename(r, r.PostFormValue("id"), r.PostFormValue("name")))
}

// deletePasskey is POST /passkeys/delete (form field id). The extension
// asks for a recent sign-in and keeps the last way to sign in.
func (a *app) deletePasskey(w http.ResponseWriter, r *http.Request) {
	a.passkeyChange(w, r, "deleted", a.passkeys.Delete(r, r.PostFormValue("id")))
}

// passkeyChange answers a rename or delete with a redirect back to the
// list, saying how it went.
func (a *app) passkeyChange(w http.ResponseWriter, r *http.Request, done string, err error) {
	switch {
	case err == nil:
		http.Redirect(w, r, "/passkeys?"+done+"=1", http.StatusSeeOther)
	case errors.Is(err, passkey.ErrFreshSignInRequired):
		http.Redirect(w, r, "/login?error=FreshSignIn&callbackUrl=%2Fpasskeys", http.StatusSeeOther)
	case errors.Is(err, passkey.ErrLastSignIn):
		http.Redirect(w, r, "/passkeys?error=LastSignIn", http.StatusSeeOther)
	case errors.Is(err, passkey.ErrBadName):
		http.Redirect(w, r, "/passkeys?error=BadName", http.StatusSeeOther)
	case errors.Is(err, authgate.ErrNotFound):
		http.Redirect(w, r, "/passkeys?error=NotFound", http.StatusSeeOther)
	default:
		a.log.Error("change a passkey", "err", err)
		http.Error(w, "could not change the passkey; try again in a moment", http.StatusServiceUnavailable)
	}
}
