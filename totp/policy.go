package totp

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// RequireSecondFactor returns a guard for routes that users with any of
// roles may use only in a session that signed in with a second factor:
// one whose AMR holds "mfa" (a password and a code or recovery code, or a
// passkey with user verification). It panics when no role, or an empty
// one, is given: a programming error caught at start-up.
//
//   - An anonymous request is refused as by [authgate.Auth.RequireAuth].
//   - A user without the roles, or a session with "mfa", passes.
//   - A user who has a second factor (TOTP enabled, or a passkey when the
//     adapter stores passkeys) but signed in without it is refused as by
//     [authgate.Auth.RequireAMR]("mfa"): through the Auth's ErrorHandler
//     with [authgate.ErrStrongerAuthRequired], by default a redirect to the
//     sign-in page for browser navigations and 401 otherwise.
//   - A user without any is sent to enrol: a browser navigation is
//     redirected (303) to [Config.EnrolPath] with a callbackUrl back;
//     everything else (and every request when EnrolPath is empty) gets 403
//     {"error":"SecondFactorRequired"}, with "enrolUrl" when set.
//   - When the adapter cannot say, 503 {"error":"Busy"}.
func (f *Factor[T]) RequireSecondFactor(roles ...string) func(http.Handler) http.Handler {
	if len(roles) == 0 || slices.Contains(roles, "") {
		panic("totp: RequireSecondFactor needs at least one non-empty role")
	}
	roles = slices.Clone(roles)
	return func(next http.Handler) http.Handler {
		strong := f.auth.RequireAMR(AMRMFA)(next)
		return f.auth.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := f.auth.FromContext(r.Context()) // RequireAuth put it there
			if s == nil || !s.User.HasRole(roles...) || slices.Contains(s.AMR(), AMRMFA) {
				next.ServeHTTP(w, r)
				return
			}
			has, err := f.hasSecondFactor(r, s.User.ID)
			switch {
			case err != nil:
				noStore(w)
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "Busy"})
			case has:
				strong.ServeHTTP(w, r) // refuses, as RequireAMR does
			default:
				f.sendToEnrol(w, r)
			}
		}))
	}
}

// hasSecondFactor reports whether the user has TOTP enabled or, when the
// adapter stores passkeys, a passkey.
func (f *Factor[T]) hasSecondFactor(r *http.Request, userID string) (bool, error) {
	on, err := f.Enabled(r.Context(), userID)
	if err != nil || on || f.passkeys == nil {
		return on, err
	}
	pks, err := f.passkeys.Passkeys(r.Context(), userID)
	return len(pks) > 0, err
}

// sendToEnrol answers a user who must set up a second factor first.
func (f *Factor[T]) sendToEnrol(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	if f.cfg.EnrolPath == "" {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "SecondFactorRequired"})
		return
	}
	target := f.cfg.EnrolPath + "?callbackUrl=" + url.QueryEscape(r.URL.RequestURI())
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		(r.Header.Get("Sec-Fetch-Mode") == "navigate" || strings.Contains(r.Header.Get("Accept"), "text/html")) {
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusForbidden, map[string]string{"error": "SecondFactorRequired", "enrolUrl": target})
}
