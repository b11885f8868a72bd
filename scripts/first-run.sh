#!/usr/bin/env bash
# Measures the README's two commands as a newcomer meets them: a fresh clone
# of the committed HEAD, an empty Go module cache and an empty build cache
# (GOMODCACHE and GOCACHE in a new temporary folder, so the machine's own
# caches are neither used nor touched). npm's own cache is left as it is.
#
#   scripts/first-run.sh demo      # time from `go run ./cmd/authgate-demo` to its "serving" line
#   scripts/first-run.sh test      # time to the end of `./test.sh`
#   scripts/first-run.sh drivers   # the SQLite drivers alone: modernc.org/sqlite vs ncruces/go-sqlite3
#   scripts/first-run.sh all       # demo, then test (each from empty caches)
#
# Each measurement starts from empty caches and prints one line with the
# seconds, the number of cores and the load average before and after: on a
# shared machine only numbers taken at a similar load compare.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
what="${1:-all}"
work="$(mktemp -d "${TMPDIR:-/tmp}/authgate-first-run.XXXXXX")"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || true; done
	chmod -R u+w "$work" 2>/dev/null || true # the module cache is read-only
	rm -rf "$work"
}
trap cleanup EXIT

load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# fresh gives the next measurement its own empty caches and a fresh clone.
fresh() {
	local d="$work/$1"
	mkdir -p "$d"
	export GOMODCACHE="$d/gomod" GOCACHE="$d/gocache"
	git clone -q "$root" "$d/src"
	cd "$d/src"
}

report() { # name seconds load-before
	printf '%-8s %7ss  on %s cores, load average %s before, %s after  (%s)\n' \
		"$1" "$2" "$(nproc)" "$3" "$(load)" "$(go version | cut -d' ' -f3)"
}

demo() {
	fresh demo
	local before start out="$work/demo.out"
	before="$(load)"
	start="$(now)"
	# setsid: the demo's process group is stopped as a whole (go run and
	# the program it started).
	setsid go run ./cmd/authgate-demo -db "$work/demo.db" -addr 127.0.0.1:0 >"$out" 2>"$work/demo.err" &
	pids+=($!)
	local deadline=$((SECONDS + 1800))
	until grep -q '^authgate-demo: serving' "$out"; do
		if ! kill -0 "${pids[-1]}" 2>/dev/null; then
			echo "first-run.sh: the demo exited before serving:" >&2
			cat "$work/demo.err" >&2
			exit 1
		fi
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "first-run.sh: the demo was not serving after 30 minutes" >&2
			exit 1
		fi
		sleep 0.2
	done
	report demo "$(since "$start")" "$before"
	kill -- "-${pids[-1]}" 2>/dev/null || true
	cd "$root"
}

tests() {
	fresh test
	local before start
	before="$(load)"
	start="$(now)"
	./test.sh >"$work/test.out" 2>&1 || {
		tail -50 "$work/test.out" >&2
		echo "first-run.sh: ./test.sh failed" >&2
		exit 1
	}
	report test "$(since "$start")" "$before"
	cd "$root"
}

# drivers builds and runs a program that opens an SQLite database and
# queries it, once per pure-Go driver, from empty caches.
drivers() {
	local name mod ver imp drv
	for name in modernc ncruces; do
		case $name in
		modernc) mod=modernc.org/sqlite ver=v1.62.0 imp='_ "modernc.org/sqlite"' drv=sqlite ;;
		ncruces) mod=github.com/ncruces/go-sqlite3 ver=v0.37.0 imp='_ "github.com/ncruces/go-sqlite3/driver"' drv=sqlite3 ;;
		esac
		local d="$work/driver-$name"
		mkdir -p "$d/src"
		export GOMODCACHE="$d/gomod" GOCACHE="$d/gocache"
		cd "$d/src"
		cat >main.go <<-EOF
			package main

			import (
				"database/sql"
				"fmt"
				"os"
				"time"

				$imp
			)

			func main() {
				start := time.Now()
				db, err := sql.Open("$drv", os.Args[1])
				if err != nil {
					panic(err)
				}
				var v string
				if err := db.QueryRow("SELECT sqlite_version()").Scan(&v); err != nil {
					panic(err)
				}
				fmt.Printf("SQLite %s, first query after %v\n", v, time.Since(start).Round(time.Millisecond))
			}
		EOF
		GOWORK=off go mod init example.com/driver >/dev/null 2>&1
		local before start
		before="$(load)"
		start="$(now)"
		GOWORK=off go get "$mod@$ver" >/dev/null 2>&1
		GOWORK=off go build -o prog . >/dev/null
		report "$name" "$(since "$start")" "$before"
		echo "         $(./prog "$d/x.db"); binary $(du -h prog | cut -f1)"
		cd "$root"
	done
}

case "$what" in
demo) demo ;;
test) tests ;;
drivers) drivers ;;
all) demo && tests ;;
*)
	echo "usage: scripts/first-run.sh [demo|test|drivers|all]" >&2
	exit 2
	;;
esac
