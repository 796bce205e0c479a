package kubeapi

import (
	"context"
	"net/http"
	"time"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/clock"

	"github.com/minikubelet/minikubelet/internal/status"
)

// ObjectDeps is what the object routes read: pods, events, the node.
type ObjectDeps struct {
	// Pods are the published pods (*status.Store).
	Pods podStore
	// Events are the recorded events (*status.Events).
	Events eventStore
	// Feed numbers the changes of both, for watches (*status.Feed).
	Feed changeFeed
	// Node is what the node is: name, labels, addresses, resources, system.
	Node NodeFacts
	// Runtime answers the CRI Status call the Ready condition reads.
	Runtime runtimeStatus
	// Relist tells when the relister last finished (*podworker.Manager).
	Relist relistClock
	// Pressure is the eviction manager's MemoryPressure and DiskPressure
	// conditions (*eviction.Manager); nil or a condition it lacks: False.
	Pressure pressureConditions
	// ManifestFor names the manifest file a pod (namespace, name) comes
	// from, for the refusal of writes.
	ManifestFor func(namespace, name string) (file string, ok bool)
	// StaticPodPath is the manifest directory.
	StaticPodPath string
	// Started is when the daemon started: the node's creation.
	Started time.Time
	// Stop is closed when the daemon stops: open watches end then, so that
	// the server's graceful shutdown does not wait for them.
	Stop <-chan struct{}
	// Clock is the clock of ages, heartbeats, watch timeouts and
	// bookmarks; nil for the real one.
	Clock clock.WithTicker
}

// NodeFacts is what does not change about the node while the daemon runs.
type NodeFacts struct {
	Name        string
	Labels      map[string]string
	Addresses   []v1.NodeAddress
	Capacity    v1.ResourceList
	Allocatable v1.ResourceList
	// Info is the node's system info (kernel, OS image, runtime, ...).
	Info v1.NodeSystemInfo
}

// podStore is where pods are read (*status.Store).
type podStore interface {
	ListAt() ([]v1.Pod, uint64)
}

// eventStore is where events are read (*status.Events).
type eventStore interface {
	ListAt() ([]v1.Event, uint64)
}

// changeFeed is the numbered changes of pods and events (*status.Feed).
type changeFeed interface {
	Current() uint64
	Since(rv uint64) (changes []status.Change, next <-chan struct{}, oldest uint64, ok bool)
}

// runtimeStatus is the CRI Status call (*runtime.Client).
type runtimeStatus interface {
	Status(ctx context.Context, verbose bool) (*runtimeapi.StatusResponse, error)
}

// relistClock tells when the relister last finished (*podworker.Manager).
type relistClock interface {
	LastRelist() time.Time
}

// pressureConditions are the node conditions measured by the eviction
// manager (*eviction.Manager).
type pressureConditions interface {
	Conditions() []v1.NodeCondition
}

// objects serves the object routes.
type objects struct {
	deps  ObjectDeps
	clock clock.WithTicker
	api   *API
}

// registerObjects adds discovery, /version, empty OpenAPI documents, pods,
// events, namespaces, the node, its Lease, and the refusal of writes.
func (a *API) registerObjects(mux *http.ServeMux) {
	o := &objects{deps: a.deps.Objects, clock: a.deps.Objects.Clock, api: a}
	if o.clock == nil {
		o.clock = clock.RealClock{}
	}
	o.registerDiscovery(mux)
	for _, res := range o.resources() {
		o.registerResource(mux, res)
	}
	o.registerLease(mux)
	o.registerOpenAPI(mux)
	o.registerWrites(mux)
}
