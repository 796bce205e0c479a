package podworker

import (
	"context"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestManager_StopPodsStopsOnlyThoseWithTheirGraceShownFailedAndStartsNothing(t *testing.T) {
	h := newHarness(t, busybox)
	h.run()
	h.m.SetDesired([]*v1.Pod{managedPod("u1", v1.RestartPolicyAlways, "a"), managedPod("u2", v1.RestartPolicyAlways, "b")})
	first := h.runningOne("a")
	h.runningOne("b")
	if got := len(h.m.Pods()); got != 2 {
		t.Fatalf("Pods() has %d pods, want 2", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.m.StopPods(ctx, map[types.UID]int64{"u1": 7}, "Terminated", "Pod was terminated in response to imminent node shutdown."); err != nil {
		t.Fatal(err)
	}
	if got := h.rt.stopped(first); got != 7 {
		t.Errorf("stopped with grace %d, want the shutdown's 7", got)
	}
	if ids := h.rt.running("b"); len(ids) != 1 {
		t.Errorf("the pod not asked for runs %d containers, want 1", len(ids))
	}
	st := h.status("u1")
	if st.Phase != v1.PodFailed || st.Reason != "Terminated" || st.Message != "Pod was terminated in response to imminent node shutdown." {
		t.Errorf("status %s %q %q, want Failed with the shutdown's reason", st.Phase, st.Reason, st.Message)
	}
	// The manifest still asks for u1 and a new one arrives: neither starts.
	h.m.SetDesired([]*v1.Pod{managedPod("u1", v1.RestartPolicyAlways, "a"), managedPod("u2", v1.RestartPolicyAlways, "b"), managedPod("u3", v1.RestartPolicyAlways, "c")})
	if err := h.m.StopPods(ctx, map[types.UID]int64{"u2": 3}, "Terminated", "x"); err != nil {
		t.Fatal(err)
	}
	if s, c := h.rt.count(); s != 0 || c != 0 {
		t.Fatalf("after the shutdown the runtime has %d sandboxes, %d containers", s, c)
	}
}
