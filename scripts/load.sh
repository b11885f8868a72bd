#!/usr/bin/env bash
# Load test on loopback with wrk (Debian package), against bench/cmd/loadserver:
# a tiny app using authgate as the demo does, with the same JSON route guarded
# (GET /api/me, RequireAuth) and unguarded (GET /api/open).
#
#   1. requests/s of the guarded route vs the unguarded one (target ≥ 0.8×),
#      alternating ROUNDS times, DURATION seconds each; both requests carry the
#      same session cookie, as a browser's would, so the difference is
#      authgate's work alone;
#   2. GET /api/auth/session latency (p50/p99) alone, then while 16 clients
#      flood POST /api/auth/callback/credentials with wrong passwords
#      (target p99 ≤ 50 ms). Sign-in throttling is off in the server, so every
#      attempt costs a bcrypt comparison at the default cost: the worst case.
#
#   scripts/load.sh                       # DURATION=10 ROUNDS=3 PORT=18080
#   HASHES=1 scripts/load.sh              # Config.MaxConcurrentHashes (0: default)
#
# Everything stays on 127.0.0.1; every wrk run is bounded by -d; the server is
# stopped on exit. Results are kept in $OUT (default bench/results/).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration="${DURATION:-10}"
rounds="${ROUNDS:-3}"
port="${PORT:-18080}"
out="${OUT:-$root/bench/results}"
base="http://127.0.0.1:$port"
mkdir -p "$out"

if ! command -v wrk >/dev/null 2>&1; then
	echo "scripts/load.sh: wrk is missing; install it first (Debian: apt-get install wrk)" >&2
	exit 2
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "== machine"
{
	echo "nproc: $(nproc)"
	lscpu 2>/dev/null | grep -E '^(Model name|CPU\(s\))' || true
	go version
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share these cores)"
	wrk --version 2>&1 | head -1 || true
	date -u +"run at %Y-%m-%dT%H:%M:%SZ"
} | tee "$out/load-machine.txt"

echo "== building and starting bench/cmd/loadserver on $base"
(cd "$root/bench" && go build -o "$work/loadserver" ./cmd/loadserver)
"$work/loadserver" -addr "127.0.0.1:$port" -cookie-out "$work/cookie" -hashes "${HASHES:-0}" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
	if curl -fsS -o /dev/null "$base/api/open" 2>/dev/null; then break; fi
	sleep 0.1
done
curl -fsS -o /dev/null "$base/api/open" || { cat "$work/server.log"; echo "load.sh: server did not start" >&2; exit 1; }
cookie="$(cat "$work/cookie")"
code="$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base/api/me")"
[ "$code" = 200 ] || { echo "load.sh: guarded route answered $code with the session cookie, want 200" >&2; exit 1; }
code="$(curl -s -o /dev/null -w '%{http_code}' "$base/api/me")"
[ "$code" = 401 ] || { echo "load.sh: guarded route answered $code without a cookie, want 401" >&2; exit 1; }

rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
p() { # percentile line of wrk --latency, in ms
	awk -v q="$2" '$1 == q {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}' "$1"
}
no_errors() {
	if grep -q 'Non-2xx' "$1"; then echo "load.sh: $2 had non-2xx answers:" >&2; cat "$1" >&2; exit 1; fi
}

echo "== 1. guarded vs unguarded JSON route: wrk -t2 -c32 -d${duration}s, $rounds rounds, alternating"
open_sum=0; me_sum=0
for i in $(seq 1 "$rounds"); do
	wrk -t2 -c32 -d"${duration}s" --latency -H "Cookie: $cookie" "$base/api/open" >"$out/wrk-open-$i.txt"
	no_errors "$out/wrk-open-$i.txt" "/api/open"
	wrk -t2 -c32 -d"${duration}s" --latency -H "Cookie: $cookie" "$base/api/me" >"$out/wrk-me-$i.txt"
	no_errors "$out/wrk-me-$i.txt" "/api/me"
	o="$(rps "$out/wrk-open-$i.txt")"; m="$(rps "$out/wrk-me-$i.txt")"
	echo "round $i: unguarded $o req/s, guarded $m req/s"
	open_sum="$(awk -v a="$open_sum" -v b="$o" 'BEGIN{print a+b}')"
	me_sum="$(awk -v a="$me_sum" -v b="$m" 'BEGIN{print a+b}')"
