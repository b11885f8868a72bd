#!/usr/bin/env bash
# The project's test command (see README). Extra arguments go to `go test`.
set -euo pipefail
cd "$(dirname "$0")"
go test "$@" ./...
