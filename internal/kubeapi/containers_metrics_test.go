package kubeapi

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestCPURate(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		prev, cur usageSample
		want      uint64
		ok        bool
	}{
		{"half a core over 2s", usageSample{t0, 1e9}, usageSample{t0.Add(2 * time.Second), 2e9}, 5e8, true},
		{"idle", usageSample{t0, 1e9}, usageSample{t0.Add(time.Second), 1e9}, 0, true},
		{"too short a window", usageSample{t0, 0}, usageSample{t0.Add(500 * time.Millisecond), 1e8}, 0, false},
		{"too old a sample", usageSample{t0, 0}, usageSample{t0.Add(2 * time.Minute), 1e8}, 0, false},
		{"no earlier sample", usageSample{}, usageSample{t0, 1e8}, 0, false},
		{"a counter that went back", usageSample{t0, 5e9}, usageSample{t0.Add(time.Second), 1e9}, 0, false},
	}
	for _, tt := range tests {
		r, ok := cpuRate(tt.prev, tt.cur)
		if ok != tt.ok || r.nanoCores != tt.want {
			t.Errorf("%s: cpuRate = %d, %v; want %d, %v", tt.name, r.nanoCores, ok, tt.want, tt.ok)
		}
	}
}

// fakeStats serves ListContainerStats from counters a test sets, stamped
// with the fake clock. onFirst, when set, runs inside the first call,
// after its reading: a test moves the clock and the counters on there.
type fakeStats struct {
	mu      sync.Mutex
	clock   *clocktesting.FakeClock
	cpu     map[string]uint64 // container ID -> cumulative ns
	mem     map[string]uint64
	onFirst func()
}

func (f *fakeStats) ListContainerStats(_ context.Context, filter *runtimeapi.ContainerStatsFilter) ([]*runtimeapi.ContainerStats, error) {
	f.mu.Lock()
	var out []*runtimeapi.ContainerStats
	for id, cpu := range f.cpu {
		out = append(out, &runtimeapi.ContainerStats{
			Attributes: &runtimeapi.ContainerAttributes{Id: id},
			Cpu:        &runtimeapi.CpuUsage{Timestamp: f.clock.Now().UnixNano(), UsageCoreNanoSeconds: &runtimeapi.UInt64Value{Value: cpu}},
			Memory:     &runtimeapi.MemoryUsage{WorkingSetBytes: &runtimeapi.UInt64Value{Value: f.mem[id]}},
		})
	}
	onFirst := f.onFirst
	f.onFirst = nil
	f.mu.Unlock()
	if onFirst != nil {
		onFirst()
	}
	return out, nil
}

func (f *fakeStats) add(id string, ns uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cpu[id] += ns
}

