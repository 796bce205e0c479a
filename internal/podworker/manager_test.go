package podworker

import (
	"context"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/probes"
	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/sandbox"
)

const busybox = "busybox:1.35"

func managedPod(uid types.UID, policy v1.RestartPolicy, app ...string) *v1.Pod {
	p := testPod(policy, nil, app...)
	p.Name = "p-" + string(uid)
	p.UID = uid
	p.Spec.NodeName = testNode
	grace := int64(5)
	p.Spec.TerminationGracePeriodSeconds = &grace
	return p
}

func (h *harness) runningOne(name string) string {
	h.t.Helper()
	var id string
	h.waitFor(name+" running", func() bool {
		ids := h.rt.running(name)
		if len(ids) == 1 {
			id = ids[0]
		}
		return len(ids) == 1
	})
	return id
}

func TestManager_NewPodIsListedPendingBeforeItsFirstAction(t *testing.T) {
	h := newHarness(t, busybox)
	var first *v1.Pod
	h.sink.onSet = func(p *v1.Pod) {
		if first == nil {
			first = p
		}
	}
	h.run()
	pod := managedPod("u1", v1.RestartPolicyAlways, "a")
	h.m.SetDesired([]*v1.Pod{pod})
	h.runningOne("a")
	h.waitFor("status Running", func() bool { return h.status("u1").Phase == v1.PodRunning })
	h.sink.mu.Lock()
	defer h.sink.mu.Unlock()
	if first == nil || first.Status.Phase != v1.PodPending {
		t.Fatalf("first status %+v, want Pending", first)
	}
	if w := first.Status.ContainerStatuses[0].State.Waiting; w == nil || w.Reason != "ContainerCreating" {
		t.Fatalf("first container state %+v, want waiting ContainerCreating", first.Status.ContainerStatuses[0].State)
	}
}

func TestManager_EditedManifestReplacesThePodOnlyAfterTheOldOneIsGone(t *testing.T) {
	h := newHarness(t, busybox)
	h.run()
	old := managedPod("u1", v1.RestartPolicyAlways, "a")
	h.m.SetDesired([]*v1.Pod{old})
	oldID := h.runningOne("a")
	edited := managedPod("u2", v1.RestartPolicyAlways, "a")
	edited.Name = old.Name
	edited.Spec.Containers[0].Args = []string{"edited"}
	h.m.SetDesired([]*v1.Pod{edited})
	h.waitFor("the edited pod running", func() bool {
		ids := h.rt.running("a")
		return len(ids) == 1 && ids[0] != oldID
	})
	removed, created := h.rt.opIndex("remove sandbox u1"), h.rt.opIndex("run sandbox u2")
	if removed < 0 || created < 0 || created < removed {
		t.Fatalf("runtime operations %v: want the old pod's sandbox removed before the new one is made", h.rt.history())
	}
	h.waitFor("old status gone", func() bool { return h.sink.get("u1") == nil })
}

func TestManager_ExitEventRestartsTheContainerBeforeTheCRIRecordsIt(t *testing.T) {
	h := newHarness(t, busybox)
	h.run()
	h.m.SetDesired([]*v1.Pod{managedPod("u1", v1.RestartPolicyAlways, "a")})
	first := h.runningOne("a")
	// containerd's event comes; its CRI plugin still shows the container
	// running (it records the exit tens of milliseconds later).
	h.m.ContainerExited(runtime.Exit{ContainerID: first, ExitCode: 3, ExitedAt: h.clock.Now()})
	h.waitFor("a second instance running beside the unrecorded exit", func() bool { return len(h.rt.running("a")) == 2 })
	h.waitFor("status with the restart", func() bool {
		cs := h.status("u1").ContainerStatuses
		return len(cs) == 1 && cs[0].RestartCount == 1 && cs[0].State.Running != nil
	})
	last := h.status("u1").ContainerStatuses[0].LastTerminationState.Terminated
	if last == nil || last.ExitCode != 3 {
		t.Fatalf("lastState %+v, want the exit the event reported (code 3)", last)
	}
}

