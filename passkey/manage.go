package passkey

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/authgate/authgate"
)

// Credential is one of a user's passkeys, as their list shows it. It
// holds no key material.
type Credential struct {
	// ID is the credential id, base64url without padding: what
	// [Passkeys.Rename] and [Passkeys.Delete] take.
	ID   string `json:"id"`
	Name string `json:"name"`
	// Synced reports that the authenticator backs the passkey up (a cloud
	// keychain); SyncEligible that it may.
	Synced       bool `json:"synced"`
	SyncEligible bool `json:"syncEligible"`
	// CloneWarning is set once a sign-in presented a counter that did not
	// increase: the key may have been copied. Deleting the passkey is the
	// remedy.
	CloneWarning bool      `json:"cloneWarning"`
	Transports   []string  `json:"transports"`
	Created      time.Time `json:"created"`
	LastUsed     time.Time `json:"lastUsed"`
}

// Credentials returns the passkeys of r's signed-in user, oldest first.
// Errors wrap [authgate.ErrUnauthenticated] (no session), or
// [authgate.ErrStore] or [authgate.ErrCallback] (a fault).
func (p *Passkeys[T]) Credentials(r *http.Request) ([]Credential, error) {
	s, err := p.signedIn(r)
	if err != nil {
		return nil, err
	}
	list, err := p.store.Passkeys(r.Context(), s.User.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: passkeys: %w", authgate.ErrStore, err)
	}
	out := make([]Credential, len(list))
	for i, k := range list {
		out[i] = Credential{ID: base64.RawURLEncoding.EncodeToString(k.CredentialID), Name: k.Name,
			Synced: k.BackupState, SyncEligible: k.BackupEligible, CloneWarning: k.CloneWarning,
			Transports: k.Transports, Created: k.Created, LastUsed: k.LastUsed}
		if out[i].Transports == nil {
			out[i].Transports = []string{}
		}
	}
	return out, nil
}

// Rename names the passkey id of r's signed-in user. Errors wrap
// [ErrBadName], [authgate.ErrNotFound] (the user has no such passkey),
// [authgate.ErrUnauthenticated] or [authgate.ErrStore].
func (p *Passkeys[T]) Rename(r *http.Request, id, name string) error {
	if err := validName(name); err != nil {
		return err
	}
	s, k, err := p.owned(r, id)
	if err != nil {
		return err
	}
	upd := *k
	upd.Name, upd.CloneWarning = name, false
	if err := p.store.UpdatePasskey(r.Context(), &upd); err != nil {
		return storeErr("rename", err)
	}
	p.log.LogAttrs(r.Context(), slog.LevelInfo, "passkey: renamed", slog.String("event", "passkey_renamed"),
		slog.String("sub", s.User.ID), slog.String("credential", shortID(k.CredentialID)))
	return nil
}

// Delete deletes the passkey id of r's signed-in user, whose sign-in must
// be recent ([Config.MaxAuthAge]), unless it is their last way to sign in:
// they keep at least one passkey, a password, or an account of another
// provider (OAuth, e-mail). Errors wrap [ErrLastSignIn],
// [ErrFreshSignInRequired], [authgate.ErrNotFound],
// [authgate.ErrUnauthenticated] or [authgate.ErrStore].
func (p *Passkeys[T]) Delete(r *http.Request, id string) error {
	s, k, err := p.owned(r, id)
	if err != nil {
		return err
	}
	if !p.fresh(s) {
		return ErrFreshSignInRequired
	}
	ctx := r.Context()
	other, err := p.otherSignIn(ctx, s.User.ID, k.CredentialID)
	if err != nil {
		return err
	}
	if !other {
		return ErrLastSignIn
	}
	if err := p.store.DeletePasskey(ctx, s.User.ID, k.CredentialID); err != nil {
		return storeErr("delete", err)
	}
	p.log.LogAttrs(ctx, slog.LevelInfo, "passkey: deleted", slog.String("event", "passkey_deleted"),
		slog.String("sub", s.User.ID), slog.String("credential", shortID(k.CredentialID)))
	return nil
}

// otherSignIn reports whether userID can sign in without the passkey
// credentialID: with another passkey, a password (a PasswordAdapter's
// hash), or an account of a provider other than the credentials one
// (whose username alone signs no one in).
func (p *Passkeys[T]) otherSignIn(ctx context.Context, userID string, credentialID []byte) (bool, error) {
	keys, err := p.store.Passkeys(ctx, userID)
	if err != nil {
		return false, storeErr("passkeys", err)
	}
	for _, k := range keys {
		if !bytes.Equal(k.CredentialID, credentialID) {
			return true, nil
		}
	}
	if pa, ok := p.store.(authgate.PasswordAdapter); ok {
		hash, err := pa.PasswordHash(ctx, userID)
		switch {
		case err == nil && hash != "":
			return true, nil
		case err != nil && !errors.Is(err, authgate.ErrNotFound):
			return false, storeErr("password", err)
		}
	}
	accounts, err := p.store.Accounts(ctx, userID)
	if err != nil {
		return false, storeErr("accounts", err)
	}
	for _, a := range accounts {
		if a.Provider != "credentials" && a.Provider != p.cfg.ID {
			return true, nil
		}
	}
	return false, nil
}

