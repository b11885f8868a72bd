package authgate

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// The built-in pages are deliberately plain: apps that care set
// [Config.Pages]. They are rendered with html/template, served with a
// strict Content-Security-Policy and never framed.

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}
label,input,button{display:block;width:100%;box-sizing:border-box;margin:.4rem 0}
input,button{padding:.5rem;font-size:1rem}.error{color:#b00020}</style></head>
<body><h1>{{.Title}}</h1>
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
{{if eq .Kind "signin"}}{{range .Providers}}<form method="post" action="{{.Action}}">
<input type="hidden" name="csrfToken" value="{{$.CSRF}}"><input type="hidden" name="callbackUrl" value="{{$.Callback}}">
<button type="submit" id="signin-{{.ID}}">Sign in with {{.Name}}</button></form>
{{end}}{{if .StepFields}}<form method="post" action="{{.Action}}">
<input type="hidden" name="csrfToken" value="{{.CSRF}}">
{{range .StepFields}}<label>{{.Label}} <input name="{{.Name}}" autocomplete="one-time-code"></label>
{{end}}<button type="submit">Continue</button></form>
{{else if .Credentials}}{{if .Providers}}<hr>{{end}}<form method="post" action="{{.Action}}">
<input type="hidden" name="csrfToken" value="{{.CSRF}}">
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form>{{end}}
{{else if eq .Kind "signout"}}<form method="post" action="{{.Action}}">
<input type="hidden" name="csrfToken" value="{{.CSRF}}">
<p>Are you sure you want to sign out?</p><button type="submit">Sign out</button></form>
{{else}}<p><a href="{{.Action}}">Sign in</a></p>{{end}}
</body></html>
`))

type pageData struct {
	Kind, Title, Message, Action, CSRF string
	// Sign-in page: the OAuth providers' buttons, the callback URL they
	// carry, and whether the credentials form is shown.
	Providers   []pageProvider
	Callback    string
	Credentials bool
	// StepFields, when set, replace the credentials form: the second
	// step of a sign-in (a [CredentialsStep]'s fields).
	StepFields []StepField
	// FormTargets widens the CSP's form-action: a provider button's POST
	// is answered with a redirect to the provider, which form-action
	// governs too.
	FormTargets string
}

type pageProvider struct{ ID, Name, Action string }

// signInMessages are NextAuth's sign-in page texts.
var signInMessages = map[string]string{
	"Signin":                "Try signing in with a different account.",
	"OAuthSignin":           "Try signing in with a different account.",
	"OAuthCallback":         "Try signing in with a different account.",
	"OAuthCreateAccount":    "Try signing in with a different account.",
	"EmailCreateAccount":    "Try signing in with a different account.",
	"Callback":              "Try signing in with a different account.",
	"OAuthAccountNotLinked": "To confirm your identity, sign in with the same account you used originally.",
	"EmailSignin":           "The e-mail could not be sent.",
	CodeCredentialsSignin:   "Sign in failed. Check the details you provided are correct.",
	"SessionRequired":       "Please sign in to access this page.",
	CodeMissingCSRF:         "Your sign-in form expired. Please try again.",
	CodeTooManyAttempts:     "Too many attempts. Please wait and try again.",
	CodeBusy:                "The server is busy. Please try again.",
	CodeTwoFactorRequired:   "Enter the code to finish signing in.",
	CodeTwoFactorExpired:    "The sign-in took too long. Please sign in again.",
}

func (a *Auth[T]) renderPage(w http.ResponseWriter, status int, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"+d.FormTargets+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	pageTemplate.Execute(w, d)
}

// serveSignInPage is GET /signin: a redirect to [Pages.SignIn] with
// callbackUrl (and error), or the built-in form.
func (a *Auth[T]) serveSignInPage(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("error")
	if !validCode(code) {
		code = ""
	}
	callback := a.callbackURL(w, r, nil)
	if a.cfg.Pages.SignIn != "" {
		target := a.origin + a.cfg.Pages.SignIn + "?callbackUrl=" + url.QueryEscape(callback)
		if code != "" {
			target += "&error=" + url.QueryEscape(code)
		}
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	msg := ""
	if code != "" {
		msg = signInMessages[code]
		if msg == "" {
			msg = "Unable to sign in."
		}
	}
	d := pageData{Kind: "signin", Title: "Sign in", Message: msg,
		Action: a.url("/callback/credentials"), CSRF: a.ensureCSRF(w, r),
		Callback: callback, Credentials: a.cfg.Authorize != nil}
	if code == CodeTwoFactorRequired && d.Credentials {
		// The password was right: the pending step's fields (the
		// pending cookie says which step; any step's form will do).
		for _, x := range a.cfg.Extensions {
			if s, ok := x.(CredentialsStep[T]); ok {
				d.StepFields = s.StepFields()
				break
			}
		}
	}
	for _, p := range a.oauth.order {
		d.Providers = append(d.Providers, pageProvider{ID: p.ID(), Name: p.Name(), Action: a.url("/signin/" + p.ID())})
	}
	if len(d.Providers) > 0 {
		// The providers' origins are not known here; https (and http for
		// an http app, as in local development) covers them.
		d.FormTargets = " https:"
		if !a.secure {
			d.FormTargets += " http:"
		}
	}
	a.renderPage(w, http.StatusOK, d)
}

// serveSignOutPage is GET /signout: a redirect to [Pages.SignOut] or the
// built-in confirmation form. It changes nothing.
func (a *Auth[T]) serveSignOutPage(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Pages.SignOut != "" {
		http.Redirect(w, r, a.origin+a.cfg.Pages.SignOut, http.StatusFound)
		return
	}
	a.callbackURL(w, r, nil)
	a.renderPage(w, http.StatusOK, pageData{Kind: "signout", Title: "Sign out",
		Action: a.url("/signout"), CSRF: a.ensureCSRF(w, r)})
}

// signInErrors are the codes GET /error forwards to the sign-in page.
var signInErrors = map[string]bool{
	"Signin": true, "OAuthSignin": true, "OAuthCallback": true, "OAuthCreateAccount": true,
	"EmailCreateAccount": true, "Callback": true, "OAuthAccountNotLinked": true, "EmailSignin": true,
	CodeCredentialsSignin: true, "SessionRequired": true,
	CodeMissingCSRF: true, CodeTooManyAttempts: true, CodeBusy: true,
	CodeTwoFactorRequired: true, CodeTwoFactorExpired: true,
}

// serveError is GET /error?error=CODE, as NextAuth: sign-in codes go back
// to the sign-in page, others to [Pages.Error] or the built-in page.
func (a *Auth[T]) serveError(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("error")
	if !validCode(code) {
		code = "Default"
	}
	if signInErrors[code] {
		http.Redirect(w, r, a.url("/signin", "error", code), http.StatusFound)
		return
	}
	if a.cfg.Pages.Error != "" {
		http.Redirect(w, r, a.origin+a.cfg.Pages.Error+"?error="+url.QueryEscape(code), http.StatusFound)
		return
	}
	status, msg := http.StatusOK, "Unable to sign in."
	switch strings.ToLower(code) {
	case "configuration":
		status, msg = http.StatusInternalServerError, "There is a problem with the server configuration."
	case "accessdenied":
		status, msg = http.StatusForbidden, "You do not have permission to sign in."
	case "verification":
		status, msg = http.StatusForbidden, "The sign in link is no longer valid."
	case "webauthnverificationerror":
		status, msg = http.StatusForbidden, "The passkey could not be verified. Try again, or sign in another way."
	}
	a.renderPage(w, status, pageData{Kind: "error", Title: "Error", Message: msg, Action: a.url("/signin")})
}
