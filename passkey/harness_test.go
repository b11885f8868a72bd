package passkey_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
	"github.com/authgate/authgate/passkey"
	"github.com/descope/virtualwebauthn"
)

// claims are the tests' (empty) app claims.
type claims struct{}

// store is what the tests need of an adapter: passkeys and passwords.
type store interface {
	authgate.PasskeyAdapter
	authgate.PasswordAdapter
}

// clock is an injected clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logs collects the JSON log lines.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.Write(p) }
func (l *logs) has(event string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.buf.String(), `"event":"`+event+`"`)
}
func (l *logs) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

// env is an app with the passkey extension on http://localhost:port: a
// real server on loopback, a store, users alice (password "alice-pw") and
// bob (no password), and the routes
//
//	/whoami  "anonymous" or the user's id and AMR
//	/mfa     RequireAMR("mfa")
type env struct {
	t     testing.TB
	auth  *authgate.Auth[claims]
	pk    *passkey.Passkeys[claims]
	store store
	url   string
	addr  string
	clk   *clock
	logs  *logs
	rp    virtualwebauthn.RelyingParty
	alice string // user ids
	bob   string
}

// edits change the configurations before authgate.New.
type edits struct {
	auth func(*authgate.Config[claims])
	pk   func(*passkey.Config[claims])
}

func newEnv(t testing.TB, s store, e edits) *env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	env := &env{t: t, store: s, url: "http://localhost:" + port, addr: ln.Addr().String(),
		clk: &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}, logs: &logs{}}
	env.rp = virtualwebauthn.RelyingParty{ID: "localhost", Name: "localhost:" + port, Origin: env.url}
	ctx := t.Context()
	hash, err := (authgate.BcryptHasher{Cost: 4}).Hash("alice-pw")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*authgate.AdapterUser{{Email: "alice@example.com", Name: "Alice"}, {Email: "bob@example.com", Name: "Bob"}} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if u.Name == "Alice" {
			env.alice = u.ID
			if err := s.SetPasswordHash(ctx, u.ID, hash); err != nil {
				t.Fatal(err)
			}
		} else {
			env.bob = u.ID
		}
	}
	pc := passkey.Config[claims]{}
	if e.pk != nil {
		e.pk(&pc)
	}
	env.pk = passkey.New(pc)
	cfg := authgate.Config[claims]{
		Secrets: []string{"passkey-test-secret-0123456789abcdef"},
		URL:     env.url,
		Adapter: s,
		Hasher:  authgate.BcryptHasher{Cost: 4},
		Now:     env.clk.Now,
		Logger:  slog.New(slog.NewJSONHandler(env.logs, nil)),
		// alice signs in with her password; bob has none.
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[claims], error) {
			u, err := s.UserByEmail(ctx, c.Username())
			var hash string
			if err == nil {
				hash, _ = s.PasswordHash(ctx, u.ID)
			}
			if !c.PasswordMatches(hash) || err != nil {
				return nil, nil
			}
			return &authgate.User[claims]{ID: u.ID, Name: u.Name, Email: u.Email}, nil
		},
		Extensions: []authgate.Extension[claims]{env.pk},
	}
	if e.auth != nil {
		e.auth(&cfg)
	}
	env.auth, err = authgate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", env.auth.Handler())
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		if s, ok := env.auth.Session(r); ok {
			io.WriteString(w, s.User.ID+" "+strings.Join(s.AMR(), ","))
			return
		}
		io.WriteString(w, "anonymous")
	})
	mux.Handle("GET /mfa", env.auth.RequireAMR("mfa")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "strong")
	})))
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: env.auth.Middleware(mux)}}
	srv.Start()
	t.Cleanup(srv.Close)
	return env
}

// memoryEnv is an env on authgatetest's MemoryAdapter.
func memoryEnv(t testing.TB, e edits) *env {
	t.Helper()
	return newEnv(t, authgatetest.NewMemoryAdapter(), e)
}

