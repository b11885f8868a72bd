#!/usr/bin/env bash
# Compare authgate's hot path with the Go peers, one full request per
# iteration, and print every variant as a ratio to the floor (a hand-written
# HMAC-signed JSON cookie) from the same run.
#
#   scripts/bench.sh                 # -count 6, -benchtime 1s
#   COUNT=10 BENCHTIME=2s scripts/bench.sh
#
# Raw output and the benchstat summary are kept in $OUT (default
# bench/results/). Each variant's correctness test (valid accepted, tampered
# rejected) runs before anything is timed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
count="${COUNT:-6}"
benchtime="${BENCHTIME:-1s}"
out="${OUT:-$root/bench/results}"
if [ "$count" -lt 6 ]; then
	echo "bench.sh: COUNT must be at least 6 for benchstat to give confidence intervals" >&2
	exit 2
fi
mkdir -p "$out"

gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"
if ! command -v benchstat >/dev/null 2>&1; then
	echo "scripts/bench.sh: benchstat is missing; install it first:" >&2
	echo "  go install golang.org/x/perf/cmd/benchstat@latest" >&2
	exit 2
fi

cd "$root/bench"
echo "== machine"
{
	echo "nproc: $(nproc)"
	lscpu 2>/dev/null | grep -E '^(Model name|Architecture|CPU\(s\)|Thread|Core|Socket|L2|L3)' || true
	go version
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share these cores)"
	date -u +"run at %Y-%m-%dT%H:%M:%SZ"
} | tee "$out/machine.txt"

echo "== correctness of every variant (before timing)"
go test -count=1 -run '^TestVariants$' .

echo "== benchmarks: -count $count -benchtime $benchtime"
go test -run '^$' -bench '^BenchmarkRequest$' -benchmem -count "$count" -benchtime "$benchtime" . | tee "$out/raw.txt"

echo "== benchstat"
benchstat "$out/raw.txt" | tee "$out/benchstat.txt"

echo "== ratios to the floor (medians, same run)"
go run ./cmd/ratios <"$out/raw.txt" | tee "$out/ratios.md"
