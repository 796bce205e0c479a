package kubeapi

import "net/http"

// ContainerDeps is what the container routes act through: log files, the
// CRI streaming calls, container stats.
type ContainerDeps struct{}

// registerContainers adds pods/log, pods/exec, pods/attach,
// pods/portforward and metrics.k8s.io.
func (a *API) registerContainers(mux *http.ServeMux) {}
