module github.com/authgate/authgate/email

go 1.26.0

require (
	github.com/authgate/authgate v0.1.0
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6
	github.com/emersion/go-smtp v0.26.0
	github.com/wneessen/go-mail v0.8.1
	golang.org/x/text v0.44.0
)
