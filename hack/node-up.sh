#!/usr/bin/env bash
# hack/node-up.sh: make this machine a minikubelet node. Idempotent; run as
# root from anywhere. Used by `make demo`, `make test` and `make bench`.
#
#  1. Installs what is missing among containerd, runc,
#     containernetworking-plugins, busybox-static and iptables (apt-get,
#     with one `apt-get update`, only when something is missing).
#  2. Writes the configs the project ships: deploy/containerd/config.toml as
#     /etc/minikubelet/containerd.toml, deploy/cni/* into /etc/cni/net.d.
#  3. Enables IPv4 forwarding and loads overlay and br_netfilter when it can.
#  4. Starts containerd on /run/containerd/containerd.sock unless it answers
#     already: through systemd (with the drop-in of deploy/systemd) when PID 1
#     is systemd, otherwise as a background process (pid file
#     /run/minikubelet/containerd.pid, log /var/log/minikubelet/containerd.log).
#     A containerd this script started is restarted when its config changed.
#  5. Imports the pause and busybox images with $MINIKUBELET (default
#     ./bin/minikubelet) when that binary is built.
#  6. Starts the loopback registries the end-to-end tests pull from
#     (hack/registry.sh: 127.0.0.1:5000 open, 127.0.0.1:5001 htpasswd).
#
# hack/node-down.sh stops the containerd this script started.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MINIKUBELET=${MINIKUBELET:-./bin/minikubelet}
if [[ $MINIKUBELET != /* ]]; then
	MINIKUBELET=$PWD/$MINIKUBELET
fi
cd "$REPO_ROOT"

readonly SOCKET=/run/containerd/containerd.sock
readonly CONF_DIR=/etc/minikubelet
readonly CONTAINERD_CONFIG=$CONF_DIR/containerd.toml
readonly CNI_CONF_DIR=/etc/cni/net.d
readonly CNI_BIN_DIR=/usr/lib/cni
readonly RUN_DIR=/run/minikubelet
readonly PID_FILE=$RUN_DIR/containerd.pid
# The hash of the config the background containerd was started with.
readonly STARTED_CONFIG=$RUN_DIR/containerd.config.sha256
readonly LOG_DIR=/var/log/minikubelet
readonly LOG_FILE=$LOG_DIR/containerd.log
readonly DROPIN=/etc/systemd/system/containerd.service.d/minikubelet.conf
readonly WAIT_SECONDS=30

start_time=$(date +%s.%N)

log() { echo "node-up: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

[[ $(id -u) -eq 0 ]] || die "run as root (sudo $0)"

# --- 1. packages -------------------------------------------------------------

missing=()
command -v containerd >/dev/null || missing+=(containerd)
command -v runc >/dev/null || missing+=(runc)
for plugin in bridge host-local portmap loopback; do
	if [[ ! -x $CNI_BIN_DIR/$plugin ]]; then
		missing+=(containernetworking-plugins)
		break
	fi
done
# A dynamically linked busybox (Debian's `busybox`) cannot run in an image
# that has no libc: the busybox image needs busybox-static.
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
	missing+=(busybox-static)
fi
command -v iptables >/dev/null || missing+=(iptables)

if ((${#missing[@]})); then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
CONTAINERD_BIN=$(command -v containerd)

# --- 2. configs --------------------------------------------------------------

# install_file SRC DST MODE: copy when the content differs, atomically.
# Prints "changed" when it wrote the file.
install_file() {
	local src=$1 dst=$2 mode=$3
	if [[ -f $dst ]] && cmp -s "$src" "$dst"; then
		return 0
	fi
	mkdir -p "$(dirname "$dst")"
	install -m "$mode" "$src" "$dst.node-up.tmp"
	mv -f "$dst.node-up.tmp" "$dst"
	log "wrote $dst"
	echo changed
}

install_file deploy/containerd/config.toml "$CONTAINERD_CONFIG" 0644 >/dev/null
for f in deploy/cni/*; do
	install_file "$f" "$CNI_CONF_DIR/$(basename "$f")" 0644 >/dev/null
done
# The CRI loads only the first file of the directory (max_conf_num = 1).
first_cni=$(find "$CNI_CONF_DIR" -maxdepth 1 -type f \( -name '*.conf' -o -name '*.conflist' -o -name '*.json' \) -printf '%f\n' | LC_ALL=C sort | head -n1)
if [[ $first_cni != 10-minikubelet.conflist ]]; then
	log "warning: containerd will use $CNI_CONF_DIR/$first_cni, not 10-minikubelet.conflist: remove it for pods to get the project's network"
fi

# --- 3. kernel ---------------------------------------------------------------

if command -v modprobe >/dev/null; then
	modprobe overlay 2>/dev/null || true
	modprobe br_netfilter 2>/dev/null || true
fi
grep -qw overlay /proc/filesystems || log "warning: the kernel has no overlay filesystem: the overlayfs snapshotter will fail"
if [[ $(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null) != 1 ]]; then
	echo 1 2>/dev/null >/proc/sys/net/ipv4/ip_forward ||
		log "warning: cannot enable net.ipv4.ip_forward: pods will not reach beyond the node"
fi
sysctl_conf=/etc/sysctl.d/99-minikubelet.conf
if [[ ! -f $sysctl_conf ]] || ! grep -qx 'net.ipv4.ip_forward = 1' "$sysctl_conf"; then
	mkdir -p /etc/sysctl.d
	echo 'net.ipv4.ip_forward = 1' >"$sysctl_conf"
fi

# containerd turns /run/netns into a shared self-bind mount the first time it
# makes a network namespace. Two sandboxes created at that moment race: a
# namespace mounted before the bind is left under it, and removing it later
# fails with "remove netns: ... device or resource busy" forever. Making the
# mount before containerd starts leaves nothing to race.
mkdir -p /run/netns
if ! mountpoint -q /run/netns; then
	mount --bind /run/netns /run/netns
fi
mount --make-rshared /run/netns

# --- 4. containerd -----------------------------------------------------------

mkdir -p "$RUN_DIR" "$LOG_DIR"
config_hash=$(sha256sum "$CONTAINERD_CONFIG" | cut -d' ' -f1)

# answers: containerd serves its API on the socket. ctr keeps retrying a
# socket that does not exist, hence the test first.
answers() {
	[[ -S $SOCKET ]] && timeout 5 ctr --address "$SOCKET" --connect-timeout 2s version >/dev/null 2>&1
}

# running PID: the process exists and is not a zombie.
running() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# our_pid prints the pid of the containerd this script started, if it runs.
our_pid() {
	local pid
	[[ -f $PID_FILE ]] || return 1
	pid=$(cat "$PID_FILE")
	[[ $pid =~ ^[0-9]+$ ]] && running "$pid" || return 1
	[[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$CONTAINERD_BIN" ]] || return 1
	echo "$pid"
}

start_background() {
	# A new session, so that neither a terminal hang-up nor a signal to the
	# caller's process group (make, CI) stops it. Containers live in their
	# shims and survive a containerd restart.
	log "starting containerd --config $CONTAINERD_CONFIG (log: $LOG_FILE)"
	log_offset=$(stat -c %s "$LOG_FILE" 2>/dev/null || echo 0)
	(
		ulimit -n 1048576 2>/dev/null || true
		exec setsid "$CONTAINERD_BIN" --config "$CONTAINERD_CONFIG" </dev/null >>"$LOG_FILE" 2>&1
	) &
	echo $! >"$PID_FILE"
	echo "$config_hash" >"$STARTED_CONFIG"
}

stop_ours() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 100); do
		running "$pid" || return 0
		sleep 0.1
	done
	log "containerd (pid $pid) did not stop within 10s; killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

# Where the log of the containerd that runs now begins: all of it unless
# this run starts one.
log_offset=0
containerd_state=running

if [[ -d /run/systemd/system ]]; then
	manager=systemd
	dropin_tmp=$(mktemp)
	sed "s|/usr/bin/containerd|$CONTAINERD_BIN|" deploy/systemd/containerd.service.d/minikubelet.conf >"$dropin_tmp"
	dropin_changed=$(install_file "$dropin_tmp" "$DROPIN" 0644)
	rm -f "$dropin_tmp"
	[[ -z $dropin_changed ]] || systemctl daemon-reload
	# The config is only rewritten when it changes, so a config newer than
	# the service's start is one the running containerd has not read.
	active_since=$(systemctl show -p ActiveEnterTimestamp --value containerd)
	active_since=$(date -d "${active_since:-@0}" +%s 2>/dev/null || echo 0)
	if ! systemctl is-active --quiet containerd || [[ -n $dropin_changed ]] ||
		(($(stat -c %Y "$CONTAINERD_CONFIG") >= active_since)); then
		log "restarting containerd.service"
		systemctl enable --quiet containerd 2>/dev/null || true
		systemctl restart containerd
		containerd_state=restarted
	fi
else
	manager=background
	if pid=$(our_pid); then
		if [[ $(cat "$STARTED_CONFIG" 2>/dev/null) != "$config_hash" ]]; then
			log "$CONTAINERD_CONFIG changed: restarting containerd (pid $pid)"
			stop_ours "$pid"
			start_background
			containerd_state=restarted
		fi
	elif answers; then
		manager=foreign
		log "warning: a containerd not started by this script answers on $SOCKET; using it as it is (its config may differ from $CONTAINERD_CONFIG)"
	else
		rm -f "$PID_FILE"
		start_background
		containerd_state=started
	fi
fi

# show_log_tail prints what this start of containerd logged that explains a
# failure: its warnings, errors and any line that is not a log entry (such
# as a config parse error), or else the last lines.
show_log_tail() {
	local text problems
	if [[ $manager == systemd ]]; then
		text=$(journalctl -u containerd --no-pager -n 300 -o cat 2>/dev/null || true)
	elif [[ -f $LOG_FILE ]]; then
		text=$(tail -c +"$((log_offset + 1))" "$LOG_FILE")
	fi
	problems=$(grep -E 'level=(warning|error|fatal)|^[^t]|^t[^i]' <<<"${text:-}" | tail -n 20 || true)
	if [[ -n $problems ]]; then
		echo "$problems" >&2
	else
		tail -n 20 <<<"${text:-}" >&2
	fi
}

deadline=$((SECONDS + WAIT_SECONDS))
until answers; do
	# Not our_pid: until setsid has exec'd containerd, the pid is a shell's.
	if [[ $manager == background ]] && ! running "$(cat "$PID_FILE")"; then
		log "containerd exited; its log ($LOG_FILE):"
		show_log_tail
		die "containerd did not start"
	fi
	if ((SECONDS >= deadline)); then
		log "containerd does not answer on $SOCKET after ${WAIT_SECONDS}s; its log:"
		show_log_tail
		die "containerd did not start"
	fi
	sleep 0.2
done
# containerd answers even when its CRI plugin failed to load.
cri_status=$(ctr --address "$SOCKET" plugins ls 2>/dev/null | awk '$1 == "io.containerd.grpc.v1" && $2 == "cri" { print $NF }')
if [[ $cri_status != ok ]]; then
	log "containerd's CRI plugin is not loaded (status: ${cri_status:-absent}); the log:"
	show_log_tail
	die "containerd runs without its CRI plugin"
fi
containerd_version=$(ctr --address "$SOCKET" version 2>/dev/null | awk '/^Server:/ { s = 1 } s && $1 == "Version:" { print $2; exit }')
pid_info=""
if [[ $manager == background ]]; then
	pid_info=", pid $(cat "$PID_FILE")"
elif [[ $manager == systemd ]]; then
	pid_info=", pid $(systemctl show -p MainPID --value containerd)"
fi

# --- 5. images ---------------------------------------------------------------

images="not imported: $MINIKUBELET is not built"
if [[ -x $MINIKUBELET ]]; then
	pause_args=()
	if [[ -s internal/sandbox/pause.tar ]]; then
		pause_args=(--archive internal/sandbox/pause.tar)
	fi
	"$MINIKUBELET" images pause "${pause_args[@]}" --containerd-address "$SOCKET" >/dev/null
	"$MINIKUBELET" images busybox --containerd-address "$SOCKET" >/dev/null
	images="pause and busybox imported"
fi

# --- 6. registries -----------------------------------------------------------

hack/registry.sh

elapsed=$(awk -v s="$start_time" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
log "containerd $containerd_version $containerd_state ($manager$pid_info) on $SOCKET, CRI ok; $images; ${elapsed}s"
