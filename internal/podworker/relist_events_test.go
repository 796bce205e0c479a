package podworker

import (
	"context"
	"fmt"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// pollFor polls cond until it holds, failing the test after 10 s of real
// time: for what no fake signals (a relist that found nothing).
func (h *harness) pollFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// relistedAt steps the clock by d and waits for the relist it makes due:
// relists run one after another, so every earlier one is done then.
func (h *harness) relistedAt(d time.Duration) {
	h.t.Helper()
	h.step(d)
	now := h.clock.Now()
	h.pollFor("the relist at "+now.Format(time.RFC3339), func() bool { return !h.m.LastRelist().Before(now) })
}

func kicked(r *relister) bool {
	select {
	case <-r.kick:
		return true
	default:
		return false
	}
}

func TestManager_IdleNodeMakesNoListCallPerSecond(t *testing.T) {
	h := newHarness(t, busybox)
	h.run()
	var pods []*v1.Pod
	for i := range 5 {
		pods = append(pods, managedPod(podUID(i), v1.RestartPolicyAlways, fmt.Sprint("c", i)))
	}
	h.m.SetDesired(pods)
	h.waitFor("every pod Running", func() bool {
		for _, p := range pods {
			if h.status(p.UID).Phase != v1.PodRunning {
				return false
			}
		}
		return true
	})
	h.relistedAt(defaultRelistInterval)
	before := h.rt.listCalls()
	for range 9 {
		h.step(time.Second)
	}
	h.relistedAt(time.Second)
	if got := h.rt.listCalls() - before; got != 2 {
		t.Fatalf("%d list calls in 10 s with 5 idle pods, want 2 (one relist of the node)", got)
	}
}

func podUID(i int) types.UID { return types.UID(fmt.Sprint("u", i)) }

func TestManager_ContainerDeletedBehindItsBackIsRecreatedOnTheEvent(t *testing.T) {
	h := newHarness(t, busybox)
	h.run()
	h.m.SetDesired([]*v1.Pod{managedPod("u1", v1.RestartPolicyAlways, "a")})
	first := h.runningOne("a")
	// Someone removes the container (crictl rm -f): containerd reports the
	// deletion, and no clock moves.
	h.rt.RemoveContainer(context.Background(), first) //nolint:errcheck
	h.m.ContainerChanged(first)
	h.waitFor("a new instance of a", func() bool {
		ids := h.rt.running("a")
		return len(ids) == 1 && ids[0] != first
	})
}

func TestRelister_EventOfAKnownContainerOrSandboxRelistsAtOnce(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	rt := newFakeRuntime(clk)
	r := newRelister(rt, newMetrics(nil), testNode, clk, 0)
	sid, cid := startFakePod(t, rt, managedPod("u1", v1.RestartPolicyAlways, "a"))
	r.relist(context.Background()) //nolint:errcheck

	for _, id := range []string{cid, sid} {
		if uid := r.changed(id); uid != "u1" || !kicked(r) {
			t.Fatalf("change of %s: pod %q; want u1 and a relist at once", id, uid)
		}
	}
	// Another node's container (they share containerd) is no concern.
	if uid := r.changed("someone-else"); uid != "" || kicked(r) {
		t.Fatalf("change of an unknown container: pod %q, or a relist asked for", uid)
	}
	if uid := r.exited(runtime.Exit{ContainerID: "someone-else", ExitCode: 1}); uid != "" || kicked(r) || r.pendingExits() != nil {
		t.Fatalf("exit of an unknown container: pod %q, a relist asked for, or the exit held", uid)
	}
}

func TestRelister_HoldsASandboxExitUntilTheCRIRecordsIt(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	rt := newFakeRuntime(clk)
	r := newRelister(rt, newMetrics(nil), testNode, clk, 0)
	ctx := context.Background()
	sid, _ := startFakePod(t, rt, managedPod("u1", v1.RestartPolicyAlways, "a"))
	r.relist(ctx) //nolint:errcheck

	// The pause process exits; the CRI still shows the sandbox ready.
	if uid := r.exited(runtime.Exit{ContainerID: sid, ExitCode: 137}); uid != "u1" {
		t.Fatalf("exit of sandbox %s belongs to %q, want u1", sid, uid)
	}
	if _, again, _ := r.relist(ctx); !again {
		t.Fatal("the CRI still shows the sandbox ready: want a recheck")
	}
	rt.StopPodSandbox(ctx, sid) //nolint:errcheck
	res, again, _ := r.relist(ctx)
	if again || len(res.Changed) != 1 || res.Changed[0] != "u1" {
		t.Fatalf("the CRI recorded it: recheck %v, changed %v; want no recheck and u1 changed", again, res.Changed)
	}
}

func TestWorker_UnchangedStatusIsNotPublishedAgain(t *testing.T) {
	h := newHarness(t, busybox)
	pod := managedPod("u1", v1.RestartPolicyAlways, "a")
	w := newWorker(h.m, pod, false)
	ctx := context.Background()
	w.sync(ctx, pod)
	sets := 0
	h.sink.mu.Lock()
	h.sink.onSet = func(*v1.Pod) { sets++ }
	h.sink.mu.Unlock()

	h.step(time.Second)
	w.sync(ctx, pod) // nothing changed, a second later
	w.republish()    // a probe's news that changes nothing shown
	h.sink.mu.Lock()
	got := sets
	h.sink.mu.Unlock()
	if got != 0 {
		t.Fatalf("%d statuses handed over for an unchanged pod, want 0", got)
	}

	h.rt.exit(h.rt.running("a")[0], 1)
	w.sync(ctx, pod)
	h.sink.mu.Lock()
	got = sets
	h.sink.mu.Unlock()
	if got == 0 {
		t.Fatal("the container exited, yet no status was handed over")
	}
}
