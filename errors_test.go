package authgate_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

// guardError returns the error the guard made by guard passes to a custom
// ErrorHandler for the request req builds.
func guardError(t *testing.T, guard func(a *authgate.Auth[claims]) func(http.Handler) http.Handler, req func(a *app) *http.Request) error {
	t.Helper()
	var got error
	a := newApp(t, func(c *authgate.Config[claims]) {
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) { got = err }
	})
	guard(a.auth)(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), req(a))
	if got == nil {
		t.Fatal("the guard let the request through; want it refused")
	}
	return got
}

// TestSentinels produces every exported sentinel error with a real call
// and checks it with errors.Is.
func TestSentinels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	withUser := func(a *app, u authgate.User[claims]) *http.Request {
		return authgatetest.SignIn(a.t, a.auth, request("GET", "/x"), u)
	}
	tests := []struct {
		name string
		err  func(t *testing.T) error
		want []error
	}{
		{"New with an empty Config", func(t *testing.T) error {
			_, err := authgate.New(authgate.Config[claims]{})
			return err
		}, []error{authgate.ErrConfig}},
		{"Check without a cookie", func(t *testing.T) error {
			_, err := newApp(t, nil).auth.Check(request("GET", "/"))
			return err
		}, []error{authgate.ErrNoSession}},
		{"Check with a tampered cookie", func(t *testing.T) error {
			_, err := newApp(t, nil).auth.Check(request("GET", "/", &http.Cookie{Name: sessionCookie, Value: "tampered"}))
			return err
		}, []error{authgate.ErrInvalidSession}},
		{"Check past MaxAge", func(t *testing.T) error {
			a := newApp(t, nil)
			r := withUser(a, authgate.User[claims]{ID: "u1"})
			a.clk.Advance(authgate.DefaultMaxAge + time.Second)
			_, err := a.auth.Check(r)
			return err
		}, []error{authgate.ErrSessionExpired}},
		{"Check after SignOutEverywhere", func(t *testing.T) error {
			a := newApp(t, nil)
			r := withUser(a, authgate.User[claims]{ID: "u1"})
			a.clk.Advance(time.Second)
			if err := a.auth.SignOutEverywhere(ctx, "u1"); err != nil {
				t.Fatal(err)
			}
			_, err := a.auth.Check(r)
			return err
		}, []error{authgate.ErrSessionRevoked}},
		{"Check with a store that cannot be read", func(t *testing.T) error {
			r := withUser(newApp(t, nil), authgate.User[claims]{ID: "u1"}) // minted while the store worked
			_, err := newApp(t, withFailingStore(true)).auth.Check(r)
			return err
		}, []error{authgate.ErrStore, errStoreDown}},
		{"SignIn with a store that cannot be read", func(t *testing.T) error {
			return newApp(t, withFailingStore(true)).auth.SignIn(httptest.NewRecorder(), request("POST", "/"), &authgate.User[claims]{ID: "u1"})
		}, []error{authgate.ErrStore, errStoreDown}},
		{"NewSessionCookies under a revocation mark more than 15 s ahead", func(t *testing.T) error {
			var store *authgate.MemoryRevocationStore
			a := newApp(t, func(c *authgate.Config[claims]) {
				store = authgate.NewMemoryRevocationStore(authgate.MemoryRevocationOptions{Now: c.Now})
				c.Revocations = store
			})
			if err := store.RevokeUser(ctx, "u1", a.clk.Now().Add(16*time.Second)); err != nil {
				t.Fatal(err)
			}
			_, err := a.auth.NewSessionCookies(ctx, &authgate.User[claims]{ID: "u1"})
			return err
		}, []error{authgate.ErrStore}},
		{"NewSessionCookies past MaxCookieChunks", func(t *testing.T) error {
			a := newApp(t, func(c *authgate.Config[claims]) {
				c.MaxCookieChunks = 1
				c.Callbacks.JWT = func(ctx context.Context, p authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
					p.Token.Claims.Plan = bigPlan
					return p.Token, nil
				}
			})
			_, err := a.auth.NewSessionCookies(ctx, &authgate.User[claims]{ID: "u1"})
			return err
		}, []error{authgate.ErrSessionTooLarge}},
		{"SignIn with a nil user", func(t *testing.T) error {
			return newApp(t, nil).auth.SignIn(httptest.NewRecorder(), request("POST", "/"), nil)
		}, []error{authgate.ErrInvalidUser}},
		{"NewSessionCookies for a user without an ID", func(t *testing.T) error {
			_, err := newApp(t, nil).auth.NewSessionCookies(ctx, &authgate.User[claims]{Name: "alice"})
			return err
		}, []error{authgate.ErrInvalidUser}},
		{"SignIn of a user the signIn callback denies", func(t *testing.T) error {
			a := newApp(t, func(c *authgate.Config[claims]) {
				c.Callbacks.SignIn = func(context.Context, authgate.SignInParams[claims]) (authgate.SignInDecision, error) {
					return authgate.Deny(), nil
				}
			})
			u := alice
			return a.auth.SignIn(httptest.NewRecorder(), request("POST", "/"), &u)
		}, []error{authgate.ErrAccessDenied}},
		{"NewSessionCookies with a failing JWT callback", func(t *testing.T) error {
			a := newApp(t, func(c *authgate.Config[claims]) {
				c.Callbacks.JWT = func(context.Context, authgate.JWTParams[claims]) (*authgate.Token[claims], error) {
					return nil, errStoreDown
				}
			})
			_, err := a.auth.NewSessionCookies(ctx, &authgate.User[claims]{ID: "u1"})
			return err
		}, []error{authgate.ErrCallback, errStoreDown}},
		{"Check with a failing Session callback", func(t *testing.T) error {
			a := newApp(t, func(c *authgate.Config[claims]) {
				c.Callbacks.Session = func(context.Context, authgate.SessionParams[claims]) (*authgate.Session[claims], error) {
					return nil, nil
				}
			})
			_, err := a.auth.Check(withUser(a, authgate.User[claims]{ID: "u1"}))
			return err
		}, []error{authgate.ErrCallback}},
		{"SignOutEverywhere with a store that cannot write", func(t *testing.T) error {
			return newApp(t, withFailingStore(false)).auth.SignOutEverywhere(ctx, "u1")
		}, []error{authgate.ErrStore, errStoreDown}},
		{"HashPassword over 72 bytes", func(t *testing.T) error {
			_, err := authgate.HashPassword(password72 + "X")
			return err
		}, []error{authgate.ErrPasswordTooLong}},
		{"BcryptHasher with a cost bcrypt refuses", func(t *testing.T) error {
			_, err := authgate.BcryptHasher{Cost: 32}.Hash("pw")
			return err
		}, []error{authgate.ErrConfig}},
		{"CheckPassword with the wrong password", func(t *testing.T) error {
			return authgate.CheckPassword(userTable()["alice"].hash, "bob-password")
		}, []error{authgate.ErrPasswordMismatch}},
		{"RequireAuth on an anonymous request", func(t *testing.T) error {
			return guardError(t, func(a *authgate.Auth[claims]) func(http.Handler) http.Handler { return a.RequireAuth },
				func(a *app) *http.Request { return request("GET", "/x") })
		}, []error{authgate.ErrUnauthenticated}},
		{"RequireRole on a user without the role", func(t *testing.T) error {
			return guardError(t, func(a *authgate.Auth[claims]) func(http.Handler) http.Handler { return a.RequireRole("admin") },
				func(a *app) *http.Request { return withUser(a, authgate.User[claims]{ID: "u2", Role: "user"}) })
		}, []error{authgate.ErrForbidden}},
		{"RequireFreshAuth on a sign-in too old", func(t *testing.T) error {
			return guardError(t, func(a *authgate.Auth[claims]) func(http.Handler) http.Handler {
				return a.RequireFreshAuth(15 * time.Minute)
			},
				func(a *app) *http.Request {
					r := withUser(a, authgate.User[claims]{ID: "u1"})
					a.clk.Advance(16 * time.Minute)
					return r
				})
		}, []error{authgate.ErrFreshAuthRequired, authgate.ErrUnauthenticated}},
		{"RequireAMR on a password-only sign-in", func(t *testing.T) error {
			return guardError(t, func(a *authgate.Auth[claims]) func(http.Handler) http.Handler {
				return a.RequireAMR("mfa")
			}, func(a *app) *http.Request { return withUser(a, authgate.User[claims]{ID: "u1"}) })
		}, []error{authgate.ErrStrongerAuthRequired, authgate.ErrUnauthenticated}},
		{"SignOutDevice of an id the user does not have", func(t *testing.T) error {
			a := newApp(t, func(c *authgate.Config[claims]) { c.Adapter = authgatetest.NewMemoryAdapter() })
			return a.auth.SignOutDevice(httptest.NewRecorder(), withUser(a, authgate.User[claims]{ID: "u1"}), "nope")
		}, []error{authgate.ErrNotFound}},
		{"an adapter asked for a second user with a taken address", func(t *testing.T) error {
			ad := authgatetest.NewMemoryAdapter()
			if err := ad.CreateUser(ctx, &authgate.AdapterUser{Email: "a@example.com"}); err != nil {
				t.Fatal(err)
			}
			return ad.CreateUser(ctx, &authgate.AdapterUser{Email: "A@example.com"})
		}, []error{authgate.ErrConflict}},
		{"ReadCheckCookie without the cookie", func(t *testing.T) error {
			var v string
			return newApp(t, nil).auth.ReadCheckCookie(request("POST", "/"), "mfa", &v)
		}, []error{authgate.ErrCheckCookie}},
		{"Devices with the adapter down", func(t *testing.T) error {
			ad := authgatetest.NewMemoryAdapter()
			a := newApp(t, func(c *authgate.Config[claims]) { c.Adapter = ad })
			r := withUser(a, authgate.User[claims]{ID: "u1"})
			ad.SetFail(errStoreDown)
			_, err := a.auth.Devices(r)
			return err
		}, []error{authgate.ErrStore, errStoreDown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.err(t)
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("got %v, want an error wrapping %q", err, want)
				}
			}
			if err != nil && !strings.HasPrefix(err.Error(), "authgate: ") {
				t.Errorf("message: got %q, want the prefix %q", err, "authgate: ")
			}
		})
	}
	t.Run("A guard's error is a *GuardError with the sign-in URL", func(t *testing.T) {
		t.Parallel()
		err := guardError(t, func(a *authgate.Auth[claims]) func(http.Handler) http.Handler { return a.RequireAuth },
			func(a *app) *http.Request { return request("GET", "/x?y=1") })
		var ge *authgate.GuardError
		if want := appURL + "/api/auth/signin?callbackUrl=http%3A%2F%2Fapp.example%2Fx%3Fy%3D1"; !errors.As(err, &ge) || ge.SignInURL != want {
			t.Errorf("got %#v, want a *GuardError with SignInURL %q", err, want)
		}
	})
}
