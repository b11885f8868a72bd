package email_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/email"
)

func TestProvidersListsEmailAsNextAuthDoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	var providers map[string]map[string]string
	if err := json.Unmarshal([]byte(e.browser().get("/api/auth/providers").body), &providers); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"id": "email", "name": "Email", "type": "email",
		"signinUrl": e.url + "/api/auth/signin/email", "callbackUrl": e.url + "/api/auth/callback/email"}
	for k, v := range want {
		if providers["email"][k] != v {
			t.Errorf("/providers email.%s = %q, want %q", k, providers["email"][k], v)
		}
	}
}

func TestALinkSignsInOnceWithTheProtocolOfNextAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	alice := e.addUser("alice@example.com", "")
	b := e.browser()

	res := b.requestLink("Alice@Example.com")
	if res.status != 200 || res.location() != e.url+"/api/auth/verify-request?provider=email&type=email" {
		t.Fatalf("signIn(email): got %d %s, want 200 {url: …/verify-request?provider=email&type=email}", res.status, res.body)
	}
	m, link := e.nextLink("/callback/email")
	if len(m.To) != 1 || m.To[0] != "alice@example.com" || m.Subject != "Sign in to 127.0.0.1" {
		t.Errorf("the mail went to %q with subject %q, want only alice@example.com and 'Sign in to 127.0.0.1'", m.To, m.Subject)
	}
	u, _ := url.Parse(link)
	q := u.Query()
	if u.Path != "/api/auth/callback/email" || q.Get("email") != "alice@example.com" || len(q.Get("token")) != 64 || q.Get("callbackUrl") != e.url+"/dashboard" ||
		!strings.HasPrefix(u.RawQuery, "callbackUrl=") {
		t.Errorf("link %s: want NextAuth's /callback/email?callbackUrl&token(64 hex)&email", link)
	}
	if !strings.Contains(m.HTML, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
		t.Errorf("the HTML part does not link to the same URL: %s", m.HTML)
	}
	if page := b.get("/api/auth/verify-request?provider=email&type=email"); page.status != 200 || !strings.Contains(page.body, "Check your e-mail") {
		t.Errorf("verify-request: %d %q", page.status, page.body)
	}

	page, res := b.submit(link, nil)
	if !strings.Contains(page.body, "alice@example.com") || page.header.Get("Referrer-Policy") != "no-referrer" || page.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the confirmation page: want the address, no referrer and no caching; got %v", page.header)
	}
	if res.status != http.StatusSeeOther || res.location() != e.url+"/dashboard" {
		t.Fatalf("confirm: got %d → %q, want 303 to the callback URL", res.status, res.location())
	}
	if who := b.whoami(); who != alice.ID+" alice@example.com admin email" {
		t.Errorf("whoami after the link: %q, want alice with AMR email", who)
	}
	stored, _ := e.store.UserByEmail(context.Background(), "alice@example.com")
	if !stored.EmailVerified.Equal(e.clk.Now()) {
		t.Errorf("EmailVerified = %v, want the time the link was used (%v)", stored.EmailVerified, e.clk.Now())
	}

	// The same link again, in another browser: used up.
	_, again := e.browser().submit(link, nil)
	if again.status != http.StatusSeeOther || again.location() != e.url+"/api/auth/error?error=Verification" {
		t.Errorf("the link a second time: %d → %q, want Verification", again.status, again.location())
	}
}

func TestHeadAndAScannersGetLeaveTheLinkWorking(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	e.addUser("carol@example.com", "")
	b := e.browser()
	b.requestLink("carol@example.com")
	_, link := e.nextLink("/callback/email")

	scanner := e.browser()
	if res := scanner.method("HEAD", link); res.status != http.StatusOK {
		t.Errorf("HEAD of the link: %d, want 200 (Go serves HEAD with the GET pattern)", res.status)
	}
	for range 3 {
		if res := scanner.get(link); res.status != http.StatusOK || strings.Contains(res.header.Get("Set-Cookie"), "session-token") {
			t.Errorf("a scanner's GET: %d, session cookie %q; want the page and no session", res.status, res.header.Get("Set-Cookie"))
		}
	}
	if who := scanner.whoami(); who != "anonymous" {
		t.Errorf("the scanner is signed in: %q", who)
	}
	if _, res := b.submit(link, nil); res.location() != e.url+"/dashboard" {
		t.Errorf("the user's click after HEAD and GETs: → %q, want the dashboard", res.location())
	}
}

