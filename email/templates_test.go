package email_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/email"
)

func TestTheHTMLMailEscapesWhatItShowsAndTheHostIsNotALink(t *testing.T) {
	t.Parallel()
	tpl, err := email.ParseTemplates("Hi {{.Address}}", "{{.URL}}", `<p>{{nolink .Host}}</p><p>{{.Address}}</p><a href="{{.URL}}">go</a>`)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := tpl.Render(email.MailData{URL: `https://example.com/x?a=1&b="><script>`, Host: "evil<b>.example.com", Address: "o'brien@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "<b>", `"><`} {
		if strings.Contains(msg.HTML, bad) {
			t.Errorf("the HTML holds %q unescaped: %s", bad, msg.HTML)
		}
	}
	if !strings.Contains(msg.HTML, "evil&lt;b&gt;&#8203;.example&#8203;.com") {
		t.Errorf("the host is not escaped and broken at its dots: %s", msg.HTML)
	}
	if msg.To != "o'brien@example.com" || msg.Subject != "Hi o'brien@example.com" {
		t.Errorf("to %q subject %q", msg.To, msg.Subject)
	}
}

func TestTemplatesRefuseALineBreakInTheSubject(t *testing.T) {
	t.Parallel()
	tpl, err := email.ParseTemplates("Hi\n{{.Host}}", "x", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.Render(email.MailData{Host: "example.com"}); err == nil {
		t.Error("a subject with a line break rendered")
	}
	if _, err := email.ParseTemplates("{{.Nope", "x", "y"); err == nil {
		t.Error("a template that does not parse")
	}
}

func TestTheAppsOwnMailIsSent(t *testing.T) {
	t.Parallel()
	tpl, err := email.ParseTemplates("Your {{.Host}} link", "Open {{.URL}} within {{.Minutes}} min.", "")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, options{edit: func(c *email.Config) { c.SignInMail = tpl; c.MaxAge = 15 * time.Minute }})
	e.browser().requestLink("uma@example.com")
	m := e.smtp.Next(t)
	if m.Subject != "Your 127.0.0.1 link" || !strings.HasSuffix(strings.TrimSpace(m.Text), "within 15 min.") || m.HTML != "" || m.Link("/callback/email") == "" {
		t.Errorf("subject %q text %q html %q", m.Subject, m.Text, m.HTML)
	}
}

func TestALinkConfirmedByManyAtOnceSignsInOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	e.addUser("vera@example.com", "")
	e.browser().requestLink("vera@example.com")
	_, link := e.nextLink("/callback/email")
	var wg sync.WaitGroup
	results := make(chan string, 8)
	for range 8 {
		b := e.browser()
		wg.Go(func() {
			_, res := b.submit(link, nil)
			results <- res.location()
		})
	}
	wg.Wait()
	close(results)
	ok := 0
	for l := range results {
		switch l {
		case e.url + "/dashboard":
			ok++
		case e.url + "/api/auth/error?error=Verification":
		default:
			t.Errorf("unexpected answer %q", l)
		}
	}
	if ok != 1 {
		t.Errorf("%d of 8 concurrent confirmations signed in, want exactly 1", ok)
	}
}
