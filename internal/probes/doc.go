// Package probes runs the liveness, readiness and startup probes of running
// containers, with the kubelet's semantics (pkg/kubelet/prober and
// pkg/probe in kubernetes/kubernetes are the reference).
//
// # Data flow
//
// Containers enter through Manager.Sync: the pod worker hands over the
// running instances of a pod's containers (Target) each time they change.
// Every (container instance, probe kind) with a probe gets a worker
// goroutine owned by the Manager; a restarted container has a new ID, so it
// gets fresh workers and fresh results. Results leave two ways: the pod
// worker reads them (Started, Ready) when it computes status, and
// Config.OnUpdate is called from the worker goroutines when a result
// changes, when a probe run fails, errors or warns, so the pod worker can
// wake up, record the kubelet's events (Update.Event) and kill a container
// whose liveness or startup probe reached its failureThreshold.
//
// # Handlers
//
//   - exec: the command runs in the container through Config.Exec (CRI
//     ExecSync), after $(VAR) expansion against the container's static env.
//     Exit 0 succeeds; another exit fails with the combined stdout and
//     stderr (at most 10 KiB) as output; a run past timeoutSeconds fails
//     with `command "<cmd>" timed out`.
//   - httpGet: GET scheme://host:port/path, host defaulting to the pod IP.
//     HTTPS skips certificate checks. httpHeaders are sent (a Host header
//     sets the request's host); User-Agent defaults to kube-probe/<major>.<minor>
//     and Accept to */*. 200-399 succeeds. Redirects are followed to the
//     same host only (at most 10); a redirect to another host ends the
//     probe with the 3xx response, a success with the warning "Probe
//     terminated redirects, Response body: <body>". Other statuses fail with
//     "HTTP probe failed with statuscode: <code>"; at most 10 KiB of a body is
//     read. One http.Transport without keep-alives serves every worker.
//   - tcpSocket: a connection to host:port (host defaulting to the pod IP)
//     succeeds.
//   - grpc: grpc.health.v1.Health/Check with the probe's service on the pod
//     IP; SERVING succeeds; failures carry the kubelet's messages.
//
// Named ports resolve against the container's ports (ResolvePort). An
// empty pod IP means 127.0.0.1 for a hostNetwork pod (Target.HostNetwork);
// for other pods a probe that needs the pod IP errors until it is known.
//
// # Shared with lifecycle hooks
//
// As in the kubelet, an httpGet lifecycle hook is the same request as an
// httpGet probe, with User-Agent kube-lifecycle/<major>.<minor>
// (LifecycleUserAgent): the pod worker builds it with NewHTTPGetRequest and
// sends it with NewHTTPClient, whose transport is the probes' (the one
// place that skips certificate checks). ResolvePort is the kubelet's port
// resolution for both.
//
// # Results and thresholds
//
// Initial results are the kubelet's: readiness Failure until its first
// success, liveness Success, startup Unknown. A result changes only after
// successThreshold consecutive successes or failureThreshold consecutive
// failures. A run that cannot be made at all (no pod IP yet, a named port
// the container lacks, a runtime error) is thrown away, as the kubelet does:
// the result and the consecutive counts stay, no metric counts it, and
// Update.Errored reports it.
//
// Until the startup probe succeeds, liveness and readiness probes do not run
// (their ticks pass) and the container is neither started nor ready. When it
// succeeds, the readiness probe runs at once (once its own initial delay
// has passed), as the kubelet's status update triggers it, and counts its
// periods from then. A liveness Failure or a startup result (either way)
// ends probing of that kind for the container instance: the result is
// kept until Sync replaces the instance. The caller kills a container whose
// Update has FailureThresholdReached, with the grace period
// TerminationGracePeriod gives (a probe's terminationGracePeriodSeconds wins
// over the pod's for liveness and startup kills, as in the kubelet).
//
// A pod being stopped is the caller's to handle: the kubelet stops the
// liveness and startup probes of a pod being deleted (reporting them as
// successful), so a caller stopping a pod ignores FailureThresholdReached
// from then on, or removes the pod with RemovePod.
//
// # Timing
//
// A worker's first probe runs at the container's start plus
// initialDelaySeconds (or at once when the worker is made later than that,
// for a container adopted after a daemon restart), plus a random jitter in
// [0, min(periodSeconds, 10 s)); the n-th probe after it runs at
// first + n x periodSeconds. Ticks missed while a probe ran long are
// skipped. The jitter spreads the probes of pods that start together, as
// the kubelet's jitter after a kubelet restart does; it is capped at 10 s so
// a long period does not delay a readiness result for long. Timers come
// from Config.Clock.
//
// # Metrics
//
// prober_probe_total{probe_type,result,container,pod,namespace,pod_uid}
// counts probe runs with the kubelet's label values (probe_type "Liveness",
// "Readiness", "Startup"; result "successful", "failed", "unknown"), and
// prober_probe_duration_seconds{probe_type,container,pod,namespace} observes
// the duration of successful runs. A container's series are deleted when
// its pod has no instance of it any more.
package probes
