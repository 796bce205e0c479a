// Package qos holds the kubelet's pure resource arithmetic for a pod: its
// quality of service class (with pod-level resources), its effective
// requests and limits (init containers, sidecars, pod-level resources and
// overhead, as k8s.io/component-helpers/resource computes them), the
// oom_score_adj of each container (pkg/kubelet/qos/policy.go), and the
// Linux CFS numbers (pkg/kubelet/cm/helpers_linux.go).
//
// Everything here takes values and returns values: no I/O, no clock.
// status shows the class, podworker and cgroups turn the numbers into CRI
// resources and cgroup files.
package qos
