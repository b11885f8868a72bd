// Package redisstore keeps authgate's sign-in limiter and revocation store
// in Redis, so that several instances of an app behave as one site: failed
// sign-ins spread over the instances draw on one budget, and a session
// signed out on one instance (or everywhere, for one user) is refused by
// all of them, also after a restart.
//
// Usage:
//
//	client, err := redisstore.Connect(ctx, "redis://127.0.0.1:6379/0", 0)
//	// handle err: Redis unreachable at start
//	limiter, err := redisstore.NewLimiter(ctx, client, redisstore.LimiterOptions{})
//	// handle err
//	revocations, err := redisstore.NewRevocationStore(ctx, client, redisstore.RevocationOptions{
//		MaxAge: cfg.MaxAge, MaxLifetime: cfg.MaxLifetime,
//	})
//	// handle err; defer revocations.Close()
//	cfg.Limiter, cfg.Revocations = limiter, revocations
//
// The request path never waits on Redis: [RevocationStore.Revoked] answers
// from an in-memory view of the revocations that each instance loads at
// start and keeps current through a Redis subscription. Sign-ins make one
// Redis call (a Lua script) before the password is checked.
//
// Everything fails closed and nothing waits longer than a short timeout
// ([DefaultTimeout]): without Redis, sign-ins are refused (authgate answers
// 503 with error=Busy), sessions are answered from the local view for a
// staleness window and then refused, and sign-outs are queued until Redis
// is back. The README of this module ("Running several instances") gives
// the design, the Redis settings it needs (persistence, no eviction), key
// sizes and measured load figures.
//
// Every type is safe for concurrent use. Package redistest starts a real
// redis-server for tests.
package redisstore
