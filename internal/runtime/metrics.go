package runtime

import (
	"context"
	"errors"
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
)

// operationTypes are the kubelet's operation_type label values for the CRI
// methods it instruments (pkg/kubelet/kuberuntime/instrumented_services.go)
// where they are not the method's name in snake case.
var operationTypes = map[string]string{
	"RunPodSandbox":            "run_podsandbox",
	"StopPodSandbox":           "stop_podsandbox",
	"RemovePodSandbox":         "remove_podsandbox",
	"PodSandboxStatus":         "podsandbox_status",
	"ListPodSandbox":           "list_podsandbox",
	"PodSandboxStats":          "podsandbox_stats",
	"ListPodSandboxStats":      "list_podsandbox_stats",
	"UpdateContainerResources": "update_container",
}

// runtimeOperationsBuckets are the kubelet's buckets of
// kubelet_runtime_operations_duration_seconds.
var runtimeOperationsBuckets = prometheus.ExponentialBuckets(.005, 2.5, 14)

// operationMetrics are the kubelet's remote runtime operation metrics.
type operationMetrics struct {
	total    *prometheus.CounterVec
	errors   *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newOperationMetrics(reg prometheus.Registerer) *operationMetrics {
	m := &operationMetrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Subsystem: "kubelet",
			Name:      "runtime_operations_total",
			Help:      "Cumulative number of runtime operations by operation type.",
		}, []string{"operation_type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Subsystem: "kubelet",
			Name:      "runtime_operations_errors_total",
			Help:      "Cumulative number of runtime operation errors by operation type.",
		}, []string{"operation_type"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Subsystem: "kubelet",
			Name:      "runtime_operations_duration_seconds",
			Help:      "Duration in seconds of runtime operations. Broken down by operation type.",
			Buckets:   runtimeOperationsBuckets,
		}, []string{"operation_type"}),
	}
	for _, c := range []prometheus.Collector{m.total, m.errors, m.duration} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				panic(err) // a programming error: the names are fixed
			}
		}
	}
	return m
}

// interceptor counts and times every unary CRI call, as the kubelet's
// instrumented runtime and image services do.
func (m *operationMetrics) interceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	op := operationType(method)
	start := time.Now()
	err := invoker(ctx, method, req, reply, cc, opts...)
	m.total.WithLabelValues(op).Inc()
	m.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil {
		m.errors.WithLabelValues(op).Inc()
	}
	return err
}

// operationType is the kubelet's operation_type of a gRPC method
// ("/runtime.v1.RuntimeService/CreateContainer" is "create_container").
func operationType(method string) string {
	name := path.Base(method)
	if op, ok := operationTypes[name]; ok {
		return op
	}
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