// signedIn returns r's session, or an error wrapping
// ErrUnauthenticated or the fault.
func (p *Passkeys[T]) signedIn(r *http.Request) (*authgate.Session[T], error) {
	s, err := p.session(r)
	switch {
	case err != nil:
		return nil, err
	case s == nil:
		return nil, fmt.Errorf("%w: passkey: not signed in", authgate.ErrUnauthenticated)
	}
	return s, nil
}

// owned returns r's session and its user's passkey id.
func (p *Passkeys[T]) owned(r *http.Request, id string) (*authgate.Session[T], *authgate.Passkey, error) {
	s, err := p.signedIn(r)
	if err != nil {
		return nil, nil, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) == 0 || len(raw) > 1023 {
		return nil, nil, fmt.Errorf("%w: passkey: no passkey %q", authgate.ErrNotFound, clip(id))
	}
	k, err := p.store.Passkey(r.Context(), raw)
	switch {
	case errors.Is(err, authgate.ErrNotFound) || err == nil && k.UserID != s.User.ID:
		return nil, nil, fmt.Errorf("%w: passkey: no passkey %q of this user", authgate.ErrNotFound, clip(id))
	case err != nil:
		return nil, nil, storeErr("passkey", err)
	}
	return s, k, nil
}

// storeErr wraps an adapter's error: ErrNotFound stays a verdict, the
// rest is a fault.
func storeErr(what string, err error) error {
	if errors.Is(err, authgate.ErrNotFound) {
		return fmt.Errorf("passkey: %s: %w", what, err)
	}
	return fmt.Errorf("%w: passkey: %s: %w", authgate.ErrStore, what, err)
}

// serveList is GET /{id}/credentials.
func (p *Passkeys[T]) serveList(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	w.Header().Add("Vary", "Cookie")
	list, err := p.Credentials(r)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"credentials": list})
}

// serveRename is PATCH /{id}/credentials/{id}: JSON or form field name
// and the CSRF token.
func (p *Passkeys[T]) serveRename(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	fields, ok := p.change(w, r)
	if !ok {
		return
	}
	if err := p.Rename(r, r.PathValue("id"), fields["name"]); err != nil {
		p.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// serveDelete is DELETE /{id}/credentials/{id} with the CSRF token.
func (p *Passkeys[T]) serveDelete(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	if _, ok := p.change(w, r); !ok {
		return
	}
	if err := p.Delete(r, r.PathValue("id")); err != nil {
		p.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// change reads the body of a change (JSON object of strings, or form
// fields; it may be empty) and checks its CSRF token (field csrfToken, or
// the X-CSRF-Token header). It answers r itself and returns false when
// either fails.
func (p *Passkeys[T]) change(w http.ResponseWriter, r *http.Request) (map[string]string, bool) {
	fields := map[string]string{}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.maxBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": authgate.CodeBadRequest})
		return nil, false
	}
	if len(bytes.TrimSpace(b)) > 0 {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch mt {
		case "application/json":
			err = json.Unmarshal(b, &fields)
		case "application/x-www-form-urlencoded":
			r.Body = io.NopCloser(bytes.NewReader(b))
			if err = r.ParseForm(); err == nil {
				for k := range r.PostForm {
					fields[k] = r.PostForm.Get(k)
				}
			}
		default:
			err = errors.New("unsupported media type")
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": authgate.CodeBadRequest})
			return nil, false
		}
	}
	token := fields["csrfToken"]
	if token == "" {
		token = r.Header.Get("X-CSRF-Token")
	}
	if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(p.auth.CSRFToken(w, r))) != 1 {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": authgate.CodeMissingCSRF})
		return nil, false
	}
	return fields, true
}

// writeError answers a list, rename or delete that failed.
func (p *Passkeys[T]) writeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrFreshSignInRequired):
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": CodeFreshSignInRequired})
	case errors.Is(err, authgate.ErrUnauthenticated):
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthenticated"})
	case errors.Is(err, authgate.ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "NotFound"})
	case errors.Is(err, ErrLastSignIn):
		writeJSON(w, http.StatusConflict, map[string]string{"error": "LastSignIn"})
	case errors.Is(err, ErrBadName):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "BadName"})
	default:
		p.fault(w, r, "credentials", err)
	}
}
