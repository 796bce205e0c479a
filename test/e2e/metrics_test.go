package e2e

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// metricSample is one sample of the Prometheus text format GET /metrics
// serves; parseMetrics reads them all (comments skipped).
type metricSample struct {
	name   string
	labels map[string]string
	value  float64
}

func parseMetrics(text string) []metricSample {
	var out []metricSample
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		s := metricSample{labels: map[string]string{}, value: v}
		series := line[:i]
		name, rest, hasLabels := strings.Cut(series, "{")
		s.name = name
		if hasLabels {
			rest = strings.TrimSuffix(rest, "}")
			for rest != "" {
				k, after, _ := strings.Cut(rest, `="`)
				end := strings.Index(after, `"`)
				for end > 0 && after[end-1] == '\\' {
					end += 1 + strings.Index(after[end+1:], `"`)
				}
				s.labels[k] = after[:end]
				rest = strings.TrimPrefix(after[end+1:], ",")
			}
		}
		out = append(out, s)
	}
	return out
}

// metric is the sum of the samples of name whose labels include labels;
// -1 when there is none.
func (n *testNode) metric(name string, labels map[string]string) float64 {
	n.t.Helper()
	body, err := n.get("/metrics")
	if err != nil {
		n.t.Fatalf("GET /metrics: %v", err)
	}
	sum, found := 0.0, false
samples:
	for _, s := range parseMetrics(string(body)) {
		if s.name != name {
			continue
		}
		for k, v := range labels {
			if s.labels[k] != v {
				continue samples
			}
		}
		sum, found = sum+s.value, true
	}
	if !found {
		return -1
	}
	return sum
}

// waitMetric waits until cond holds of the metric's value.
func (n *testNode) waitMetric(name string, labels map[string]string, timeout time.Duration, what string, cond func(float64) bool) float64 {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v := n.metric(name, labels)
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			body, _ := n.get("/metrics")
			var kubelet []string
			for _, line := range strings.Split(string(body), "\n") {
				if strings.HasPrefix(line, "kubelet_") || strings.HasPrefix(line, "minikubelet_") || strings.HasPrefix(line, "prober_") {
					kubelet = append(kubelet, line)
				}
			}
			n.t.Fatalf("%s%v: %v, want %s\n%s\ndaemon log:\n%s", name, labels, v, what, strings.Join(kubelet, "\n"), n.logTail())
		}
		time.Sleep(pollInterval)
	}
}

func TestMetrics_ValuesAfterKnownEvents(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if v := n.metric(name, nil); v <= 0 {
			t.Fatalf("%s = %v, want the Go and process collectors' values", name, v)
		}
	}

	n.writeManifest("web.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "600"]
`)
	n.waitPod("web", 30*time.Second, "running", podRunning)
	// The gauges are the relister's, as the kubelet's PLEG sets them: a
	// pod's own start is no event for it, so they follow within one full
	// relist (10 s).
	n.waitMetric("kubelet_running_pods", nil, 15*time.Second, "1", func(v float64) bool { return v == 1 })
	n.waitMetric("kubelet_running_containers", map[string]string{"container_state": "running"}, 15*time.Second, "1", func(v float64) bool { return v == 1 })
	if v := n.metric("kubelet_started_containers_total", map[string]string{"container_type": "container"}); v != 1 {
		t.Fatalf("kubelet_started_containers_total{container_type=container} = %v after one pod of one container started, want 1", v)
	}
	for _, op := range []string{"run_podsandbox", "create_container", "start_container", "list_containers", "list_podsandbox"} {
		if v := n.metric("kubelet_runtime_operations_total", map[string]string{"operation_type": op}); v < 1 {
			t.Fatalf("kubelet_runtime_operations_total{operation_type=%q} = %v, want at least 1", op, v)
		}
	}
	if v := n.metric("kubelet_pod_start_duration_seconds_count", nil); v != 1 {
		t.Fatalf("kubelet_pod_start_duration_seconds_count = %v, want 1", v)
	}
	if v := n.metric("kubelet_pleg_relist_duration_seconds_count", nil); v < 1 {
		t.Fatalf("kubelet_pleg_relist_duration_seconds_count = %v, want relists", v)
	}

	// A crashing container: every restart is a start.
	n.writeManifest("crash.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: crash
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "exit 1"]
`)
	n.waitPod("crash", 30*time.Second, "restarted", func(p *v1.Pod) bool { return restarts(p) >= 1 })
	n.waitMetric("kubelet_started_containers_total", map[string]string{"container_type": "container"}, 5*time.Second,
		"3 (web once, crash twice)", func(v float64) bool { return v >= 3 })

	// A failing readiness probe counts failed runs.
	n.writeManifest("unready.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: unready
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "600"]
    readinessProbe:
      exec:
        command: ["cat", "/nonexistent"]
      periodSeconds: 1
`)
	probe := map[string]string{"probe_type": "Readiness", "result": "failed", "container": "c", "pod": n.podName("unready"), "namespace": "default"}
	first := n.waitMetric("prober_probe_total", probe, 30*time.Second, "a failed run", func(v float64) bool { return v >= 1 })
	n.waitMetric("prober_probe_total", probe, 10*time.Second, "more failed runs", func(v float64) bool { return v > first })

	// A bad manifest is in error until it is removed.
	n.writeManifest("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: [\n")
	bad := map[string]string{"file": filepath.Join(n.dir, "bad.yaml")}
	n.waitMetric("minikubelet_manifest_errors", bad, 30*time.Second, "1", func(v float64) bool { return v == 1 })
	n.removeManifest("bad.yaml")
	n.waitMetric("minikubelet_manifest_errors", bad, 30*time.Second, "no series", func(v float64) bool { return v == -1 })
}
