#!/usr/bin/env bash
# hack/nspawn-tree.sh [DIR]: make sure DIR (default
# /var/cache/minikubelet/nspawn-bookworm) holds a Debian bookworm tree that
# systemd-nspawn --boot can boot, with what the minikubelet package depends
# on (containerd, runc, containernetworking-plugins) already installed so the
# package installs offline. Installs systemd-container and debootstrap when
# missing. The tree is built once and kept; a tree without its stamp file
# (an interrupted build) is built again. Used by `make e2e-systemd`.
set -euo pipefail

DIR=${1:-/var/cache/minikubelet/nspawn-bookworm}
STAMP=$DIR/.minikubelet-tree-v1
INCLUDE=systemd,systemd-sysv,dbus,containerd,runc,containernetworking-plugins,iptables,ca-certificates

log() { echo "nspawn-tree: $*" >&2; }

[[ $(id -u) -eq 0 ]] || { log "error: run as root"; exit 1; }

missing=()
command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]})); then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# configure TREE: what the test machine needs beyond a plain install; run
# at every call, so a cached tree gets changes made here.
configure() {
	local tree=$1
	# The machine talks to the host's containerd through the bound
	# /run/containerd: its own must never start (it would take the host's
	# socket). Not masked: minikubelet.service Requires= containerd.service.
	mkdir -p "$tree/etc/systemd/system/containerd.service.d"
	cat >"$tree/etc/systemd/system/containerd.service.d/zz-nspawn-host-containerd.conf" <<'UNIT'
# The host's containerd serves /run/containerd (bound in by the test).
[Service]
Type=oneshot
RemainAfterExit=yes
Restart=no
OOMScoreAdjust=0
ExecStartPre=
ExecStart=
ExecStart=/bin/true
UNIT
	# No getty on the pipe console, no network setup, no time sync.
	for unit in console-getty.service getty@.service systemd-timesyncd.service systemd-networkd.service; do
		ln -sf /dev/null "$tree/etc/systemd/system/$unit"
	done
}

if [[ -f $STAMP ]]; then
	configure "$DIR"
	exit 0
fi

start=$(date +%s.%N)
rm -rf "$DIR"
mkdir -p "$(dirname "$DIR")"
tmp=$DIR.partial
rm -rf "$tmp"
mirror=$(awk '/^URIs:/ && !/security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
log "debootstrap bookworm into $DIR (mirror ${mirror:-http://deb.debian.org/debian})"
debootstrap --variant=minbase --include="$INCLUDE" bookworm "$tmp" "${mirror:-http://deb.debian.org/debian}" >"$tmp.log" 2>&1 || {
	tail -n 30 "$tmp.log" >&2
	log "error: debootstrap failed"
	exit 1
}
configure "$tmp"
echo "minikubelet-e2e" >"$tmp/etc/hostname"
rm -f "$tmp.log"
mv "$tmp" "$DIR"
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", e - s }' >"$STAMP"
log "built $DIR in $(cat "$STAMP")s"
