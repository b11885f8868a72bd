// Package email signs users in with a link by e-mail, in NextAuth v4's
// email protocol, so that the unmodified next-auth/react client's
// signIn("email", {email}) works against a Go server, and adds "forgot
// password" on the same parts. It is an [authgate.Extension]:
//
//	mailer, err := email.NewSMTPMailer(email.SMTPConfig{
//		URL:  os.Getenv("SMTP_URL"), // smtp://user:password@smtp.example.com:587
//		From: "Example <no-reply@example.com>",
//	})
//	links, err := email.New[Claims](email.Config{Mailer: mailer, PasswordReset: true})
//	auth, err := authgate.New(authgate.Config[Claims]{
//		Adapter:    store, // users and the links' tokens, such as sqlstore
//		Extensions: []authgate.Extension[Claims]{links},
//		// Secrets, URL, …
//	})
//
// It keeps NextAuth's wire protocol and closes the holes NextAuth's email
// provider had (docs/email.md in the repository says how):
//
//   - A link works once (used atomically through the adapter, also across
//     instances), for 10 minutes by default instead of 24 hours, and a new
//     link for an address ends the older ones. The adapter stores only a
//     keyed hash of its 256-bit token.
//   - Addresses are normalised with Unicode NFKC before they are checked,
//     and anything but one plain address (a list, a quoted local part, a
//     control character, a second "@" that NFKC made) is refused before
//     any mail is sent ([NormalizeAddress]). The HTML mail escapes what it
//     shows.
//   - A link scanner cannot use a link up: opening it (GET or HEAD) shows a
//     page whose one button posts the token; only that POST signs in.
//   - Mails are throttled per address and per client through an
//     [authgate.Limiter] ([Config.Limiter]); the answer is the same whether
//     the address has an account; a new user is created only once the
//     SignIn callback allows it (it sees a user without an ID); the
//     address is marked verified when a link is used.
//
// The extension needs [authgate.Config.Adapter]; with
// [Config.PasswordReset], one that stores passwords
// ([authgate.PasswordAdapter]). Sign-ins by link carry the AMR ["email"].
// Package smtptest (in this module) runs a real SMTP server for tests.
package email
