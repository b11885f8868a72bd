package authgate_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/authgate/authgate"
)

// Tests of password handling (password.go): bcrypt's 72-byte limit, no
// normalisation, the hashing functions, and the bounded number of
// concurrent password checks.

func TestPasswordsAreTakenAsSent(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	tests := []struct {
		name, addr, user, password string
		want                       int
	}{
		{"Spaces, an emoji and a combining accent sign in", "198.51.100.1", "emoji", passwordUnicode, 200},
		{"The NFC form of the same text is another password", "198.51.100.2", "emoji", strings.Replace(passwordUnicode, "e\u0301", "\u00e9", 1), 401},
		{"A trailing space is not trimmed", "198.51.100.3", "emoji", passwordUnicode + " ", 401},
		{"A NUL does not end the password", "198.51.100.4", "emoji", passwordUnicode + "\x00", 401},
		{"A 73-byte password whose first 72 bytes are right does not sign in", "198.51.100.5", "long", password72 + "X", 401},
		{"72 right bytes and 10000 more do not sign in", "198.51.100.6", "long", password72 + strings.Repeat("X", 10000), 401},
		{"The exact 72 bytes sign in", "198.51.100.7", "long", password72, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := a.client().from(tt.addr).signIn(tt.user, tt.password)
			if res.StatusCode != tt.want || signedIn(res.Response) != (tt.want == 200) {
				t.Errorf("got %d (session %v), want %d", res.StatusCode, signedIn(res.Response), tt.want)
			}
		})
	}
}

func TestHashing(t *testing.T) {
	t.Parallel()
	hash, err := authgate.BcryptHasher{Cost: 4}.Hash(password72)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		password string
		want     error
	}{
		{"The password matches", password72, nil},
		{"One byte past 72 is too long, not a match on the first 72", password72 + "X", authgate.ErrPasswordTooLong},
		{"Another password does not match", "p", authgate.ErrPasswordMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := authgate.CheckPassword(hash, tt.password); !errors.Is(err, tt.want) {
				t.Errorf("CheckPassword: got %v, want %v", err, tt.want)
			}
		})
	}
}

// blockingHasher is bcrypt at cost 4 whose comparisons of the password
// "block" wait until release is closed.
type blockingHasher struct {
	authgate.BcryptHasher
	entered chan struct{}
	release chan struct{}
}

func (h *blockingHasher) Compare(hash, password string) error {
	if password == "block" {
		h.entered <- struct{}{}
		<-h.release
	}
	return h.BcryptHasher.Compare(hash, password)
}

func TestBoundedHashConcurrency(t *testing.T) {
	t.Parallel()
	h := &blockingHasher{BcryptHasher: authgate.BcryptHasher{Cost: 4}, entered: make(chan struct{}, 1), release: make(chan struct{})}
	a := newApp(t, func(cfg *authgate.Config[claims]) {
		cfg.Hasher = h
		cfg.MaxConcurrentHashes = 1
	})
	c := a.client()
	first := make(chan response)
	go func() { first <- c.from("198.51.100.1").signIn("alice", "block") }()
	<-h.entered // the only comparison slot is taken

	busy := c.from("198.51.100.2").signIn("bob", "bob-password")
	if busy.StatusCode != http.StatusServiceUnavailable || busy.Header.Get("Retry-After") != "1" || !strings.Contains(busy.body, "error=Busy") {
		t.Errorf("sign-in with no free slot: got %d Retry-After %q %q, want 503, 1 and error=Busy", busy.StatusCode, busy.Header.Get("Retry-After"), busy.body)
	}
	sameResponse(t, busy, c.from("198.51.100.3").signIn("nobody", "whatever"))

	if res := c.get("/api/auth/session"); res.StatusCode != 200 {
		t.Errorf("GET /session while every slot is taken: got %d, want 200", res.StatusCode)
	}

	close(h.release)
	if res := <-first; res.StatusCode != 401 {
		t.Errorf("the blocked sign-in: got %d, want 401", res.StatusCode)
	}
	if res := c.from("198.51.100.4").signIn("bob", "bob-password"); res.StatusCode != 200 {
		t.Errorf("sign-in after the slot freed: got %d, want 200", res.StatusCode)
	}
}
