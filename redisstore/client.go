package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultTimeout bounds every Redis call the stores make (the default of
// [LimiterOptions.Timeout] and [RevocationOptions.Timeout]), and the dial,
// read and write timeouts of a client made by [Connect]. A sign-in never
// waits on Redis longer than this.
const DefaultTimeout = 250 * time.Millisecond

// DefaultKeyPrefix starts every key and channel name the stores use, so
// they can share a Redis database with other data.
const DefaultKeyPrefix = "authgate:"

// ErrUnavailable reports that Redis did not answer in time or refused the
// call. Callers fail closed on it: authgate answers a sign-in with 503
// (error=Busy), and a revocation lookup past the staleness window makes
// the request anonymous.
var ErrUnavailable = errors.New("redisstore: redis unavailable")

// Connect parses url (redis://[user:password@]host:port/db, or rediss://
// for TLS), makes a client whose dial, read, write and pool timeouts are
// timeout (0: [DefaultTimeout]) and which never retries on its own (a
// retried Allow could take a token twice), and checks that Redis answers a
// PING within timeout. An unreachable Redis is an error wrapping
// [ErrUnavailable] that names the address, never the password.
//
// The client is safe for concurrent use; close it after the stores built
// on it.
func Connect(ctx context.Context, url string, timeout time.Duration) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		// ParseURL's messages can quote the URL, password included.
		return nil, errors.New("redisstore: invalid redis URL (want redis://host:port/db)")
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	opt.DialTimeout = timeout
	opt.ReadTimeout = timeout
	opt.WriteTimeout = timeout
	opt.PoolTimeout = timeout
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1
	opt.DialerRetries = 1
	// RESP2: the pub/sub connection of the revocation store then carries
	// only its own channel.
	opt.Protocol = 2
	opt.DisableIdentity = true
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: no answer from %s within %v: %w", ErrUnavailable, opt.Addr, timeout, err)
	}
	return c, nil
}

// unavailable wraps a Redis error so callers can test for [ErrUnavailable].
func unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// hashKey returns a fixed-length, non-reversible-at-a-glance name for
// parts: the first 128 bits of SHA-256 over the length-prefixed parts, in
// base64url (22 characters). Every instance computes the same name, so the
// key is shared; a long username costs no more than a short one.
func hashKey(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		for i := range n {
			n[i] = byte(len(p) >> (8 * i))
		}
		h.Write(n[:])
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(h.Sum(sum[:0])[:16])
}
