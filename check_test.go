package authgate_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

// pending is what an extension keeps between two steps.
type pending struct {
	UserID    string `json:"uid"`
	Challenge string `json:"c"`
}

// setCheck mints the check cookie name with value on a, returning the
// Set-Cookie it wrote.
func setCheck(t *testing.T, a *authgate.Auth[claims], name string, value any, maxAge time.Duration) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	if err := a.SetCheckCookie(w, request("GET", "/"), name, value, maxAge); err != nil {
		t.Fatalf("SetCheckCookie: %v", err)
	}
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("SetCheckCookie wrote %d cookies", len(cs))
	}
	return cs[0]
}

func TestCheckCookiesCarryAValueToTheNextStepOnce(t *testing.T) {
	t.Parallel()
	for _, withAdapter := range []bool{false, true} {
		t.Run(map[bool]string{false: "without an adapter", true: "with an adapter"}[withAdapter], func(t *testing.T) {
			t.Parallel()
			a := newApp(t, func(c *authgate.Config[claims]) {
				if withAdapter {
					c.Adapter = authgatetest.NewMemoryAdapter()
				}
			})
			want := pending{UserID: "u1", Challenge: "abc"}
			ck := setCheck(t, a.auth, "mfa", want, 5*time.Minute)
			if ck.Name != "authgate.check.mfa" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.MaxAge != 300 {
				t.Errorf("cookie %+v", ck)
			}
			if strings.Contains(ck.Value, "abc") {
				t.Error("the value is readable in the cookie")
			}
			var got pending
			for range 2 { // reading does not use it up
				if err := a.auth.ReadCheckCookie(request("POST", "/", ck), "mfa", &got); err != nil || got != want {
					t.Fatalf("ReadCheckCookie: %+v, %v", got, err)
				}
			}
			w := httptest.NewRecorder()
			if err := a.auth.UseCheckCookie(w, request("POST", "/", ck), "mfa", &got); err != nil || got != want {
				t.Fatalf("UseCheckCookie: %+v, %v", got, err)
			}
			if cs := w.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
				t.Errorf("UseCheckCookie did not clear the cookie: %v", cs)
			}
			err := a.auth.UseCheckCookie(httptest.NewRecorder(), request("POST", "/", ck), "mfa", &got)
			if withAdapter && !errors.Is(err, authgate.ErrCheckCookie) {
				t.Errorf("a copy used again: %v, want ErrCheckCookie", err)
			}
			if !withAdapter && err != nil {
				t.Errorf("without an adapter a copy is usable until it expires (documented): %v", err)
			}
		})
	}
}

func TestCheckCookiesAreRefusedWhenExpiredForeignOrTampered(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	ck := setCheck(t, a.auth, "mfa", pending{UserID: "u1"}, time.Minute)
	renamed := *ck
	renamed.Name = "authgate.check.webauthn"
	tampered := *ck
	tampered.Value = ck.Value[:len(ck.Value)-2] + "AA"
	other := newApp(t, func(c *authgate.Config[claims]) { c.Secrets = []string{secretB} })
	var got pending
	tests := []struct {
		name string
		auth *authgate.Auth[claims]
		r    *http.Request
		as   string
	}{
		{"no cookie", a.auth, request("POST", "/"), "mfa"},
		{"a cookie minted under another name", a.auth, request("POST", "/", &renamed), "webauthn"},
		{"a tampered cookie", a.auth, request("POST", "/", &tampered), "mfa"},
		{"a cookie of another secret", other.auth, request("POST", "/", ck), "mfa"},
		{"a duplicated cookie", a.auth, request("POST", "/", ck, ck), "mfa"},
	}
	for _, tt := range tests {
		if err := tt.auth.ReadCheckCookie(tt.r, tt.as, &got); !errors.Is(err, authgate.ErrCheckCookie) {
			t.Errorf("%s: %v, want ErrCheckCookie", tt.name, err)
		}
	}
	a.clk.Advance(time.Minute)
	if err := a.auth.ReadCheckCookie(request("POST", "/", ck), "mfa", &got); !errors.Is(err, authgate.ErrCheckCookie) {
		t.Errorf("an expired cookie: %v, want ErrCheckCookie", err)
	}
}

func TestCheckCookieSettingsAreChecked(t *testing.T) {
	t.Parallel()
	ad := authgatetest.NewMemoryAdapter()
	a := newApp(t, func(c *authgate.Config[claims]) { c.Adapter = ad })
	for _, tt := range []struct {
		name   string
		maxAge time.Duration
		value  any
		want   error
	}{
		{"Bad Name", time.Minute, 1, authgate.ErrConfig},
		{"", time.Minute, 1, authgate.ErrConfig},
		{"ok", 16 * time.Minute, 1, authgate.ErrConfig},
		{"ok", 0, 1, authgate.ErrConfig},
		{"ok", time.Minute, func() {}, authgate.ErrConfig},
		{"ok", time.Minute, strings.Repeat("x", 5000), authgate.ErrConfig},
	} {
		if err := a.auth.SetCheckCookie(httptest.NewRecorder(), request("GET", "/"), tt.name, tt.value, tt.maxAge); !errors.Is(err, tt.want) {
			t.Errorf("SetCheckCookie(%q, %v): %v, want %v", tt.name, tt.maxAge, err, tt.want)
		}
	}
	ad.SetFail(errors.New("down"))
	w := httptest.NewRecorder()
	if err := a.auth.SetCheckCookie(w, request("GET", "/"), "ok", 1, time.Minute); !errors.Is(err, authgate.ErrStore) || len(w.Result().Cookies()) != 0 {
		t.Errorf("with the adapter down: %v, cookies %v; want ErrStore and none", err, w.Result().Cookies())
	}
}

func TestCheckCookiesAreHostOnlyOnHTTPS(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *authgate.Config[claims]) { c.URL = "https://app.example" })
	ck := setCheck(t, a.auth, "webauthn", "challenge", time.Minute)
	if ck.Name != "__Host-authgate.check.webauthn" || !ck.Secure || ck.Domain != "" || ck.Path != "/" {
		t.Errorf("cookie %+v, want __Host-, Secure, no Domain, Path=/", ck)
	}
}
