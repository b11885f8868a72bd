package providers_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"
)

const secret = "providers-test-secret-0123456789abcdef"

// claims are the test app's own claims: the access token kept in the JWT,
// as a NextAuth app keeps it to call the provider's API.
type claims struct {
	AccessToken  string `json:"at,omitempty"`
	RefreshToken string `json:"rt,omitempty"`
	Provider     string `json:"provider,omitempty"`
	Login        string `json:"login,omitempty"`
}

// clock is the app's injected clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// logBuffer collects the app's log lines, safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// app is an authgate app on a loopback test server.
type app struct {
	t    *testing.T
	srv  *httptest.Server
	auth *authgate.Auth[claims]
	clk  *clock
	logs *logBuffer
}

// newApp serves authgate with provs; edit may change the config.
func newApp(t *testing.T, provs []authgate.OAuthProvider, edit func(*authgate.Config[claims])) *app {
	t.Helper()
	a := &app{t: t, clk: &clock{now: time.Now()}, logs: &logBuffer{}}
	mux := http.NewServeMux()
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	cfg := authgate.Config[claims]{
		Secrets:   []string{secret},
		URL:       a.srv.URL,
		Providers: provs,
		Now:       a.clk.Now,
		// No password is ever checked here, but New hashes a dummy one:
		// bcrypt's minimum cost keeps -race runs fast.
		Hasher: authgate.BcryptHasher{Cost: 4},
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(a.logs, t.Output()), nil)),
		Callbacks: authgate.Callbacks[claims]{
			JWT: func(ctx context.Context, p authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
				if p.Trigger == authgate.TriggerSignIn && p.Account != nil && p.Account.Type == "oauth" {
					p.Token.Role = "user"
					p.Token.Claims.AccessToken = p.Account.AccessToken
					p.Token.Claims.RefreshToken = p.Account.RefreshToken
					p.Token.Claims.Provider = p.Account.Provider
					if login, ok := p.Profile["login"].(string); ok {
						p.Token.Claims.Login = login
					}
				}
				return p.Token, nil
			},
			Session: func(ctx context.Context, p authgate.SessionParams[claims]) (*authgate.Session[claims], error) {
				p.Session.Claims = p.Token.Claims
				return p.Session, nil
			},
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	auth, err := authgate.New(cfg)
	if err != nil {
		t.Fatalf("authgate.New: %v", err)
	}
	a.auth = auth
	mux.Handle("/api/auth/", auth.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page "+r.URL.Path) })
	return a
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	t   *testing.T
	app *app
	hc  *http.Client
}

func (a *app) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: a.t, app: a, hc: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	*http.Response
	body string
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Redacted(), err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{res, string(body)}
}

func (b *browser) get(u string) response {
	b.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

func (b *browser) csrf() string {
	b.t.Helper()
	var v struct{ CsrfToken string }
	if err := json.Unmarshal([]byte(b.get(b.app.srv.URL+"/api/auth/csrf").body), &v); err != nil {
		b.t.Fatal(err)
	}
	return v.CsrfToken
}

// start is next-auth/react's signIn(id, {callbackUrl}): it returns the
// authorization URL the app answered.
func (b *browser) start(id, callbackURL string) string {
	b.t.Helper()
	form := url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {callbackURL}, "json": {"true"}}
	req, _ := http.NewRequest("POST", b.app.srv.URL+"/api/auth/signin/"+id, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res := b.do(req)
	var v struct{ URL string }
	if err := json.Unmarshal([]byte(res.body), &v); err != nil || res.StatusCode != 200 {
		b.t.Fatalf("POST /signin/%s: %d %s", id, res.StatusCode, res.body)
	}
	return v.URL
}

// authorize visits the provider's authorization URL and returns the
// callback URL it redirects to.
func (b *browser) authorize(authURL string) string {
	b.t.Helper()
	res := b.get(authURL)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, b.app.srv.URL+"/api/auth/callback/") {
		b.t.Fatalf("GET the authorization URL: %d, Location %q, body %q", res.StatusCode, loc, res.body)
	}
	return loc
}

// signIn runs the whole flow and returns the callback's response.
func (b *browser) signIn(id, callbackURL string) response {
	b.t.Helper()
	return b.get(b.authorize(b.start(id, callbackURL)))
}

func (b *browser) session() authgate.Session[claims] {
	b.t.Helper()
	var s authgate.Session[claims]
	body := b.get(b.app.srv.URL + "/api/auth/session").body
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		b.t.Fatalf("GET /session: %q: %v", body, err)
	}
	return s
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.app.srv.URL)
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// setCookie replaces (value != "") or deletes a cookie in the jar.
func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.app.srv.URL)
	c := &http.Cookie{Name: name, Value: value, Path: "/"}
	if value == "" {
		c.MaxAge = -1
	}
	b.hc.Jar.SetCookies(u, []*http.Cookie{c})
}

// idTokenEdit rewrites the ID token mockoidc issues; nil leaves it.
type idTokenEdit func(t *testing.T, m *mockoidc.MockOIDC, claims jwt.MapClaims) string