func TestPodMetrics_CPUBetweenTwoSamplesAndTheWorkingSet(t *testing.T) {
	clock := clocktesting.NewFakeClock(time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC))
	stats := &fakeStats{clock: clock, cpu: map[string]uint64{"a2": 10e9, "other": 1}, mem: map[string]uint64{"a2": 3 << 20}}
	h, _ := newTestAPI(t, &fakePods{pods: []v1.Pod{testPod()}}, ContainerDeps{Stats: stats, Clock: clock, NodeName: "node1"})

	// The first request has no earlier sample: it takes one, waits a
	// second on the clock, and measures the quarter core used meanwhile.
	stats.onFirst = func() {
		stats.add("a2", 25e7)
		clock.Step(time.Second)
	}
	rec := do(t, h, http.MethodGet, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods", nil)
	var list metricsv1beta1.PodMetricsList
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || rec.Code != 200 {
		t.Fatalf("GET pods metrics = %d %q: %v", rec.Code, rec.Body.String(), err)
	}
	if len(list.Items) != 1 || list.Kind != "PodMetricsList" {
		t.Fatalf("PodMetricsList = %+v, want the one pod with a running container", list)
	}
	m := list.Items[0]
	if m.Name != "web-node1" || m.Kind != "PodMetrics" || m.Window.Duration != time.Second || !m.Timestamp.Time.Equal(clock.Now()) ||
		len(m.Containers) != 1 || m.Containers[0].Name != "app" {
		t.Fatalf("PodMetrics = %+v, want web-node1, app only, a 1s window ending now", m)
	}
	cpu, mem := m.Containers[0].Usage[v1.ResourceCPU], m.Containers[0].Usage[v1.ResourceMemory]
	if cpu.ScaledValue(-9) != 25e7 || mem.Value() != 3<<20 {
		t.Fatalf("usage cpu %s memory %s, want 250000000n and 3Mi", cpu.String(), mem.String())
	}

	// The next one, 10s later, measures since the first: no wait.
	stats.add("a2", 5e9)
	clock.Step(10 * time.Second)
	rec = do(t, h, http.MethodGet, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-node1", nil)
	var one metricsv1beta1.PodMetrics
	if err := json.Unmarshal(rec.Body.Bytes(), &one); err != nil || rec.Code != 200 {
		t.Fatalf("GET pod metrics = %d %q: %v", rec.Code, rec.Body.String(), err)
	}
	cpu = one.Containers[0].Usage[v1.ResourceCPU]
	if one.Window.Duration != 10*time.Second || cpu.ScaledValue(-9) != 5e8 {
		t.Fatalf("second PodMetrics window %s cpu %s, want 10s and half a core", one.Window.Duration, cpu.String())
	}

	rec = do(t, h, http.MethodGet, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope", nil)
	if st := statusOf(t, rec); rec.Code != 404 || st.Message != `podmetrics.metrics.k8s.io "nope" not found` {
		t.Fatalf("GET metrics of an unknown pod = %d %q, want 404 as metrics-server", rec.Code, st.Message)
	}
	rec = do(t, h, http.MethodGet, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Ddb", nil)
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list.Items) != 0 {
		t.Fatalf("GET metrics with a selector no pod matches = %q, want an empty list", rec.Body.String())
	}
}

func TestNodeMetrics_FromProc(t *testing.T) {
	proc := t.TempDir()
	writeStat := func(user, system, idle uint64) {
		t.Helper()
		data := []byte("cpu  " + u(user) + " 0 " + u(system) + " " + u(idle) + " 50 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n")
		if err := os.WriteFile(filepath.Join(proc, "stat"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeStat(1000, 500, 9000)
	writeFile(t, filepath.Join(proc, "meminfo"), "MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    400 kB\n")
	clock := clocktesting.NewFakeClock(time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC))
	c := &containerRoutes{deps: ContainerDeps{NodeName: "node1", ProcDir: proc}, log: zap.NewNop(), clock: clock, metrics: newUsageSampler(clock)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /apis/metrics.k8s.io/v1beta1/nodes/{name}", c.nodeMetricsGet)
	// An earlier request's sample, a second old: (1000+500) jiffies busy.
	c.metrics.last[nodeKey] = usageSample{at: clock.Now(), cpu: 1500 * 1e7}
	clock.Step(time.Second)
	// 150 jiffies of 10ms busy over that second: 1.5 cores.
	writeStat(1100, 550, 9100)
	rec := do(t, mux, http.MethodGet, "/apis/metrics.k8s.io/v1beta1/nodes/node1", nil)
	var m metricsv1beta1.NodeMetrics
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || rec.Code != 200 {
		t.Fatalf("GET node metrics = %d %q: %v", rec.Code, rec.Body.String(), err)
	}
	cpu, mem := m.Usage[v1.ResourceCPU], m.Usage[v1.ResourceMemory]
	if m.Name != "node1" || m.Kind != "NodeMetrics" || m.Window.Duration != time.Second || cpu.ScaledValue(-9) != 15e8 || mem.Value() != 600*1024 {
		t.Fatalf("NodeMetrics = %s window %s cpu %s memory %s; want node1, 1s, 1.5 cores, MemTotal-MemAvailable 600Ki",
			m.Name, m.Window.Duration, cpu.String(), mem.String())
	}
	rec = do(t, mux, http.MethodGet, "/apis/metrics.k8s.io/v1beta1/nodes/other", nil)
	if rec.Code != 404 {
		t.Fatalf("GET metrics of another node = %d, want 404", rec.Code)
	}
}

func u(n uint64) string { return strconv.FormatUint(n, 10) }
