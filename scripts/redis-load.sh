#!/usr/bin/env bash
# Load test of two authgate demo instances behind a round-robin proxy, on
# loopback: with their stores in Redis (-redis, one redis-server on this
# machine) and, for comparison, with their in-memory stores. wrk requests
# the guarded JSON route GET /api/me carrying one signed-in session cookie,
# which every request presents to a different instance than the last.
#
#   scripts/redis-load.sh                 # DURATION=10 ROUNDS=2 BASEPORT=18090
#
# It needs go, curl, wrk and redis-server (Debian: apt-get install wrk
# redis-server) and installs nothing: a missing tool stops it with a
# message. Everything listens on 127.0.0.1 (ports BASEPORT..BASEPORT+3);
# every wrk run is bounded by -d; every process it starts is stopped on
# exit. Results go to $OUT (default bench/runs/<UTC date>-redis/).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration="${DURATION:-10}"
rounds="${ROUNDS:-2}"
baseport="${BASEPORT:-18090}"
out="${OUT:-$root/bench/runs/$(date -u +%Y-%m-%d)-redis}"

for tool in go curl wrk redis-server; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "redis-load.sh: $tool is not installed (Debian: apt-get install wrk redis-server curl); nothing was run" >&2
		exit 1
	fi
done
mkdir -p "$out"

redis_port=$baseport
proxy_port=$((baseport + 1))
a_port=$((baseport + 2))
b_port=$((baseport + 3))
proxy="http://127.0.0.1:$proxy_port"
secret="load-test-secret-0123456789abcdefghijklmnop"

work="$(mktemp -d)"
pids=()
stop_all() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	pids=()
}
cleanup() {
	stop_all
	if [ -n "${redis_pid:-}" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

wait_http() { # url: wait until it answers at all (up to 10 s)
	for _ in $(seq 1 100); do
		if curl -s -o /dev/null "$1" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "redis-load.sh: $1 did not answer" >&2
	return 1
}

echo "== machine"
{
	echo "nproc: $(nproc)"
	lscpu 2>/dev/null | grep -E '^Model name' || true
	go version
	redis-server --version
	wrk --version 2>&1 | head -1 || true
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share these cores)"
	date -u +"run at %Y-%m-%dT%H:%M:%SZ"
} | tee "$out/machine.txt"

echo "== building the demo and the proxy"
(cd "$root/cmd/authgate-demo" && go build -o "$work/demo" .)
(cd "$root/bench" && go build -o "$work/rrproxy" ./cmd/rrproxy)

echo "== redis-server on 127.0.0.1:$redis_port (data in a temporary directory, append-only file on)"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly yes \
	--logfile "$work/redis.log" --daemonize no &
redis_pid=$!
for _ in $(seq 1 100); do
	if [ "$(printf 'PING\r\n' | timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$redis_port; cat >&3; head -c 7 <&3" 2>/dev/null)" = $'+PONG\r\n' ]; then break; fi
	sleep 0.1
done

# start MODE: two demo instances (one database file, one secret, one
# public URL: the proxy's) and the proxy; MODE is redis or memory.
start() {
	local env=(AUTH_SECRET="$secret" AUTH_URL="$proxy")
	if [ "$1" = redis ]; then env+=(REDIS_URL="redis://127.0.0.1:$redis_port/0"); fi
	env "${env[@]}" "$work/demo" serve -db "$work/demo.db" -addr "127.0.0.1:$a_port" >"$work/a-$1.out" 2>"$work/a-$1.log" &
	pids+=($!)
	wait_http "http://127.0.0.1:$a_port/login"
	env "${env[@]}" "$work/demo" serve -db "$work/demo.db" -addr "127.0.0.1:$b_port" >"$work/b-$1.out" 2>"$work/b-$1.log" &
	pids+=($!)
	wait_http "http://127.0.0.1:$b_port/login"
	"$work/rrproxy" -addr "127.0.0.1:$proxy_port" -backends "http://127.0.0.1:$a_port,http://127.0.0.1:$b_port" 2>"$work/proxy.log" &
	pids+=($!)
	wait_http "$proxy/login"
}

# The first start creates the database and prints the demo passwords.
start memory
password="$(sed -n 's/.*username: bob *password: \([^ ]*\).*/\1/p' "$work"/a-memory.out | head -1)"
[ -n "$password" ] || { echo "redis-load.sh: no demo password printed" >&2; cat "$work"/a-memory.out >&2; exit 1; }

sign_in() { # prints the session cookie, signed in through the proxy
	local jar="$work/jar-$1" token
	rm -f "$jar"
	token="$(curl -fsS -c "$jar" -b "$jar" "$proxy/api/auth/csrf" | sed 's/.*"csrfToken":"\([^"]*\)".*/\1/')"
	curl -fsS -c "$jar" -b "$jar" -o /dev/null --data-urlencode "username=bob" --data-urlencode "password=$password" \
		--data-urlencode "csrfToken=$token" --data-urlencode "json=true" "$proxy/api/auth/callback/credentials"
	awk '$6 == "authgate.session-token" {print $6 "=" $7}' "$jar"
}

rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
p99() {
	awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}' "$1"
}

declare -A sum_rps sum_p99
sum_rps[memory]=0; sum_rps[redis]=0; sum_p99[memory]=0; sum_p99[redis]=0
mode=memory
for i in $(seq 1 "$rounds"); do
	for m in memory redis; do
		if [ "$mode" != "$m" ]; then stop_all; start "$m"; mode=$m; fi
		cookie="$(sign_in "$m")"
		[ -n "$cookie" ] || { echo "redis-load.sh: sign-in through the proxy failed ($m)" >&2; exit 1; }
		for port in "$a_port" "$b_port"; do
			code="$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:$port/api/me")"
			[ "$code" = 200 ] || { echo "redis-load.sh: instance on $port answered $code to the session ($m), want 200" >&2; exit 1; }
		done
		f="$out/wrk-$m-$i.txt"
		wrk -t2 -c32 -d"${duration}s" --latency -H "Cookie: $cookie" "$proxy/api/me" >"$f"
		if grep -q 'Non-2xx' "$f"; then echo "redis-load.sh: non-2xx answers ($m):" >&2; cat "$f" >&2; exit 1; fi
		echo "round $i, $m stores: $(rps "$f") req/s, p99 $(p99 "$f") ms"
		sum_rps[$m]="$(awk -v a="${sum_rps[$m]}" -v b="$(rps "$f")" 'BEGIN{print a+b}')"
		sum_p99[$m]="$(awk -v a="${sum_p99[$m]}" -v b="$(p99 "$f")" 'BEGIN{print a+b}')"
	done
done

{
	echo "== two demo instances behind a round-robin proxy, GET /api/me with a session (wrk -t2 -c32 -d${duration}s, $rounds rounds, alternating)"
	for m in memory redis; do
		echo "$m stores: $(awk -v s="${sum_rps[$m]}" -v n="$rounds" 'BEGIN{printf "%.0f", s/n}') req/s, p99 $(awk -v s="${sum_p99[$m]}" -v n="$rounds" 'BEGIN{printf "%.2f", s/n}') ms (means)"
	done
	echo "redis/memory requests/s: $(awk -v a="${sum_rps[redis]}" -v b="${sum_rps[memory]}" 'BEGIN{printf "%.3f", a/b}')"
	echo "(wrk, the proxy, both instances and redis-server share the same $(nproc) cores)"
} | tee "$out/load.txt"