// browser is a client with its cookie jar and an authenticator.
type browser struct {
	e    *env
	hc   *http.Client
	auth virtualwebauthn.Authenticator
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, e.addr)
	}}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &browser{e: e, auth: virtualwebauthn.NewAuthenticator(), hc: &http.Client{Jar: jar, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// res is a response with its body read.
type res struct {
	status int
	header http.Header
	body   string
}

// json decodes the body into a map.
func (r res) json() map[string]any {
	var v map[string]any
	json.Unmarshal([]byte(r.body), &v)
	return v
}

// errorCode is the "error" of the JSON body's url, or of the body itself.
func (r res) errorCode() string {
	v := r.json()
	if u, ok := v["url"].(string); ok {
		p, _ := url.Parse(u)
		return p.Query().Get("error")
	}
	s, _ := v["error"].(string)
	return s
}

func (b *browser) do(method, path, contentType, body string, header ...string) res {
	b.e.t.Helper()
	req, err := http.NewRequest(method, b.e.url+path, strings.NewReader(body))
	if err != nil {
		b.e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	r, err := b.hc.Do(req)
	if err != nil {
		b.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer r.Body.Close()
	data, _ := io.ReadAll(r.Body)
	return res{r.StatusCode, r.Header, string(data)}
}

func (b *browser) get(path string) res { b.e.t.Helper(); return b.do("GET", path, "", "") }

func (b *browser) post(path string, form url.Values, header ...string) res {
	b.e.t.Helper()
	return b.do("POST", path, "application/x-www-form-urlencoded", form.Encode(), header...)
}

func (b *browser) csrf() string {
	b.e.t.Helper()
	var v struct{ CsrfToken string }
	json.Unmarshal([]byte(b.get("/api/auth/csrf").body), &v)
	return v.CsrfToken
}

// signIn signs in with a password as next-auth/react does.
func (b *browser) signIn(email, password string) {
	b.e.t.Helper()
	r := b.post("/api/auth/callback/credentials", url.Values{"username": {email}, "password": {password},
		"csrfToken": {b.csrf()}, "json": {"true"}})
	if r.status != 200 || r.errorCode() != "" {
		b.e.t.Fatalf("password sign-in of %s: %d %s", email, r.status, r.body)
	}
}

func (b *browser) signOut() {
	b.e.t.Helper()
	b.post("/api/auth/signout", url.Values{"csrfToken": {b.csrf()}, "json": {"true"}})
	if got := b.get("/whoami").body; got != "anonymous" {
		b.e.t.Fatalf("after sign-out: %q", got)
	}
}

func (b *browser) whoami() string { b.e.t.Helper(); return b.get("/whoami").body }

// options asks for a ceremony's options as next-auth/webauthn does; it
// returns the answer and the inner options as JSON.
func (b *browser) options(query string) (res, string) {
	b.e.t.Helper()
	r := b.get("/api/auth/webauthn-options/passkey" + query)
	var v struct{ Options json.RawMessage }
	json.Unmarshal([]byte(r.body), &v)
	return r, string(v.Options)
}

// callback posts the browser's answer as next-auth/webauthn does.
func (b *browser) callback(action, data string, extra ...string) res {
	b.e.t.Helper()
	form := url.Values{"action": {action}, "data": {data}, "csrfToken": {b.csrf()}, "callbackUrl": {b.e.url + "/whoami"}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return b.post("/api/auth/callback/passkey", form, "X-Auth-Return-Redirect", "1")
}

// newCredential is a virtual credential with a P-256 key whose
// coordinates are 32 bytes each: virtualwebauthn v1.0.3 writes them
// unpadded, which go-webauthn rightly refuses for the one key in about
// 128 with a shorter coordinate.
func newCredential(t *testing.T) virtualwebauthn.Credential { return newCredentialTB(t) }

// newCredentialTB is newCredential for benchmarks too.
func newCredentialTB(t testing.TB) virtualwebauthn.Credential {
	t.Helper()
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := k.PublicKey.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if pub[1] == 0 || pub[33] == 0 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der)
	}
}

// attest answers creation options with cred on b's authenticator,
// which then holds it with the user handle the options gave.
func (b *browser) attest(options string, cred virtualwebauthn.Credential, rp virtualwebauthn.RelyingParty) string {
	b.e.t.Helper()
	o, err := virtualwebauthn.ParseAttestationOptions(options)
	if err != nil {
		b.e.t.Fatalf("creation options %s: %v", options, err)
	}
	data := virtualwebauthn.CreateAttestationResponse(rp, b.auth, cred, *o)
	b.auth.Options.UserHandle = []byte(o.UserID)
	b.auth.AddCredential(cred)
	return data
}

// assert answers request options with cred, counter as its sign count.
func (b *browser) assert(options string, cred virtualwebauthn.Credential, counter uint32, rp virtualwebauthn.RelyingParty) string {
	b.e.t.Helper()
	o, err := virtualwebauthn.ParseAssertionOptions(options)
	if err != nil {
		b.e.t.Fatalf("request options %s: %v", options, err)
	}
	cred.Counter = counter
	return virtualwebauthn.CreateAssertionResponse(rp, b.auth, cred, *o)
}

// register adds cred as a passkey of b's signed-in user.
func (b *browser) register(cred virtualwebauthn.Credential, extra ...string) res {
	b.e.t.Helper()
	r, opts := b.options("?action=register")
	if r.status != 200 {
		b.e.t.Fatalf("register options: %d %s", r.status, r.body)
	}
	return b.callback("register", b.attest(opts, cred, b.e.rp), extra...)
}

// passkeySignIn signs in with cred at counter.
func (b *browser) passkeySignIn(cred virtualwebauthn.Credential, counter uint32) res {
	b.e.t.Helper()
	r, opts := b.options("?action=authenticate")
	if r.status != 200 {
		b.e.t.Fatalf("authenticate options: %d %s", r.status, r.body)
	}
	return b.callback("authenticate", b.assert(opts, cred, counter, b.e.rp))
}

// stored is the store's record of cred.
func (e *env) stored(cred virtualwebauthn.Credential) *authgate.Passkey {
	e.t.Helper()
	p, err := e.store.Passkey(e.t.Context(), cred.ID)
	if err != nil && !errors.Is(err, authgate.ErrNotFound) {
		e.t.Fatal(err)
	}
	return p
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// errOutage is a store that cannot answer.
var errOutage = errors.New("connection refused")

func newMemory() *authgatetest.MemoryAdapter { return authgatetest.NewMemoryAdapter() }
