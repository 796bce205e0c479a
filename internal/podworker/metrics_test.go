package podworker

import (
	"k8s.io/apimachinery/pkg/types"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// metricValue is the value of the series of family name whose labels
// include labels; -1 when there is none.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			return value(m)
		}
	}
	return -1
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}

func TestManager_MetricsCountStartsRestartsAndRunningPods(t *testing.T) {
	h := newHarness(t, busybox)
	reg := prometheus.NewRegistry()
	firstSync := make(chan struct{})
	h.m = NewManager(Config{
		Runtime: h.m.cfg.Runtime, Images: h.m.cfg.Images, Puller: h.m.cfg.Puller, Status: h.sink, Volumes: fakeVolumes{},
		Events: h.events, Clock: h.clock, NodeName: testNode, HostIP: "192.0.2.1", Metrics: reg,
		Sandbox: h.m.cfg.Sandbox,
		// Called after the first sync returned and its duration was observed.
		OnFirstSync: func(types.UID) { close(firstSync) },
	})
	h.run()
	h.m.SetDesired([]*v1.Pod{managedPod("u1", v1.RestartPolicyAlways, "a")})
	first := h.runningOne("a")
	h.waitFor("status Running", func() bool { return h.status("u1").Phase == v1.PodRunning })
	if got := metricValue(t, reg, "kubelet_started_containers_total", map[string]string{"container_type": "container"}); got != 1 {
		t.Fatalf("kubelet_started_containers_total{container_type=container} = %v, want 1", got)
	}
	if got := metricValue(t, reg, "kubelet_pod_start_duration_seconds", nil); got != 1 {
		t.Fatalf("kubelet_pod_start_duration_seconds has %v samples, want 1", got)
	}
	// The sync's duration is observed when it returns, after it published
	// the status seen above.
	<-firstSync
	if got := metricValue(t, reg, "kubelet_pod_worker_duration_seconds", map[string]string{"operation_type": "create"}); got != 1 {
		t.Fatalf("kubelet_pod_worker_duration_seconds{operation_type=create} has %v samples, want 1", got)
	}
	h.m.relister.requestRelist()
	// A relist that changes nothing signals nothing the harness waits on:
	// poll the gauges it sets.
	pollFor(t, "a relist that sees the pod running", func() bool {
		return metricValue(t, reg, "kubelet_running_pods", nil) == 1 &&
			metricValue(t, reg, "kubelet_running_containers", map[string]string{"container_state": "running"}) == 1
	})

	h.rt.exit(first, 3)
	h.m.ContainerExited(runtime.Exit{ContainerID: first, ExitCode: 3, ExitedAt: h.clock.Now()})
	h.waitFor("the restart counted", func() bool {
		return metricValue(t, reg, "kubelet_started_containers_total", map[string]string{"container_type": "container"}) == 2
	})
	if got := metricValue(t, reg, "kubelet_pod_start_duration_seconds", nil); got != 1 {
		t.Fatalf("kubelet_pod_start_duration_seconds has %v samples after a container restart, want still 1", got)
	}
	if got := metricValue(t, reg, "kubelet_pleg_relist_duration_seconds", nil); got < 1 {
		t.Fatalf("kubelet_pleg_relist_duration_seconds has %v samples, want some", got)
	}
}

func TestManager_PodRecreatedWithTheSameUIDCountsARestartedPod(t *testing.T) {
	h := newHarness(t, busybox)
	reg := prometheus.NewRegistry()
	h.m = NewManager(Config{
		Runtime: h.m.cfg.Runtime, Images: h.m.cfg.Images, Puller: h.m.cfg.Puller, Status: h.sink, Volumes: fakeVolumes{},
		Events: h.events, Clock: h.clock, NodeName: testNode, HostIP: "192.0.2.1", Metrics: reg,
		Sandbox: h.m.cfg.Sandbox,
	})
	h.rt.holdStops()
	h.run()
	pod := managedPod("u1", v1.RestartPolicyAlways, "a")
	h.m.SetDesired([]*v1.Pod{pod})
	id := h.runningOne("a")
	h.m.SetDesired(nil)
	h.waitFor("the stop under way", func() bool { return h.rt.opIndex("stop container "+id) >= 0 })
	h.m.SetDesired([]*v1.Pod{pod})
	h.rt.releaseStops()
	h.waitFor("the pod counted as restarted", func() bool {
		return metricValue(t, reg, "kubelet_restarted_pods_total", map[string]string{"static": "true"}) == 1
	})
	h.runningOne("a")
}

func TestManager_EvictKillsThePodAndShowsItEvicted(t *testing.T) {
	h := newHarness(t, busybox)
	reg := prometheus.NewRegistry()
	h.m = NewManager(Config{
		Runtime: h.m.cfg.Runtime, Images: h.m.cfg.Images, Puller: h.m.cfg.Puller, Status: h.sink, Volumes: fakeVolumes{},
		Events: h.events, Clock: h.clock, NodeName: testNode, HostIP: "192.0.2.1", Metrics: reg,
		Sandbox: h.m.cfg.Sandbox,
	})
	h.run()
	h.m.SetDesired([]*v1.Pod{managedPod("u1", v1.RestartPolicyAlways, "a")})
	h.runningOne("a")
	if h.m.Evict("nope", "nodefs.available", "msg") {
		t.Fatal("Evict of a pod no worker runs reported true")
	}
	const msg = "The node was low on resource: ephemeral-storage. "
	if !h.m.Evict("u1", "nodefs.available", msg) {
		t.Fatal("Evict of a running pod reported false")
	}
	h.waitFor("the pod Failed, Evicted", func() bool {
		st := h.status("u1")
		return st.Phase == v1.PodFailed && st.Reason == "Evicted" && st.Message == msg && len(h.rt.running("a")) == 0
	})
	if evs := h.events.withReason("Evicted"); len(evs) != 1 {
		t.Fatalf("Evicted events %+v, want one", evs)
	}
	if got := metricValue(t, reg, "kubelet_evictions", map[string]string{"eviction_signal": "nodefs.available"}); got != 1 {
		t.Fatalf("kubelet_evictions{eviction_signal=nodefs.available} = %v, want 1", got)
	}
}

// pollFor checks cond every millisecond until it holds, for at most 10 s:
// for what is set without a change the harness can wait on (the gauges a
// relist sets). It asserts no timing: the bound only ends a stuck test.
func pollFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
