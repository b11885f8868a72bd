package authgate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// The device list: a signed-in user's sessions, from [Config.Adapter], in
// both session strategies (with JWT sessions every sign-in registers its
// session id). GET /sessions lists them, DELETE /sessions/{id} ends one,
// POST /sessions/revoke-others ends all but the current one; the methods
// below do the same for an app's own handlers. Ending a session revokes
// its id through the RevocationStore (so its cookie is refused at once,
// on every instance sharing the store, as after a sign-out) and deletes
// its row.

// Device is one signed-in session of a user, as the device list shows it.
// It never holds the session's token.
type Device struct {
	// ID is the session's public id; [Auth.SignOutDevice] takes it.
	ID        string    `json:"id"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"lastSeen"`
	UserAgent string    `json:"userAgent"`
	// Address is the network the sign-in came from (an IPv4 /24 or an
	// IPv6 /48), never the address itself.
	Address string `json:"address"`
	// Current reports the session of the request that asked.
	Current bool `json:"current"`
}

// errNoAdapter is what the device methods return without an adapter.
var errNoAdapter = fmt.Errorf("%w: the device list needs Config.Adapter", ErrConfig)

// currentSession returns the session of r for the device methods: an
// error wrapping ErrUnauthenticated when there is none, or the fault
// (wrapping ErrStore or ErrCallback) that kept it from being checked.
func (a *Auth[T]) currentSession(r *http.Request) (*Session[T], error) {
	if a.cfg.Adapter == nil {
		return nil, errNoAdapter
	}
	if s, ok := a.FromContext(r.Context()); ok {
		return s, nil
	}
	s, err := a.Check(r)
	switch {
	case err == nil:
		return s, nil
	case isFault(err):
		return nil, err
	}
	return nil, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
}

// Devices returns the sessions of r's user that have not expired, oldest
// first, marking r's own as Current. Errors wrap [ErrUnauthenticated] (no
// valid session), [ErrStore] (the adapter, or the revocation store, could
// not answer), [ErrCallback] or [ErrConfig] (no [Config.Adapter]).
func (a *Auth[T]) Devices(r *http.Request) ([]Device, error) {
	s, err := a.currentSession(r)
	if err != nil {
		return nil, err
	}
	rows, err := a.liveSessions(r.Context(), s.User.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Device, len(rows))
	for i, x := range rows {
		// Last seen is rounded down to the touch interval: never show it
		// before the sign-in.
		seen := x.LastSeen
		if seen.Before(x.Created) {
			seen = x.Created
		}
		out[i] = Device{ID: x.ID, Created: x.Created, LastSeen: seen, UserAgent: x.UserAgent, Address: x.Address, Current: x.ID == s.ID()}
	}
	return out, nil
}

// liveSessions returns the stored sessions of subject that have not
// expired.
func (a *Auth[T]) liveSessions(ctx context.Context, subject string) ([]AdapterSession, error) {
	rows, err := a.cfg.Adapter.Sessions(ctx, subject)
	if err != nil {
		return nil, fmt.Errorf("%w: list sessions: %w", ErrStore, err)
	}
	now := a.now()
	live := rows[:0]
	for _, x := range rows {
		if now.Before(x.Expires) {
			live = append(live, x)
		}
	}
	return live, nil
}

// endSession revokes the session x (so no copy of its cookie is accepted
// again) and deletes its row.
//
// A RevocationStore may fold many revoked sessions of one subject into a
// per-user mark that also ends the subject's other sessions signed in
// before it (failing closed): ending more than its per-subject limit (16
// by default) within a revocation's life can sign the current device out
// too. With database sessions a revocation lives only as long as a cache
// may serve the deleted row, so that takes many within a minute.
func (a *Auth[T]) endSession(ctx context.Context, subject string, x AdapterSession) error {
	if err := a.cfg.Revocations.RevokeSession(ctx, x.ID, subject, x.Created, a.revocationExpiry(&Token[T]{AuthTime: x.Created.Unix()}, a.now())); err != nil {
		return fmt.Errorf("%w: revoke session: %w", ErrStore, err)
	}
	if err := a.cfg.Adapter.DeleteSession(ctx, subject, x.ID); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: delete session: %w", ErrStore, err)
	}
	return nil
}

