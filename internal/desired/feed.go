package desired

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/minikubelet/minikubelet/internal/server"
	"github.com/minikubelet/minikubelet/internal/staticpods"
)

// reasonManifestChanged is minikubelet's event reason for a pod that an
// edit of its manifest replaced.
const reasonManifestChanged = "ManifestChanged"

// podSetter is what the pod workers offer (podworker.Manager).
type podSetter interface {
	SetDesired(pods []*v1.Pod)
}

// viewSetter is what GET /manifests reads from (*server.Manifests).
type viewSetter interface {
	Set(items []server.Manifest)
}

// eventRecorder is the event store (*status.Events).
type eventRecorder interface {
	Record(pod *v1.Pod, fieldPath, eventType, reason, message string, now time.Time)
}

// Config says where a Feed hands snapshots on to.
type Config struct {
	Pods   podSetter
	View   viewSetter
	Events eventRecorder
	Clock  clock.PassiveClock // k8s.io/utils/clock; nil means the real clock
	// Metrics is where minikubelet_manifest_errors is registered; nil
	// registers it nowhere.
	Metrics prometheus.Registerer
}

// Feed hands snapshots on. Its state belongs to the goroutine running Run.
type Feed struct {
	cfg Config
	// seen holds the version (config.seen) of each pod UID already handed
	// over, to record why an edit replaced or updated a pod once, when its
	// new version first appears.
	seen   map[types.UID]string
	errors *manifestErrors
}

// New returns a Feed for cfg.
func New(cfg Config) *Feed {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	return &Feed{cfg: cfg, seen: map[types.UID]string{}, errors: newManifestErrors(cfg.Metrics)}
}

// Run hands on every snapshot it receives until ctx ends; it returns nil.
func (f *Feed) Run(ctx context.Context, snapshots <-chan staticpods.Snapshot) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case snap := <-snapshots:
			f.feed(snap)
		}
	}
}

func (f *Feed) feed(snap staticpods.Snapshot) {
	seen := make(map[types.UID]string, len(snap.Manifests))
	pods := make([]*v1.Pod, 0, len(snap.Manifests))
	for _, m := range snap.Manifests {
		pods = append(pods, m.Pod)
		version := m.Pod.Annotations[staticpods.ConfigFirstSeenAnnotationKey]
		seen[m.Pod.UID] = version
		before, known := f.seen[m.Pod.UID]
		if known && before == version || len(m.Changes) == 0 {
			continue
		}
		// A pod whose manifest gives its uid keeps it: it is updated in
		// place, its changed containers restarted.
		how := "replaced"
		if known {
			how = "updated"
		}
		f.cfg.Events.Record(m.Pod, "", v1.EventTypeNormal, reasonManifestChanged,
			fmt.Sprintf("Manifest %s was edited; the pod was %s for changes in %s", m.Path, how, strings.Join(m.Changes, ", ")), f.cfg.Clock.Now())
	}
	f.seen = seen
	f.errors.set(snap)
	f.cfg.View.Set(view(snap))
	f.cfg.Pods.SetDesired(pods)
}

// view is the directory as GET /manifests shows it: every file, with the
// pod it runs or why it runs none, by file name.
func view(snap staticpods.Snapshot) []server.Manifest {
	items := make([]server.Manifest, 0, len(snap.Manifests)+len(snap.Errors))
	for _, m := range snap.Manifests {
		item := server.Manifest{File: m.Path, Pod: types.NamespacedName{Namespace: m.Pod.Namespace, Name: m.Pod.Name}.String(), UID: string(m.Pod.UID), Changes: m.Changes}
		if m.Err != nil {
			item.Error = m.Err.Error()
		}
		items = append(items, item)
	}
	for _, fe := range snap.Errors {
		items = append(items, server.Manifest{File: fe.Path, Error: fe.Err.Error()})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].File < items[j].File })
	return items
}
