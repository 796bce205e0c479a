package probes

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

// metrics are the kubelet's prober metrics (pkg/kubelet/prober).
type metrics struct {
	total    *prometheus.CounterVec   // prober_probe_total
	duration *prometheus.HistogramVec // prober_probe_duration_seconds
}

// newMetrics registers the prober metrics with reg, or returns nil when reg
// is nil. Metrics another Manager registered with reg before are shared.
func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	total := prometheus.NewCounterVec(prometheus.CounterOpts{
		Subsystem: "prober",
		Name:      "probe_total",
		Help:      "Cumulative number of a liveness, readiness or startup probe for a container by result.",
	}, []string{"probe_type", "result", "container", "pod", "namespace", "pod_uid"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Subsystem: "prober",
		Name:      "probe_duration_seconds",
		Help:      "Duration in seconds for a probe response.",
		Buckets:   prometheus.DefBuckets,
	}, []string{"probe_type", "container", "pod", "namespace"})
	return &metrics{
		total:    register(reg, total),
		duration: register(reg, duration),
	}
}

// register registers c with reg, or returns the collector already
// registered in its place.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		// Another collector with these names and different labels: count
		// into the unregistered one rather than fail the daemon.
	}
	return c
}

// series are one worker's metric series, looked up on their first use and
// kept: a lookup by label values hashes them all under the vector's lock,
// and a worker probes every period for the life of its container. They
// belong to the worker goroutine.
type series struct {
	total    [3]prometheus.Counter // by Result: Unknown, Success, Failure
	duration prometheus.Observer
}

// observe counts one probe run of kind k of container c into s.
func (m *metrics) observe(s *series, k Kind, c *container, r Result, took time.Duration) {
	if m == nil {
		return
	}
	if r < 0 || int(r) >= len(s.total) {
		r = Unknown
	}
	if s.total[r] == nil {
		s.total[r] = m.total.WithLabelValues(k.String(), r.metricLabel(), c.name, c.podName, c.namespace, string(c.podUID))
	}
	s.total[r].Inc()
	if r == Success {
		if s.duration == nil {
			s.duration = m.duration.WithLabelValues(k.String(), c.name, c.podName, c.namespace)
		}
		s.duration.Observe(took.Seconds())
	}
}

// forget deletes the series of container name's probe of kind k in a pod.
func (m *metrics) forget(uid types.UID, podName, namespace, name string, k Kind) {
	if m == nil {
		return
	}
	kind := k.String()
	m.total.DeletePartialMatch(prometheus.Labels{"pod_uid": string(uid), "container": name, "probe_type": kind})
	m.duration.DeleteLabelValues(kind, name, podName, namespace)
}
