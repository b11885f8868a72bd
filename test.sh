#!/usr/bin/env bash
# The project's test command (see README). Extra arguments go to `go test`,
# e.g. ./test.sh -race or ./test.sh -short.
#
# The repository is a Go workspace (go.work): the authgate module at the
# root, the demo in cmd/authgate-demo (its own module, so SQLite and chromedp
# never become dependencies of authgate), the comparison benchmarks in
# bench/, the OAuth providers in providers/ (x/oauth2 and go-oidc stay out
# of authgate's module too), the NextAuth token codecs in nextauth/, the
# Next.js interop example in examples/nextauth-interop and the Redis stores
# in redisstore/ (go-redis likewise; their integration tests start
# redis-server) and the SQL adapter in sqlstore/ (SQLite and pgx; its tests
# start PostgreSQL). `go test ./...` alone covers only the root module.
set -euo pipefail
cd "$(dirname "$0")"
go test "$@" ./... ./cmd/authgate-demo/... ./bench/... ./providers/... ./nextauth/... ./examples/nextauth-interop/... ./redisstore/... ./sqlstore/...
