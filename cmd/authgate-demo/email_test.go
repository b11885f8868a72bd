package main

// Sign-in links by e-mail and "forgot password" in the demo, against a
// real SMTP server started by the tests (email/smtptest: go-smtp on
// loopback, with a password), on SQLite and on a real PostgreSQL with two
// instances sharing a real Redis; the -smtp flag and the log-only local
// mode through the built binary.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/authgate/authgate/email"
	"github.com/authgate/authgate/email/smtptest"
	"github.com/authgate/authgate/redisstore/redistest"
)

// withEmail is a startDemo option: the e-mail extension mailing through
// srv (and, with -redis already set up, counting in Redis).
func withEmail(t *testing.T, srv *smtptest.Server) func(*Options) {
	return func(o *Options) {
		m, err := email.NewSMTPMailer(email.SMTPConfig{URL: srv.URL, From: "demo <no-reply@example.com>"})
		if err != nil {
			t.Fatal(err)
		}
		if o.Email, err = newEmail(context.Background(), m, o.Redis); err != nil {
			t.Fatal(err)
		}
	}
}

// postEmailForm posts the login page's e-mail form the way a browser
// without JavaScript does, to action (the form's, or "Forgot password?"'s
// formaction), and returns where it was sent.
func postEmailForm(t *testing.T, c *http.Client, base, action, address string) (int, string) {
	t.Helper()
	resp, page := get(t, c, base+"/login", "text/html")
	if resp.StatusCode != 200 || !strings.Contains(page, `id="email-link"`) || !strings.Contains(page, `formaction="/api/auth/forgot-password"`) {
		t.Fatalf("the login page offers no e-mail link or forgot password: %d", resp.StatusCode)
	}
	m := regexp.MustCompile(`name="csrfToken" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	res, err := c.PostForm(base+action, url.Values{"csrfToken": {m[1]}, "callbackUrl": {"/dashboard"}, "email": {address}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}

var (
	formActionRE = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	hiddenRE     = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// openAndSubmit opens the link from a mail (on base, whatever origin the
// link names) and posts the page's form with extra fields, as a person
// clicking its button does; it returns where the post sent the browser.
func openAndSubmit(t *testing.T, c *http.Client, base, link string, extra url.Values) string {
	t.Helper()
	u, _ := url.Parse(link)
	resp, page := get(t, c, base+u.RequestURI(), "text/html")
	action := formActionRE.FindStringSubmatch(page)
	if resp.StatusCode != 200 || action == nil {
		t.Fatalf("the link's page: %d %q", resp.StatusCode, page)
	}
	form := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], strings.NewReplacer("&amp;", "&", "&#43;", "+").Replace(m[2]))
	}
	for k, v := range extra {
		form[k] = v
	}
	a, _ := url.Parse(strings.ReplaceAll(action[1], "&amp;", "&"))
	res, err := c.PostForm(base+a.RequestURI(), form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.Header.Get("Location")
}

func TestDemoSignsInWithAnEmailLinkAndResetsAPassword(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{Username: "demo", Password: "mail-pw"})
	d := startDemo(t, "", withEmail(t, mail))
	c := d.client(t)

	// "E-mail me a link" without JavaScript: authgate's check-your-e-mail page.
	if code, loc := postEmailForm(t, c, d.URL, "/api/auth/signin/email", "Alice@Example.com"); code != http.StatusSeeOther || loc != d.URL+"/api/auth/verify-request?provider=email&type=email" {
		t.Fatalf("the e-mail form: %d → %q", code, loc)
	}
	m := mail.Next(t)
	if len(m.To) != 1 || m.To[0] != "alice@example.com" {
		t.Errorf("mailed to %q", m.To)
	}
	if loc := openAndSubmit(t, c, d.URL, m.Link("/api/auth/callback/email"), nil); loc != d.URL+"/dashboard" {
		t.Fatalf("the link: → %q, want the dashboard", loc)
	}
	if _, body := get(t, c, d.URL+"/api/me", "application/json"); !strings.Contains(body, `"name":"alice"`) || !strings.Contains(body, `"role":"admin"`) {
		t.Errorf("/api/me after the link: %s", body)
	}

	// A new address signs up as a user named after its local part.
	nc := d.client(t)
	postEmailForm(t, nc, d.URL, "/api/auth/signin/email", "newcomer@example.com")
	if loc := openAndSubmit(t, nc, d.URL, mail.Next(t).Link("/api/auth/callback/email"), nil); loc != d.URL+"/dashboard" {
		t.Fatalf("a sign-up by link: → %q", loc)
	}
	if _, body := get(t, nc, d.URL+"/api/me", "application/json"); !strings.Contains(body, `"name":"newcomer"`) || !strings.Contains(body, `"role":"user"`) {
		t.Errorf("/api/me of the new user: %s", body)
	}

	// "Forgot password?" for bob, who is signed in elsewhere.
	elsewhere := d.client(t)
	mustSignIn(t, elsewhere, d.URL, "bob", d.Passwords["bob"])
	rc := d.client(t)
	if code, loc := postEmailForm(t, rc, d.URL, "/api/auth/forgot-password", "bob@example.com"); code != http.StatusSeeOther || loc != d.URL+"/api/auth/verify-request?provider=email&type=reset" {
		t.Fatalf("forgot password: %d → %q", code, loc)
	}
	link := mail.Next(t).Link("/api/auth/reset-password")
	if loc := openAndSubmit(t, rc, d.URL, link, url.Values{"password": {"bobs-new-password"}}); loc != d.URL+"/dashboard" {
		t.Fatalf("the reset: → %q", loc)
	}
	if code, _ := status(t, elsewhere, d.URL, "/api/me"); code != http.StatusUnauthorized {
		t.Errorf("bob's other session after the reset: %d, want 401", code)
	}
	if s, _ := signInJSON(t, d.client(t), d.URL, "bob", d.Passwords["bob"]); s != http.StatusUnauthorized {
		t.Errorf("the old password: %d, want 401", s)
	}
	mustSignIn(t, d.client(t), d.URL, "bob", "bobs-new-password")
	// Nobody's address: the same answer, no mail.
	if code, loc := postEmailForm(t, d.client(t), d.URL, "/api/auth/forgot-password", "nobody@example.com"); code != http.StatusSeeOther || loc != d.URL+"/api/auth/verify-request?provider=email&type=reset" {
		t.Errorf("forgot password for nobody: %d → %q", code, loc)
	}
}

// Two instances on one PostgreSQL database and one Redis: the link mailed
// by A is used on B and dead on A after; a reset on B ends the session
// held on A.
func TestDemoEmailLinksOnTwoInstancesSharingPostgreSQLAndRedis(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	dsn := pg.Server(t).NewDatabase(t)
	redisURL := redistest.Start(t).URL()
	instance := func() *demo {
		return startDemoOn(t, dsn, "", func(o *Options) {
			o.URL = publicURL
			o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			closeRedis, err := useRedis(context.Background(), redisURL, o, o.Logger)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(closeRedis)
		}, withEmail(t, mail))
	}
	a, b := instance(), instance()
	b.Passwords = a.Passwords

	c := a.client(t)
	postEmailForm(t, c, a.URL, "/api/auth/signin/email", "alice@example.com")
	link := mail.Next(t).Link("/api/auth/callback/email")
	if !strings.HasPrefix(link, publicURL+"/") {
		t.Fatalf("the link %q is not on the public URL", link)
	}
	if loc := openAndSubmit(t, c, b.URL, link, nil); loc != publicURL+"/dashboard" {
		t.Fatalf("the link on B: → %q", loc)
	}
	if loc := openAndSubmit(t, a.client(t), a.URL, link, nil); loc != publicURL+"/api/auth/error?error=Verification" {
		t.Errorf("the same link on A: → %q, want Verification", loc)
	}
	// The session made on B works on A; a reset on B ends it there.
	if code, _ := status(t, c, a.URL, "/api/me"); code != http.StatusOK {
		t.Fatalf("the link's session on A: %d", code)
	}
	rc := b.client(t)
	postEmailForm(t, rc, b.URL, "/api/auth/forgot-password", "alice@example.com")
	reset := mail.Next(t).Link("/api/auth/reset-password")
	if loc := openAndSubmit(t, rc, b.URL, reset, url.Values{"password": {"alices-new-password"}}); loc != publicURL+"/dashboard" {
		t.Fatalf("the reset on B: → %q", loc)
	}
	refusedSoon(t, c, a.URL, "alice's session on A after the reset on B")
	mustSignInOn := func(base string) {
		if s, _ := signInJSON(t, a.client(t), base, "alice", "alices-new-password"); s != http.StatusOK {
			t.Errorf("the new password on %s: %d", base, s)
		}
	}
	mustSignInOn(a.URL)
	mustSignInOn(b.URL)
}

func TestDemoMailerChoice(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tt := range []struct {
		name      string
		o         EmailOptions
		publicURL string
		want      string // "smtp", "log", "off" or "error"
	}{
		{"-smtp sends by SMTP", EmailOptions{SMTPURL: "smtp://u:p@mail.example.com:587"}, "https://demo.example.com", "smtp"},
		{"without -smtp on localhost the links go to the log", EmailOptions{}, "http://localhost:3000", "log"},
		{"without -smtp on 127.0.0.1 too", EmailOptions{}, "http://127.0.0.1:3000", "log"},
		{"without -smtp on [::1] too", EmailOptions{}, "http://[::1]:3000", "log"},
		{"without -smtp on a public URL (production) it is off", EmailOptions{}, "https://demo.example.com", "off"},
		{"without -smtp on a LAN address it is off", EmailOptions{}, "http://192.168.1.20:3000", "off"},
		{"a bad -smtp", EmailOptions{SMTPURL: "http://mail.example.com"}, "http://localhost:3000", "error"},
		{"-email-from without -smtp", EmailOptions{From: "a@example.com"}, "http://localhost:3000", "error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := newMailer(tt.o, tt.publicURL, quiet)
			got := "off"
			switch m.(type) {
			case *email.SMTPMailer:
				got = "smtp"
			case logMailer:
				got = "log"
			}
			if err != nil {
				got = "error"
			}
			if got != tt.want {
				t.Errorf("got %s (%v), want %s", got, err, tt.want)
			}
		})
	}
}

func TestServeWithSMTPAndWithout(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{Username: "demo", Password: "p@ss word"})
	c := (&demo{}).client(t)

	t.Run("-smtp mails the link", func(t *testing.T) {
		s := startServe(t, cleanEnv("AUTH_SECRET="+testSecret), "-db", t.TempDir()+"/d.db", "-addr", "127.0.0.1:0", "-smtp", mail.URL, "-email-from", "Demo <demo@example.com>")
		if code, _ := postEmailForm(t, c, s.URL, "/api/auth/signin/email", "alice@example.com"); code != http.StatusSeeOther {
			t.Fatalf("the e-mail form: %d", code)
		}
		if m := mail.Next(t); m.From != "demo@example.com" || m.Link("/api/auth/callback/email") == "" {
			t.Errorf("the mail from %q: %q", m.From, m.Text)
		}
		s.stop(t, syscall.SIGTERM)
		if strings.Contains(s.stderr.String(), "p@ss word") || strings.Contains(strings.Join(s.stdout, "\n"), "p@ss word") {
			t.Error("the SMTP password is printed")
		}
	})
	t.Run("SMTP_URL is -smtp's default", func(t *testing.T) {
		s := startServe(t, cleanEnv("AUTH_SECRET="+testSecret, "SMTP_URL="+mail.URL), "-db", t.TempDir()+"/d.db", "-addr", "127.0.0.1:0")
		postEmailForm(t, c, s.URL, "/api/auth/signin/email", "bob@example.com")
		if m := mail.Next(t); m.To[0] != "bob@example.com" {
			t.Errorf("mailed to %q", m.To)
		}
	})
	t.Run("local mode writes the link to the log with a warning", func(t *testing.T) {
		s := startServe(t, cleanEnv("AUTH_SECRET="+testSecret), "-db", t.TempDir()+"/d.db", "-addr", "127.0.0.1:0")
		postEmailForm(t, c, s.URL, "/api/auth/signin/email", "alice@example.com")
		if code := s.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("exit %d", code)
		}
		log := s.stderr.String()
		if !strings.Contains(log, "level=WARN") || !strings.Contains(log, "Local use only") || !regexp.MustCompile(`NOT MAILED.*link="?`+regexp.QuoteMeta(s.URL)+`/api/auth/callback/email\?`).MatchString(log) {
			t.Errorf("the log has no warning and link:\n%s", log)
		}
	})
	t.Run("production mode without -smtp offers no e-mail link", func(t *testing.T) {
		s := startServe(t, cleanEnv("AUTH_SECRET="+testSecret, "AUTH_URL=https://demo.example.com"), "-db", t.TempDir()+"/d.db", "-addr", "127.0.0.1:0")
		ln := listenAddr(t, s)
		if _, page := get(t, c, ln+"/login", "text/html"); strings.Contains(page, "email-link") {
			t.Error("the login page offers e-mail links without -smtp on a public URL")
		}
		if resp, _ := get(t, c, ln+"/api/auth/verify-request", "text/html"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("/api/auth/verify-request: %d, want 404 (the extension is off)", resp.StatusCode)
		}
		s.stop(t, syscall.SIGTERM)
		if !strings.Contains(s.stderr.String(), "e-mail sign-in and password resets are off") {
			t.Errorf("no note in the log: %s", s.stderr.String())
		}
	})
	t.Run("a bad -smtp stops the start", func(t *testing.T) {
		var out, errb strings.Builder
		code := run(context.Background(), []string{"serve", "-addr", "127.0.0.1:0", "-db", t.TempDir() + "/d.db", "-smtp", "http://user:hunter2@mail.example.com"}, nil, &out, &errb, func(string) string { return "" })
		if code != 1 || !strings.Contains(errb.String(), "-smtp") || strings.Contains(errb.String(), "hunter2") {
			t.Errorf("exit %d, stderr %q: want 1, naming -smtp, without the password", code, errb.String())
		}
	})
}
