package podworker

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
)

// As the kubelet's image manager: a pull records Pulling, then Pulled with
// the pull's own time, the time including the wait for a turn, and the
// image's size; an image present under IfNotPresent records only Pulled
// "already present".
func TestWorker_PullEvents(t *testing.T) {
	tests := []struct {
		name    string
		policy  v1.PullPolicy
		present bool
		want    []string
	}{
		{name: "Always pulls", policy: v1.PullAlways, present: true, want: []string{
			`Pulling image "busybox:1.35"`,
			`Successfully pulled image "busybox:1.35" in 0s (0s including waiting). Image size: 0 bytes.`,
		}},
		{name: "IfNotPresent, present", policy: v1.PullIfNotPresent, present: true, want: []string{
			`Container image "busybox:1.35" already present on machine`,
		}},
		{name: "IfNotPresent, absent", policy: v1.PullIfNotPresent, want: []string{
			`Pulling image "busybox:1.35"`,
			`Successfully pulled image "busybox:1.35" in 0s (0s including waiting). Image size: 0 bytes.`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var present []string
			if tt.present {
				present = append(present, busybox)
			}
			h := newHarness(t, present...)
			pod := managedPod("u1", v1.RestartPolicyAlways, "app")
			pod.Spec.Containers[0].ImagePullPolicy = tt.policy
			w := newWorker(h.m, pod, false)
			w.sync(context.Background(), pod)
			var got []string
			for _, e := range h.events.events {
				if e.Reason == eventPulling || e.Reason == eventPulled {
					got = append(got, e.Message)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("pull events %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("pull events %q, want %q", got, tt.want)
				}
			}
		})
	}
}