func TestManager_OrphanFromAnEarlierRunIsStopped(t *testing.T) {
	h := newHarness(t, busybox)
	orphan := managedPod("gone", v1.RestartPolicyAlways, "a")
	cfg := sandbox.Config(orphan, 0, sandbox.Options{PodLogsDir: t.TempDir()})
	sid, _ := h.rt.RunPodSandbox(context.Background(), cfg, "")
	cid, _ := h.rt.CreateContainer(context.Background(), sid, &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "a"}, Labels: cfg.Labels,
	}, cfg)
	h.rt.StartContainer(context.Background(), cid) //nolint:errcheck
	h.run()
	h.m.SetDesired(nil)
	h.waitFor("the orphan removed", func() bool { s, c := h.rt.count(); return s == 0 && c == 0 })
	if got := h.rt.stopped(cid); got != 5 {
		t.Fatalf("orphan stopped with grace %d, want its sandbox's recorded 5", got)
	}
}

func TestManager_DrainStopsEveryPodAndKeepsThemStopped(t *testing.T) {
	h := newHarness(t, busybox)
	h.run()
	h.m.SetDesired([]*v1.Pod{managedPod("u1", v1.RestartPolicyAlways, "a"), managedPod("u2", v1.RestartPolicyAlways, "b")})
	h.runningOne("a")
	h.runningOne("b")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := h.m.Drain(ctx)
	if err != nil || n != 2 {
		t.Fatalf("drain stopped %d, %v; want 2", n, err)
	}
	if s, c := h.rt.count(); s != 0 || c != 0 {
		t.Fatalf("after drain the runtime has %d sandboxes, %d containers", s, c)
	}
	h.m.SetDesired([]*v1.Pod{managedPod("u3", v1.RestartPolicyAlways, "c")})
	if _, err := h.m.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := h.rt.count(); s != 0 {
		t.Fatal("a pod started after the drain")
	}
}

func TestManager_LivenessFailureKillsWithTheProbesGraceAndRestartsInOneSync(t *testing.T) {
	h := newHarness(t, busybox)
	h.run()
	pod := managedPod("u1", v1.RestartPolicyAlways, "a")
	grace := int64(3)
	pod.Spec.Containers[0].LivenessProbe = &v1.Probe{TerminationGracePeriodSeconds: &grace}
	h.m.SetDesired([]*v1.Pod{pod})
	first := h.runningOne("a")
	h.prober.set("u1", "a", first, probes.Liveness, probes.Failure)
	var second string
	h.waitFor("a new instance", func() bool {
		ids := h.rt.running("a")
		if len(ids) == 1 && ids[0] != first {
			second = ids[0]
		}
		return second != ""
	})
	if got := h.rt.stopped(first); got != 3 {
		t.Fatalf("killed with grace %d, want the probe's 3", got)
	}
	kills := h.events.withReason("Killing")
	if len(kills) != 1 || kills[0].Message != "Container a failed liveness probe, will be restarted" {
		t.Fatalf("Killing events %+v", kills)
	}
	// One plan: the restart needed no further wake-up (no relist, no clock).
	h.waitFor("restart count 1", func() bool {
		cs := h.status("u1").ContainerStatuses
		return len(cs) == 1 && cs[0].RestartCount == 1
	})
}

func TestManager_TerminationKeepsReadinessAndStopsLivenessFirst(t *testing.T) {
	h := newHarness(t, busybox)
	h.run()
	pod := managedPod("u1", v1.RestartPolicyAlways, "a")
	pod.Spec.Containers[0].ReadinessProbe = &v1.Probe{}
	h.m.SetDesired([]*v1.Pod{pod})
	id := h.runningOne("a")
	h.prober.set("u1", "a", id, probes.Readiness, probes.Success)
	h.waitFor("ready", func() bool {
		cs := h.status("u1").ContainerStatuses
		return len(cs) == 1 && cs[0].Ready
	})
	h.rt.holdStops()
	h.m.SetDesired(nil)
	h.waitFor("terminating and still ready", func() bool {
		p := h.sink.get("u1")
		return p != nil && p.DeletionTimestamp != nil && p.Status.ContainerStatuses[0].Ready
	})
	h.prober.mu.Lock()
	stopped := h.prober.stopped["u1"]
	h.prober.mu.Unlock()
	if !stopped {
		t.Fatal("liveness and startup probes still run during termination")
	}
	// Readiness fails during the grace period: the status shows it at
	// once, though the worker is busy stopping the pod.
	h.prober.set("u1", "a", id, probes.Readiness, probes.Failure)
	h.waitFor("not ready while terminating", func() bool {
		p := h.sink.get("u1")
		return p != nil && !p.Status.ContainerStatuses[0].Ready
	})
	h.rt.releaseStops()
	h.waitFor("gone", func() bool { return h.sink.get("u1") == nil })
}

