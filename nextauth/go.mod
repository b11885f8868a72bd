module github.com/authgate/authgate/nextauth

go 1.26.0

require github.com/authgate/authgate v0.0.0-00010101000000-000000000000

// The codecs always build against the authgate in this repository.
replace github.com/authgate/authgate => ../
