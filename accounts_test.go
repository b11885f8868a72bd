package authgate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

// profileProvider is the fake provider with a profile of the test's
// choosing.
type profileProvider struct {
	*fakeProvider
	mu   sync.Mutex
	prof authgate.OAuthProfile
}

func newProfileProvider(id string, prof authgate.OAuthProfile) *profileProvider {
	return &profileProvider{fakeProvider: newFake(id), prof: prof}
}

func (p *profileProvider) set(prof authgate.OAuthProfile) {
	p.mu.Lock()
	p.prof = prof
	p.mu.Unlock()
}

func (p *profileProvider) Exchange(ctx context.Context, cb authgate.OAuthCallback) (*authgate.OAuthProfile, error) {
	if _, err := p.fakeProvider.Exchange(ctx, cb); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	prof := p.prof
	return &prof, nil
}

// oauthApp is the test app with two profile providers and a MemoryAdapter
// holding dana (verified address) and erin (unverified).
func oauthApp(t *testing.T, edit func(*authgate.Config[claims])) (*app, *authgatetest.MemoryAdapter, *profileProvider, *profileProvider) {
	t.Helper()
	ad := authgatetest.NewMemoryAdapter()
	for _, u := range []*authgate.AdapterUser{
		{ID: "dana", Email: "dana@example.com", EmailVerified: clockStart, Name: "Dana", Role: "admin"},
		{ID: "erin", Email: "erin@example.com", Name: "Erin", Role: "user"},
	} {
		if err := ad.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	gh := newProfileProvider("github", authgate.OAuthProfile{ID: "1001", Name: "Octo", Email: "octo@example.com", EmailVerified: true})
	gl := newProfileProvider("gitlab", authgate.OAuthProfile{ID: "2002", Name: "Octo GL", Email: "octo@example.com", EmailVerified: true})
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Adapter = ad
		c.Providers = []authgate.OAuthProvider{gh, gl}
		c.Callbacks.JWT = func(ctx context.Context, p authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
			return p.Token, nil
		}
		c.Callbacks.Session = nil
		if edit != nil {
			edit(c)
		}
	})
	return a, ad, gh, gl
}

// oauthWho signs c in with provider id and returns the callback's
// redirect target and then /whoami.
func oauthWho(c *client, id string) (string, string) {
	res := c.oauthSignIn(id, url.Values{"callbackUrl": {"/whoami"}})
	return res.Header.Get("Location"), c.get("/whoami").body
}

func TestOAuthAccountsFindCreateAndLink(t *testing.T) {
	t.Parallel()
	a, ad, _, _ := oauthApp(t, nil)
	c := a.client()

	// A first sign-in creates a user and links the account to it.
	_, who := oauthWho(c, "github")
	u, err := ad.UserByAccount(t.Context(), "github", "1001")
	if err != nil {
		t.Fatalf("the account was not linked: %v", err)
	}
	if who != u.ID+"  " || u.Email != "octo@example.com" || u.EmailVerified.IsZero() || u.Name != "Octo" {
		t.Fatalf("/whoami %q, user %+v: want the new user, its address verified by the provider", who, u)
	}
	// The same account signs in the same user again.
	c2 := a.client()
	if _, who := oauthWho(c2, "github"); who != u.ID+"  " {
		t.Errorf("second sign-in: %q, want %q", who, u.ID)
	}
	// Signed in, another provider is linked to the same user.
	if _, who := oauthWho(c2, "gitlab"); who != u.ID+"  " {
		t.Errorf("linking gitlab: %q", who)
	}
	if accts, _ := ad.Accounts(t.Context(), u.ID); len(accts) != 2 {
		t.Errorf("accounts of the user: %v, want github and gitlab", accts)
	}
	// A new browser signing in with gitlab finds the same user.
	if _, who := oauthWho(a.client(), "gitlab"); who != u.ID+"  " {
		t.Errorf("gitlab on its own: %q", who)
	}
}

func TestOAuthNeverLinksByEmailByDefault(t *testing.T) {
	t.Parallel()
	a, ad, gh, _ := oauthApp(t, nil)
	gh.set(authgate.OAuthProfile{ID: "3003", Name: "Not Dana", Email: "DANA@example.com", EmailVerified: true})
	loc, who := oauthWho(a.client(), "github")
	if who != "anonymous" || loc != a.url+"/api/auth/error?error=OAuthAccountNotLinked" {
		t.Errorf("got %q to %q, want OAuthAccountNotLinked", who, loc)
	}
	if _, err := ad.UserByAccount(t.Context(), "github", "3003"); err == nil {
		t.Error("the account was linked")
	}
}

func TestLinkAccountsByEmailNeedsBothSidesVerified(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		email         string
		verified      bool
		want          string // /whoami, or "" for OAuthAccountNotLinked
		linkedToExist bool
	}{
		{"both verified: linked to the stored user", "dana@example.com", true, "dana admin ", true},
		{"the provider did not verify: refused", "dana@example.com", false, "", false},
		{"the stored user did not verify: refused", "erin@example.com", true, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, ad, gh, _ := oauthApp(t, func(c *authgate.Config[claims]) { c.LinkAccountsByEmail = true })
			gh.set(authgate.OAuthProfile{ID: "4004", Email: tt.email, EmailVerified: tt.verified})
			loc, who := oauthWho(a.client(), "github")
			if tt.want == "" {
				if loc != a.url+"/api/auth/error?error=OAuthAccountNotLinked" {
					t.Errorf("got %q to %q, want OAuthAccountNotLinked", who, loc)
				}
				return
			}
			if who != tt.want {
				t.Errorf("/whoami: %q, want %q", who, tt.want)
			}
			if u, err := ad.UserByAccount(t.Context(), "github", "4004"); err != nil || u.Email != tt.email {
				t.Errorf("linked to %+v (%v)", u, err)
			}
		})
	}
}