// oidcServer is mockoidc on a loopback port with a hook that can replace
// the ID token in its token responses.
type oidcServer struct {
	*mockoidc.MockOIDC
	edit atomic.Pointer[idTokenEdit]
}

func startMockOIDC(t *testing.T) *oidcServer {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &oidcServer{MockOIDC: m}
	m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			edit := s.edit.Load()
			if r.URL.Path != mockoidc.TokenEndpoint || edit == nil {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 200 {
				w.WriteHeader(rec.Code)
				w.Write(rec.Body.Bytes())
				return
			}
			claims := jwt.MapClaims{}
			if raw, _ := body["id_token"].(string); raw != "" {
				if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
					t.Errorf("mockoidc id_token: %v", err)
				}
			}
			if tok := (*edit)(t, m, claims); tok != "" {
				body["id_token"] = tok
			} else {
				delete(body, "id_token")
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(body)
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return s
}

func (s *oidcServer) provider(t *testing.T) authgate.OAuthProvider {
	t.Helper()
	return s.providerWith(t, func(*providers.OIDCConfig) {})
}

// providerWith is provider with edit applied to its configuration.
func (s *oidcServer) providerWith(t *testing.T, edit func(*providers.OIDCConfig)) authgate.OAuthProvider {
	t.Helper()
	c := providers.OIDCConfig{Issuer: s.Issuer(), ClientID: s.ClientID, ClientSecret: s.ClientSecret}
	edit(&c)
	p, err := providers.OIDC(context.Background(), c)
	if err != nil {
		t.Fatalf("providers.OIDC: %v", err)
	}
	return p
}

// fakeGitHub serves GitHub's three endpoints (authorize, access_token,
// the API's /user and /user/emails) as GitHub documents them.
type fakeGitHub struct {
	srv          *httptest.Server
	clientID     string
	clientSecret string
	publicEmail  string // "" makes the app fall back to /user/emails
	// primaryUnverified makes /user/emails mark the primary address
	// unverified.
	primaryUnverified bool
	// allowUnverified is the provider's AllowUnverifiedEmail.
	allowUnverified bool
	noPKCE          bool // an Enterprise Server without PKCE: a challenge is an error
	mu              sync.Mutex
	codes           map[string]string // code → PKCE challenge
	tokens          map[string]bool
}

func startGitHub(t *testing.T) *fakeGitHub {
	t.Helper()
	g := &fakeGitHub{clientID: "gh-client-id", clientSecret: "gh-client-secret-0123456789",
		codes: map[string]string{}, tokens: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != g.clientID || q.Get("state") == "" ||
			(q.Get("code_challenge_method") != "S256") != g.noPKCE || (q.Get("code_challenge") == "") != g.noPKCE ||
			q.Get("scope") != "read:user user:email" {
			http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		code := rand32()
		g.mu.Lock()
		g.codes[code] = q.Get("code_challenge")
		g.mu.Unlock()
		u, _ := url.Parse(q.Get("redirect_uri"))
		u.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		id, sec, ok := r.BasicAuth()
		if !ok {
			id, sec = r.Form.Get("client_id"), r.Form.Get("client_secret")
		}
		g.mu.Lock()
		challenge, known := g.codes[r.Form.Get("code")]
		delete(g.codes, r.Form.Get("code"))
		g.mu.Unlock()
		// GitHub answers errors with status 200 and an error field.
		switch {
		case id != g.clientID || sec != g.clientSecret:
			io.WriteString(w, "error=incorrect_client_credentials")
		case !known || g.noPKCE && r.Form.Has("code_verifier") ||
			!g.noPKCE && oauth2.S256ChallengeFromVerifier(r.Form.Get("code_verifier")) != challenge:
			io.WriteString(w, "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.")
		default:
			tok := "gho_" + rand32()
			g.mu.Lock()
			g.tokens[tok] = true
			g.mu.Unlock()
			w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			io.WriteString(w, url.Values{"access_token": {tok}, "scope": {"read:user,user:email"}, "token_type": {"bearer"}}.Encode())
		}
	})
	authed := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			g.mu.Lock()
			ok := g.tokens[tok]
			g.mu.Unlock()
			if !ok {
				http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /user", authed(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"login": "octocat", "id": 583231, "name": nil,
			"email": nilIfEmpty(g.publicEmail), "avatar_url": "https://avatars.example/u/583231"})
	}))
	mux.HandleFunc("GET /user/emails", authed(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode([]map[string]any{
			{"email": "unverified@example.com", "primary": false, "verified": false},
			{"email": "octocat@example.com", "primary": true, "verified": !g.primaryUnverified},
		})
	}))
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGitHub) provider(t *testing.T) authgate.OAuthProvider {
	t.Helper()
	p, err := providers.GitHub(providers.GitHubConfig{
		ClientID: g.clientID, ClientSecret: g.clientSecret, DisablePKCE: g.noPKCE,
		AllowUnverifiedEmail: g.allowUnverified,
		AuthURL:              g.srv.URL + "/login/oauth/authorize", TokenURL: g.srv.URL + "/login/oauth/access_token", APIURL: g.srv.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func rand32() string { return rand.Text() }
