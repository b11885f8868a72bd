module github.com/authgate/authgate

go 1.26.0

require (
	github.com/gorilla/securecookie v1.1.2
	golang.org/x/crypto v0.59.0
	golang.org/x/time v0.16.0
)
