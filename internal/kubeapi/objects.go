package kubeapi

import "net/http"

// ObjectDeps is what the object routes read: pods, events, the node.
type ObjectDeps struct{}

// registerObjects adds discovery, /version, pods, events, namespaces, the
// node, its Lease, and the refusal of writes.
func (a *API) registerObjects(mux *http.ServeMux) {}
