#!/usr/bin/env bash
# hack/registry.sh: run the registries the end-to-end tests pull from, on
# loopback only. Idempotent; run as root. hack/node-up.sh calls it.
#
#  1. Installs what is missing among docker-registry (the CNCF distribution
#     registry 2.8), skopeo (the tests push images with it) and
#     apache2-utils (htpasswd).
#  2. Starts, unless it answers already, each of:
#       open  127.0.0.1:5000  no authentication
#       auth  127.0.0.1:5001  htpasswd: user e2e, password e2e-secret
#     as a background process (pid file /run/minikubelet/registry-NAME.pid,
#     log /var/log/minikubelet/registry-NAME.log, storage
#     /var/lib/minikubelet-registry/NAME). The log holds a line per request,
#     which is how the tests count the pulls a registry saw.
#
# `hack/registry.sh down` stops the registries this script started.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly RUN_DIR=/run/minikubelet
readonly LOG_DIR=/var/log/minikubelet
readonly CONF_DIR=/etc/minikubelet/registry
readonly STORE_DIR=/var/lib/minikubelet-registry
readonly AUTH_USER=e2e AUTH_PASSWORD=e2e-secret
readonly WAIT_SECONDS=15

log() { echo "registry: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

[[ $(id -u) -eq 0 ]] || die "run as root (sudo $0)"

running() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# answers ADDR: a registry serves the v2 API there (401 counts: it asks for
# credentials).
answers() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$1/v2/" 2>/dev/null) || return 1
	[[ $code == 200 || $code == 401 ]]
}

if [[ ${1:-} == down ]]; then
	for name in open auth; do
		pid_file=$RUN_DIR/registry-$name.pid
		[[ -f $pid_file ]] || continue
		pid=$(cat "$pid_file")
		if [[ $pid =~ ^[0-9]+$ ]] && running "$pid" && [[ $(readlink "/proc/$pid/exe") == */docker-registry ]]; then
			kill -TERM "$pid"
			log "stopped the $name registry (pid $pid)"
		fi
		rm -f "$pid_file"
	done
	exit 0
fi

# --- 1. packages -------------------------------------------------------------

missing=()
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v skopeo >/dev/null || missing+=(skopeo)
command -v htpasswd >/dev/null || missing+=(apache2-utils)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# The package's own service (docker-registry.service, on :5000 for all
	# addresses) is not wanted: policy-rc.d keeps it from starting here,
	# and on a systemd node it is stopped and disabled below.
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	if [[ -d /run/systemd/system ]] && systemctl is-enabled --quiet docker-registry 2>/dev/null; then
		systemctl disable --now --quiet docker-registry || true
	fi
fi

# --- 2. registries -----------------------------------------------------------

mkdir -p "$RUN_DIR" "$LOG_DIR" "$CONF_DIR"
if [[ ! -s $CONF_DIR/htpasswd ]] || ! htpasswd -vb "$CONF_DIR/htpasswd" "$AUTH_USER" "$AUTH_PASSWORD" >/dev/null 2>&1; then
	# The distribution registry reads bcrypt entries only.
	htpasswd -Bbc "$CONF_DIR/htpasswd" "$AUTH_USER" "$AUTH_PASSWORD" 2>/dev/null
fi

# write_config NAME ADDR: the registry's config, with htpasswd for auth.
write_config() {
	local name=$1 addr=$2 auth=""
	if [[ $name == auth ]]; then
		auth="auth:
  htpasswd:
    realm: minikubelet-e2e
    path: $CONF_DIR/htpasswd"
	fi
	cat >"$CONF_DIR/$name.yml.tmp" <<CONFIG
# Written by $REPO_ROOT/hack/registry.sh.
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $STORE_DIR/$name
  delete:
    enabled: true
http:
  addr: $addr
$auth
CONFIG
	mv -f "$CONF_DIR/$name.yml.tmp" "$CONF_DIR/$name.yml"
}

start() {
	local name=$1 addr=$2 pid_file=$RUN_DIR/registry-$1.pid
	if answers "$addr"; then
		return 0
	fi
	write_config "$name" "$addr"
	mkdir -p "$STORE_DIR/$name"
	log "starting the $name registry on $addr (log: $LOG_DIR/registry-$name.log)"
	(exec setsid docker-registry serve "$CONF_DIR/$name.yml" </dev/null >>"$LOG_DIR/registry-$name.log" 2>&1) &
	echo $! >"$pid_file"
	local deadline=$((SECONDS + WAIT_SECONDS))
	until answers "$addr"; do
		if ! running "$(cat "$pid_file")"; then
			tail -n 20 "$LOG_DIR/registry-$name.log" >&2
			die "the $name registry exited"
		fi
		((SECONDS < deadline)) || die "the $name registry does not answer on $addr after ${WAIT_SECONDS}s"
		sleep 0.1
	done
}

start open 127.0.0.1:5000
start auth 127.0.0.1:5001
log "registries answer on 127.0.0.1:5000 (open) and 127.0.0.1:5001 (htpasswd)"
