package main

// pages.go routes the demo's URLs and renders its pages from the embedded
// templates/ and static/ folders. The auth set-up and decisions are in
// auth.go; this file only renders what they allow.

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/passkey"
	"github.com/authgate/authgate/totp"
)

//go:embed templates static
var assets embed.FS

// app holds what the handlers need.
type app struct {
	auth  *authgate.Auth[Claims]
	store *Store
	pages map[string]*template.Template
	log   *slog.Logger
	// providers are the login page's "Sign in with …" buttons, and
	// formTargets their origins for the CSP's form-action (oauth.go).
	providers   []loginProvider
	formTargets string
	// passkeys is the passkey extension (passkey.go).
	passkeys   *passkey.Passkeys[Claims]
	emailLinks bool // the e-mail extension is on (email.go)
	// mfa is the second factor, mfaRoles the -require-2fa roles (totp.go).
	mfa      *totp.Factor[Claims]
	mfaRoles []string
}

// newApp builds the demo's whole HTTP handler.
func newApp(store *Store, o Options) (http.Handler, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	a := &app{store: store, log: o.Logger, pages: map[string]*template.Template{},
		providers: loginProviders(o.Providers), formTargets: formTargets(context.Background(), o.Providers),
		emailLinks: o.Email != nil}
	for _, name := range []string{"login", "dashboard", "admin", "forbidden", "devices", "passkeys", "totp"} {
		files := []string{"templates/layout.html", "templates/" + name + ".html"}
		if name == "login" {
			files = append(files, "templates/email.html") // "E-mail me a link" (email.go)
		}
		t, err := template.ParseFS(assets, files...)
		if err != nil {
			return nil, err
		}
		a.pages[name] = t
	}
	a.passkeys = a.newPasskeys(o.URL) // passkey.go; nil on an IP address
	auth, err := a.newAuth(o)
	if err != nil {
		return nil, err
	}
	a.auth = auth

	mux := http.NewServeMux()
	handler := a.mountAuth(mux) // authgate's endpoints and guards (auth.go)
	a.mountPasskeys(mux)        // "Your passkeys" (passkey.go)
	a.mountTOTP(mux)            // the two-factor page (totp.go)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /api/me", a.me)
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	if o.StaticDir != "" {
		// -static: e.g. the built examples/nextauth-react app at /, served
		// from the same origin as /api/auth, as next-auth/react requires.
		files := http.FileServer(http.Dir(o.StaticDir))
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			// ("GET /" would conflict with the method-less "/api/auth/".)
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			files.ServeHTTP(w, r)
		})
	} else {
		mux.Handle("GET /{$}", http.RedirectHandler("/dashboard", http.StatusFound))
	}
	return handler, nil
}

// pageData is what the templates receive.
type pageData struct {
	Title     string
	Session   *authgate.Session[Claims] // nil when anonymous
	CSRFToken string                    // for the sign-out form
	// Page-specific fields.
	Error, Notice, CallbackURL string
	SessionJSON                string
	Users                      []User
	Devices                    []authgate.Device    // devices: the user's sessions
	Providers                  []loginProvider      // login: "Sign in with …"
	Passkeys                   []passkey.Credential // passkeys: the user's passkeys
	PasskeysOn                 bool                 // passkey buttons (passkey.go)
	EmailLinks                 bool                 // login: "E-mail me a link", "Forgot password?"
	// Step: login asks for the second step's code (TwoFactorRequired).
	Step bool
	TOTP *totpData // totp: the two-factor page
}

func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	d.Session, _ = a.auth.Session(r)
	d.PasskeysOn = a.passkeys != nil
	if d.CSRFToken == "" && d.Session != nil {
		d.CSRFToken = a.auth.CSRFToken(w, r) // for the sign-out form
	}
	var buf bytes.Buffer
	if err := a.pages[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		a.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages show personal data and carry CSRF tokens: never cache them.
	h.Set("Cache-Control", "no-store")
	// img-src data: for the two-factor page's QR code.
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'"+a.formTargets+"; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// signInErrors are the messages for the error codes authgate puts in
// ?error=…; any other code shows the generic one. The message never says
// whether the username exists.
var signInErrors = map[string]string{
	"CredentialsSignin": "Wrong username or password.",
	"TooManyAttempts":   "Too many attempts. Wait a minute, then try again.",
	"Busy":              "The server is busy. Try again in a moment.",
	"MissingCSRF":       "The form expired. Reload the page and try again.",
	"AccessDenied":      "This account may not sign in.",
	"OAuthSignin":       "Could not start the sign-in with that provider. Try again.",
	"OAuthCallback":     "The sign-in with that provider did not complete. Try again.",
	"SessionRequired":   "Sign in to see that page.",
	"FreshSignIn":       "Sign in again to do that: it needs a recent sign-in.",
	"EmailSignin":       "That is not an e-mail address a link can be sent to.",
	// The second step (totp.go).
	"TwoFactorRequired": "Enter the code from your authenticator app, or a recovery code.",
	"TwoFactorExpired":  "That took too long. Sign in again.",
}

// login is GET /login: the sign-in form. static/login.js submits it the
// way next-auth/react's signIn("credentials", {redirect: false}) does; with
// JavaScript off it is a plain form POST that authgate answers with a 302
// (to callbackUrl on success, back here with ?error=… otherwise).
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := pageData{Title: "Sign in", CallbackURL: q.Get("callbackUrl"), Providers: a.providers, EmailLinks: a.emailLinks}
	if d.CallbackURL == "" {
		d.CallbackURL = "/dashboard"
	}
	if code := q.Get("error"); code != "" {
		d.Step = code == authgate.CodeTwoFactorRequired
		d.Error = signInErrors[code]
		if d.Error == "" {
			d.Error = "Sign-in failed. Try again."
		}
	}
	switch q.Get("signedOut") {
	case "":
	case "everywhere":
		d.Notice = "You are signed out on every device."
	default:
		d.Notice = "You are signed out."
	}
	d.CSRFToken = a.auth.CSRFToken(w, r) // for the no-JS form post
	a.render(w, r, http.StatusOK, "login", d)
}

