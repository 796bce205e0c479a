package podworker

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// Label values of the kubelet's metrics (pkg/kubelet/metrics).
const (
	metricContainer     = "container"
	metricInitContainer = "init_container"

	operationCreate = "create"
	operationUpdate = "update"
	operationSync   = "sync"
	operationKill   = "kill"
)

// podStartupDurationBuckets are the kubelet's buckets of
// kubelet_pod_start_duration_seconds.
var podStartupDurationBuckets = []float64{0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600}

// containerStates are the kubelet's container_state values of
// kubelet_running_containers, by CRI state.
var containerStates = map[runtimeapi.ContainerState]string{
	runtimeapi.ContainerState_CONTAINER_CREATED: "created",
	runtimeapi.ContainerState_CONTAINER_RUNNING: "running",
	runtimeapi.ContainerState_CONTAINER_EXITED:  "exited",
	runtimeapi.ContainerState_CONTAINER_UNKNOWN: "unknown",
}

// metrics are the kubelet metrics the pod workers and the relister
// observe, with the kubelet's names, labels and buckets.
type metrics struct {
	runningPods       prometheus.Gauge
	runningContainers *prometheus.GaugeVec
	relistDuration    prometheus.Histogram
	relistInterval    prometheus.Histogram
	workerDuration    *prometheus.HistogramVec
	startDuration     prometheus.Histogram
	restartedPods     *prometheus.CounterVec
	startedContainers *prometheus.CounterVec
	startErrors       *prometheus.CounterVec
	evictions         *prometheus.CounterVec
}

// newMetrics registers the metrics with reg; with a nil reg they are
// kept in a registry of their own that nobody reads.
func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	const sub = "kubelet"
	m := &metrics{
		runningPods: prometheus.NewGauge(prometheus.GaugeOpts{Subsystem: sub, Name: "running_pods",
			Help: "Number of pods that have a running pod sandbox"}),
		runningContainers: prometheus.NewGaugeVec(prometheus.GaugeOpts{Subsystem: sub, Name: "running_containers",
			Help: "Number of containers currently running"}, []string{"container_state"}),
		relistDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Subsystem: sub, Name: "pleg_relist_duration_seconds",
			Help: "Duration in seconds for relisting pods in PLEG.", Buckets: prometheus.DefBuckets}),
		relistInterval: prometheus.NewHistogram(prometheus.HistogramOpts{Subsystem: sub, Name: "pleg_relist_interval_seconds",
			Help: "Interval in seconds between relisting in PLEG.", Buckets: prometheus.DefBuckets}),
		workerDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Subsystem: sub, Name: "pod_worker_duration_seconds",
			Help:    "Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync",
			Buckets: prometheus.DefBuckets}, []string{"operation_type"}),
		startDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Subsystem: sub, Name: "pod_start_duration_seconds",
			Help:    "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
			Buckets: podStartupDurationBuckets}),
		restartedPods: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: sub, Name: "restarted_pods_total",
			Help: "Number of pods that have been restarted because they were deleted and recreated with the same UID while the kubelet was watching them (common for static pods, extremely uncommon for API pods)"},
			[]string{"static"}),
		startedContainers: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: sub, Name: "started_containers_total",
			Help: "Cumulative number of containers started"}, []string{"container_type"}),
		startErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: sub, Name: "started_containers_errors_total",
			Help: "Cumulative number of errors when starting containers"}, []string{"container_type", "code"}),
		evictions: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: sub, Name: "evictions",
			Help: "Cumulative number of pod evictions by eviction signal"}, []string{"eviction_signal"}),
	}
	for _, c := range []prometheus.Collector{m.runningPods, m.runningContainers, m.relistDuration, m.relistInterval,
		m.workerDuration, m.startDuration, m.restartedPods, m.startedContainers, m.startErrors, m.evictions} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				panic(err) // a programming error: the names are fixed
			}
		}
	}
	return m
}

// relisted records one relist: how long it took, how long since the one
// before began (zero for the first), and what the runtime runs.
func (m *metrics) relisted(took, sincePrevious time.Duration, sandboxes []*runtimeapi.PodSandbox, containers []*runtimeapi.Container) {
	m.relistDuration.Observe(took.Seconds())
	if sincePrevious > 0 {
		m.relistInterval.Observe(sincePrevious.Seconds())
	}
	m.runningPods.Set(float64(runningPods(sandboxes)))
	for state, n := range containerStateCounts(containers) {
		m.runningContainers.WithLabelValues(state).Set(float64(n))
	}
}

// runningPods counts the pods with a ready sandbox, as the kubelet's PLEG.
func runningPods(sandboxes []*runtimeapi.PodSandbox) int {
	pods := map[string]bool{}
	for _, s := range sandboxes {
		if s.State == runtimeapi.PodSandboxState_SANDBOX_READY {
			pods[s.Labels[runtime.LabelPodUID]] = true
		}
	}
	return len(pods)
}

// containerStateCounts counts containers by the kubelet's state names,
// every state present (zero when none is in it).
func containerStateCounts(containers []*runtimeapi.Container) map[string]int {
	out := make(map[string]int, len(containerStates))
	for _, name := range containerStates {
		out[name] = 0
	}
	for _, c := range containers {
		name, ok := containerStates[c.State]
		if !ok {
			name = containerStates[runtimeapi.ContainerState_CONTAINER_UNKNOWN]
		}
		out[name]++
	}
	return out
}

// containerType is the container_type label of a start.
func containerType(s containerStart) string {
	if s.Init {
		return metricInitContainer
	}
	return metricContainer
}