func TestUnusableLinksEndAtVerification(t *testing.T) {
	t.Parallel()
	verification := "/api/auth/error?error=Verification"
	for _, tt := range []struct {
		name  string
		spoil func(e *env, b *browser, link string) string // returns the link to confirm
	}{
		{"an expired link (10 minutes by default)", func(e *env, b *browser, link string) string {
			e.clk.Advance(email.DefaultMaxAge)
			return link
		}},
		{"a used link", func(e *env, b *browser, link string) string {
			e.browser().submit(link, nil)
			return link
		}},
		{"a link for another address", func(e *env, b *browser, link string) string {
			return strings.Replace(link, "email=dave%40example.com", "email=eve%40example.com", 1)
		}},
		{"a superseded link (a newer one was sent)", func(e *env, b *browser, link string) string {
			b.requestLink("dave@example.com")
			e.nextLink("/callback/email")
			return link
		}},
		{"an altered token", func(e *env, b *browser, link string) string {
			u, _ := url.Parse(link)
			q := u.Query()
			tok := []byte(q.Get("token"))
			tok[10] = "10"[min(1, int(tok[10]-'0'))] // another hex digit
			q.Set("token", string(tok))
			u.RawQuery = q.Encode()
			return u.String()
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, options{})
			e.addUser("dave@example.com", "")
			e.addUser("eve@example.com", "")
			b := e.browser()
			b.requestLink("dave@example.com")
			_, link := e.nextLink("/callback/email")
			_, res := b.submit(tt.spoil(e, b, link), nil)
			if res.location() != e.url+verification || b.whoami() != "anonymous" {
				t.Errorf("got %d → %q (%s), want %s and no session", res.status, res.location(), b.whoami(), verification)
			}
		})
	}
	t.Run("a link just before it expires still works", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, options{})
		e.addUser("dave@example.com", "")
		b := e.browser()
		b.requestLink("dave@example.com")
		_, link := e.nextLink("/callback/email")
		e.clk.Advance(email.DefaultMaxAge - time.Second)
		if _, res := b.submit(link, nil); res.location() != e.url+"/dashboard" {
			t.Errorf("→ %q, want the dashboard", res.location())
		}
	})
}

func TestBadAddressesGetEmailSigninWithoutAnySMTPTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	b := e.browser()
	for _, addr := range []string{
		"",
		"a@b.co,evil@attacker.io",        // GHSA-xv97-c62v-4587: a list
		`"e@attacker.io"@victim.example`, // GHSA-5jpx-9hw9-2fx4: a quoted local part
		"victim@example.com\r\nBcc: evil@attacker.io",
		"victim@example.com\x00",
		"attacker.io＠victim.example＠evil.io", // GHSA-7rqj-j65f-68wh: a second @ after NFKC
		"evil＠attacker.io@victim.example",
		"victim@example.com evil@attacker.io",
		"<victim@example.com>",
		"Victim <victim@example.com>",
		"victim@[127.0.0.1]",
		"victim@localhost",
		"user%evil.io@relay.example",
		"vic\u200btim@example.com",
		strings.Repeat("a", 65) + "@example.com",
	} {
		res := b.requestLink(addr)
		if res.status != http.StatusBadRequest || res.location() != e.url+"/api/auth/error?error=EmailSignin" {
			t.Errorf("%q: got %d %s, want 400 and EmailSignin", addr, res.status, res.body)
		}
	}
	if n, c := e.smtp.Transactions(), e.smtp.Connections(); n != 0 || c != 0 {
		t.Errorf("the SMTP server saw %d connections and %d transactions, want none", c, n)
	}
	// The fullwidth form of a plain address is that address.
	if res := b.requestLink("ｆｒａｎｋ＠ｅｘａｍｐｌｅ．ｃｏｍ"); res.status != 200 {
		t.Fatalf("fullwidth address: %d", res.status)
	}
	if m := e.smtp.Next(t); len(m.To) != 1 || m.To[0] != "frank@example.com" {
		t.Errorf("fullwidth address mailed to %q, want frank@example.com", m.To)
	}
}

