#!/usr/bin/env bash
# The test of .ci/release-check.sh: on a copy of this tree in which a
# published sub-module requires a version of the root module that does not
# exist, the check must fail, and say which version it could not find.
# (.ci/run runs the check itself on the real tree first: that is the case
# where it must pass.)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/.." && pwd)"
root="$(sed -n 's/^module[[:space:]]\{1,\}//p' "$src/go.mod")"
missing=v0.0.1

copy="$(mktemp -d "${TMPDIR:-/tmp}/authgate-release-check-test.XXXXXX")"
trap 'rm -rf "$copy"' EXIT
(cd "$src" && git ls-files -z -co --exclude-standard | xargs -0 cp --parents -t "$copy" 2>/dev/null || true)
git -C "$copy" init -q

# The first published sub-module (as .ci/modproxy.go lists them) whose
# go.mod requires the root module.
sub=""
while IFS=$'\t' read -r _ dir; do
	if [ "$dir" != . ] && grep -q "^[[:space:]]*\(require[[:space:]]\{1,\}\)\{0,1\}$root[[:space:]]" "$copy/$dir/go.mod"; then
		sub="$dir"
		break
	fi
done < <(cd "$copy" && GOWORK=off go run "$here/modproxy.go" -src "$copy" -list)
if [ -z "$sub" ]; then
	echo "release-check_test: no published sub-module requires $root" >&2
	exit 1
fi
(cd "$copy/$sub" && go mod edit -require="$root@$missing")

out="$copy.out"
trap 'rm -rf "$copy" "$out"' EXIT
if "$here/release-check.sh" -C "$copy" >"$out" 2>&1; then
	cat "$out" >&2
	echo "release-check_test: FAIL: the check passed although $sub requires $root@$missing" >&2
	exit 1
fi
if ! grep -q "$root@$missing" "$out"; then
	cat "$out" >&2
	echo "release-check_test: FAIL: the check failed, but without naming $root@$missing" >&2
	exit 1
fi
echo "release-check_test: ok: with $sub requiring $root@$missing the check fails:"
grep -m1 "$root@$missing" "$out" | sed 's/^/  /'
