package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/authgate/authgate"
	"github.com/authgate/authgate/redisstore"
)

// exampleRedis stands in for a real Redis (such as redis://127.0.0.1:6379/0)
// so the examples run anywhere.
func exampleRedis() (url string, stop func()) {
	m, err := miniredis.Run()
	if err != nil {
		log.Fatal(err)
	}
	return "redis://" + m.Addr() + "/0", m.Close
}

// An app whose instances share their sign-in limits and revocations:
// connect once, build both stores, and hand them to authgate.Config.
func Example() {
	url, stop := exampleRedis()
	defer stop()
	ctx := context.Background()

	client, err := redisstore.Connect(ctx, url, 0) // 0: DefaultTimeout, 250 ms
	if err != nil {
		log.Fatal(err) // Redis unreachable: refuse to start
	}
	defer client.Close()
	limiter, err := redisstore.NewLimiter(ctx, client, redisstore.LimiterOptions{})
	if err != nil {
		log.Fatal(err)
	}
	revocations, err := redisstore.NewRevocationStore(ctx, client, redisstore.RevocationOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer revocations.Close()

	auth, err := authgate.New(authgate.Config[struct{}]{
		Secrets: []string{"an-example-secret-of-at-least-32-bytes!"},
		URL:     "https://example.com",
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[struct{}], error) {
			c.PasswordMatches("") // look the user up; compare even when unknown
			return nil, nil
		},
		Limiter:     limiter,
		Revocations: revocations,
		Logger:      slog.New(slog.DiscardHandler),
	})
	fmt.Println(auth != nil, err)
	// Output: true <nil>
}

// Two instances: a sign-out on one is refused by the other, which answers
// from memory once the revocation has reached it.
func ExampleNewRevocationStore() {
	url, stop := exampleRedis()
	defer stop()
	ctx := context.Background()
	instance := func() *redisstore.RevocationStore {
		client, err := redisstore.Connect(ctx, url, 0)
		if err != nil {
			log.Fatal(err)
		}
		s, err := redisstore.NewRevocationStore(ctx, client, redisstore.RevocationOptions{})
		if err != nil {
			log.Fatal(err)
		}
		return s
	}
	a, b := instance(), instance()
	defer a.Close()
	defer b.Close()

	signedIn := time.Now().Add(-time.Hour)
	if err := a.RevokeSession(ctx, "Zk3WJrLwqJtVx8WcZp1a0Q", "user-1", signedIn, time.Now().Add(24*time.Hour)); err != nil {
		log.Fatal(err)
	}
	for { // milliseconds: the subscription delivers it
		if revoked, _ := b.Revoked(ctx, "Zk3WJrLwqJtVx8WcZp1a0Q", "user-1", signedIn); revoked {
			break
		}
		time.Sleep(time.Millisecond)
	}
	other, _ := b.Revoked(ctx, "b6cQ9yXh2mTnP0sLkVd4Ew", "user-2", signedIn)
	fmt.Println("B refuses the signed-out session; another session revoked:", other)
	// Output: B refuses the signed-out session; another session revoked: false
}

// The limiter's answers: the default allows 10 failures per account and
// address, then asks the client to wait.
func ExampleNewLimiter() {
	url, stop := exampleRedis()
	defer stop()
	ctx := context.Background()
	client, err := redisstore.Connect(ctx, url, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	l, err := redisstore.NewLimiter(ctx, client, redisstore.LimiterOptions{})
	if err != nil {
		log.Fatal(err)
	}
	a := authgate.Attempt{Account: "alice", Addr: "192.0.2.7", Time: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	for range 10 {
		l.Allow(ctx, a) // ten wrong passwords (Record with AttemptFailed changes nothing)
	}
	wait, err := l.Allow(ctx, a)
	fmt.Println(wait, err)
	// Output: 1m30s <nil>
}
