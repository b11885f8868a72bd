package passkey_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/passkey"
)

// credentialList is GET /api/auth/passkey/credentials.
func (b *browser) credentialList() (int, []passkey.Credential) {
	b.e.t.Helper()
	r := b.get("/api/auth/passkey/credentials")
	var v struct{ Credentials []passkey.Credential }
	json.Unmarshal([]byte(r.body), &v)
	return r.status, v.Credentials
}

// A user lists, renames and deletes their passkeys through the JSON
// endpoints; changes need the CSRF token, a delete a recent sign-in, and
// nobody reaches another user's passkey.
func TestUsersListRenameAndDeleteTheirPasskeys(t *testing.T) {
	t.Parallel()
	e := memoryEnv(t, edits{})
	b := e.browser()
	if status, _ := b.credentialList(); status != 401 {
		t.Errorf("the list while anonymous: got %d, want 401", status)
	}
	b.signIn("alice@example.com", "alice-pw")
	laptop, phone := newCredential(t), newCredential(t)
	b.register(laptop, "name", "Laptop")
	e.clk.Add(time.Second)
	b.register(phone)
	status, list := b.credentialList()
	if status != 200 || len(list) != 2 || list[0].Name != "Laptop" || list[1].Name != "Passkey" || list[0].ID != b64url(laptop.ID) {
		t.Fatalf("the list: got %d %+v, want Laptop then Passkey", status, list)
	}

	csrf := b.csrf()
	for _, tt := range []struct {
		name, method, id, body string
		header                 []string
		want                   int
		code                   string
	}{
		{"a rename without the CSRF token", "PATCH", list[1].ID, `{"name":"Phone"}`, nil, 403, authgate.CodeMissingCSRF},
		{"an empty name", "PATCH", list[1].ID, `{"name":"","csrfToken":"` + csrf + `"}`, nil, 400, "BadName"},
		{"a name with a control character", "PATCH", list[1].ID, `{"name":"a\u0007","csrfToken":"` + csrf + `"}`, nil, 400, "BadName"},
		{"an unknown passkey", "PATCH", b64url([]byte("nope")), `{"name":"x","csrfToken":"` + csrf + `"}`, nil, 404, "NotFound"},
		{"a rename", "PATCH", list[1].ID, `{"name":"Phone","csrfToken":"` + csrf + `"}`, nil, 200, ""},
		{"a delete without the CSRF token", "DELETE", list[1].ID, ``, nil, 403, authgate.CodeMissingCSRF},
		{"a delete with the header token", "DELETE", list[1].ID, ``, []string{"X-CSRF-Token", csrf}, 200, ""},
		{"a delete of a deleted passkey", "DELETE", list[1].ID, ``, []string{"X-CSRF-Token", csrf}, 404, "NotFound"},
	} {
		r := b.do(tt.method, "/api/auth/passkey/credentials/"+tt.id, "application/json", tt.body, tt.header...)
		if r.status != tt.want || (tt.code != "" && r.json()["error"] != tt.code) {
			t.Errorf("%s: got %d %s, want %d %s", tt.name, r.status, r.body, tt.want, tt.code)
		}
	}
	if _, list := b.credentialList(); len(list) != 1 || list[0].Name != "Laptop" {
		t.Errorf("after rename and delete: %+v", list)
	}
	if k := e.stored(phone); k != nil {
		t.Errorf("the deleted passkey is still stored: %+v", k)
	}

	// Bob cannot see, rename or delete alice's passkey.
	bobPW, _ := (authgate.BcryptHasher{Cost: 4}).Hash("bob-pw")
	e.store.SetPasswordHash(t.Context(), e.bob, bobPW)
	bob := e.browser()
	bob.signIn("bob@example.com", "bob-pw")
	if _, list := bob.credentialList(); len(list) != 0 {
		t.Errorf("bob's list shows %+v", list)
	}
	for _, m := range []string{"PATCH", "DELETE"} {
		if r := bob.do(m, "/api/auth/passkey/credentials/"+b64url(laptop.ID), "application/json", `{"name":"mine","csrfToken":"`+bob.csrf()+`"}`); r.status != 404 {
			t.Errorf("bob %s on alice's passkey: got %d, want 404", m, r.status)
		}
	}

	// A delete needs a recent sign-in.
	e.clk.Add(20 * time.Minute)
	if r := b.do("DELETE", "/api/auth/passkey/credentials/"+b64url(laptop.ID), "", "", "X-CSRF-Token", b.csrf()); r.status != 401 || r.json()["error"] != passkey.CodeFreshSignInRequired {
		t.Errorf("a delete 20 minutes after the sign-in: got %d %s, want 401 FreshAuthRequired", r.status, r.body)
	}
	// Alice has a password, so her last passkey may go.
	b.signIn("alice@example.com", "alice-pw")
	if r := b.do("DELETE", "/api/auth/passkey/credentials/"+b64url(laptop.ID), "", "", "X-CSRF-Token", b.csrf()); r.status != 200 {
		t.Errorf("deleting the last passkey of a user with a password: got %d %s", r.status, r.body)
	}
}

// The last way a user can sign in is not deleted by mistake: a user
// without a password or another account keeps their last passkey, and
// may delete it once they have another one or link another provider.
func TestTheLastWayToSignInIsKept(t *testing.T) {
	t.Parallel()
	e := memoryEnv(t, edits{})
	b := e.browser()
	// Bob has no password: he signs in with his passkey only.
	cookies, err := e.auth.NewSessionCookies(t.Context(), &authgate.User[claims]{ID: e.bob, Email: "bob@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	b.hc.Jar.SetCookies(mustURL(e.url), cookies)
	only := newCredential(t)
	if r := b.register(only); r.status != 200 {
		t.Fatalf("bob's registration: %d %s", r.status, r.body)
	}
	del := func() (int, string) {
		r := b.do("DELETE", "/api/auth/passkey/credentials/"+b64url(only.ID), "", "", "X-CSRF-Token", b.csrf())
		code, _ := r.json()["error"].(string)
		return r.status, code
	}
	if status, code := del(); status != 409 || code != "LastSignIn" {
		t.Errorf("deleting bob's only way to sign in: got %d %s, want 409 LastSignIn", status, code)
	}
	// The Go method says why.
	req := httptest.NewRequest("DELETE", "/", nil)
	for _, c := range b.hc.Jar.Cookies(mustURL(e.url)) {
		req.AddCookie(c)
	}
	if err := e.pk.Delete(req, b64url(only.ID)); !errors.Is(err, passkey.ErrLastSignIn) {
		t.Errorf("Delete: got %v, want ErrLastSignIn", err)
	}
	// A credentials account (a username) alone signs nobody in.
	e.store.LinkAccount(t.Context(), e.bob, authgate.Account{Provider: "credentials", Type: "credentials", ProviderAccountID: "bob"})
	if status, _ := del(); status != 409 {
		t.Errorf("with only a username: got %d, want 409", status)
	}
	// A linked GitHub account is another way in.
	e.store.LinkAccount(t.Context(), e.bob, authgate.Account{Provider: "github", Type: "oauth", ProviderAccountID: "583231"})
	if status, code := del(); status != 200 {
		t.Errorf("with a GitHub account linked: got %d %s, want 200", status, code)
	}
}
