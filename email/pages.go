package email

import (
	"html/template"
	"net/http"
)

// The built-in pages, plain like the core's: "check your e-mail", the
// link's confirmation page and the new-password form. Apps that care set
// Config.VerifyRequestPage and Config.ResetPasswordPage. They are rendered
// with html/template, never cached, never framed, load nothing, and send
// no Referer (their URL holds the token).

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}
label,input,button{display:block;width:100%;box-sizing:border-box;margin:.4rem 0}
input,button{padding:.5rem;font-size:1rem}.error{color:#b00020}</style></head>
<body><h1>{{.Title}}</h1>
{{if eq .Kind "verify-email"}}<p>A sign-in link has been sent to your e-mail address. It works once, for {{.Minutes}} minutes.</p>
<p><a href="{{.Action}}">{{.Host}}</a></p>
{{else if eq .Kind "verify-reset"}}<p>If an account uses this address, a link to choose a new password has been sent to it. It works once, for {{.Minutes}} minutes.</p>
<p><a href="{{.Action}}">{{.Host}}</a></p>
{{else if eq .Kind "confirm"}}<p>Sign in to {{.Host}} as <strong>{{.Address}}</strong>?</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrfToken" value="{{.CSRF}}"><input type="hidden" name="token" value="{{.Token}}">
<input type="hidden" name="email" value="{{.Address}}">{{if .Callback}}<input type="hidden" name="callbackUrl" value="{{.Callback}}">{{end}}
<button type="submit" id="confirm">Sign in</button></form>
<p><small>This step keeps mail scanners that open links from using yours up.</small></p>
{{else if eq .Kind "reset"}}<p>Choose a new password for <strong>{{.Address}}</strong>. Saving it signs you out everywhere else.</p>
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrfToken" value="{{.CSRF}}"><input type="hidden" name="token" value="{{.Token}}">
<input type="hidden" name="email" value="{{.Address}}">{{if .Callback}}<input type="hidden" name="callbackUrl" value="{{.Callback}}">{{end}}
<input type="text" name="username" value="{{.Address}}" autocomplete="username" hidden>
<label>New password <input type="password" name="password" id="password" autocomplete="new-password" minlength="{{.MinLength}}" required></label>
<button type="submit" id="save">Save and sign in</button></form>
{{end}}</body></html>
`))

type page struct {
	Kind, Title, Host, Address, Action, CSRF, Token, Callback, Message string
	Minutes, MinLength                                                 int
}

func (x *Extension[T]) render(w http.ResponseWriter, status int, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' "+x.formTargets()+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	pageTemplate.Execute(w, p)
}

// formTargets widens form-action to where the sign-in may redirect once
// the form is posted: the redirect policy may allow other origins (and
// browsers apply form-action to the redirect too).
func (x *Extension[T]) formTargets() string {
	if len(x.auth.Origin()) > 5 && x.auth.Origin()[:5] == "https" {
		return "https:"
	}
	return "https: http:"
}
