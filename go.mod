module github.com/authgate/authgate

go 1.25.2

require (
	github.com/gorilla/securecookie v1.1.2 // indirect
	golang.org/x/crypto v0.59.0 // indirect
)
