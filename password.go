package authgate

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// maxPasswordBytes is bcrypt's input limit. x/crypto refuses longer
// passwords when hashing but silently ignores the excess when comparing, so
// authgate checks the length itself on both paths.
const maxPasswordBytes = 72

// DefaultBcryptCost is the bcrypt cost [HashPassword] and the default
// [BcryptHasher] use.
const DefaultBcryptCost = 10

// PasswordHasher hashes and checks passwords. [BcryptHasher] is the default;
// the interface lets tests count comparisons and lets apps move to another
// algorithm. Implementations must be safe for concurrent use.
type PasswordHasher interface {
	// Hash returns an encoded hash of password.
	Hash(password string) (string, error)
	// Compare returns nil when password matches hash, an error wrapping
	// [ErrPasswordMismatch] when it does not, and an error wrapping
	// [ErrPasswordTooLong] for over-long passwords.
	Compare(hash, password string) error
}

// BcryptHasher is the default [PasswordHasher]. The zero value uses
// [DefaultBcryptCost].
type BcryptHasher struct {
	// Cost is the bcrypt cost for new hashes, from bcrypt.MinCost (4) to
	// bcrypt.MaxCost (31). The default is 10. Set it to the cost of the
	// hashes you store, so that the dummy comparison for unknown users takes
	// as long as a real one.
	Cost int
}

// Hash hashes password with bcrypt, refusing passwords over 72 bytes.
func (h BcryptHasher) Hash(password string) (string, error) {
	if len(password) > maxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	cost := h.Cost
	if cost == 0 {
		cost = DefaultBcryptCost
	}
	b, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("authgate: hash password: %w", err)
	}
	return string(b), nil
}

// Compare checks password against a bcrypt hash in constant time. Passwords
// over 72 bytes never match: bcrypt would otherwise compare only their
// first 72 bytes.
func (h BcryptHasher) Compare(hash, password string) error {
	if len(password) > maxPasswordBytes {
		return ErrPasswordTooLong
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return ErrPasswordMismatch
	default:
		return fmt.Errorf("%w: %w", ErrPasswordMismatch, err)
	}
}

// HashPassword hashes password with bcrypt at [DefaultBcryptCost]. It
// returns an error wrapping [ErrPasswordTooLong] for passwords over 72 bytes.
func HashPassword(password string) (string, error) {
	return BcryptHasher{}.Hash(password)
}

// CheckPassword reports whether password matches a bcrypt hash: nil when it
// does, an error wrapping [ErrPasswordMismatch] or [ErrPasswordTooLong]
// otherwise. Inside [Config.Authorize], use [Credentials.PasswordMatches]
// instead, which also bounds concurrency and keeps unknown users
// indistinguishable.
func CheckPassword(hash, password string) error {
	return BcryptHasher{}.Compare(hash, password)
}

// passwordChecker runs bounded, enumeration-safe comparisons.
type passwordChecker struct {
	hasher PasswordHasher
	slots  chan struct{}
	dummy  string
	wait   time.Duration
}

// hashWait is how long a sign-in waits for a comparison slot.
const hashWait = 100 * time.Millisecond

func (p *passwordChecker) compare(hash, password string) (ok, busy bool) {
	select {
	case p.slots <- struct{}{}:
	default:
		t := time.NewTimer(p.wait)
		defer t.Stop()
		select {
		case p.slots <- struct{}{}:
		case <-t.C:
			return false, true
		}
	}
	defer func() { <-p.slots }()
	if hash == "" {
		p.hasher.Compare(p.dummy, password)
		return false, false
	}
	return p.hasher.Compare(hash, password) == nil, false
}
