// Package podcolumns computes the cells the Kubernetes pod printer shows for
// a pod (k8s.io/kubernetes pkg/printers/internalversion printPod): READY,
// STATUS, RESTARTS, AGE and the wide IP, NODE, NOMINATED NODE and
// READINESS GATES. Both the CLI's table (internal/status.PrintPods) and the
// API's server-side Tables (internal/kubeapi) print pods from it, so the two
// never disagree. Everything here is pure: callers pass `now`.
package podcolumns
