package authgate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Accounts for OAuth, with [Config.Adapter]: an OAuth sign-in signs in the
// user its (provider, provider account id) is linked to; a signed-in user
// who signs in with another provider links it to their own user; anyone
// else gets a new user, once the SignIn callback allowed them. An account
// is never linked to a user because the e-mail addresses match, except
// with [Config.LinkAccountsByEmail] and both addresses verified.

// errNotLinked is the failure of an OAuth sign-in whose account cannot be
// linked to the user it would belong to.
var errNotLinked = errors.New("authgate: the account cannot be linked")

// adapterUser is the User a stored user signs in as.
func adapterUser[T any](u *AdapterUser) *User[T] {
	return &User[T]{ID: u.ID, Name: u.Name, Email: u.Email, Image: u.Image, Role: u.Role}
}

// oauthUser decides which user an OAuth sign-in of account signs in. It
// returns that user, and a commit that links the account (creating the
// user first when needed) once the SignIn callback has allowed the
// sign-in; commit sets the user's ID when it creates the user. Errors
// wrap errNotLinked or ErrStore.
func (a *Auth[T]) oauthUser(ctx context.Context, r *http.Request, prof *OAuthProfile, account Account) (*User[T], func(context.Context, *User[T]) error, error) {
	ad := a.cfg.Adapter
	u, err := ad.UserByAccount(ctx, account.Provider, account.ProviderAccountID)
	switch {
	case err == nil:
		return adapterUser[T](u), nil, nil
	case !errors.Is(err, ErrNotFound):
		return nil, nil, fmt.Errorf("%w: find account: %w", ErrStore, err)
	}
	link := func(ctx context.Context, userID string) error {
		switch err := ad.LinkAccount(ctx, userID, account); {
		case errors.Is(err, ErrConflict):
			return fmt.Errorf("%w: %s account linked to another user meanwhile", errNotLinked, account.Provider)
		case errors.Is(err, ErrNotFound):
			return fmt.Errorf("%w: the user is gone", errNotLinked)
		case err != nil:
			return fmt.Errorf("%w: link account: %w", ErrStore, err)
		}
		return nil
	}

	// A signed-in user adds a provider to their own user.
	if s, err := a.Check(r); err == nil {
		cur, err := ad.User(ctx, s.User.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil, nil, fmt.Errorf("%w: the signed-in user %q is not stored in the adapter", errNotLinked, s.User.ID)
		case err != nil:
			return nil, nil, fmt.Errorf("%w: find user: %w", ErrStore, err)
		}
		return adapterUser[T](cur), func(ctx context.Context, _ *User[T]) error { return link(ctx, cur.ID) }, nil
	} else if isFault(err) {
		return nil, nil, err
	}

	// The documented opt-in: both sides verified the same address.
	if a.cfg.LinkAccountsByEmail && prof.EmailVerified && prof.Email != "" {
		u, err := ad.UserByEmail(ctx, prof.Email)
		switch {
		case err == nil && !u.EmailVerified.IsZero():
			return adapterUser[T](u), func(ctx context.Context, _ *User[T]) error { return link(ctx, u.ID) }, nil
		case err != nil && !errors.Is(err, ErrNotFound):
			return nil, nil, fmt.Errorf("%w: find user: %w", ErrStore, err)
		}
	}

	// A new user, created once the SignIn callback allowed it.
	user := &User[T]{Name: prof.Name, Email: prof.Email, Image: prof.Image}
	commit := func(ctx context.Context, user *User[T]) error {
		nu := &AdapterUser{Email: prof.Email, Name: prof.Name, Image: prof.Image, Role: user.Role}
		if prof.EmailVerified && prof.Email != "" {
			nu.EmailVerified = a.now().UTC()
		}
		switch err := ad.CreateUser(ctx, nu); {
		case errors.Is(err, ErrConflict):
			return fmt.Errorf("%w: another user has the address of this %s account", errNotLinked, account.Provider)
		case err != nil:
			return fmt.Errorf("%w: create user: %w", ErrStore, err)
		}
		err := ad.LinkAccount(ctx, nu.ID, account)
		if errors.Is(err, ErrConflict) {
			// A concurrent first sign-in of the same account won: sign in
			// as the user it made, and drop ours.
			_ = ad.DeleteUser(ctx, nu.ID)
			won, ferr := ad.UserByAccount(ctx, account.Provider, account.ProviderAccountID)
			if ferr != nil {
				return fmt.Errorf("%w: find account: %w", ErrStore, ferr)
			}
			*user = *adapterUser[T](won)
			return nil
		}
		if err != nil {
			_ = ad.DeleteUser(ctx, nu.ID)
			return fmt.Errorf("%w: link account: %w", ErrStore, err)
		}
		user.ID = nu.ID
		return nil
	}
	return user, commit, nil
}