// TestWorker_MissingImageBacksOffApartFromTheCrashLoop drives one worker's
// syncs second by second on the fake clock: the missing image is pulled at
// 0, 10, 30 and 70 s (the kubelet's 10 s doubling), while the crashing
// sibling restarts on its own schedule.
func TestWorker_MissingImageBacksOffApartFromTheCrashLoop(t *testing.T) {
	h := newHarness(t, busybox)
	h.rt.missing["missing:1"] = true
	pod := managedPod("u1", v1.RestartPolicyAlways, "img", "crash")
	pod.Spec.Containers[0].Image = "missing:1"
	pod.Spec.Containers[0].ImagePullPolicy = v1.PullAlways
	w := newWorker(h.m, pod, false)
	ctx := context.Background()
	var restarts []time.Duration
	lastCrash := ""
	for sec := 0; sec <= 75; sec++ {
		if sec > 0 {
			h.step(time.Second)
		}
		w.sync(ctx, pod)
		for ids := h.rt.running("crash"); len(ids) == 1 && ids[0] != lastCrash; ids = h.rt.running("crash") {
			if lastCrash != "" {
				restarts = append(restarts, h.clock.Now().Sub(t0))
			}
			lastCrash = ids[0]
			h.rt.exit(ids[0], 1) // it crashes at once,
			w.sync(ctx, pod)     // and its exit wakes the worker
		}
	}
	var pulls []time.Duration
	for _, at := range h.rt.pullTimes("missing:1") {
		pulls = append(pulls, at.Sub(t0))
	}
	wantPulls := []time.Duration{0, 10 * time.Second, 30 * time.Second, 70 * time.Second}
	if !equalDurations(pulls, wantPulls) {
		t.Fatalf("pulls at %v, want %v", pulls, wantPulls)
	}
	// The crash loop: the first restart at once (same second), then 10 s,
	// 20 s, 40 s after each exit; the pull failures do not lengthen it.
	wantRestarts := []time.Duration{0, 10 * time.Second, 30 * time.Second, 70 * time.Second}
	if !equalDurations(restarts, wantRestarts) {
		t.Fatalf("crash restarts at %v, want %v", restarts, wantRestarts)
	}
	st := h.sink.get("u1").Status.ContainerStatuses[0].State.Waiting
	if st == nil || st.Reason != reasonImagePullBackOff || st.Message != `Back-off pulling image "missing:1"` {
		t.Fatalf("image container waiting %+v, want ImagePullBackOff", st)
	}
}

func equalDurations(a, b []time.Duration) bool {
	return strings.TrimSpace(durations(a)) == strings.TrimSpace(durations(b))
}

func durations(ds []time.Duration) string {
	var sb strings.Builder
	for _, d := range ds {
		sb.WriteString(d.String() + " ")
	}
	return sb.String()
}

