// Package kubeapi serves the Kubernetes API subset a stock kubectl drives
// against this node: discovery, /version, pods (Tables, selectors, watch),
// events, namespaces, the node and its Lease, metrics.k8s.io, and the pod
// subresources log, exec, attach and portforward. It serves one
// http.Handler; internal/server mounts it on the root-only unix socket and
// on the mutual-TLS port. Writes are refused with a Status naming the
// manifest file that owns the pod.
//
// Files by concern: api.go (the handler and its dependencies), objects*.go
// (discovery, pods, events, namespaces, node, lease, writes refused),
// containers*.go (log, exec, attach, portforward, metrics.k8s.io).
package kubeapi
