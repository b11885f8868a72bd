module github.com/authgate/authgate/examples/nextauth-interop

go 1.26.0

require (
	github.com/authgate/authgate v0.1.0
	github.com/authgate/authgate/nextauth v0.1.0
)

require (
	github.com/gorilla/securecookie v1.1.2 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/time v0.16.0 // indirect
)
