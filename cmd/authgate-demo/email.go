package main

// email.go wires sign-in links by e-mail and "forgot password" (the
// module github.com/authgate/authgate/email) into the demo: -smtp (or
// SMTP_URL) and -email-from choose the mail server; without them, and only
// in local mode, the mails are written to the log instead.
//
// Local mode is the demo's only notion of "not production": the public URL
// (AUTH_URL, or the one made from -addr) has a loopback host — localhost,
// 127.0.0.0/8 or [::1] —, so no one but this machine can open the site. In
// every other case (production mode) a link is never written to the log:
// without -smtp, e-mail sign-in and password resets are off.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"

	"github.com/authgate/authgate/email"
	"github.com/authgate/authgate/redisstore"
	"github.com/redis/go-redis/v9"
)

// EmailOptions are the -smtp and -email-from flags.
type EmailOptions struct {
	SMTPURL string // -smtp, or SMTP_URL: smtp://user:pass@host:port
	From    string // -email-from; default "authgate demo <no-reply@HOST>"
}

// newMailer checks o and returns the demo's mailer for the public URL
// publicURL: SMTP with -smtp; without it, in local mode, one that writes
// each mail's link to the log with a warning; in production mode nil (the
// e-mail extension stays off). It connects to nothing.
func newMailer(o EmailOptions, publicURL string, logger *slog.Logger) (email.Mailer, error) {
	u, err := url.Parse(publicURL)
	if err != nil {
		return nil, err
	}
	from := o.From
	if from == "" {
		from = "authgate demo <no-reply@" + u.Hostname() + ">"
	}
	if o.SMTPURL != "" {
		m, err := email.NewSMTPMailer(email.SMTPConfig{URL: o.SMTPURL, From: from})
		if err != nil {
			return nil, fmt.Errorf("-smtp / -email-from: %w", err)
		}
		return m, nil
	}
	if o.From != "" {
		return nil, fmt.Errorf("-email-from needs -smtp (or SMTP_URL): the mail server to send from")
	}
	if !localMode(u) {
		logger.Info("e-mail sign-in and password resets are off: set -smtp (or SMTP_URL) to send the links")
		return nil, nil
	}
	logger.Warn("-smtp is not set: sign-in and password reset links are written to this log instead of being mailed. " +
		"Local use only: this happens only because AUTH_URL is a loopback address, never for a public URL")
	return logMailer{logger}, nil
}

// localMode reports whether u's host is a loopback name or address.
func localMode(u *url.URL) bool {
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// logMailer is the local-mode mailer: it writes the mail's recipient,
// subject and link to the log, as a warning.
type logMailer struct{ log *slog.Logger }

var linkRE = regexp.MustCompile(`https?://\S+`)

func (m logMailer) Send(ctx context.Context, msg email.Message) error {
	m.log.WarnContext(ctx, "NOT MAILED (no -smtp; local mode): open this link yourself",
		slog.String("to", msg.To), slog.String("subject", msg.Subject), slog.String("link", linkRE.FindString(msg.Text)))
	return nil
}

// newEmail returns the demo's e-mail extension over mailer (nil when
// mailer is nil): links and password resets, the send budgets shared
// through Redis when the demo has it (-redis), so that several instances
// count one budget.
func newEmail(ctx context.Context, mailer email.Mailer, rc *redis.Client) (*email.Extension[Claims], error) {
	if mailer == nil {
		return nil, nil
	}
	cfg := email.Config{Mailer: mailer, PasswordReset: true}
	if rc != nil {
		perMailboxClient, perMailbox, perClient := email.SendBudgets()
		lim, err := redisstore.NewLimiter(ctx, rc, redisstore.LimiterOptions{KeyPrefix: redisstore.DefaultKeyPrefix + "email:",
			PerAccountAddress: perMailboxClient, PerAccount: perMailbox, PerAddress: perClient})
		if err != nil {
			return nil, err
		}
		cfg.Limiter = lim
	}
	return email.New[Claims](cfg)
}
