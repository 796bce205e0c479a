// Command pause is the process that holds a pod sandbox's namespaces open.
//
// It is the only process of the pause image that minikubelet builds from
// this source and embeds, so a node needs no registry to run pods. It blocks
// until SIGTERM or SIGINT and then exits 0. When the pod shares one PID
// namespace, pause is its PID 1, so it also reaps every orphaned child that
// is re-parented to it. It prints nothing unless something fails.
//
// Build it static and small:
//
//	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/pause ./cmd/pause
package main
