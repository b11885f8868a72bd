package email

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/authgate/authgate"
)

// Tokens. A link carries 32 random bytes (64 hex characters, as NextAuth's
// do). The adapter stores only HMAC-SHA256 of the token under a key derived
// from the app's secrets for this purpose (authgate.Auth.Keys), bound to
// what the token is for: the purpose, the address and, for a password
// reset, the user's id. So a copy of the database holds nothing that signs
// in, and someone who can write to it cannot make a working link without
// the secret. The identifier names purpose and address ("email:a@x.io",
// "reset:a@x.io"): the adapter deletes a token when it is used (once,
// atomically, also across instances) and every older token of an
// identifier when a new one is made, so a new link ends the older ones.

// keyPurpose keys the tokens' MACs.
const keyPurpose = "email link v1"

// tokenBytes is the token's entropy.
const tokenBytes = 32

// The kinds of token, each with its identifier prefix.
const (
	kindSignIn = "email"
	kindReset  = "reset"
)

// ErrLinkInvalid reports a link that is not valid: used already, expired,
// superseded by a newer one for the same address, made for another
// address, or altered. It is answered with NextAuth's error code
// Verification.
var ErrLinkInvalid = errors.New("email: the link is used, expired or not valid")

// newToken returns a fresh token as 64 hex characters.
func newToken() string {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// validToken reports whether s looks like a token (64 lower-case hex), so
// garbage never reaches the adapter.
func validToken(s string) bool {
	if len(s) != 2*tokenBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// identifier is the adapter's identifier of kind's tokens for address.
func identifier(kind, address string) string { return kind + ":" + address }

// tokenHash is the stored MAC of token for (kind, address, userID) under
// key.
func tokenHash(key []byte, kind, address, userID, token string) []byte {
	m := hmac.New(sha256.New, key)
	for _, s := range []string{kind, address, userID, token} {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// storeToken makes a token for (kind, address, userID), stores its MAC
// until now+MaxAge (ending every older one of the identifier), and
// returns it with its expiry. Errors wrap authgate.ErrStore.
func (x *Extension[T]) storeToken(ctx context.Context, kind, address, userID string, now time.Time) (string, time.Time, error) {
	tok := newToken()
	exp := now.Add(x.cfg.MaxAge)
	err := x.adapter.CreateVerificationToken(ctx, authgate.VerificationToken{
		Identifier: identifier(kind, address),
		TokenHash:  tokenHash(x.keys[0], kind, address, userID, tok),
		Expires:    exp.UTC(),
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: store the link: %w", authgate.ErrStore, err)
	}
	return tok, exp, nil
}

// dropToken deletes a stored token that will not be mailed, so that no
// usable token is left behind (a failure is only logged by the caller: the
// token was never shown to anyone).
func (x *Extension[T]) dropToken(ctx context.Context, kind, address, userID, token string) error {
	_, err := x.adapter.UseVerificationToken(ctx, identifier(kind, address), tokenHash(x.keys[0], kind, address, userID, token))
	if errors.Is(err, authgate.ErrNotFound) {
		return nil
	}
	return err
}

// useToken uses up the token of (kind, address, userID): it returns nil
// when the token was stored and had not expired at now, an error wrapping
// ErrLinkInvalid when it is unknown, used, superseded or expired (an
// expired token is used up all the same), and one wrapping
// authgate.ErrStore when the adapter failed. A token made under an older
// secret (key rotation) is accepted while that secret is listed.
func (x *Extension[T]) useToken(ctx context.Context, kind, address, userID, token string, now time.Time) error {
	if !validToken(token) {
		return fmt.Errorf("%w: malformed token", ErrLinkInvalid)
	}
	for _, key := range x.keys {
		vt, err := x.adapter.UseVerificationToken(ctx, identifier(kind, address), tokenHash(key, kind, address, userID, token))
		switch {
		case errors.Is(err, authgate.ErrNotFound):
			continue
		case err != nil:
			return fmt.Errorf("%w: use the link: %w", authgate.ErrStore, err)
		case !now.Before(vt.Expires):
			return fmt.Errorf("%w: expired", ErrLinkInvalid)
		}
		return nil
	}
	return fmt.Errorf("%w: no such token (used, superseded, or for another address)", ErrLinkInvalid)
}
