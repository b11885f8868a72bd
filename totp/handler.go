package totp

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/authgate/authgate"
)

// The JSON endpoints, under the Auth's base path and behind its
// cross-origin check: GET /mfa/totp needs a session; the POSTs need the
// CSRF token in a "csrfToken" field, as every sign-in POST does, and a
// sign-in no older than Config.FreshAuth. Bodies are form or JSON fields
// of strings, at most 4 KiB. Answers are JSON, never cached; errors are
// {"error": code} with the codes of the core's device list
// (unauthenticated, FreshAuthRequired, MissingCSRF, Busy, …).

// maxBody bounds a request body.
const maxBody = 4 << 10

// routes returns the endpoints Mount serves.
func (f *Factor[T]) routes() map[string]http.Handler {
	post := func(h func(w http.ResponseWriter, r *http.Request, form map[string]string)) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			noStore(w)
			form, ok := readForm(w, r)
			if !ok {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "BadRequest"})
				return
			}
			// The double-submit token, as next-auth/react sends it; a
			// request without a valid CSRF cookie gets a new one and fails.
			if subtle.ConstantTimeCompare([]byte(form["csrfToken"]), []byte(f.auth.CSRFToken(w, r))) != 1 {
				writeJSON(w, http.StatusForbidden, map[string]string{"error": "MissingCSRF"})
				return
			}
			h(w, r, form) // the methods check the session and its freshness
		})
	}
	return map[string]http.Handler{
		"GET /mfa/totp": http.HandlerFunc(f.serveStatus),
		"POST /mfa/totp/setup": post(func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
			e, err := f.Setup(r)
			if err != nil {
				f.writeError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"otpauthUrl": e.URL, "secret": e.Secret,
				"qrCode": "data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRCode)})
		}),
		"POST /mfa/totp/confirm": post(func(w http.ResponseWriter, r *http.Request, form map[string]string) {
			c, err := f.Confirm(r, form["code"])
			f.writeChange(w, c, err, true)
		}),
		"POST /mfa/totp/disable": post(func(w http.ResponseWriter, r *http.Request, form map[string]string) {
			c, err := f.Disable(r, Proof{Code: form["code"], RecoveryCode: form["recoveryCode"]})
			f.writeChange(w, c, err, false)
		}),
		"POST /mfa/recovery/regenerate": post(func(w http.ResponseWriter, r *http.Request, form map[string]string) {
			c, err := f.RegenerateRecoveryCodes(r, Proof{Code: form["code"], RecoveryCode: form["recoveryCode"]})
			f.writeChange(w, c, err, true)
		}),
	}
}

func (f *Factor[T]) serveStatus(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	s, err := f.Status(r)
	if err != nil {
		f.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// changeAnswer is the JSON of a change: the new state, the recovery codes
// when new, and the offer to end the user's other sessions.
type changeAnswer struct {
	Enabled          bool     `json:"enabled"`
	RecoveryCodes    []string `json:"recoveryCodes,omitempty"`
	OtherSessions    int      `json:"otherSessions"`
	SignOutOthersURL string   `json:"signOutOthersUrl"`
}

func (f *Factor[T]) writeChange(w http.ResponseWriter, c *Change, err error, enabled bool) {
	if err != nil {
		f.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, changeAnswer{Enabled: enabled, RecoveryCodes: c.RecoveryCodes, OtherSessions: c.OtherSessions,
		SignOutOthersURL: f.auth.BasePath() + "/sessions/revoke-others"})
}

// writeError answers err with its status and a code; never its text.
func (f *Factor[T]) writeError(w http.ResponseWriter, err error) {
	var te *ThrottleError
	status, code := http.StatusServiceUnavailable, "Busy"
	switch {
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(te.RetryAfter.Seconds()))))
		status, code = http.StatusTooManyRequests, "TooManyAttempts"
	case errors.Is(err, ErrInvalidCode):
		status, code = http.StatusBadRequest, "InvalidCode"
	case errors.Is(err, ErrProofRequired):
		status, code = http.StatusBadRequest, "CodeRequired"
	case errors.Is(err, ErrEnabled):
		status, code = http.StatusConflict, "AlreadyEnabled"
	case errors.Is(err, ErrNotEnabled):
		status, code = http.StatusConflict, "NotEnabled"
	case errors.Is(err, ErrNoSetup):
		status, code = http.StatusConflict, "NoSetup"
	case errors.Is(err, authgate.ErrStore) || errors.Is(err, authgate.ErrCallback) || errors.Is(err, authgate.ErrConfig):
		w.Header().Set("Retry-After", "1")
	case errors.Is(err, authgate.ErrFreshAuthRequired):
		status, code = http.StatusUnauthorized, "FreshAuthRequired"
	case errors.Is(err, authgate.ErrUnauthenticated):
		status, code = http.StatusUnauthorized, "unauthenticated"
	}
	writeJSON(w, status, map[string]string{"error": code})
}

// readForm reads a form or JSON body of string fields: at most maxBody
// bytes, each field once.
func readForm(w http.ResponseWriter, r *http.Request) (map[string]string, bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, false
		}
		out := make(map[string]string, len(vals))
		for k, v := range vals {
			if len(v) != 1 {
				return nil, false
			}
			out[k] = v[0]
		}
		return out, true
	case "application/json":
		return readJSONObject(raw)
	}
	return nil, false
}

// readJSONObject reads a JSON object whose members are strings, each name
// once (a repeated one is refused, never silently picked).
func readJSONObject(raw []byte) (map[string]string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	out := map[string]string{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, false
		}
		v, err := dec.Token()
		name, isName := k.(string)
		val, isString := v.(string)
		if err != nil || !isName || !isString {
			return nil, false
		}
		if _, dup := out[name]; dup {
			return nil, false
		}
		out[name] = val
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return out, true
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Cookie")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"Busy"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
