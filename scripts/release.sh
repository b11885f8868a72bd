#!/usr/bin/env bash
# Cuts a release, or tidies the modules between releases (RELEASING.md).
#
#   scripts/release.sh vX.Y.Z    set every module's requires of the others
#                                (and go.work's replace block) to vX.Y.Z,
#                                date CHANGELOG.md's "## vX.Y.Z" heading, run
#                                .ci/release-check.sh at vX.Y.Z, commit, and
#                                tag each published module: vX.Y.Z for the
#                                root, DIR/vX.Y.Z for the module in DIR.
#                                Nothing is pushed: it prints the push command.
#   scripts/release.sh tidy      `go mod tidy` in every module of go.work,
#                                with the unreleased candidate of the
#                                authgate modules served from the tree.
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$top"
root="$(sed -n 's/^module[[:space:]]\{1,\}//p' go.mod)"

# modules prints "path<TAB>dir" for every module of go.work.
modules() { go list -m -f '{{.Path}}{{"\t"}}{{.Dir}}' | sed "s#\t$top\$#\t.#; s#\t$top/#\t#"; }
# published prints "path<TAB>dir" for the published ones.
published() { (cd "${TMPDIR:-/tmp}" && GOWORK=off go run "$top/.ci/modproxy.go" -src "$top" -list); }
# candidate is the version go.work's replace block names for the root.
candidate() { sed -n "s#^[[:space:]]*${root//./\\.}[[:space:]]\{1,\}\(v[^[:space:]]*\)[[:space:]]*=>.*#\1#p" go.work; }

tidy() {
	local version shared upstream
	version="$(candidate)"
	work="$(mktemp -d "${TMPDIR:-/tmp}/authgate-tidy.XXXXXX")"
	trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT # (work is global for the trap)
	local -a mods=() dirs=()
	while IFS=$'\t' read -r m d; do mods+=("$m") dirs+=("$d"); done < <(modules)
	(cd "$work" && GOWORK=off go run "$top/.ci/modproxy.go" -src "$top" -version "$version" -out "$work/proxy" >/dev/null)
	shared="$(go env GOMODCACHE)"
	upstream="$(go env GOPROXY)"
	for d in "${dirs[@]}"; do
		echo "release.sh: go mod tidy in $d"
		(
			cd "$d"
			# The candidate is not in the checksum database, nor in the
			# machine's module cache (a module cache of its own).
			GOWORK=off GOMODCACHE="$work/gomod" GONOSUMDB="$root" GOFLAGS=-mod=mod \
				GOPROXY="file://$work/proxy,file://$shared/cache/download,$upstream" go mod tidy
			# The authgate modules' checksums would be those of today's
			# tree, not of a release: go.sum keeps none (the workspace needs none).
			if [ -f go.sum ]; then
				for m in "${mods[@]}"; do sed -i "\#^$m #d" go.sum; done
			fi
		)
	done
}

release() {
	local version="$1" previous
	if ! [[ "$version" =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$ ]]; then
		echo "release.sh: $version is not a version such as v0.2.0" >&2
		exit 2
	fi
	if [ -n "$(git status --porcelain)" ]; then
		echo "release.sh: the work tree has uncommitted changes; commit or stash them first" >&2
		exit 1
	fi
	if git rev-parse -q --verify "refs/tags/$version" >/dev/null; then
		echo "release.sh: tag $version exists already" >&2
		exit 1
	fi
	if ! grep -q "^## $version\b" CHANGELOG.md; then
		echo "release.sh: CHANGELOG.md has no '## $version' section; write it first" >&2
		exit 1
	fi
	previous="$(candidate)"

	# 1. Every require of an authgate module names $version; so does go.work.
	local -a paths=() dirs=()
	while IFS=$'\t' read -r m d; do paths+=("$m") dirs+=("$d"); done < <(modules)
	if [ -z "$previous" ]; then
		echo "release.sh: go.work's replace block names no version for $root" >&2
		exit 1
	fi
	for d in "${dirs[@]}"; do
		for m in "${paths[@]}"; do
			if grep -q "^[[:space:]]*\(require[[:space:]]\{1,\}\)\{0,1\}$m[[:space:]]" "$d/go.mod"; then
				go mod edit -require="$m@$version" "$d/go.mod"
			fi
		done
	done
	for m in "${paths[@]}"; do # go.work's replace lines, in place
		sed -i "s#^\([[:space:]]*\(replace[[:space:]]\{1,\}\)\{0,1\}$m[[:space:]]\{1,\}\)$previous\([[:space:]]*=>\)#\1$version\3#" go.work
	done
	sed -i "s/^## $version\b.*/## $version ($(date -u +%Y-%m-%d))/" CHANGELOG.md

	# 2. Prove it installs, then commit and tag.
	.ci/release-check.sh "$version"
	git commit -qam "Release $version: every module requires the others at $version"
	local -a tags=()
	while IFS=$'\t' read -r m d; do
		local tag="$version"
		[ "$d" = . ] || tag="$d/$version"
		git tag -a "$tag" -m "$m $version"
		tags+=("$tag")
	done < <(published)
	echo "release.sh: tagged ${tags[*]} on $(git rev-parse --short HEAD). Push them with:"
	echo "  git push origin HEAD ${tags[*]}"
}

case "${1:-}" in
tidy) tidy ;;
v*) release "$1" ;;
*)
	echo "usage: scripts/release.sh vX.Y.Z | tidy" >&2
	exit 2
	;;
esac
