package authgate

import (
	"context"
	"errors"
	"strings"
	"time"
)

// User is what [Config.Authorize] returns for valid credentials. ID is
// required and must be unique and stable: it becomes the token's subject.
// Claims carries the app's own typed data into the token (the default JWT
// callback copies it) and on into the session.
type User[T any] struct {
	ID    string
	Name  string
	Email string
	Image string
	Role  string
	Roles []string
	// Claims are the app's own typed claims for this user.
	Claims T
}

// protocolFields are the fields next-auth/react adds to every sign-in; they
// are not credentials.
var protocolFields = map[string]bool{"csrfToken": true, "callbackUrl": true, "json": true, "redirect": true}

// Credentials are the fields a client submitted to sign in, without the
// protocol's own. A Credentials is used by one request at a time.
type Credentials struct {
	ctx        context.Context // the sign-in request's
	fields     map[string]string
	checker    *passwordChecker
	lane       lane          // where the comparison waits (password.go)
	compared   bool          // a hash comparison ran
	busy       bool          // the queue refused the comparison
	retryAfter time.Duration // with busy: the expected wait
	shed       bool          // with busy: its address had others queued
}

// Get returns the submitted field name, or "".
func (c *Credentials) Get(name string) string { return c.fields[name] }

// Username returns the "username" field.
func (c *Credentials) Username() string { return c.fields["username"] }

// Password returns the "password" field.
func (c *Credentials) Password() string { return c.fields["password"] }

// Names returns the names of the submitted fields, in no particular order.
func (c *Credentials) Names() []string {
	names := make([]string, 0, len(c.fields))
	for k := range c.fields {
		names = append(names, k)
	}
	return names
}

// PasswordMatches compares the submitted password with hash using
// [Config.Hasher], in constant time. Pass the empty string for an unknown
// user: a comparison against a dummy hash of the same cost still runs, so
// unknown and known users take the same time.
//
// At most [Config.MaxConcurrentHashes] comparisons run at once; the others
// wait their turn, a returning device's in a lane of its own that is
// served first, a stranger's in a lane shared fairly among client
// addresses and accounts, as long as their expected wait stays under
// [Config.MaxHashWait] (SECURITY.md describes the lanes). When the queue
// refuses a comparison, or the request ends while it waits,
// PasswordMatches returns false and the sign-in is answered with 503 Busy
// and a Retry-After from the queue.
func (c *Credentials) PasswordMatches(hash string) bool {
	if c.checker == nil || c.busy {
		return false
	}
	c.compared = true
	ok, err := c.checker.compare(c.ctx, c.lane, hash, c.Password())
	var be *busyError
	if errors.As(err, &be) {
		c.busy, c.retryAfter, c.shed = true, be.retry, be.shed
	}
	return ok
}

// defaultAccountKey is the default [Config.AccountKey].
func defaultAccountKey(c *Credentials) string {
	k := c.Get("username")
	if k == "" {
		k = c.Get("email")
	}
	return strings.ToLower(strings.TrimSpace(k))
}
