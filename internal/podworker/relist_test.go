package podworker

import (
	"context"
	"reflect"
	goruntime "runtime"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/sandbox"
)

// startFakePod makes a sandbox and a running container for pod in rt.
func startFakePod(t *testing.T, rt *fakeRuntime, pod *v1.Pod) (sandboxID, containerID string) {
	t.Helper()
	ctx := context.Background()
	cfg := sandbox.Config(pod, 0, sandbox.Options{PodLogsDir: t.TempDir()})
	sid, _ := rt.RunPodSandbox(ctx, cfg, "")
	cc, err := containerConfig(podContext{Pod: pod, Sandbox: cfg}, &pod.Spec.Containers[0], false, 0, "img")
	if err != nil {
		t.Fatal(err)
	}
	cid, _ := rt.CreateContainer(ctx, sid, cc, cfg)
	rt.StartContainer(ctx, cid) //nolint:errcheck
	return sid, cid
}

func TestRelister_ReportsChangesButNotAWorkersOwn(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	rt := newFakeRuntime(clk)
	r := newRelister(rt, newMetrics(nil), testNode, clk, 0)
	ctx := context.Background()
	pod := managedPod("u1", v1.RestartPolicyAlways, "a")
	_, cid := startFakePod(t, rt, pod)

	res, _, err := r.relist(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Changed, []types.UID{"u1"}) || res.Present["u1"] == nil {
		t.Fatalf("first relist %+v, want u1 new and present", res)
	}
	if res, _, _ = r.relist(ctx); len(res.Changed) != 0 {
		t.Fatalf("nothing changed, yet %v", res.Changed)
	}

	// The worker stops its own container and observes the result: no news.
	clk.Step(time.Millisecond)
	rt.exit(cid, 0)
	obs, err := newObserver(rt, "u1", clk).observe(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.observed("u1", obs)
	if res, _, _ = r.relist(ctx); len(res.Changed) != 0 {
		t.Fatalf("the worker's own change reported: %v", res.Changed)
	}

	// A change no worker saw is news.
	rt.RemoveContainer(ctx, cid) //nolint:errcheck
	if res, _, _ = r.relist(ctx); !reflect.DeepEqual(res.Changed, []types.UID{"u1"}) {
		t.Fatalf("changed %v, want u1", res.Changed)
	}
}

func TestRelister_HoldsAnExitUntilTheCRIRecordsIt(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	rt := newFakeRuntime(clk)
	r := newRelister(rt, newMetrics(nil), testNode, clk, 0)
	ctx := context.Background()
	pod := managedPod("u1", v1.RestartPolicyAlways, "a")
	_, cid := startFakePod(t, rt, pod)
	r.relist(ctx) //nolint:errcheck

	exit := runtime.Exit{ContainerID: cid, ExitCode: 2, ExitedAt: clk.Now()}
	if uid := r.exited(exit); uid != "u1" {
		t.Fatalf("exit of %s belongs to %q, want u1", cid, uid)
	}
	if _, again, _ := r.relist(ctx); !again {
		t.Fatal("the CRI still shows the container running: want a recheck")
	}
	obs, _ := newObserver(rt, "u1", clk).observe(ctx, r.pendingExits())
	if c := obs.Containers[0]; c.ExitCode != 2 || c.Reason != "Error" {
		t.Fatalf("observed %+v, want the event's exit merged in", c.ContainerRecord)
	}
	rt.exit(cid, 2)
	if _, again, _ := r.relist(ctx); again || r.pendingExits() != nil {
		t.Fatal("the CRI recorded the exit: the event's copy must be gone")
	}

	// An exit the CRI never confirms is forgotten after a second.
	_, cid2 := startFakePod(t, rt, managedPod("u2", v1.RestartPolicyAlways, "b"))
	r.exited(runtime.Exit{ContainerID: cid2, ExitCode: 1})
	clk.Step(exitRecheckFor + time.Millisecond)
	if _, again, _ := r.relist(ctx); again || r.pendingExits() != nil {
		t.Fatal("an exit the CRI never recorded is still pending after exitRecheckFor")
	}
}

func TestTerminationOrder_SidecarsStopInReverseAfterTheApp(t *testing.T) {
	always := v1.ContainerRestartPolicyAlways
	pod := testPod(v1.RestartPolicyAlways, []v1.Container{{Name: "s1", RestartPolicy: &always}, {Name: "init"}, {Name: "s2", RestartPolicy: &always}}, "a")
	live := []containerRecord{running("c1", "s1", 0), running("c2", "s2", 0), running("c3", "a", 0)}
	clk := clocktesting.NewFakeClock(t0)
	o := newTerminationOrder(pod, live, clk)
	ctx := context.Background()
	if d := o.waitForTurn(ctx, "a", 10*time.Second); d != 0 {
		t.Fatalf("the app waited %s", d)
	}
	s2 := make(chan struct{})
	go func() { o.waitForTurn(ctx, "s2", 10*time.Second); close(s2) }()
	select {
	case <-s2:
		t.Fatal("s2 went before the app exited")
	default:
	}
	o.terminated("a")
	<-s2
	// s1 waits for s2, but not past its grace period.
	s1 := make(chan time.Duration)
	go func() { s1 <- o.waitForTurn(ctx, "s1", 3*time.Second) }()
	for !clk.HasWaiters() {
		// the goroutine arms its grace timer
		goruntime.Gosched()
	}
	clk.Step(3 * time.Second)
	if d := <-s1; d != 3*time.Second {
		t.Fatalf("s1 waited %s, want its whole grace of 3s", d)
	}
}
