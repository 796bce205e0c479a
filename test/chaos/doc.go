// Package chaos is minikubelet's reliability suite: faults (the daemon
// SIGKILLed during manifest churn, a CRI call that hangs, the manifest
// directory pulled away, a flooding container, a probe target that never
// answers), hostile files beside a good pod, and a soak of probed pods.
// Every test runs real daemons against the node's containerd and checks
// what they leave behind through CRI itself, not only that the daemon
// lived.
//
// The tests run only when MINIKUBELET_CHAOS is "short" (make chaos-short,
// part of make test: bounded to a few minutes) or "long" (make chaos, by
// hand: the sizes of the README's reliability table). Each test logs its
// figures as lines starting with "chaos:" for that table.
package chaos
