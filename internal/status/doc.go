// Package status owns what minikubelet publishes about its pods: the
// kubelet's v1.PodStatus of each pod, the events about them, and the
// columns `kubectl get pods` prints for them.
//
// It holds three things:
//
//   - Compute, a pure function: from a pod, an Observation (the container
//     instances the runtime reports, as ContainerRecord, and what the pod
//     worker and the probes decided: waiting reasons, readiness, startup,
//     termination), the status published last time and the time now, it
//     builds the pod's v1.PodStatus: phase (PodPhase), conditions
//     (Conditions), container statuses with their states and reasons, IPs,
//     start time and QoS class. It does no I/O, starts no goroutine and
//     reads no clock. The rules follow the kubelet (pkg/kubelet/kubelet_pods.go
//     getPhase, pkg/kubelet/status/generate.go, pkg/kubelet/status/status_manager.go
//     for lastTransitionTime), so a pod reads the same here as in a cluster;
//     where minikubelet deliberately differs, the function's documentation
//     says so. GroupNewestFirst and ContainerFieldPath are the pieces of
//     it the pod worker shares.
//   - Two stores guarded by a mutex, which are how data leaves the pod
//     workers for the API: Store, which the pod workers Set (and Delete)
//     with every pod's latest status and the server Lists, deep copies
//     both ways; and Events, which the pod workers Record into (with the
//     kubelet's reasons, repeats merged into one event with a count, at
//     most 64 per object), Forget when a pod is gone, and the server Lists;
//     the daemon records the node's own events with RecordFor(NodeRef).
//     Both number every change through a shared Feed: one monotonic
//     resourceVersion stamped on each object, and the recent changes
//     (ADDED, MODIFIED, DELETED with the object before and after) kept for
//     the API's watches, which resume from a list's version (ListAt).
//   - The printing of pods, pure as well: PrintPods writes the table of
//     `kubectl get pods` (NAME READY STATUS RESTARTS AGE, -o wide, -A) by
//     kubectl's printPod rules (pkg/printers/internalversion/printers.go),
//     and Age formats ages as kubectl does, for the CLI; StatusColumn is
//     one pod's STATUS cell, which the systemd STATUS= line counts.
//
// Callers pass `now` everywhere; nothing here reads a clock.
package status
