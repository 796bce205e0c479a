// Package status computes what minikubelet publishes about a pod: the pod
// phase, the pod conditions, and the columns `kubectl get pods` prints.
//
// Everything here is a pure function of its arguments, as the kubelet's own
// status code is a pure function of the pod spec and the container statuses
// it observed. Data enters as a pod spec, the container statuses the pod
// worker built from what containerd reports, the conditions published last
// time, and the current time; it leaves as a v1.PodPhase, a list of
// v1.PodCondition, or text for a terminal. Nothing here does I/O, starts a
// goroutine or reads a clock: callers pass `now`.
//
// The rules follow the kubelet (pkg/kubelet/kubelet_pods.go getPhase,
// pkg/kubelet/status/generate.go, pkg/kubelet/status/status_manager.go for
// lastTransitionTime) and kubectl (printPod in
// pkg/printers/internalversion/printers.go), so a pod reads the same here as
// in a cluster. Where minikubelet deliberately differs, the function's
// documentation says so.
package status
