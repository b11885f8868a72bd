#!/usr/bin/env bash
# The project's test command (see README). Extra arguments go to `go test`,
# e.g. ./test.sh -race or ./test.sh -short.
#
# The repository is a Go workspace (go.work): the authgate module at the
# root, the demo in cmd/authgate-demo (its own module, so SQLite and chromedp
# never become dependencies of authgate) and the comparison benchmarks in
# bench/, and the Redis stores in redisstore/ (their own module, so go-redis
# stays out of authgate; their integration tests start redis-server).
# `go test ./...` alone covers only the root module.
set -euo pipefail
cd "$(dirname "$0")"
go test "$@" ./... ./cmd/authgate-demo/... ./bench/... ./redisstore/...
