// Package runtime is the only package that speaks gRPC to containerd.
//
// It holds the CRI v1 client (runtime and image services, every call bounded
// by a timeout), the startup check that tells a user when containerd is not
// there or does not speak CRI v1, containerd's event stream (task exits, OOM kills, deletions), image
// import, and the labels and annotations that tie CRI sandboxes and
// containers to the pods they belong to. Callers declare the small
// interfaces they need; this package returns concrete types.
package runtime
