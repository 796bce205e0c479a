// Package node assembles the daemon: it connects to the container runtime,
// makes sure the sandbox image is there, and runs the static pod source,
// the pod workers and the API server until its context ends. It holds the
// wiring only; every behaviour lives in the packages it connects.
package node
