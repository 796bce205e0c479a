#!/usr/bin/env bash
# hack/kubectl.sh: build the stock kubectl the end-to-end tests drive, from
# the tools/kubectl module (k8s.io/kubectl at the version its go.mod pins),
# to bin/kubectl (or the path given as the first argument).
#
# It builds only when the binary is missing or older than the module's
# files, so `make e2e` pays the cold build (about 3.5 minutes, 110 MB) once.
# The version kubectl reports (`kubectl version --client`) is set with -X
# from the pinned k8s.io/kubectl version: without it, it says v0.0.0-master.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly MODULE_DIR="$REPO_ROOT/tools/kubectl"
OUT=${1:-"$REPO_ROOT/bin/kubectl"}
GO=${GO:-go}

log() { echo "kubectl.sh: $*" >&2; }

up_to_date() {
	[[ -x "$OUT" ]] || return 1
	local f
	for f in "$MODULE_DIR"/go.mod "$MODULE_DIR"/go.sum "$MODULE_DIR"/*.go "${BASH_SOURCE[0]}"; do
		[[ "$f" -nt "$OUT" ]] && return 1
	done
	return 0
}

if up_to_date; then
	exit 0
fi

cd "$MODULE_DIR"
# The version of k8s.io/kubectl in go.mod, e.g. v0.37.2 -> v1.37.2.
mod_version=$("$GO" list -m -f '{{.Version}}' k8s.io/kubectl)
if [[ ! "$mod_version" =~ ^v0\.([0-9]+)\.([0-9]+)$ ]]; then
	log "error: k8s.io/kubectl is at $mod_version in tools/kubectl/go.mod; expected v0.MINOR.PATCH"
	exit 1
fi
minor=${BASH_REMATCH[1]}
git_version="v1.${minor}.${BASH_REMATCH[2]}"
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$git_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"

log "building kubectl $git_version to $OUT (a cold build takes a few minutes)"
mkdir -p "$(dirname "$OUT")"
tmp="$OUT.tmp.$$"
trap 'rm -f "$tmp"' EXIT
CGO_ENABLED=0 "$GO" build -trimpath -ldflags "$ldflags" -o "$tmp" .
mv "$tmp" "$OUT"
