// Package smtptest runs a real SMTP server for tests, in the test process
// (github.com/emersion/go-smtp) on a free loopback port: it speaks SMTP
// over TCP as any mail server does, asks for a password when given one,
// and keeps every message it accepts, parsed from its MIME form (net/mail,
// mime/multipart, quoted-printable), for the test to read.
package smtptest

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one message the server accepted.
type Mail struct {
	// From and To are the envelope's sender and recipients (MAIL FROM,
	// RCPT TO).
	From string
	To   []string
	// Header is the message's header.
	Header mail.Header
	// Subject is the decoded Subject header.
	Subject string
	// Text and HTML are the decoded text/plain and text/html parts, with
	// LF line breaks.
	Text, HTML string
	// Raw is the message as received.
	Raw []byte
	// TLS reports that the message came over TLS (STARTTLS or implicit).
	TLS bool
}

// linkRE finds http(s) URLs in a text body.
var linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// Link returns the first URL in the text part that contains substr, or
// "" when there is none.
func (m *Mail) Link(substr string) string {
	for _, l := range linkRE.FindAllString(m.Text, -1) {
		if strings.Contains(l, substr) {
			return l
		}
	}
	return ""
}

// Server is one SMTP server. Its methods are safe for concurrent use.
type Server struct {
	// Addr is the server's host:port on 127.0.0.1.
	Addr string
	// URL is smtp://[user:password@]Addr, for the mailer under test.
	URL string

	srv        *smtp.Server
	user, pass string
	mails      chan *Mail

	mu       sync.Mutex
	conns    int   // connections that said EHLO
	mailCmds int   // MAIL FROM commands
	fail     error // answered to DATA when set
}

// Options configure [Start].
type Options struct {
	// Username and Password, when set, are required through AUTH PLAIN
	// before MAIL FROM (the server allows it without TLS: it listens on
	// loopback only).
	Username, Password string
	// TLS, when set, is offered through STARTTLS; with ImplicitTLS the
	// server speaks TLS from the first byte instead (smtps).
	TLS         *tls.Config
	ImplicitTLS bool
}

// Start starts a server on 127.0.0.1 for tb and closes it when tb ends.
func Start(tb testing.TB, o Options) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("smtptest: listen: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), user: o.Username, pass: o.Password, mails: make(chan *Mail, 1024)}
	u := url.URL{Scheme: "smtp", Host: s.Addr}
	if o.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if o.Username != "" {
		u.User = url.UserPassword(o.Username, o.Password)
	}
	s.URL = u.String()
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		s.conns++
		s.mu.Unlock()
		_, isTLS := c.TLSConnectionState()
		return &session{s: s, authed: s.user == "", conn: c, tls: isTLS}, nil
	}))
	if o.TLS != nil && !o.ImplicitTLS {
		s.srv.TLSConfig = o.TLS
	}
	if o.ImplicitTLS {
		ln = tls.NewListener(ln, o.TLS)
	}
	s.srv.Domain = "localhost"
	s.srv.ErrorLog = log.New(io.Discard, "", 0) // clients that hang up are no news
	s.srv.AllowInsecureAuth = true
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	go s.srv.Serve(ln)
	tb.Cleanup(func() { s.srv.Close() })
	return s
}

// Fail makes the server refuse every message at DATA with err's text (a
// permanent 554), until Fail(nil).
func (s *Server) Fail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

// Connections returns how many SMTP sessions clients opened (EHLO or
// HELO), and Transactions how many MAIL FROM commands they sent.
func (s *Server) Connections() int { s.mu.Lock(); defer s.mu.Unlock(); return s.conns }

// Transactions returns how many MAIL FROM commands clients sent.
func (s *Server) Transactions() int { s.mu.Lock(); defer s.mu.Unlock(); return s.mailCmds }

// Next returns the next message the server accepted, waiting for it up to
// 10 seconds; then it fails tb.
func (s *Server) Next(tb testing.TB) *Mail {
	tb.Helper()
	select {
	case m := <-s.mails:
		return m
	case <-time.After(10 * time.Second):
		tb.Fatal("smtptest: no mail arrived within 10s")
		return nil
	}
}

// Pending returns the messages accepted and not yet read by Next, without
// waiting.
func (s *Server) Pending() []*Mail {
	var out []*Mail
	for {
		select {
		case m := <-s.mails:
			out = append(out, m)
		default:
			return out
		}
	}
}

type session struct {
	s      *Server
	conn   *smtp.Conn
	tls    bool
	authed bool
	from   string
	to     []string
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != x.s.user || password != x.s.pass {
			return smtp.ErrAuthFailed
		}
		x.authed = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if !x.authed {
		return smtp.ErrAuthRequired
	}
	x.s.mu.Lock()
	x.s.mailCmds++
	x.s.mu.Unlock()
	x.from, x.to = from, nil
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	fail := x.s.fail
	x.s.mu.Unlock()
	if fail != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 0, 0}, Message: fail.Error()}
	}
	m, err := Parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: err.Error()}
	}
	m.From, m.To = x.from, x.to
	_, m.TLS = x.conn.TLSConnectionState()
	m.TLS = m.TLS || x.tls
	x.s.mails <- m
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// Parse reads a MIME message: its header, its decoded subject and its
// text/plain and text/html parts (single-part, or inside multipart/*).
func Parse(raw []byte) (*Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("smtptest: not a message: %w", err)
	}
	m := &Mail{Header: msg.Header, Raw: raw}
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return nil, fmt.Errorf("smtptest: subject: %w", err)
	}
	if err := m.readPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Mail) readPart(contentType, encoding string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("smtptest: content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("smtptest: multipart: %w", err)
			}
			if err := m.readPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64Reader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("smtptest: %s part: %w", mt, err)
	}
	// Line breaks are CRLF on the wire (RFC 5322); the test reads LF.
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch mt {
	case "text/plain":
		m.Text += text
	case "text/html":
		m.HTML += text
	}
	return nil
}

// base64Reader decodes a base64 body whose lines are wrapped.
func base64Reader(r io.Reader) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, &stripNewlines{r: r})
}

// stripNewlines drops CR and LF from what it reads.
type stripNewlines struct{ r io.Reader }

func (s *stripNewlines) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
