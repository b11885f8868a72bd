package email

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/authgate/authgate"
)

// The error codes the endpoints answer with, in the "error" parameter of
// the URL they send the client to: NextAuth's EmailSignin and
// Verification, authgate's TooManyAttempts, Busy and MissingCSRF, and
// PasswordPolicy for a new password that breaks the length rules.
const (
	CodeEmailSignin    = "EmailSignin"
	CodeVerification   = "Verification"
	CodePasswordPolicy = "PasswordPolicy"
)

// ErrThrottled reports a mail refused by [Config.Limiter]; the error is a
// *[ThrottledError] that says how long to wait.
var ErrThrottled = errors.New("email: too many mails for this address or from this client")

// ThrottledError is the error of a mail [Config.Limiter] refused.
type ThrottledError struct {
	// RetryAfter is how long the client should wait, at least a second.
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v; retry after %v", ErrThrottled, e.RetryAfter)
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// maxBody bounds a request body: an address, a password, a token, a
// callback URL and the protocol's fields.
const maxBody = 16 << 10

// maxCallback bounds the callbackUrl a link carries; a longer one is
// dropped (the origin is used).
const maxCallback = 2048

// readFields reads a POST body of form fields, or a JSON object of
// strings (json and redirect may also be booleans), as NextAuth accepts
// both. A repeated field is refused. It answers a bad body itself (400,
// 413 or 415) and returns ok=false.
func readFields(w http.ResponseWriter, r *http.Request) (map[string]string, bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "BadRequest", "message": "the body is too large"})
		} else {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "BadRequest", "message": "the body could not be read"})
		}
		return nil, false
	}
	bad := func(msg string) (map[string]string, bool) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "BadRequest", "message": msg})
		return nil, false
	}
	fields := map[string]string{}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			return bad("the body is not valid form encoding")
		}
		for k, v := range vals {
			if len(v) != 1 {
				return bad("a field appears more than once")
			}
			fields[k] = v[0]
		}
	case "application/json":
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			return bad("the body is not a JSON object")
		}
		for k, v := range obj {
			switch v := v.(type) {
			case string:
				fields[k] = v
			case bool:
				if k != "json" && k != "redirect" {
					return bad("a field is not a string")
				}
				fields[k] = strconv.FormatBool(v)
			default:
				return bad("a field is not a string")
			}
		}
	default:
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "BadRequest", "message": "send application/x-www-form-urlencoded or application/json"})
		return nil, false
	}
	return fields, true
}

// readProtected reads the body of an unsafe request and checks its
// double-submit CSRF token against the core's cookie (the cross-origin
// check already ran in front of every endpoint). On a bad body or token it
// answers itself and returns ok=false.
func (x *Extension[T]) readProtected(w http.ResponseWriter, r *http.Request) (fields map[string]string, jsonMode, ok bool) {
	fields, ok = readFields(w, r)
	if !ok {
		return nil, false, false
	}
	jsonMode = fields["json"] == "true"
	sent := fields["csrfToken"]
	if want := x.auth.CSRFToken(w, r); sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(want)) != 1 {
		x.log.LogAttrs(r.Context(), slog.LevelWarn, "email: csrf refused", slog.String("event", "csrf_refused"),
			slog.String("reason", "csrfToken missing or not the cookie's"), slog.String("path", r.URL.Path))
		answer(w, r, jsonMode, http.StatusForbidden, x.base+"/signin?csrf=true&error=MissingCSRF")
		return nil, false, false
	}
	return fields, jsonMode, true
}

