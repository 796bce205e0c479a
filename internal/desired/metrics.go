package desired

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minikubelet/minikubelet/internal/staticpods"
)

// manifestErrors is minikubelet_manifest_errors: 1 for each manifest file
// whose content runs no pod or not its latest version, by file.
type manifestErrors struct {
	gauge *prometheus.GaugeVec
	files map[string]bool
}

func newManifestErrors(reg prometheus.Registerer) *manifestErrors {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "minikubelet",
		Name:      "manifest_errors",
		Help:      "1 for each file of the manifest directory that is in error: it runs no pod, or keeps running the last good version of its pod.",
	}, []string{"file"})
	if err := reg.Register(g); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			panic(err) // a programming error: the name is fixed
		}
		g = are.ExistingCollector.(*prometheus.GaugeVec)
	}
	return &manifestErrors{gauge: g, files: map[string]bool{}}
}

// set makes the gauge show the files in error in snap, and forgets the
// files that are no longer.
func (m *manifestErrors) set(snap staticpods.Snapshot) {
	files := map[string]bool{}
	for _, fe := range snap.Errors {
		files[fe.Path] = true
	}
	for _, mf := range snap.Manifests {
		if mf.Err != nil {
			files[mf.Path] = true
		}
	}
	for f := range m.files {
		if !files[f] {
			m.gauge.DeleteLabelValues(f)
		}
	}
	for f := range files {
		m.gauge.WithLabelValues(f).Set(1)
	}
	m.files = files
}
