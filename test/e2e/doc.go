// Package e2e holds the end-to-end tests: each starts a real minikubelet
// daemon on its own manifest directory against the node's real containerd
// (set up by hack/node-up.sh), writes manifests, and checks what a user
// sees through the API and through containerd. With CI set, a missing
// containerd or binary fails the run instead of skipping it.
package e2e
