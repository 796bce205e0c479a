// Package server owns the daemon's local HTTP API, served on a unix socket
// only root can use (ServeUnix), over HTTPS with the TLS config the node's
// PKI gives (ServeHTTPS: client certificates required) and, when enabled,
// its reading part in plain HTTP on loopback (ServeReadOnly, readonly.go:
// GET only, never logs, exec, attach or port-forward). It changes no pod
// itself: it answers from what other components hand it, and passes the
// requests that act on the node on to them. Every listener bounds header
// time and size, request bodies and idle connections, and has no write
// timeout: logs, watches and exec stream (listen.go).
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
//   - GET /pods/{namespace}/{name}/log is the Kubernetes API's
//     /api/v1/namespaces/{namespace}/pods/{name}/log under a short name:
//     the same handler (ServeKubeAPI) answers both.
//   - /api, /apis, /version and what is under them are the Kubernetes API
//     subset (internal/kubeapi) handed to ServeKubeAPI, exec, attach and
//     port-forward included.
//   - POST /drain stops every pod gracefully through the drainer given to
//     ServeDrain (the pod manager).
//   - GET /metrics is the Prometheus registry given to New, when there is
//     one; GET /debug/pprof/ serves Go's profiles.
//   - /api, /apis and /version are the Kubernetes API subset handed to
//     ServeKubeAPI (internal/kubeapi).
//   - GET /kubeconfig, on the socket only, is the admin kubeconfig of the
//     HTTPS port (ServeKubeconfig); 404 while HTTPS is off.
//
// An endpoint whose source was not handed over answers 501 (drain) or 404
// (the Kubernetes API, logs) or an empty list (events, manifests). The server declares the
// small interfaces it needs of those sources and imports none of them.
package server
