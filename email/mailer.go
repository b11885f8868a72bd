package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one mail to send: to one recipient, with a subject, a text
// body and, when HTML is not empty, an HTML alternative.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Mailer sends mail. Send must honour ctx (its deadline and cancellation)
// and return only once the mail was handed over (accepted by the SMTP
// server), or with an error; it is safe for concurrent use. [SMTPMailer] is
// the implementation for SMTP; tests and development set-ups bring their
// own.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// ErrSend reports a mail that could not be handed over: the server could
// not be reached, refused the sender, the recipient or the message, or did
// not answer in time.
var ErrSend = errors.New("email: the mail could not be sent")

// DefaultSMTPTimeout is [SMTPConfig.Timeout]'s default.
const DefaultSMTPTimeout = 30 * time.Second

// SMTPConfig configures [NewSMTPMailer].
type SMTPConfig struct {
	// URL names the server: smtp://user:password@host:port sends with
	// STARTTLS (port 587 by default) and refuses a server that does not
	// offer it, except on a loopback host (localhost, 127.0.0.0/8, ::1: a
	// relay on the same machine), where TLS is used when offered;
	// smtps://user:password@host:port is TLS from the first byte (port
	// 465 by default). The user and password, when given, log in with
	// AUTH PLAIN, which is sent only over TLS or to a loopback host. A
	// user or password with reserved characters is percent-encoded.
	// Required.
	URL string
	// From is the sender, such as "Example <no-reply@example.com>".
	// Required.
	From string
	// Timeout bounds one whole send (connect, TLS, login, message),
	// besides the context's deadline. The default is [DefaultSMTPTimeout].
	Timeout time.Duration
	// TLSConfig, when set, replaces the TLS configuration (whose
	// ServerName is the URL's host), for a private certificate authority.
	TLSConfig *tls.Config
	// HELO is the name the client greets the server with. The default is
	// "localhost".
	HELO string
}

// SMTPMailer is a [Mailer] that sends through an SMTP server with
// github.com/wneessen/go-mail: one connection per mail, bounded by the
// context and [SMTPConfig.Timeout], the recipient and sender validated by
// go-mail, the bodies quoted-printable. It is safe for concurrent use.
type SMTPMailer struct {
	host       string
	port       int
	implicit   bool // smtps://
	loopback   bool
	user, pass string
	from       string
	timeout    time.Duration
	tlsConfig  *tls.Config
	helo       string
}

// NewSMTPMailer checks c and returns its mailer. It connects to nothing:
// a wrong password shows at the first send.
func NewSMTPMailer(c SMTPConfig) (*SMTPMailer, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, errors.New("email: the SMTP URL does not parse") // the error would repeat the password
	}
	m := &SMTPMailer{host: u.Hostname(), timeout: c.Timeout, tlsConfig: c.TLSConfig, helo: c.HELO}
	switch u.Scheme {
	case "smtp":
		m.port = 587
	case "smtps":
		m.port, m.implicit = 465, true
	default:
		return nil, fmt.Errorf("email: SMTP URL scheme %q: want smtp or smtps", u.Scheme)
	}
	if m.host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("email: the SMTP URL must be smtp://[user:password@]host[:port] with nothing after the port")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("email: SMTP port %q", p)
		}
		m.port = n
	}
	if u.User != nil {
		m.user = u.User.Username()
		m.pass, _ = u.User.Password()
	}
	m.loopback = isLoopback(m.host)
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("email: From %q is not an address: %w", c.From, err)
	}
	m.from = from.String()
	if m.timeout == 0 {
		m.timeout = DefaultSMTPTimeout
	}
	if m.timeout < 0 {
		return nil, fmt.Errorf("email: SMTP Timeout %v is negative", m.timeout)
	}
	if m.tlsConfig == nil {
		m.tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		m.tlsConfig = m.tlsConfig.Clone()
	}
	if m.tlsConfig.ServerName == "" {
		m.tlsConfig.ServerName = m.host
	}
	if m.helo == "" {
		m.helo = "localhost"
	}
	return m, nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send sends msg: one connection, closed when ctx ends or the timeout
// passes, whichever is first. Errors wrap [ErrSend] and never hold the
// password.
func (s *SMTPMailer) Send(ctx context.Context, msg Message) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	m := gomail.NewMsg()
	if err := m.From(s.from); err != nil {
		return fmt.Errorf("%w: from: %w", ErrSend, err)
	}
	if err := m.To(msg.To); err != nil {
		return fmt.Errorf("%w: to: %w", ErrSend, err)
	}
	m.Subject(msg.Subject)
	m.SetDate()
	m.SetMessageID()
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, msg.Text)
	if msg.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	}

	// Every connection is dialled here, so that the context, not only
	// go-mail's per-command timeout, bounds the whole conversation:
	// when ctx ends, the connection is closed under it.
	var stops []func() bool
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		if s.implicit {
			tc := tls.Client(conn, s.tlsConfig)
			if err := tc.HandshakeContext(dctx); err != nil {
				conn.Close()
				return nil, err
			}
			conn = tc
		}
		stops = append(stops, context.AfterFunc(ctx, func() { conn.Close() }))
		return conn, nil
	}
	policy := gomail.TLSMandatory
	switch {
	case s.implicit:
		policy = gomail.NoTLS // TLS already, from the first byte
	case s.loopback:
		policy = gomail.TLSOpportunistic
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port), gomail.WithTimeout(s.timeout), gomail.WithDialContextFunc(dial),
		gomail.WithTLSPolicy(policy), gomail.WithTLSConfig(s.tlsConfig), gomail.WithHELO(s.helo),
	}
	if s.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(s.user), gomail.WithPassword(s.pass))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSend, err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w (%w)", ErrSend, ctx.Err(), err)
		}
		return fmt.Errorf("%w: %w", ErrSend, err)
	}
	return nil
}
