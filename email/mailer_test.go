package email_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/email"
	"github.com/authgate/authgate/email/smtptest"
)

var testMessage = email.Message{To: "alice@example.com", Subject: "Sign in to example.com", Text: "the text ünicode\n", HTML: "<p>the <b>HTML</b></p>"}

func TestSMTPMailerSendsAMultipartMessageAfterLoggingIn(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "p@ss:word/1"})
	m, err := email.NewSMTPMailer(email.SMTPConfig{URL: srv.URL, From: "Example <no-reply@example.com>"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), testMessage); err != nil {
		t.Fatal(err)
	}
	got := srv.Next(t)
	if got.From != "no-reply@example.com" || len(got.To) != 1 || got.To[0] != "alice@example.com" {
		t.Errorf("envelope from %q to %q", got.From, got.To)
	}
	if got.Subject != testMessage.Subject || got.Text != testMessage.Text || got.HTML != testMessage.HTML {
		t.Errorf("message: subject %q text %q html %q", got.Subject, got.Text, got.HTML)
	}
	for _, h := range []string{"Date", "Message-Id", "From", "To"} {
		if got.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if got.Header.Get("Auto-Submitted") != "auto-generated" || !strings.HasPrefix(got.Header.Get("Content-Type"), "multipart/alternative") {
		t.Errorf("headers %v", got.Header)
	}
}

func TestSMTPMailerFailsClosed(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "right-password"})
	for _, tt := range []struct {
		name string
		url  string
		msg  email.Message
	}{
		{"a wrong password", strings.Replace(srv.URL, "right-password", "wrong-password", 1), testMessage},
		{"a recipient that is not an address", srv.URL, email.Message{To: "not an address", Text: "x"}},
		{"a recipient list", srv.URL, email.Message{To: "a@example.com, b@example.com", Text: "x"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := email.NewSMTPMailer(email.SMTPConfig{URL: tt.url, From: "no-reply@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			err = m.Send(context.Background(), tt.msg)
			if !errors.Is(err, email.ErrSend) || strings.Contains(err.Error(), "password") && strings.Contains(err.Error(), "wrong-password") {
				t.Errorf("Send: %v; want ErrSend without the password", err)
			}
		})
	}
	if len(srv.Pending()) != 0 {
		t.Error("a refused send delivered a mail")
	}
}

func TestSMTPMailerIsBoundedByTheContext(t *testing.T) {
	t.Parallel()
	// A server that accepts connections and never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	m, err := email.NewSMTPMailer(email.SMTPConfig{URL: "smtp://" + ln.Addr().String(), From: "no-reply@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Send(ctx, testMessage) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, email.ErrSend) || !errors.Is(err, context.Canceled) {
			t.Errorf("Send after its context ended: %v, want ErrSend wrapping context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send did not return after its context was cancelled")
	}
}

func TestSMTPMailerUsesTLS(t *testing.T) {
	t.Parallel()
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS() // for its certificate (example.com and 127.0.0.1)
	defer ts.Close()
	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	for _, implicit := range []bool{false, true} {
		srv := smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "pw", TLS: ts.TLS.Clone(), ImplicitTLS: implicit})
		m, err := email.NewSMTPMailer(email.SMTPConfig{URL: srv.URL, From: "no-reply@example.com", TLSConfig: &tls.Config{RootCAs: roots}})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Send(context.Background(), testMessage); err != nil {
			t.Fatalf("implicit %v: %v", implicit, err)
		}
		if got := srv.Next(t); !got.TLS {
			t.Errorf("implicit %v: the mail came without TLS", implicit)
		}
		// A certificate the mailer does not trust: refused.
		m, _ = email.NewSMTPMailer(email.SMTPConfig{URL: srv.URL, From: "no-reply@example.com"})
		if err := m.Send(context.Background(), testMessage); !errors.Is(err, email.ErrSend) {
			t.Errorf("implicit %v, an untrusted certificate: %v, want ErrSend", implicit, err)
		}
	}
}

func TestNewSMTPMailerChecksItsConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, url, from string }{
		{"no URL", "", "a@example.com"},
		{"another scheme", "http://mail.example.com", "a@example.com"},
		{"no host", "smtp://:25", "a@example.com"},
		{"a path", "smtp://mail.example.com/x", "a@example.com"},
		{"a bad port", "smtp://mail.example.com:99999", "a@example.com"},
		{"no sender", "smtp://mail.example.com", ""},
		{"a sender that is not an address", "smtp://mail.example.com", "nobody"},
	} {
		if _, err := email.NewSMTPMailer(email.SMTPConfig{URL: tt.url, From: tt.from}); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	_, err := email.NewSMTPMailer(email.SMTPConfig{URL: "smtp://user:hunter2@mail.example.com:%zz", From: "a@example.com"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("an unparsable URL: %v; want an error without the password", err)
	}
}
