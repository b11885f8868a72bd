module github.com/authgate/authgate/examples/nextauth-interop

go 1.26.0

require (
	github.com/authgate/authgate v0.0.0-00010101000000-000000000000
	github.com/authgate/authgate/nextauth v0.0.0-00010101000000-000000000000
)

require (
	github.com/gorilla/securecookie v1.1.2 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/time v0.16.0 // indirect
)

// The example always builds against the authgate in this repository.
replace (
	github.com/authgate/authgate => ../..
	github.com/authgate/authgate/nextauth => ../../nextauth
)
