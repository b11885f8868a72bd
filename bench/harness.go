// Package bench compares authgate's hot path with the Go libraries a
// developer would otherwise pick, on the same claims and the same request.
//
// Every variant is an http.Handler that runs one full authenticated request:
// find the cookie, verify and decode it, check its expiry, hand the claims to
// the final handler through the library's own accessor, and let that handler
// read the role. [Variants] builds them all; the benchmarks in bench_test.go
// time them and the tests check each one accepts a valid cookie and rejects a
// tampered one before it is timed.
//
// This is its own module (see go.mod), so the root module never depends on
// the peers.
package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"time"
)

// Claims are the claims every variant carries: an id, a name, an email, a
// role, iat and exp.
type Claims struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
}

// TestClaims returns the claims used by every variant, issued at now and
// valid for a day.
func TestClaims(now time.Time) Claims {
	return Claims{
		ID:        "u_01JD6X4F9Q2W8Z",
		Name:      "Alice Example",
		Email:     "alice@example.com",
		Role:      "admin",
		IssuedAt:  now.Unix(),
		ExpiresAt: now.Add(24 * time.Hour).Unix(),
	}
}

// WantRole is the role the final handler of every variant must read.
const WantRole = "admin"

// Variant is one library's full request path.
type Variant struct {
	// Name is the benchmark name.
	Name string
	// Handler runs the library's middleware (or in-handler lookup) and the
	// final handler, which answers 200 with the role, or 401.
	Handler http.Handler
	// Cookie is a valid session cookie for Handler.
	Cookie *http.Cookie
	// Cookies, when set, are several distinct valid cookies to cycle through
	// (a cold cache); Cookie is then Cookies[0].
	Cookies []*http.Cookie
	// Anonymous marks a variant timed without any cookie; AnonymousStatus is
	// what it answers then.
	Anonymous       bool
	AnonymousStatus int
}

// finish is the final handler's common tail: 200 and the role when the role
// was read, 401 otherwise.
func finish(w http.ResponseWriter, role string, ok bool) {
	if !ok || role != WantRole {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, role)
}

// NewRequest returns the request every variant serves: GET /api/me from a
// browser, carrying cookie (nil for none).
func NewRequest(cookie *http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://localhost:3000/api/me", nil)
	r.Header.Set("Accept", "application/json")
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36")
	r.Header.Set("Accept-Language", "en-US,en;q=0.9")
	if cookie != nil {
		r.AddCookie(cookie)
	}
	return r
}

// Sink is a reusable, allocation-free ResponseWriter.
type Sink struct {
	header http.Header
	Code   int
	Body   []byte
}

// NewSink returns an empty Sink.
func NewSink() *Sink { return &Sink{header: make(http.Header, 4), Body: make([]byte, 0, 64)} }

// Reset empties the sink for the next request.
func (s *Sink) Reset() {
	clear(s.header)
	s.Code = 0
	s.Body = s.Body[:0]
}

func (s *Sink) Header() http.Header { return s.header }

func (s *Sink) WriteHeader(code int) {
	if s.Code == 0 {
		s.Code = code
	}
}

func (s *Sink) Write(b []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	s.Body = append(s.Body, b...)
	return len(b), nil
}

func (s *Sink) WriteString(str string) (int, error) {
	s.WriteHeader(http.StatusOK)
	s.Body = append(s.Body, str...)
	return len(str), nil
}

// Serve runs one request carrying cookie through h and returns the status
// and body.
func Serve(h http.Handler, cookie *http.Cookie) (int, string) {
	w := NewSink()
	h.ServeHTTP(w, NewRequest(cookie))
	return w.Code, string(w.Body)
}

// Tamper returns a copy of c whose value has one character changed in the
// middle, to another character of the base64url alphabet.
func Tamper(c *http.Cookie) *http.Cookie {
	v := []byte(c.Value)
	i := len(v) / 2
	for v[i] == '.' || v[i] == '|' || v[i] == '-' || v[i] == '_' {
		i++
	}
	if v[i] == 'A' {
		v[i] = 'B'
	} else {
		v[i] = 'A'
	}
	return &http.Cookie{Name: c.Name, Value: string(v)}
}

// CookieBytes is the size of the cookie as the browser sends it: name=value.
func CookieBytes(c *http.Cookie) int { return len(c.Name) + 1 + len(c.Value) }

// All returns every variant: the peers, then authgate's.
func All(now time.Time) ([]Variant, error) {
	vs, err := Peers(now)
	if err != nil {
		return nil, err
	}
	ag, err := Authgate(now)
	if err != nil {
		return nil, err
	}
	na, err := NextAuth(now)
	if err != nil {
		return nil, err
	}
	return append(append(vs, ag...), na...), nil
}
