#!/usr/bin/env bash
# hack/node-down.sh: stop the containerd that hack/node-up.sh started in the
# background (the process in /run/minikubelet/containerd.pid), and nothing
# else. Packages, configs, images and the containerd state under
# /var/lib/containerd stay, so the next node-up.sh is quick. Containers keep
# running in their shims; a later containerd finds them again.
#
# On a systemd node containerd.service is the system's: it is left alone.
set -euo pipefail

readonly RUN_DIR=/run/minikubelet
readonly PID_FILE=$RUN_DIR/containerd.pid
readonly STARTED_CONFIG=$RUN_DIR/containerd.config.sha256

log() { echo "node-down: $*" >&2; }

[[ $(id -u) -eq 0 ]] || {
	log "error: run as root (sudo $0)"
	exit 1
}

running() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

if [[ ! -f $PID_FILE ]]; then
	if [[ -d /run/systemd/system ]]; then
		log "containerd runs as containerd.service under systemd: leaving it (systemctl stop containerd stops it)"
	else
		log "no containerd started by node-up.sh ($PID_FILE is absent)"
	fi
	exit 0
fi

pid=$(cat "$PID_FILE")
containerd_bin=$(command -v containerd || echo /usr/bin/containerd)
if ! [[ $pid =~ ^[0-9]+$ ]] || ! running "$pid" ||
	[[ $(readlink "/proc/$pid/exe" 2>/dev/null) != "$containerd_bin" ]]; then
	log "containerd (pid ${pid:-?}) is not running any more"
	rm -f "$PID_FILE" "$STARTED_CONFIG"
	exit 0
fi

kill -TERM "$pid"
for _ in $(seq 100); do
	running "$pid" || break
	sleep 0.1
done
if running "$pid"; then
	log "containerd (pid $pid) did not stop within 10s; killing it"
	kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$PID_FILE" "$STARTED_CONFIG"
log "stopped containerd (pid $pid)"