// A manifest that gives its uid was edited: the same UID comes with a new
// spec. As the kubelet, the worker takes it over and restarts only the
// container whose definition changed, in the same sandbox.
func TestManager_SpecUpdateToTheSameUIDRestartsOnlyTheChangedContainer(t *testing.T) {
	h := newHarness(t, busybox)
	h.run()
	pod := managedPod("u1", v1.RestartPolicyAlways, "a", "b")
	h.m.SetDesired([]*v1.Pod{pod})
	a1, b1 := h.runningOne("a"), h.runningOne("b")

	edited := pod.DeepCopy()
	edited.Spec.Containers[0].Env = []v1.EnvVar{{Name: "GREETING", Value: "bye"}}
	h.m.SetDesired([]*v1.Pod{edited})
	var a2 string
	h.waitFor("a restarted with the new spec", func() bool {
		ids := h.rt.running("a")
		if len(ids) == 1 && ids[0] != a1 {
			a2 = ids[0]
		}
		return a2 != ""
	})
	if ids := h.rt.running("b"); len(ids) != 1 || ids[0] != b1 || h.rt.stopped(b1) != -1 {
		t.Fatalf("b running %v (stopped with %d), want %s untouched", ids, h.rt.stopped(b1), b1)
	}
	if got := h.rt.stopped(a1); got != 5 {
		t.Errorf("a stopped with grace %d, want the pod's 5", got)
	}
	h.rt.mu.Lock()
	envs := h.rt.containers[a2].cfg.Envs
	h.rt.mu.Unlock()
	if len(envs) == 0 || envs[len(envs)-1].Key != "GREETING" || string(envs[len(envs)-1].Value) != "bye" {
		t.Errorf("new instance env %v, want GREETING=bye", envs)
	}
	runs := 0
	for _, op := range h.rt.history() {
		if op == "run sandbox u1" {
			runs++
		}
	}
	if runs != 1 {
		t.Errorf("runtime operations %v: want the sandbox kept", h.rt.history())
	}
	h.waitFor("status with a's restart", func() bool {
		for _, cs := range h.status("u1").ContainerStatuses {
			if cs.Name == "a" {
				return cs.RestartCount == 1 && cs.State.Running != nil
			}
		}
		return false
	})
	if kills := h.events.withReason("Killing"); len(kills) != 1 || kills[0].Message != "Container a definition changed, will be restarted" {
		t.Errorf("Killing events %+v, want one for a's changed definition", kills)
	}
}

// Every snapshot brings new pod pointers: an equal version is no news for
// the worker, a changed one wakes it.
func TestWorker_UpdateWakesOnlyForAChangedSpec(t *testing.T) {
	h := newHarness(t, busybox)
	pod := managedPod("u1", v1.RestartPolicyAlways, "a")
	w := newWorker(h.m, pod, false)
	w.update(pod.DeepCopy())
	select {
	case <-w.wakeCh:
		t.Fatal("an equal version woke the worker")
	default:
	}
	edited := pod.DeepCopy()
	edited.Spec.Containers[0].Args = []string{"edited"}
	w.update(edited)
	if got, _ := w.snapshot(); got != edited {
		t.Fatal("the worker does not hold the new version")
	}
	select {
	case <-w.wakeCh:
	default:
		t.Fatal("a changed version did not wake the worker")
	}
}

// A pod edited while the daemon was down (a new UID, the same name) starts
// only after the pod the earlier run left is gone.
func TestManager_ReplacementOfAPodLeftByAnEarlierRunWaitsForIt(t *testing.T) {
	h := newHarness(t, busybox)
	old := managedPod("old", v1.RestartPolicyAlways, "a")
	_, oldContainer := startFakePod(t, h.rt, old)
	h.rt.holdStops()
	h.run()
	edited := managedPod("new", v1.RestartPolicyAlways, "a")
	edited.Name = old.Name
	h.m.SetDesired([]*v1.Pod{edited})
	h.waitFor("the old pod being stopped", func() bool { return h.rt.opIndex("stop container "+oldContainer) >= 0 })
	if h.rt.opIndex("run sandbox new") >= 0 {
		t.Fatalf("the new pod's sandbox was made while the old pod still runs: %v", h.rt.history())
	}
	h.rt.releaseStops()
	h.waitFor("the new pod running", func() bool { return h.rt.opIndex("run sandbox new") >= 0 })
	if removed, created := h.rt.opIndex("remove sandbox old"), h.rt.opIndex("run sandbox new"); removed < 0 || created < removed {
		t.Fatalf("runtime operations %v: want the old pod removed before the new one is made", h.rt.history())
	}
}
