#!/usr/bin/env bash
# hack/demo.sh: start minikubelet in the background on deploy/examples and
# wait until the demo pod runs. `hack/demo.sh down` drains the daemon (its
# pods stop gracefully) and stops it. Expects hack/node-up.sh to have run (make demo does it).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
readonly BIN=$REPO_ROOT/bin/minikubelet
readonly RUN_DIR=/run/minikubelet
readonly PID_FILE=$RUN_DIR/demo.pid
readonly LOG_FILE=/var/log/minikubelet/demo.log
readonly MANIFESTS=$REPO_ROOT/deploy/examples
readonly WAIT_SECONDS=60

log() { echo "demo: $*" >&2; }

running_pid() {
	[[ -f $PID_FILE ]] || return 1
	local pid
	pid=$(cat "$PID_FILE")
	kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

if [[ ${1:-} == down ]]; then
	if pid=$(running_pid); then
		# The daemon leaves pods running when it stops: drain first.
		"$BIN" drain
		kill "$pid"
		while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
		rm -f "$PID_FILE"
		log "stopped"
	else
		log "not running"
	fi
	exit 0
fi

mkdir -p "$RUN_DIR" "$(dirname "$LOG_FILE")"
if pid=$(running_pid); then
	log "already running (pid $pid)"
else
	setsid "$BIN" run --pod-manifest-path "$MANIFESTS" >>"$LOG_FILE" 2>&1 </dev/null &
	echo $! >"$PID_FILE"
	log "started minikubelet (pid $!, log $LOG_FILE), manifests in $MANIFESTS"
fi

deadline=$((SECONDS + WAIT_SECONDS))
until "$BIN" get pods 2>/dev/null | grep -E '^hello-' | grep -q ' Running '; do
	if ((SECONDS > deadline)); then
		log "the demo pod is not Running after ${WAIT_SECONDS}s; the daemon's log:"
		tail -n 30 "$LOG_FILE" >&2
		"$BIN" get pods -o yaml >&2 || true
		exit 1
	fi
	sleep 0.2
done
"$BIN" get pods -o wide
cat <<EOT

The demo node runs. Next:
  bin/minikubelet get pods            # the pods, as kubectl shows them
  bin/minikubelet get pods -o yaml    # with their full status
  export KUBECONFIG=/etc/minikubelet/kubeconfig   # then kubectl works against the node
  tail -f $LOG_FILE                   # the daemon's log
  ls /var/log/pods/                   # container logs, CRI format
  make demo-down                      # stop the daemon and the demo pod
EOT
