#!/bin/bash
# bench-deps.sh: install what `make bench` measures beside minikubelet and
# hack/node-up.sh does not install: podman (Debian's, for `podman kube
# play`, with netavark as its network stack (the bench's containers.conf
# names it) and catatonit, from which the bench builds podman's pause
# image offline). Idempotent; needs root and Debian's package lists.
set -euo pipefail
if command -v podman >/dev/null; then
	exit 0
fi
echo "bench-deps: installing podman"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends podman catatonit netavark aardvark-dns >/dev/null ||
	{ apt-get update -qq && apt-get install -y --no-install-recommends podman catatonit netavark aardvark-dns >/dev/null; }
echo "bench-deps: $(podman --version)"
