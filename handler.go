package authgate

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Handler returns the handler of NextAuth v4's REST protocol, to mount at
// [Config.BasePath] plus "/":
//
//	mux.Handle("/api/auth/", auth.Handler())
//
// It serves GET /providers, GET /csrf, GET and POST /session, GET /signin,
// POST /signin/{provider}, POST /callback/credentials, GET
// /callback/{provider} (OAuth, see [Config.Providers]), GET and POST
// /signout, GET /error and POST /_log, and with [Config.Adapter] the device
// list: GET /sessions, DELETE /sessions/{id} and POST
// /sessions/revoke-others (see [Auth.Devices]). A known path with the
// wrong method gets 405 with Allow; an unknown one 404, and so does POST
// /signin/{provider} or /callback/{provider} for a provider that is not
// configured. GET and POST /session answer 503 {"error":"Busy"} when a
// store or callback fault kept the session from being checked (the cookie
// is kept). Every unsafe request must pass
// [http.CrossOriginProtection] (else 403); sign-in, sign-out and session
// updates also need the double-submit CSRF token.
func (a *Auth[T]) Handler() http.Handler { return a.handler }

func (a *Auth[T]) newHandler(exts []mountedExtension) (http.Handler, error) {
	mux := http.NewServeMux()
	b := a.basePath
	mux.HandleFunc("GET "+b+"/providers", a.serveProviders)
	mux.HandleFunc("GET "+b+"/csrf", a.serveCSRF)
	mux.HandleFunc("GET "+b+"/session", a.serveSession)
	mux.HandleFunc("POST "+b+"/session", a.serveUpdate)
	mux.HandleFunc("GET "+b+"/signin", a.serveSignInPage)
	mux.HandleFunc("POST "+b+"/signin/{provider}", a.serveSignInPost)
	mux.HandleFunc("POST "+b+"/callback/{provider}", a.serveCallback)
	mux.HandleFunc("GET "+b+"/callback/{provider}", a.serveOAuthCallback)
	mux.HandleFunc("GET "+b+"/signout", a.serveSignOutPage)
	mux.HandleFunc("POST "+b+"/signout", a.serveSignOut)
	mux.HandleFunc("GET "+b+"/error", a.serveError)
	mux.HandleFunc("POST "+b+"/_log", a.serveLog)
	if a.cfg.Adapter != nil {
		mux.HandleFunc("GET "+b+"/sessions", a.serveDevices)
		mux.HandleFunc("DELETE "+b+"/sessions/{id}", a.serveSignOutDevice)
		mux.HandleFunc("POST "+b+"/sessions/revoke-others", a.serveSignOutOthers)
	}
	if err := a.handleExtensions(mux, exts); err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if err := a.cop.Check(r); err != nil {
			a.logNoisy(r.Context(), noisyCSRF, slog.LevelWarn, "authgate: csrf refused",
				slog.String("event", "csrf_refused"), slog.String("reason", "cross-origin request"),
				slog.String("path", clip(r.URL.Path)))
			writeJSON(w, http.StatusForbidden, map[string]string{"url": a.url("/signin", "error", CodeMissingCSRF)})
			return
		}
		mux.ServeHTTP(w, r)
	}), nil
}

// url returns origin + basePath + path, with query pairs (key, value, …)
// appended in order.
func (a *Auth[T]) url(path string, kv ...string) string {
	s := a.origin + a.basePath + path
	for i := 0; i+1 < len(kv); i += 2 {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		s += sep + url.QueryEscape(kv[i]) + "=" + url.QueryEscape(kv[i+1])
	}
	return s
}

func (a *Auth[T]) serveProviders(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.providerList())
}

func (a *Auth[T]) serveCSRF(w http.ResponseWriter, r *http.Request) {
	noCache(w)
	writeJSON(w, http.StatusOK, map[string]string{"csrfToken": a.ensureCSRF(w, r)})
}