func TestADeniedOAuthSignInCreatesNothing(t *testing.T) {
	t.Parallel()
	var sawID string
	a, ad, _, _ := oauthApp(t, func(c *authgate.Config[claims]) {
		c.Callbacks.SignIn = func(ctx context.Context, p authgate.SignInParams[claims]) (authgate.SignInDecision, error) {
			sawID = p.User.ID
			return authgate.Deny(), nil
		}
	})
	loc, _ := oauthWho(a.client(), "github")
	if loc != a.url+"/api/auth/error?error=AccessDenied" {
		t.Errorf("redirect %q, want AccessDenied", loc)
	}
	if sawID != "" {
		t.Errorf("the SignIn callback saw user id %q for a user not created yet, want empty", sawID)
	}
	if _, err := ad.UserByEmail(t.Context(), "octo@example.com"); err == nil {
		t.Error("a denied sign-in created a user")
	}
}

func TestConcurrentFirstSignInsOfOneAccountMakeOneUser(t *testing.T) {
	t.Parallel()
	a, ad, gh, _ := oauthApp(t, nil)
	gh.set(authgate.OAuthProfile{ID: "5005", Name: "No Mail"}) // no address: nothing else would conflict
	var wg sync.WaitGroup
	who := make([]string, 6)
	for i := range who {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, who[i] = oauthWho(a.client(), "github")
		}()
	}
	wg.Wait()
	u, err := ad.UserByAccount(t.Context(), "github", "5005")
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range who {
		if w != u.ID+"  " {
			t.Errorf("sign-in %d: %q, want the one user %q", i, w, u.ID)
		}
	}
}

func TestAnOAuthSignInWithAnAdapterFaultFailsClosed(t *testing.T) {
	t.Parallel()
	a, ad, _, _ := oauthApp(t, nil)
	ad.SetFail(context.DeadlineExceeded)
	loc, who := oauthWho(a.client(), "github")
	if who != "anonymous" || loc != a.url+"/api/auth/error?error=Busy" {
		t.Errorf("got %q to %q, want error=Busy", who, loc)
	}
}

func TestCompleteSignInRecordsHowTheUserAuthenticated(t *testing.T) {
	t.Parallel()
	var event authgate.Account
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Events.SignIn = func(ctx context.Context, e authgate.SignInEvent[claims]) { event = e.Account }
	})
	var amr []string
	mux := http.NewServeMux()
	mux.HandleFunc("/ext/complete", func(w http.ResponseWriter, r *http.Request) {
		target, err := a.auth.CompleteSignIn(w, r, &authgate.User[claims]{ID: "u2", Name: "bob", Role: "user"}, authgate.SignInMethod{
			Account:     authgate.Account{Provider: "email", Type: "email", ProviderAccountID: "bob@example.com"},
			AMR:         []string{"pwd", "otp"},
			CallbackURL: "/whoami?after=1",
		})
		if err != nil {
			t.Errorf("CompleteSignIn: %v", err)
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
	mux.HandleFunc("/ext/amr", func(w http.ResponseWriter, r *http.Request) {
		if s, ok := a.auth.Session(r); ok {
			amr = s.AMR()
		}
	})
	appHandler := a.h
	a.h = a.auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/ext/") {
			mux.ServeHTTP(w, r)
			return
		}
		appHandler.ServeHTTP(w, r)
	}))
	c := a.client()
	res := c.get("/ext/complete")
	if res.StatusCode != 302 || res.Header.Get("Location") != a.url+"/whoami?after=1" || !signedIn(res.Response) {
		t.Fatalf("complete: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	c.get("/ext/amr")
	if len(amr) != 2 || amr[0] != "pwd" || amr[1] != "otp" {
		t.Errorf("session AMR %v, want [pwd otp]", amr)
	}
	if event.Provider != "email" || event.ProviderAccountID != "bob@example.com" {
		t.Errorf("the SignIn event got account %v", event)
	}
	// The AMR survives a re-issue whatever the JWT callback does.
	a.clk.Advance(authgate.DefaultUpdateAge + time.Hour)
	c.get("/ext/amr")
	if len(amr) != 2 {
		t.Errorf("after a refresh: AMR %v", amr)
	}
}

func TestCompleteSignInHonoursTheSignInCallback(t *testing.T) {
	t.Parallel()
	decision := authgate.RedirectTo("/verify-more")
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.Callbacks.SignIn = func(ctx context.Context, p authgate.SignInParams[claims]) (authgate.SignInDecision, error) {
			return decision, nil
		}
	})
	for _, tt := range []struct {
		d    authgate.SignInDecision
		want string
	}{
		{authgate.RedirectTo("/verify-more"), appURL + "/verify-more"},
		{authgate.Deny(), appURL + "/api/auth/error?error=AccessDenied"},
	} {
		decision = tt.d
		w := httptest.NewRecorder()
		target, err := a.auth.CompleteSignIn(w, request("GET", "/"), &authgate.User[claims]{ID: "u2"}, authgate.SignInMethod{})
		if target != tt.want || err == nil || signedIn(w.Result()) {
			t.Errorf("got %q, %v (signed in %v), want %q, ErrAccessDenied and no session", target, err, signedIn(w.Result()), tt.want)
		}
	}
}
