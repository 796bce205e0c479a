#!/usr/bin/env bash
# hack/e2e-systemd.sh: the unit and the package under a real systemd
# (`make e2e-systemd`, part of `make test`). Run as root on a node made by
# hack/node-up.sh, with MINIKUBELET_DEB naming the package `make deb`
# built. It makes sure the cached Debian tree exists (hack/nspawn-tree.sh:
# about 2 minutes the first time, then nothing), then runs the Go tests of
# test/systemd, which boot that tree with systemd-nspawn, install the
# package and drive systemctl. With CI set, a missing prerequisite fails.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
TREE=${NSPAWN_TREE:-/var/cache/minikubelet/nspawn-bookworm}
: "${MINIKUBELET_DEB:?set MINIKUBELET_DEB to the package (make deb)}"

log() { echo "e2e-systemd: $*" >&2; }
[[ $(id -u) -eq 0 ]] || { log "error: run as root"; exit 1; }
[[ -f $MINIKUBELET_DEB ]] || { log "error: no package at $MINIKUBELET_DEB"; exit 1; }

start=$(date +%s.%N)
hack/nspawn-tree.sh "$TREE"
log "tree ready in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')s (built once in $(cat "$TREE/.minikubelet-tree-v1")s)"

NSPAWN_TREE=$TREE MINIKUBELET_DEB=$MINIKUBELET_DEB \
	go test -tags e2esystemd -count=1 -timeout "${E2E_SYSTEMD_TIMEOUT:-10m}" -v ${E2E_SYSTEMD_RUN:+-run "$E2E_SYSTEMD_RUN"} ./test/systemd/
