package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/authgate/authgate/redisstore"
	"github.com/redis/go-redis/v9"
)

// redisLog adapts slog to go-redis' logger interface.
type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}

// useRedis connects to the Redis at url and puts its shared sign-in limiter
// and revocation store into o, so that several demo processes sharing that
// Redis behave as one site: one throttling budget, and a sign-out on one is
// honoured by all (see redisstore/README.md). Without -redis or REDIS_URL
// the demo keeps authgate's in-memory stores. The returned function closes
// the stores and the client.
func useRedis(ctx context.Context, url string, o *Options, logger *slog.Logger) (func(), error) {
	// go-redis reports dial failures and reconnections through its own
	// logger; send them to the demo's, as warnings.
	redis.SetLogger(redisLog{logger})
	client, err := redisstore.Connect(ctx, url, 0)
	if err != nil {
		return nil, err
	}
	lim, err := redisstore.NewLimiter(ctx, client, redisstore.LimiterOptions{})
	if err != nil {
		client.Close()
		return nil, err
	}
	// The revocation store loads every revocation at start; give it longer
	// than one call's timeout in total.
	loadCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	revs, err := redisstore.NewRevocationStore(loadCtx, client, redisstore.RevocationOptions{
		MaxAge: o.MaxAge, MaxLifetime: o.MaxLifetime, Logger: logger, Now: o.Now,
	})
	if err != nil {
		client.Close()
		return nil, err
	}
	o.Limiter, o.Revocations = lim, revs
	opt := client.Options()
	logger.Info("sign-in limits and revocations are shared through redis",
		slog.String("redis", fmt.Sprintf("%s/%d", opt.Addr, opt.DB)))
	return func() {
		revs.Close()
		client.Close()
	}, nil
}
