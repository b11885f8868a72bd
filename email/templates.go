package email

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
)

// Templates make one kind of mail (a sign-in link, a password reset) from
// [MailData]: the subject and the text body with text/template, the HTML
// body with html/template, which escapes everything it inserts. Make them
// with [ParseTemplates]; the zero value is not usable. Templates are safe
// for concurrent use.
type Templates struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
}

// MailData is what a mail's templates may show.
type MailData struct {
	// URL is the link: the sign-in confirmation or the password reset
	// page, with the token. Only the recipient may see it.
	URL string
	// Host is the host of the app's public URL, such as "example.com". In
	// HTML, write it as {{nolink .Host}}: that puts an invisible U+200B
	// before each dot, so mail clients do not turn it into a link of its
	// own (NextAuth's defence, kept).
	Host string
	// Address is the recipient, normalised.
	Address string
	// Expires is when the link stops working, and Minutes its lifetime in
	// whole minutes (at least 1), for "valid for 10 minutes".
	Expires time.Time
	Minutes int
}

// funcs are the functions every template may call: nolink, see
// [MailData.Host].
var textFuncs = texttemplate.FuncMap{"nolink": func(s string) string { return s }}

var htmlFuncs = htmltemplate.FuncMap{"nolink": nolink}

// nolink writes s, escaped, with U+200B before every dot.
func nolink(s string) htmltemplate.HTML {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = htmltemplate.HTMLEscapeString(p)
	}
	return htmltemplate.HTML(strings.Join(parts, "&#8203;."))
}

// ParseTemplates parses the subject and text templates with text/template
// and the HTML template with html/template; each may use the fields of
// [MailData] and the function nolink. The subject must render to one
// line: [Templates.Render] refuses a subject with a line break. An error
// names the template that does not parse.
func ParseTemplates(subject, text, html string) (*Templates, error) {
	var t Templates
	var err error
	if t.subject, err = texttemplate.New("subject").Funcs(textFuncs).Option("missingkey=error").Parse(subject); err != nil {
		return nil, fmt.Errorf("email: subject template: %w", err)
	}
	if t.text, err = texttemplate.New("text").Funcs(textFuncs).Option("missingkey=error").Parse(text); err != nil {
		return nil, fmt.Errorf("email: text template: %w", err)
	}
	if t.html, err = htmltemplate.New("html").Funcs(htmlFuncs).Option("missingkey=error").Parse(html); err != nil {
		return nil, fmt.Errorf("email: HTML template: %w", err)
	}
	return &t, nil
}

// Render makes the message to d.Address from d. An empty HTML result
// leaves the message text only.
func (t *Templates) Render(d MailData) (Message, error) {
	var s, txt, h bytes.Buffer
	if err := t.subject.Execute(&s, d); err != nil {
		return Message{}, fmt.Errorf("email: subject template: %w", err)
	}
	if strings.ContainsAny(s.String(), "\r\n") {
		return Message{}, fmt.Errorf("email: the subject template made a line break")
	}
	if err := t.text.Execute(&txt, d); err != nil {
		return Message{}, fmt.Errorf("email: text template: %w", err)
	}
	if err := t.html.Execute(&h, d); err != nil {
		return Message{}, fmt.Errorf("email: HTML template: %w", err)
	}
	return Message{To: d.Address, Subject: strings.TrimSpace(s.String()), Text: txt.String(), HTML: h.String()}, nil
}

// The built-in mails: a short text, and the same as HTML with one button.

const defaultSignInText = `Sign in to {{.Host}}

Open this link to sign in:
{{.URL}}

The link works once, for {{.Minutes}} minutes. If you did not ask to sign in, ignore this e-mail: nobody can use it without access to your mailbox.
`

const defaultResetText = `Reset your password for {{.Host}}

Open this link to choose a new password:
{{.URL}}

The link works once, for {{.Minutes}} minutes. Setting a new password signs you out everywhere else. If you did not ask for it, ignore this e-mail: your password stays as it is.
`

const mailHTML = `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="background:#f6f6f6;margin:0;padding:24px;font-family:Helvetica,Arial,sans-serif;color:#222">
<table role="presentation" width="100%" cellspacing="0" cellpadding="0"><tr><td align="center">
<table role="presentation" cellspacing="0" cellpadding="24" style="background:#fff;max-width:480px;border-radius:8px">
<tr><td align="center" style="font-size:20px">{{.Title}} <strong>{{nolink .Host}}</strong></td></tr>
<tr><td align="center"><a href="{{.URL}}" target="_blank" style="display:inline-block;padding:12px 24px;background:#346df1;color:#fff;text-decoration:none;border-radius:6px;font-weight:bold">{{.Button}}</a></td></tr>
<tr><td align="center" style="font-size:14px;color:#555">{{.Note}}</td></tr>
</table></td></tr></table></body></html>
`

// builtIn returns the built-in templates with the HTML's words filled in.
func builtIn(subject, text, title, button, note string) *Templates {
	r := strings.NewReplacer("{{.Title}}", title, "{{.Button}}", button, "{{.Note}}", note)
	t, err := ParseTemplates(subject, text, r.Replace(mailHTML))
	if err != nil {
		panic(err)
	}
	return t
}

var (
	defaultSignInMail = builtIn("Sign in to {{.Host}}", defaultSignInText, "Sign in to", "Sign in",
		"The link works once, for {{.Minutes}} minutes. If you did not ask to sign in, ignore this e-mail.")
	defaultResetMail = builtIn("Reset your password for {{.Host}}", defaultResetText, "Reset your password for", "Choose a new password",
		"The link works once, for {{.Minutes}} minutes, and signs you out everywhere else. If you did not ask for it, ignore this e-mail.")
)