done
ratio="$(awk -v a="$me_sum" -v b="$open_sum" 'BEGIN{printf "%.3f", a/b}')"

echo "== 2. GET /api/auth/session latency: alone, then during a 16-client sign-in flood"
wrk -t1 -c4 -d"${duration}s" --latency -H "Cookie: $cookie" "$base/api/auth/session" >"$out/wrk-session-idle.txt"
no_errors "$out/wrk-session-idle.txt" "/api/auth/session (alone)"

jar="$work/jar"
token="$(curl -fsS -c "$jar" "$base/api/auth/csrf" | sed 's/.*"csrfToken":"\([^"]*\)".*/\1/')"
csrf_cookie="$(awk '$6 ~ /csrf-token$/ {print $6 "=" $7}' "$jar")"
[ -n "$token" ] && [ -n "$csrf_cookie" ] || { echo "load.sh: no CSRF token" >&2; exit 1; }
cat >"$work/flood.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "$csrf_cookie"
wrk.body = "csrfToken=$token&username=alice&password=wrong-password&json=true"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) codes = {} end
function response(status, headers, body) codes[status] = (codes[status] or 0) + 1 end
function done(summary, latency, requests)
  local agg = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("codes")) do agg[k] = (agg[k] or 0) + v end
  end
  for k, v in pairs(agg) do io.write(string.format("status %d: %d\n", k, v)) end
end
LUA
wrk -t2 -c16 -d"$((duration + 2))s" --timeout 10s -s "$work/flood.lua" "$base/api/auth/callback/credentials" >"$out/wrk-flood.txt" &
flood_pid=$!
sleep 1
wrk -t1 -c4 -d"${duration}s" --latency -H "Cookie: $cookie" "$base/api/auth/session" >"$out/wrk-session-flood.txt"
wait "$flood_pid"
no_errors "$out/wrk-session-flood.txt" "/api/auth/session (flood)"
grep -q '^status 401' "$out/wrk-flood.txt" || { echo "load.sh: the flood got no 401 (wrong password) answers:" >&2; cat "$out/wrk-flood.txt" >&2; exit 1; }

idle50="$(p "$out/wrk-session-idle.txt" 50%)"; idle99="$(p "$out/wrk-session-idle.txt" 99%)"
fl50="$(p "$out/wrk-session-flood.txt" 50%)"; fl99="$(p "$out/wrk-session-flood.txt" 99%)"
verdict() { if awk -v x="$1" -v op="$2" -v y="$3" 'BEGIN{exit !((op==">=") ? x>=y : x<=y)}'; then echo MET; else echo "NOT MET"; fi; }

{
	echo "== load results"
	echo "guarded /api/me: $(awk -v s="$me_sum" -v n="$rounds" 'BEGIN{printf "%.0f", s/n}') req/s; unguarded /api/open: $(awk -v s="$open_sum" -v n="$rounds" 'BEGIN{printf "%.0f", s/n}') req/s (mean of $rounds rounds)"
	echo "- guarded ≥ 0.80× unguarded: ${ratio}× — $(verdict "$ratio" ">=" 0.8)"
	echo "GET /api/auth/session alone: p50 ${idle50} ms, p99 ${idle99} ms, $(rps "$out/wrk-session-idle.txt") req/s"
	echo "GET /api/auth/session during the flood: p50 ${fl50} ms, p99 ${fl99} ms, $(rps "$out/wrk-session-flood.txt") req/s"
	echo "sign-in flood (16 clients, wrong passwords, no throttling): $(rps "$out/wrk-flood.txt") attempts/s; $(grep '^status' "$out/wrk-flood.txt" | sort | tr '\n' ';' | sed 's/;$//; s/;/, /g')"
	echo "- /session p99 ≤ 50 ms during the flood: ${fl99} ms — $(verdict "$fl99" "<=" 50)"
} | tee "$out/load.txt"
