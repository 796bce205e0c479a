package podworker

import (
	"context"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minikubelet/minikubelet/internal/status"
)

// stopRecorder is a runtime that records StopContainer calls; ExecSync
// (preStop hooks) advances the fake clock by execTakes.
type stopRecorder struct {
	runtimeService
	mu        sync.Mutex
	stops     []stopCall
	clock     *clocktesting.FakeClock
	execTakes time.Duration
	execs     []string
}

type stopCall struct {
	id      string
	timeout int64
}

func (r *stopRecorder) StopContainer(_ context.Context, id string, timeout int64) error {
	r.mu.Lock()
	r.stops = append(r.stops, stopCall{id, timeout})
	r.mu.Unlock()
	return nil
}

func (r *stopRecorder) StopPodSandbox(context.Context, string) error { return nil }

func (r *stopRecorder) ExecSync(_ context.Context, id string, _ []string, _ time.Duration) ([]byte, []byte, error) {
	r.mu.Lock()
	r.execs = append(r.execs, id)
	r.mu.Unlock()
	r.clock.Step(r.execTakes)
	return nil, nil, nil
}

func (r *stopRecorder) ListPodSandbox(context.Context, *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error) {
	return nil, nil
}

type nopSink struct{}

func (nopSink) Set(*v1.Pod)      {}
func (nopSink) Delete(types.UID) {}

func newKillWorker(rt *stopRecorder, pod *v1.Pod) *worker {
	m := NewManager(Config{Runtime: rt, Status: nopSink{}, Clock: rt.clock})
	return newWorker(m, pod, false)
}

func TestKillPod_AppContainersFirstThenSidecarsLastStartedFirst(t *testing.T) {
	always := v1.ContainerRestartPolicyAlways
	grace := int64(10)
	pod := testPod(v1.RestartPolicyAlways, []v1.Container{
		{Name: "s1", RestartPolicy: &always}, {Name: "s2", RestartPolicy: &always},
	}, "a", "b")
	pod.Spec.TerminationGracePeriodSeconds = &grace
	rt := &stopRecorder{clock: clocktesting.NewFakeClock(t0)}
	w := newKillWorker(rt, pod)
	side := func(id, name string, started time.Time) containerRecord {
		r := running(id, name, 0)
		r.Init, r.StartedAt = true, started
		return r
	}
	obs := observation{Containers: []containerRecord{
		side("cs1", "s1", t0), side("cs2", "s2", t0.Add(time.Second)),
		running("ca", "a", 0), running("cb", "b", 0),
	}}
	if err := w.killPod(context.Background(), pod, obs, nil, nil); err != nil {
		t.Fatal(err)
	}
	if len(rt.stops) != 4 {
		t.Fatalf("stops %v, want 4", rt.stops)
	}
	apps := map[string]bool{rt.stops[0].id: true, rt.stops[1].id: true}
	if !apps["ca"] || !apps["cb"] || rt.stops[2].id != "cs2" || rt.stops[3].id != "cs1" {
		t.Fatalf("stop order %v, want a and b (any order), then s2, then s1", rt.stops)
	}
	for _, s := range rt.stops {
		if s.timeout != 10 {
			t.Fatalf("stop %s with timeout %d, want the pod's grace period 10", s.id, s.timeout)
		}
	}
}

func TestKillContainer_PreStopCountsAgainstTheGracePeriod(t *testing.T) {
	tests := []struct {
		name      string
		grace     int64
		execTakes time.Duration
		want      int64
		wantHook  bool
	}{
		{"hook took 3s of 10", 10, 3 * time.Second, 7, true},
		{"hook took all of it: 2s left as the kubelet", 5, 5 * time.Second, 2, true},
		// As the kubelet: no time, no preStop hook.
		{"grace 0 means no hook, SIGTERM then SIGKILL after 2s", 0, 0, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod(v1.RestartPolicyAlways, nil, "a")
			pod.Spec.Containers[0].Lifecycle = &v1.Lifecycle{PreStop: &v1.LifecycleHandler{Exec: &v1.ExecAction{Command: []string{"true"}}}}
			rt := &stopRecorder{clock: clocktesting.NewFakeClock(t0), execTakes: tt.execTakes}
			w := newKillWorker(rt, pod)
			if err := w.killContainer(context.Background(), pod, running("ca", "a", 0), tt.grace, nil, "", nil); err != nil {
				t.Fatal(err)
			}
			if ran := len(rt.execs) == 1 && rt.execs[0] == "ca"; ran != tt.wantHook || len(rt.execs) > 1 {
				t.Fatalf("preStop ran in %v, want it run in ca: %v", rt.execs, tt.wantHook)
			}
			if len(rt.stops) != 1 || rt.stops[0].timeout != tt.want {
				t.Fatalf("StopContainer %v, want timeout %d", rt.stops, tt.want)
			}
		})
	}
}

func TestKillContainer_PreStopFromAnnotationsWhenTheSpecIsGone(t *testing.T) {
	pod := testPod(v1.RestartPolicyAlways, nil)
	rt := &stopRecorder{clock: clocktesting.NewFakeClock(t0)}
	w := newKillWorker(rt, pod)
	rec := running("ca", "a", 0)
	rec.PreStop = `{"exec":{"command":["sh","-c","echo bye"]}}`
	if err := w.killContainer(context.Background(), pod, rec, 30, nil, "", nil); err != nil {
		t.Fatal(err)
	}
	if len(rt.execs) != 1 {
		t.Fatalf("the preStop hook recorded on the container did not run: %v", rt.execs)
	}
	if rec.State != status.ContainerRunning {
		t.Fatal("unexpected state")
	}
}
