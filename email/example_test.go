package email_test

import (
	"fmt"
	"log"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/email"
)

// A user type of the app's own.
type User struct{ Plan string }

func Example() {
	// The mailer: any SMTP server that offers STARTTLS (or smtps://).
	mailer, err := email.NewSMTPMailer(email.SMTPConfig{
		URL:  "smtp://mailer:secret@smtp.example.com:587",
		From: "Example <no-reply@example.com>",
	})
	if err != nil {
		log.Fatal(err)
	}
	links, err := email.New[User](email.Config{Mailer: mailer, PasswordReset: true})
	if err != nil {
		log.Fatal(err)
	}
	// links goes into authgate.Config.Extensions beside an Adapter that
	// stores users, tokens and passwords (such as sqlstore):
	//
	//	auth, err := authgate.New(authgate.Config[User]{
	//		Secrets: …, URL: …, Adapter: store,
	//		Extensions: []authgate.Extension[User]{links},
	//	})
	var _ authgate.Extension[User] = links
	fmt.Println(links.ID())
	// Output: email
}

func ExampleNormalizeAddress() {
	for _, in := range []string{"Alice@Example.com", "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "a@b.co,evil@attacker.io", "evil＠attacker.io@victim.example"} {
		out, err := email.NormalizeAddress(in)
		fmt.Printf("%q %v\n", out, err != nil)
	}
	// Output:
	// "alice@example.com" false
	// "alice@example.com" false
	// "" true
	// "" true
}
