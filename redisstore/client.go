package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
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
// [ErrUnavailable] that names the address; a Redis that answers the PING
// with an error (such as NOAUTH or WRONGPASS) is an error quoting that
// answer, and does not wrap ErrUnavailable; an invalid URL is an error
// quoting the URL. No error shows the URL's user name or password.
//
// The client is safe for concurrent use; close it after the stores built
// on it.
func Connect(ctx context.Context, rawURL string, timeout time.Duration) (*redis.Client, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		// ParseURL's messages can quote the URL, password included.
		return nil, fmt.Errorf("redisstore: invalid redis URL %q (want redis://[user:password@]host:port/db): %s",
			redact(rawURL), redactIn(err.Error(), rawURL))
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
		if reply := redis.Error(nil); errors.As(err, &reply) {
			return nil, fmt.Errorf("redisstore: redis at %s answered PING with an error: %w", opt.Addr, err)
		}
		return nil, fmt.Errorf("%w: no answer from %s within %v: %w", ErrUnavailable, opt.Addr, timeout, err)
	}
	return c, nil
}

// redact returns rawURL with its user information, if any, replaced by
// "xxxxx", or only its scheme when it does not parse.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		if scheme, _, ok := strings.Cut(rawURL, "://"); ok && !strings.ContainsAny(scheme, ":@/") {
			return scheme + "://…"
		}
		return "…"
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	return u.String()
}

// redactIn replaces rawURL and its user information in msg.
func redactIn(msg, rawURL string) string {
	msg = strings.ReplaceAll(msg, rawURL, redact(rawURL))
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
		if name := u.User.Username(); name != "" {
			msg = strings.ReplaceAll(msg, name, "xxxxx")
		}
	}
	return msg
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