// serveSession answers GET /session with the session, or {} when there is
// none. A session due for re-issue is re-issued here as in the middleware.
// A fault is answered as sessionFault says.
func (a *Auth[T]) serveSession(w http.ResponseWriter, r *http.Request) {
	noCache(w)
	w.Header().Add("Vary", "Cookie")
	s, err := a.load(w, r)
	if err != nil {
		a.writeNoSession(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// writeNoSession answers GET or POST /session without a session. A
// verdict on the cookie (none, invalid, expired, revoked) is NextAuth's
// 200 {}. A store or callback fault is 503 {"error":"Busy"}, the session
// cookie untouched: next-auth/react's client reads any answer but a 2xx
// with a non-empty object as "no session" without throwing (getSession
// resolves to null, update() keeps the session it had), so the page shows
// the user signed out until it next asks, and the unchanged cookie signs
// them in again once the fault is over; other clients can tell the fault
// from a sign-out by the status.
func (a *Auth[T]) writeNoSession(w http.ResponseWriter, err error) {
	if isFault(err) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": CodeBusy})
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// serveUpdate answers POST /session: update(data) from the client. The JWT
// callback runs with TriggerUpdate and the client's data, the cookie is
// re-issued and the new session returned.
func (a *Auth[T]) serveUpdate(w http.ResponseWriter, r *http.Request) {
	noCache(w)
	w.Header().Add("Vary", "Cookie")
	b, berr := readBody(w, r, a.cfg.MaxBodyBytes)
	if berr != nil {
		a.writeBodyError(w, r, berr, false)
		return
	}
	if err := a.verifyCSRF(r, b.fields["csrfToken"]); err != nil {
		writeJSON(w, http.StatusForbidden, struct{}{})
		return
	}
	raw, err := a.sessionValue(r)
	s, err := a.loadValue(w, r, raw, err, TriggerUpdate, b.data)
	if err != nil {
		a.writeNoSession(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// serveCallback is POST /callback/{provider}: the credentials sign-in.
func (a *Auth[T]) serveCallback(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("provider") != "credentials" || a.cfg.Authorize == nil {
		http.NotFound(w, r)
		return
	}
	b, jsonMode, ok := a.protectedPOST(w, r, a.url("/signin", "error", CodeMissingCSRF))
	if !ok {
		return
	}
	res := a.signIn(w, r, b)
	if res.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((res.retryAfter+time.Second-1)/time.Second)))
	}
	a.answer(w, r, jsonMode, res.status, res.url)
}

// serveSignInPost is POST /signin/{provider}. For an OAuth provider it
// starts the flow (oauth.go). The credentials provider signs in at
// /callback/credentials; like NextAuth this only sends the client to the
// sign-in page. A provider that is not configured is 404, before the body
// is read, as an unknown path is.
func (a *Auth[T]) serveSignInPost(w http.ResponseWriter, r *http.Request) {
	p, isOAuth := a.oauth.providers[r.PathValue("provider")]
	if !isOAuth && (r.PathValue("provider") != "credentials" || a.cfg.Authorize == nil) {
		http.NotFound(w, r)
		return
	}
	b, jsonMode, ok := a.protectedPOST(w, r, a.url("/signin", "csrf", "true", "error", CodeMissingCSRF))
	switch {
	case !ok:
	case isOAuth:
		a.serveOAuthSignIn(w, r, p, b, jsonMode)
	default:
		a.answer(w, r, jsonMode, http.StatusOK, a.url("/signin"))
	}
}

// serveSignOut is POST /signout: [Auth.SignOut], then the client is sent
// to callbackUrl.
func (a *Auth[T]) serveSignOut(w http.ResponseWriter, r *http.Request) {
	b, jsonMode, ok := a.protectedPOST(w, r, a.url("/signout", "csrf", "true", "error", CodeMissingCSRF))
	if !ok {
		return
	}
	target := a.callbackURL(w, r, b.fields)
	a.SignOut(w, r) // a revocation failure is logged; the cookies are cleared all the same
	a.answer(w, r, jsonMode, http.StatusOK, target)
}

// serveLog accepts next-auth/react's client log beacons (bounded) and
// ignores them.
func (a *Auth[T]) serveLog(w http.ResponseWriter, r *http.Request) {
	if _, err := readBody(w, r, a.cfg.MaxBodyBytes); err != nil && err.status == http.StatusRequestEntityTooLarge {
		writeJSON(w, http.StatusRequestEntityTooLarge, struct{}{})
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// protectedPOST reads the body of a CSRF-protected POST whose answer is a
// URL (sign-in, sign-out). When the body is unreadable or the CSRF check
// fails it answers the request itself (413, 415, 400, or 403 with failURL)
// and reports ok=false.
func (a *Auth[T]) protectedPOST(w http.ResponseWriter, r *http.Request, failURL string) (b body, jsonMode, ok bool) {
	b, berr := readBody(w, r, a.cfg.MaxBodyBytes)
	if berr != nil {
		a.writeBodyError(w, r, berr, true)
		return b, false, false
	}
	jsonMode = b.fields["json"] == "true"
	if err := a.verifyCSRF(r, b.fields["csrfToken"]); err != nil {
		a.answer(w, r, jsonMode, http.StatusForbidden, failURL)
		return b, jsonMode, false
	}
	return b, jsonMode, true
}

// callbackURL returns where to send the client after the action: the
// body's or query's callbackUrl, else the callback-url cookie, else the
// origin, each through the redirect policy. A new value from the request is
// remembered in the callback-url cookie, as NextAuth does.
func (a *Auth[T]) callbackURL(w http.ResponseWriter, r *http.Request, fields map[string]string) string {
	ctx := r.Context()
	req, ok := fields["callbackUrl"]
	if !ok {
		req = r.URL.Query().Get("callbackUrl")
	}
	cookie, _ := cookieValue(r, a.callbackCookie)
	if cookie != "" {
		if c, err := url.QueryUnescape(cookie); err == nil {
			cookie = c
		} else {
			cookie = ""
		}
	}
	if req != "" {
		u := a.redirectURL(ctx, req)
		if u != cookie {
			http.SetCookie(w, a.cookie(a.callbackCookie, url.QueryEscape(u), time.Time{}, 0))
		}
		return u
	}
	if cookie != "" {
		return a.redirectURL(ctx, cookie)
	}
	return a.origin
}

// answer sends the client to target: as JSON {"url": target} with status
// when the client asked for json=true (next-auth/react always does), else
// as a 302 redirect, as NextAuth maps its internal results.
func (a *Auth[T]) answer(w http.ResponseWriter, r *http.Request, jsonMode bool, status int, target string) {
	if jsonMode {
		writeJSON(w, status, map[string]string{"url": target})
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// writeBodyError answers a body that could not be read: its status, the
// BadRequest code and a message saying what was wrong (never a value).
func (a *Auth[T]) writeBodyError(w http.ResponseWriter, r *http.Request, err *bodyError, withURL bool) {
	a.logNoisy(r.Context(), noisyBadRequest, slog.LevelInfo, "authgate: request body refused",
		slog.String("event", "bad_request"), slog.String("reason", clip(err.Error())), slog.String("path", clip(r.URL.Path)))
	v := map[string]string{"error": CodeBadRequest, "message": err.msg}
	if withURL {
		v["url"] = a.url("/error", "error", CodeBadRequest)
	}
	writeJSON(w, err.status, v)
}

// noCache sets NextAuth's cache headers for /csrf and /session.
func noCache(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "private, no-cache, no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