// SignOutDevice ends the session id of r's user, as the device list's
// "sign out" does: its cookie is refused from now on, on every instance
// sharing the [RevocationStore]. When id is r's own session it is
// [Auth.SignOut] (the cookies are cleared on w). It does not ask for a
// recent sign-in: wrap the handler with [Auth.RequireFreshAuth] for that.
// Errors wrap [ErrNotFound] (the user has no live session id),
// [ErrUnauthenticated], [ErrStore] (nothing was ended, or the revocation
// was stored but the row could not be deleted), [ErrCallback] or
// [ErrConfig]. Call it before writing the response body.
func (a *Auth[T]) SignOutDevice(w http.ResponseWriter, r *http.Request, id string) error {
	s, err := a.currentSession(r)
	if err != nil {
		return err
	}
	if id == s.ID() {
		return a.SignOut(w, r)
	}
	ctx := r.Context()
	rows, err := a.liveSessions(ctx, s.User.ID)
	if err != nil {
		return err
	}
	for _, x := range rows {
		if x.ID == id {
			if err := a.endSession(ctx, s.User.ID, x); err != nil {
				return err
			}
			a.logDecision(ctx, slog.LevelInfo, "authgate: device signed out",
				slog.String("event", "signout_device"), slog.String("sub", s.User.ID), slog.String("session", clip(id)))
			return nil
		}
	}
	return fmt.Errorf("%w: no session %q of this user", ErrNotFound, clip(id))
}

// SignOutOtherDevices ends every session of r's user but r's own, as the
// device list's "sign out the others" does, and returns how many it ended.
// It does not ask for a recent sign-in (see [Auth.SignOutDevice]). Errors
// wrap [ErrUnauthenticated], [ErrStore] (some sessions may have been ended
// before the store failed), [ErrCallback] or [ErrConfig].
func (a *Auth[T]) SignOutOtherDevices(r *http.Request) (int, error) {
	s, err := a.currentSession(r)
	if err != nil {
		return 0, err
	}
	ctx := r.Context()
	rows, err := a.cfg.Adapter.Sessions(ctx, s.User.ID)
	if err != nil {
		return 0, fmt.Errorf("%w: list sessions: %w", ErrStore, err)
	}
	n := 0
	for _, x := range rows {
		if x.ID == s.ID() {
			continue
		}
		if err := a.endSession(ctx, s.User.ID, x); err != nil {
			return n, err
		}
		n++
	}
	// A session signed in since the list was read is ended too.
	late, err := a.cfg.Adapter.DeleteSessions(ctx, s.User.ID, s.ID())
	if err != nil {
		return n, fmt.Errorf("%w: delete sessions: %w", ErrStore, err)
	}
	for _, id := range late {
		if err := a.endSession(ctx, s.User.ID, AdapterSession{ID: id, Created: a.now()}); err != nil {
			return n, err
		}
		n++
	}
	a.logDecision(ctx, slog.LevelInfo, "authgate: other devices signed out",
		slog.String("event", "signout_others"), slog.String("sub", s.User.ID), slog.Int("sessions", n))
	return n, nil
}

// serveDevices is GET /sessions.
func (a *Auth[T]) serveDevices(w http.ResponseWriter, r *http.Request) {
	noCache(w)
	w.Header().Add("Vary", "Cookie")
	list, err := a.Devices(r)
	if err != nil {
		a.writeDeviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": list})
}

// deviceChange checks what ending sessions needs: the CSRF token (form or
// JSON field csrfToken, or the X-CSRF-Token header) and a sign-in no older
// than Config.FreshAuthAge. It answers the request itself and returns
// false when one is missing.
func (a *Auth[T]) deviceChange(w http.ResponseWriter, r *http.Request) bool {
	noCache(w)
	b, berr := readBody(w, r, a.cfg.MaxBodyBytes)
	if berr != nil && berr.status != http.StatusUnsupportedMediaType {
		a.writeBodyError(w, r, berr, false)
		return false
	}
	token := b.fields["csrfToken"]
	if token == "" {
		token = r.Header.Get("X-CSRF-Token")
	}
	if err := a.verifyCSRF(r, token); err != nil {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": CodeMissingCSRF})
		return false
	}
	s, err := a.currentSession(r)
	if err != nil {
		a.writeDeviceError(w, r, err)
		return false
	}
	if a.now().Sub(s.AuthTime()) > a.cfg.FreshAuthAge {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "FreshAuthRequired"})
		return false
	}
	return true
}

// serveSignOutDevice is DELETE /sessions/{id}.
func (a *Auth[T]) serveSignOutDevice(w http.ResponseWriter, r *http.Request) {
	if !a.deviceChange(w, r) {
		return
	}
	if err := a.SignOutDevice(w, r, r.PathValue("id")); err != nil {
		a.writeDeviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// serveSignOutOthers is POST /sessions/revoke-others.
func (a *Auth[T]) serveSignOutOthers(w http.ResponseWriter, r *http.Request) {
	if !a.deviceChange(w, r) {
		return
	}
	n, err := a.SignOutOtherDevices(r)
	if err != nil {
		a.writeDeviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"ended": n})
}

// writeDeviceError answers a device-list request that failed: 401 without
// a session, 404 for an unknown id, 503 for a fault (logged; the cookie is
// never touched).
func (a *Auth[T]) writeDeviceError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "NotFound"})
	case errors.Is(err, ErrUnauthenticated):
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthenticated"})
	default:
		a.logNoisy(r.Context(), noisyFault, slog.LevelError, "authgate: device list failed",
			slog.String("event", "devices_error"), slog.String("reason", clip(err.Error())))
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": CodeBusy})
	}
}
