#!/usr/bin/env bash
# The project's test command (see README). Extra arguments go to `go test`:
#
#   ./test.sh           every test of every module
#   ./test.sh -short    the quick run: without the availability tests (a
#                       minute of real bcrypt) and the other long ones
#   ./test.sh -race     what CI runs (.ci/run)
#
# It does two things, always in this order:
#
#  1. The npm packages the Node-based tests use. Every folder with a
#     package-lock.json (examples/nextauth-react, examples/nextauth-interop)
#     gets `npm ci` when its node_modules is missing or older than the lock
#     file, and `npm run build` when it has a build script and its build is
#     missing or older than its sources. Each step prints one line. No Go
#     test runs npm itself. Without npm this step says so, and those tests
#     skip (under CI=true they fail).
#  2. `go test` over every module of the workspace, as go.work lists them
#     (the authgate module at the root and each further module beside it:
#     the demo, the providers, the NextAuth codecs, the Redis stores, the
#     SQL adapter, the benchmarks, the examples). `go test ./...` alone covers only the root.
set -euo pipefail
cd "$(dirname "$0")"

# 1. npm packages.
mapfile -t locks < <(git ls-files -- '*package-lock.json' 2>/dev/null || find . -name package-lock.json -not -path '*/node_modules/*')
if [ ${#locks[@]} -gt 0 ] && ! command -v npm >/dev/null; then
	echo "test.sh: npm is not installed: the tests that need ${locks[*]%/package-lock.json}'s packages will skip (under CI=true they fail)"
else
	for lock in "${locks[@]}"; do
		dir="$(dirname "$lock")"
		if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$lock" -nt "$dir/node_modules/.package-lock.json" ]; then
			echo "test.sh: npm ci in $dir"
			(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
		fi
		if grep -q '"build":' "$dir/package.json"; then
			built="$dir/dist/index.html"
			if [ ! -f "$built" ] || [ -n "$(find "$dir" -path "$dir/node_modules" -prune -o -path "$dir/dist" -prune -o -type f -newer "$built" -print -quit)" ]; then
				echo "test.sh: npm run build in $dir"
				(cd "$dir" && npm run build --silent >/dev/null)
			fi
		fi
	done
fi

# 2. Every module of go.work.
mapfile -t modules < <(go list -m -f '{{.Dir}}' | sed "s#^$PWD#.#; s#\$#/...#")
go test "$@" "${modules[@]}"
