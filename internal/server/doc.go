// Package server owns the daemon's local HTTP API, served on a unix socket
// only root can use (ServeUnix). It changes no pod itself: it answers from
// what other components hand it, and passes the two requests that act on
// the node on to them.
//
// Endpoints:
//
//   - GET /healthz answers "ok", or 500 with the reason while the
//     container runtime is down or not ready (CheckRuntime).
//   - GET /pods is a v1.PodList with live status, as the kubelet's /pods,
//     read from the pod lister given to New (status.Store).
//   - GET /events is a v1.EventList, read from the event lister given to
//     New (status.Events).
//   - GET /manifests lists the files of the manifest directory, the pod
//     each runs and why a file runs none, from the Manifests view the
//     daemon keeps up to date (ServeManifests, Manifests.Set).
//   - GET /pods/{namespace}/{name}/log writes a container's log as
//     `kubectl logs` shows it (container, previous, tailLines, timestamps,
//     follow); ServeContainers says where log files are, and
//     internal/logs reads them.
//   - POST /pods/{namespace}/{name}/exec runs a command in a running
//     container through the execer given to ServeContainers (CRI
//     ExecSync) and answers an ExecResult.
//   - POST /drain stops every pod gracefully through the drainer given to
//     ServeDrain (the pod manager).
//   - GET /metrics is the Prometheus registry given to New, when there is
//     one; GET /debug/pprof/ serves Go's profiles.
//
// An endpoint whose source was not handed over answers 501 (log, exec,
// drain) or an empty list (events, manifests). The server declares the
// small interfaces it needs of those sources and imports none of them.
package server
