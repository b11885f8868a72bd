package authgate_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
// "block" wait until release is closed; with clk set, every Hash and
// Compare also takes d of that clock (a slow hasher, without sleeping).
type blockingHasher struct {
	authgate.BcryptHasher
	entered chan struct{}
	release chan struct{}
	clk     *clock
	d       time.Duration
}

func newBlockingHasher() *blockingHasher {
	return &blockingHasher{BcryptHasher: authgate.BcryptHasher{Cost: 4}, entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (h *blockingHasher) Hash(password string) (string, error) {
	if h.clk != nil {
		h.clk.Advance(h.d)
	}
	return h.BcryptHasher.Hash(password)
}

func (h *blockingHasher) Compare(hash, password string) error {
	if password == "block" {
		h.entered <- struct{}{}
		<-h.release
	}
	if h.clk != nil {
		h.clk.Advance(h.d)
	}
	return h.BcryptHasher.Compare(hash, password)
}

// waitQueued waits until n sign-ins wait for a password check.
func waitQueued(t *testing.T, a *app, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); authgate.HashQueueLen(a.auth) != n; {
		if time.Now().After(deadline) {
			t.Fatalf("got %d queued sign-ins, want %d", authgate.HashQueueLen(a.auth), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSignInsQueueForABusyPasswordCheck(t *testing.T) {
	t.Parallel()
	h := newBlockingHasher()
	a := newApp(t, func(cfg *authgate.Config[claims]) {
		cfg.Hasher = h
		cfg.MaxConcurrentHashes = 1
	})
	c := a.client()
	first := make(chan response)
	go func() { first <- c.from("198.51.100.1").signIn("alice", "block") }()
	<-h.entered // the only comparison slot is taken

	queued := make(chan response)
	go func() { queued <- c.from("198.51.100.2").signIn("bob", "bob-password") }()
	waitQueued(t, a, 1)
	if res := c.get("/api/auth/session"); res.StatusCode != 200 {
		t.Errorf("GET /session while every slot is taken: got %d, want 200", res.StatusCode)
	}

	close(h.release)
	if res := <-first; res.StatusCode != 401 {
		t.Errorf("the blocked sign-in: got %d, want 401", res.StatusCode)
	}
	if res := <-queued; res.StatusCode != 200 {
		t.Errorf("the queued sign-in: got %d %q, want 200 once the slot freed", res.StatusCode, res.body)
	}
}

func TestSignInsPastTheQueuesLimitAreRefusedAtOnce(t *testing.T) {
	t.Parallel()
	// One check takes 2 s (measured when New hashes the dummy), one slot,
	// MaxHashWait 3 s: the first waiter expects 2 s and queues, the second
	// expects 4 s and gets 503 with Retry-After 4, the same for a known and
	// an unknown user.
	clk := newClock()
	h := newBlockingHasher()
	h.clk, h.d = clk, 2*time.Second
	a := newApp(t, func(cfg *authgate.Config[claims]) {
		cfg.Now = clk.Now
		cfg.Hasher = h
		cfg.MaxConcurrentHashes = 1
		cfg.MaxHashWait = 3 * time.Second
	})
	c := a.client()
	first := make(chan response)
	go func() { first <- c.from("198.51.100.1").signIn("alice", "block") }()
	<-h.entered
	queued := make(chan response)
	go func() { queued <- c.from("198.51.100.2").signIn("bob", "bob-password") }()
	waitQueued(t, a, 1)

	busy := c.from("198.51.100.3").signIn("bob", "bob-password")
	if busy.StatusCode != http.StatusServiceUnavailable || busy.Header.Get("Retry-After") != "4" || !strings.Contains(busy.body, "error=Busy") {
		t.Errorf("second in the queue: got %d Retry-After %q %q, want 503, 4 and error=Busy", busy.StatusCode, busy.Header.Get("Retry-After"), busy.body)
	}
	sameResponse(t, busy, c.from("198.51.100.4").signIn("nobody", "whatever"))

	close(h.release)
	if res := <-first; res.StatusCode != 401 {
		t.Errorf("the blocked sign-in: got %d, want 401", res.StatusCode)
	}
	if res := <-queued; res.StatusCode != 200 {
		t.Errorf("the queued sign-in: got %d, want 200", res.StatusCode)
	}
}

func TestASessionIsStampedWhenIssuedNotWhenItArrived(t *testing.T) {
	t.Parallel()
	h := newBlockingHasher()
	a := newApp(t, func(cfg *authgate.Config[claims]) {
		cfg.Hasher = h
		cfg.MaxConcurrentHashes = 1
	})
	holder := a.client().from("198.51.100.1")
	first := make(chan response)
	go func() { first <- holder.signIn("alice", "block") }()
	<-h.entered

	bob := a.client().from("198.51.100.2")
	queued := make(chan response)
	go func() { queued <- bob.signIn("bob", "bob-password") }()
	waitQueued(t, a, 1)
	arrived := a.clk.Now()
	a.clk.Advance(2 * time.Second) // two seconds in the queue
	close(h.release)
	<-first
	if res := <-queued; res.StatusCode != 200 {
		t.Fatalf("the queued sign-in: got %d, want 200", res.StatusCode)
	}
	r := httptest.NewRequest("GET", appURL+"/", nil)
	for _, c := range bob.cookies() {
		r.AddCookie(c)
	}
	s, err := a.auth.Check(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := arrived.Add(2 * time.Second); !s.IssuedAt().Equal(want) || !s.AuthTime().Equal(want) {
		t.Errorf("got issued %v, signed in %v; want both %v (issue time, not arrival %v)", s.IssuedAt(), s.AuthTime(), want, arrived)
	}
	if want := arrived.Add(2*time.Second + authgate.DefaultMaxAge); !s.Expires.Equal(want) {
		t.Errorf("got expiry %v, want %v", s.Expires, want)
	}
}
