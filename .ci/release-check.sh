#!/usr/bin/env bash
# Proves that a release of this tree installs: every published module is
# served at the candidate version from a throw-away module proxy laid out
# from the tree (.ci/modproxy.go), and empty modules fetch them from it as
# users will, with no go.work and no replace directive:
#
#   1. the README's `go get github.com/authgate/…` lines, as written, resolve
#      to the candidate version, and the quick start builds against it;
#   2. one module gets every published module at that version and builds a
#      program importing each of their packages;
#   3. for each published module alone, a new module gets it at that version
#      and every authgate module it brings is at that version too (a require
#      of an older or missing version fails here).
#
#   .ci/release-check.sh [-C DIR] [VERSION]
#
# DIR is the source tree (default: this repository's work tree, uncommitted
# files included); VERSION defaults to the candidate version the go.work
# file's replace block names for the root module (RELEASING.md).
# .ci/release-check_test.sh checks that this script fails for a broken tree.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/.." && pwd)"
if [ "${1:-}" = -C ]; then
	src="$(cd "$2" && pwd)"
	shift 2
fi
root="$(sed -n 's/^module[[:space:]]\{1,\}//p' "$src/go.mod")"
version="${1:-$(sed -n "s#^[[:space:]]*${root//./\\.}[[:space:]]\{1,\}\(v[^[:space:]]*\)[[:space:]]*=>.*#\1#p" "$src/go.work")}"
if [ -z "$version" ]; then
	echo "release-check: no version given and none in $src/go.work's replace block" >&2
	exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/authgate-release-check.XXXXXX")"
cleanup() {
	chmod -R u+w "$work" 2>/dev/null || true # the module cache is read-only
	rm -rf "$work"
}
trap cleanup EXIT

# The proxy, and the published modules' paths.
cp "$here/modproxy.go" "$work/"
mods=()
while IFS=$'\t' read -r m _; do mods+=("$m"); done < <(cd "$work" && GOWORK=off go run modproxy.go -src "$src" -version "$version" -out "$work/proxy")
echo "release-check: serving ${mods[*]} at $version"

# Users' view: no workspace, a module cache of their own (so the candidate
# never lands in the machine's cache), the throw-away proxy first; other
# modules from the machine's module cache when it has them, else from the
# usual proxy. The candidate has no checksum database entry yet.
shared="$(go env GOMODCACHE)"
upstream="$(go env GOPROXY)"
export GOWORK=off GOMODCACHE="$work/gomod" GONOSUMDB="$root" GOPRIVATE= GONOPROXY=
export GOPROXY="file://$work/proxy,file://$shared/cache/download,$upstream"
export GOFLAGS="-mod=mod -buildvcs=false"

# q runs a command and shows its output only when it fails.
q() {
	local out
	if ! out="$("$@" 2>&1)"; then
		echo "release-check: $* failed:" >&2
		echo "$out" >&2
		return 1
	fi
}

# consumer NAME: a new, empty module to work in.
consumer() {
	mkdir -p "$work/$1"
	cd "$work/$1"
	go mod init "example.com/$1" >/dev/null 2>&1
}

# at_version: every authgate module in the build list is at $version.
at_version() {
	local wrong
	wrong="$(go list -m -f '{{.Path}} {{.Version}}' all | awk -v r="$root" -v v="$version" \
		'($1 == r || index($1, r "/") == 1) && $2 != v && $2 != "" { print "  " $1 " " $2 }')"
	if [ -n "$wrong" ]; then
		echo "release-check: $1 brings authgate modules at other versions than $version:" >&2
		echo "$wrong" >&2
		return 1
	fi
}

# 1. The README's go get lines, as written.
consumer readme
mapfile -t lines < <(cd "$src" && git ls-files -co --exclude-standard -- '*README.md' |
	xargs grep -h "^go get $root" | sort -u)
if [ ${#lines[@]} -eq 0 ]; then
	echo "release-check: no 'go get $root' line in the READMEs" >&2
	exit 1
fi
for line in "${lines[@]}"; do
	read -r -a args <<<"$line"
	if [ "${#args[@]}" -ne 3 ]; then
		echo "release-check: a README's go get line is not 'go get MODULE': $line" >&2
		exit 1
	fi
	echo "release-check: $line"
	q go get "${args[2]}"
done
at_version "the README's go get lines"
mkdir quickstart
cp "$src/examples/quickstart/main.go" quickstart/
q go build -o /dev/null ./quickstart
echo "release-check: the quick start builds"

# 2. Every published package in one program.
consumer all
for m in "${mods[@]}"; do q go get "$m@$version"; done
at_version "all published modules together"
mapfile -t pkgs < <(go list -f '{{if ne .Name "main"}}{{.ImportPath}}{{end}}' "$root/..." | grep -v '/internal\(/\|$\)')
{
	echo "// Command all imports every published package of $root."
	echo "package main"
	echo
	echo "import ("
	printf '\t_ "%s"\n' "${pkgs[@]}"
	echo ")"
	echo
	echo "func main() {}"
} >main.go
q go build -o /dev/null .
echo "release-check: a program importing ${#pkgs[@]} packages of ${#mods[@]} modules builds"

# 3. Each published module on its own.
for m in "${mods[@]}"; do
	consumer "alone-${m//\//_}"
	q go get "$m@$version"
	at_version "$m@$version"
done
echo "release-check: ok: ${#mods[@]} modules install at $version"