// answer sends the client to target: JSON {"url": target} with status
// when it asked for json=true (next-auth/react always does), else a 302
// redirect (303 after a POST), as NextAuth maps its answers.
func answer(w http.ResponseWriter, r *http.Request, jsonMode bool, status int, target string) {
	if jsonMode {
		writeJSON(w, status, map[string]string{"url": target})
		return
	}
	code := http.StatusFound
	if r.Method == http.MethodPost {
		code = http.StatusSeeOther
	}
	http.Redirect(w, r, target, code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// errorURL is the core's error page with code.
func (x *Extension[T]) errorURL(code string) string {
	return x.base + "/error?error=" + url.QueryEscape(code)
}

// verifyURL is the "check your e-mail" page for kind, as NextAuth names it.
func (x *Extension[T]) verifyURL(kind string) string {
	return x.base + "/verify-request?provider=" + url.QueryEscape(x.id) + "&type=" + kind
}

// failure maps an error of SendLink, RequestPasswordReset, UseLink or
// ResetPassword to a status and an error page, and sets Retry-After when
// waiting helps.
func (x *Extension[T]) failure(w http.ResponseWriter, err error) (int, string) {
	var te *ThrottledError
	switch {
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.Itoa(int((te.RetryAfter+time.Second-1)/time.Second)))
		return http.StatusTooManyRequests, x.errorURL("TooManyAttempts")
	case errors.Is(err, ErrInvalidAddress):
		return http.StatusBadRequest, x.errorURL(CodeEmailSignin)
	case errors.Is(err, ErrLinkInvalid):
		return http.StatusForbidden, x.errorURL(CodeVerification)
	case errors.Is(err, authgate.ErrStore):
		w.Header().Set("Retry-After", "1")
		return http.StatusServiceUnavailable, x.errorURL("Busy")
	case errors.Is(err, ErrSend):
		return http.StatusServiceUnavailable, x.errorURL(CodeEmailSignin)
	}
	return http.StatusInternalServerError, x.errorURL("Configuration")
}

// refuse logs a refused link (event names it) and returns the error page
// for err, with err.
func (x *Extension[T]) refuse(w http.ResponseWriter, r *http.Request, event string, err error) (string, error) {
	level := slog.LevelWarn
	if errors.Is(err, authgate.ErrStore) {
		level = slog.LevelError
	}
	x.log.LogAttrs(r.Context(), level, "email: link refused", slog.String("event", event),
		slog.String("reason", err.Error()), slog.String("addr", x.auth.ClientAddr(r)))
	_, target := x.failure(w, err)
	return target, err
}

// throttle asks the Limiter whether a mail to address may go out now:
// nil, a *ThrottledError, or an error wrapping authgate.ErrStore when the
// limiter failed (fail closed). An allowed attempt is never given back:
// every mail counts.
func (x *Extension[T]) throttle(ctx context.Context, r *http.Request, address string) error {
	att := authgate.Attempt{Account: "mail:" + address, Addr: x.auth.ClientAddr(r), Time: x.now()}
	retry, err := x.cfg.Limiter.Allow(ctx, att)
	switch {
	case err != nil:
		return fmt.Errorf("%w: send limiter: %w", authgate.ErrStore, err)
	case retry > 0:
		x.log.LogAttrs(ctx, slog.LevelWarn, "email: mail throttled", slog.String("event", "email_throttled"),
			slog.String("to", address), slog.String("addr", att.Addr))
		return &ThrottledError{RetryAfter: max(retry, time.Second)}
	}
	if err := x.cfg.Limiter.Record(ctx, att, authgate.AttemptFailed); err != nil {
		x.log.LogAttrs(ctx, slog.LevelError, "email: send limiter record failed", slog.String("event", "limiter_error"), slog.String("reason", err.Error()))
	}
	return nil
}

// admit normalises the address a mail is asked for and asks the Limiter:
// the normalised address, or the error (logged) that refuses the mail
// before anything is stored or sent.
func (x *Extension[T]) admit(r *http.Request, address string) (string, error) {
	addr, err := x.normalize(address)
	if err != nil {
		x.log.LogAttrs(r.Context(), slog.LevelInfo, "email: address refused", slog.String("event", "email_refused"),
			slog.String("reason", err.Error()), slog.String("addr", x.auth.ClientAddr(r)))
		return "", err
	}
	if err := x.throttle(r.Context(), r, addr); err != nil {
		return "", err
	}
	return addr, nil
}

// normalize runs Config.Normalize; its errors wrap ErrInvalidAddress.
func (x *Extension[T]) normalize(address string) (string, error) {
	a, err := x.cfg.Normalize(address)
	if err != nil && !errors.Is(err, ErrInvalidAddress) {
		err = fmt.Errorf("%w: %w", ErrInvalidAddress, err)
	}
	return a, err
}

// cleanCallback bounds the callbackUrl a link carries: a long one or one
// with control characters is dropped. The redirect policy checks it when
// the link is used.
func cleanCallback(s string) string {
	if len(s) > maxCallback {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return ""
		}
	}
	return s
}

// linkURL is page?callbackUrl=…&token=…&email=…, NextAuth's order.
func linkURL(page, callbackURL, token, address string) string {
	q := ""
	if callbackURL != "" {
		q = "callbackUrl=" + url.QueryEscape(callbackURL) + "&"
	}
	return page + "?" + q + "token=" + url.QueryEscape(token) + "&email=" + url.QueryEscape(address)
}

// minutes is d in whole minutes, at least 1.
func minutes(d time.Duration) int { return max(1, int(d/time.Minute)) }

// host is the host of the app's origin.
func (x *Extension[T]) host() string {
	u, _ := url.Parse(x.auth.Origin())
	return u.Hostname()
}
