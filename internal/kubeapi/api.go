package kubeapi

import (
	"net/http"

	"go.uber.org/zap"
)

// Deps is what the API reads from and acts through. The object routes and
// the container routes each declare the small interfaces they need.
type Deps struct {
	Objects    ObjectDeps
	Containers ContainerDeps
	Log        *zap.Logger
}

// API is the Kubernetes API subset of one node.
type API struct {
	deps    Deps
	log     *zap.Logger
	handler http.Handler
}

// New returns the API over deps.
func New(deps Deps) *API {
	log := deps.Log
	if log == nil {
		log = zap.NewNop()
	}
	a := &API{deps: deps, log: log}
	mux := http.NewServeMux()
	a.registerObjects(mux)
	a.registerContainers(mux)
	a.handler = mux
	return a
}

// Handler serves every route of the API: /api, /apis and /version and what
// is under them.
func (a *API) Handler() http.Handler { return a.handler }