// dashboard is GET /dashboard, behind RequireAuth: who you are, and the
// session as JSON (what getServerSession returns in a Next.js app).
func (a *app) dashboard(w http.ResponseWriter, r *http.Request) {
	s, _ := a.auth.Session(r)
	b, _ := json.MarshalIndent(s, "", "  ")
	a.render(w, r, http.StatusOK, "dashboard", pageData{Title: "Dashboard", SessionJSON: string(b)})
}

// admin is GET /admin, behind RequireRole("admin"): the users table.
func (a *app) admin(w http.ResponseWriter, r *http.Request) {
	users, err := a.store.Users(r.Context())
	if err != nil {
		a.log.Error("list users", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	a.render(w, r, http.StatusOK, "admin", pageData{Title: "Admin", Users: users})
}

// signOutEverywhere is POST /account/signout-everywhere: every session of
// this user, on every device, ends now (the hook an app also calls after a
// password change). This browser's cookie is revoked too, so the login page
// it lands on finds it refused and clears it.
func (a *app) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	s, _ := a.auth.Session(r)
	if err := a.auth.SignOutEverywhere(r.Context(), s.User.ID); err != nil {
		a.log.Error("sign out everywhere", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/login?signedOut=everywhere", http.StatusSeeOther)
}

// devices is GET /devices, behind RequireAuth: "Your devices", the
// user's sessions from auth.Devices.
func (a *app) devices(w http.ResponseWriter, r *http.Request) {
	list, err := a.auth.Devices(r)
	if err != nil {
		a.log.Error("list devices", "err", err)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "the device list is not available right now; try again in a moment", http.StatusServiceUnavailable)
		return
	}
	d := pageData{Title: "Your devices", Devices: list}
	switch r.URL.Query().Get("ended") {
	case "":
	case "others":
		d.Notice = "Your other devices are signed out."
	default:
		d.Notice = "That device is signed out."
	}
	if r.URL.Query().Get("error") == "unknown" {
		d.Error = "That device is not signed in any more."
	}
	a.render(w, r, http.StatusOK, "devices", d)
}

// signOutDevice is POST /devices/signout (form field id): that session of
// this user ends now, on every instance (auth.SignOutDevice).
func (a *app) signOutDevice(w http.ResponseWriter, r *http.Request) {
	err := a.auth.SignOutDevice(w, r, r.PostFormValue("id"))
	switch {
	case errors.Is(err, authgate.ErrNotFound):
		http.Redirect(w, r, "/devices?error=unknown", http.StatusSeeOther)
	case err != nil:
		a.log.Error("sign out a device", "err", err)
		http.Error(w, "could not sign that device out; try again in a moment", http.StatusServiceUnavailable)
	default:
		http.Redirect(w, r, "/devices?ended=1", http.StatusSeeOther)
	}
}

// signOutOthers is POST /devices/signout-others: every session of this
// user but this browser's ends now (auth.SignOutOtherDevices).
func (a *app) signOutOthers(w http.ResponseWriter, r *http.Request) {
	if _, err := a.auth.SignOutOtherDevices(r); err != nil {
		a.log.Error("sign out the other devices", "err", err)
		http.Error(w, "could not sign the other devices out; try again in a moment", http.StatusServiceUnavailable)
		return
	}
	http.Redirect(w, r, "/devices?ended=others", http.StatusSeeOther)
}

// me is GET /api/me: the session as JSON, or 401 JSON when anonymous.
func (a *app) me(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s, ok := a.auth.Session(r); ok {
		writeJSON(w, http.StatusOK, s)
		return
	}
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthenticated"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