func TestTheThrottleCapsSendsPerAddressAndPerClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{limiter: email.NewSendLimiter()})
	b := e.browser()
	perPair, perMailbox, perClient := email.SendBudgets()
	sent := 0
	for i := range perPair.Burst + 2 {
		res := b.requestLink("grace@example.com")
		if i < perPair.Burst {
			if res.status != 200 {
				t.Fatalf("mail %d: %d", i, res.status)
			}
			sent++
			continue
		}
		if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" || res.location() != e.url+"/api/auth/error?error=TooManyAttempts" {
			t.Errorf("mail %d to one address from one client: %d %s, want 429 TooManyAttempts with Retry-After", i, res.status, res.body)
		}
	}
	e.smtp.Pending()
	if n := e.smtp.Transactions(); n != sent {
		t.Errorf("%d SMTP transactions, want %d", n, sent)
	}
	// Other clients share the mailbox's budget.
	refused := 0
	for i := range perMailbox.Burst {
		b := e.browser()
		b.c.Transport = fromAddr("198.51.100." + string(rune('1'+i)))
		if b.requestLink("grace@example.com").status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused == 0 {
		t.Errorf("the mailbox's budget (%d) never refused mails from other clients", perMailbox.Burst)
	}
	// One client spraying addresses is capped too.
	spray := e.browser()
	spray.c.Transport = fromAddr("203.0.113.9")
	refused = 0
	for i := range perClient.Burst + 1 {
		if spray.requestLink("user"+strings.Repeat("x", i)+"@example.com").status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d of %d mails to different addresses from one client refused, want exactly the one over the budget", refused, perClient.Burst+1)
	}
	// Time refills the budget.
	e.clk.Advance(perPair.Every)
	if res := e.browser().requestLink("heidi@example.com"); res.status != 200 {
		t.Errorf("after the refill: %d", res.status)
	}
}

// fromAddr is a transport whose requests carry X-Forwarded-For addr: the
// tests' apps trust loopback as a proxy.
type fromAddr string

func (f fromAddr) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", string(f))
	return http.DefaultTransport.RoundTrip(r)
}

func TestKnownAndUnknownAddressesGetTheSameAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	e.addUser("ivan@example.com", "pw-ivan-123")
	known := e.browser().requestLink("ivan@example.com")
	unknown := e.browser().requestLink("nobody@example.com")
	if known.status != unknown.status || known.body != unknown.body {
		t.Errorf("known %d %s, unknown %d %s: want the same answer", known.status, known.body, unknown.status, unknown.body)
	}
	m1, m2 := e.smtp.Next(t), e.smtp.Next(t)
	if strip(m1.Text, m1.Link("/callback")) != strip(m2.Text, m2.Link("/callback")) || m1.Subject != m2.Subject {
		t.Errorf("the two mails differ beyond their links:\n%s\n%s", m1.Text, m2.Text)
	}
	kf := e.browser().forgot("ivan@example.com")
	uf := e.browser().forgot("nobody@example.com")
	if kf.status != 200 || kf.status != uf.status || kf.body != uf.body {
		t.Errorf("forgot password: known %d %s, unknown %d %s: want the same 200 answer", kf.status, kf.body, uf.status, uf.body)
	}
}

func strip(text, link string) string {
	u, _ := url.Parse(link)
	return strings.ReplaceAll(text, link, u.Path)
}

func TestOnlyAKeyedHashOfTheTokenIsStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	e.browser().requestLink("judy@example.com")
	_, link := e.nextLink("/callback/email")
	u, _ := url.Parse(link)
	token := u.Query().Get("token")
	raw, _ := hex.DecodeString(token)

	rows, err := e.store.DB().Query(`SELECT identifier, token_hash, expires FROM authgate_verification_tokens`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		var hash []byte
		var exp sql.NullInt64
		if err := rows.Scan(&id, &hash, &exp); err != nil {
			t.Fatal(err)
		}
		n++
		if strings.Contains(id, token) || strings.Contains(string(hash), token) || strings.Contains(string(hash), string(raw)) || len(hash) != 32 {
			t.Errorf("row %q holds the token or not a 32-byte hash", id)
		}
		if id != "email:judy@example.com" {
			t.Errorf("identifier %q, want email:judy@example.com", id)
		}
		if want := e.clk.Now().Add(10 * time.Minute).UnixMilli(); exp.Int64 != want {
			t.Errorf("expires %d, want now + 10 minutes (%d)", exp.Int64, want)
		}
	}
	if n != 1 {
		t.Errorf("%d token rows, want 1", n)
	}
	// A row written without the secret (plain SHA-256, or another key)
	// does not sign in: the hash is keyed.
	if _, err := e.store.DB().Exec(`DELETE FROM authgate_verification_tokens`); err != nil {
		t.Fatal(err)
	}
	forged := strings.Repeat("ab", 32)
	if err := e.store.CreateVerificationToken(context.Background(), authgate.VerificationToken{Identifier: "email:judy@example.com",
		TokenHash: sha(forged), Expires: e.clk.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("token", forged)
	u.RawQuery = q.Encode()
	if _, res := e.browser().submit(u.String(), nil); res.location() != e.url+"/api/auth/error?error=Verification" {
		t.Errorf("a forged row: → %q, want Verification", res.location())
	}
}

func TestASendFailureAnswersEmailSigninAndLeavesNoUsableToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	e.smtp.Fail(errors.New("mailbox unavailable"))
	res := e.browser().requestLink("ken@example.com")
	if res.status != http.StatusServiceUnavailable || res.location() != e.url+"/api/auth/error?error=EmailSignin" {
		t.Errorf("got %d %s, want 503 and EmailSignin", res.status, res.body)
	}
	var n int
	if err := e.store.DB().QueryRow(`SELECT count(*) FROM authgate_verification_tokens`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d tokens left (%v), want none", n, err)
	}
	if strings.Contains(e.log(), "s3cret") {
		t.Errorf("the SMTP password is in the log")
	}
}

func TestSignUpOnlyWhenTheSignInCallbackAllowsIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	e.signUp.Store(false)
	b := e.browser()
	if res := b.signInWithLink("newbie@example.com"); res.location() != e.url+"/api/auth/error?error=AccessDenied" {
		t.Errorf("sign-up refused: → %q, want AccessDenied", res.location())
	}
	if _, err := e.store.UserByEmail(context.Background(), "newbie@example.com"); !errors.Is(err, authgate.ErrNotFound) {
		t.Errorf("a refused sign-up made a user: %v", err)
	}
	e.signUp.Store(true)
	if res := b.signInWithLink("newbie@example.com"); res.location() != e.url+"/dashboard" {
		t.Fatalf("sign-up allowed: → %q", res.location())
	}
	u, err := e.store.UserByEmail(context.Background(), "newbie@example.com")
	if err != nil || u.EmailVerified.IsZero() || u.Role != "member" {
		t.Fatalf("the new user: %+v, %v; want verified, with the role the callback gave", u, err)
	}
	if who := b.whoami(); who != u.ID+" newbie@example.com member email" {
		t.Errorf("whoami %q", who)
	}
}

func TestTheCallbackURLPassesTheRedirectPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	b := e.browser()
	b.postForm("/api/auth/signin/email", url.Values{"email": {"liz@example.com"}, "csrfToken": {b.csrf()},
		"callbackUrl": {"https://evil.example/steal"}, "json": {"true"}})
	_, link := e.nextLink("/callback/email")
	if _, res := b.submit(link, nil); res.location() != e.url {
		t.Errorf("callbackUrl to another origin: → %q, want the origin", res.location())
	}
}

func TestCSRFIsRequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	b := e.browser()
	b.csrf()
	res := b.postForm("/api/auth/signin/email", url.Values{"email": {"mal@example.com"}, "csrfToken": {strings.Repeat("0", 64)}, "json": {"true"}})
	if res.status != http.StatusForbidden || !strings.Contains(res.location(), "csrf=true") {
		t.Errorf("a wrong csrfToken: %d %s, want 403 and csrf=true", res.status, res.body)
	}
	if e.smtp.Connections() != 0 {
		t.Errorf("a refused request reached the SMTP server")
	}
}

func sha(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
