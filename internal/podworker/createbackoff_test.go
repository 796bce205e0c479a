package podworker

import (
	"reflect"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/status"
)

func TestComputeActions_CreateFailureWaitsTheSyncBackoff(t *testing.T) {
	cfgErr := status.Waiting{Reason: reasonCreateContainerConfigError, Message: `key "DB" not found`}
	failedAt := map[string]createFailure{"a": {At: t0, Waiting: cfgErr}}
	init := []v1.Container{{Name: "setup", Image: "busybox:1.35"}}
	tests := []struct {
		name       string
		pod        *v1.Pod
		obs        observation
		failures   map[string]createFailure
		now        time.Time
		wantStarts []string
		wantWait   map[string]status.Waiting
		wantWake   time.Duration
	}{
		{
			name: "within the backoff the container is not tried and shows why",
			pod:  testPod(v1.RestartPolicyAlways, nil, "a", "b"),
			obs:  observation{Sandboxes: []sandboxRecord{ready("s1", 0)}, Containers: []containerRecord{running("b1", "b", 0)}},
			now:  t0.Add(3 * time.Second), failures: failedAt,
			wantWait: map[string]status.Waiting{"a": cfgErr}, wantWake: 7 * time.Second,
		},
		{
			name: "after the backoff it is tried again",
			pod:  testPod(v1.RestartPolicyAlways, nil, "a", "b"),
			obs:  observation{Sandboxes: []sandboxRecord{ready("s1", 0)}, Containers: []containerRecord{running("b1", "b", 0)}},
			now:  t0.Add(syncErrorBackoff), failures: failedAt,
			wantStarts: []string{"a"}, wantWait: map[string]status.Waiting{},
		},
		{
			name: "a new pod's sandbox waits with its only container",
			pod:  testPod(v1.RestartPolicyAlways, nil, "a"),
			now:  t0.Add(time.Second), failures: failedAt,
			wantWait: map[string]status.Waiting{"a": cfgErr}, wantWake: 9 * time.Second,
		},
		{
			name: "an init container in the backoff holds the app containers",
			pod:  testPod(v1.RestartPolicyAlways, init, "b"),
			obs:  observation{Sandboxes: []sandboxRecord{ready("s1", 0)}},
			now:  t0.Add(time.Second), failures: map[string]createFailure{"setup": {At: t0, Waiting: cfgErr}},
			wantWait: map[string]status.Waiting{"setup": cfgErr}, wantWake: 9 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acts := computeActions(decisionInput{Pod: tt.pod, Observed: tt.obs, Now: tt.now, StartTime: t0, CreateFailures: tt.failures})
			if got := startNames(acts); !reflect.DeepEqual(got, tt.wantStarts) {
				t.Errorf("starts %v, want %v", got, tt.wantStarts)
			}
			if !reflect.DeepEqual(acts.Waiting, tt.wantWait) || acts.Wake != tt.wantWake {
				t.Errorf("waiting %v wake %v, want %v wake %v", acts.Waiting, acts.Wake, tt.wantWait, tt.wantWake)
			}
			if acts.CreateSandbox || acts.Finished {
				t.Errorf("plan %+v makes a sandbox or finishes the pod while its container waits", acts)
			}
		})
	}
}

func TestNextCreateFailures(t *testing.T) {
	a, b := &v1.Container{Name: "a"}, &v1.Container{Name: "b"}
	w := status.Waiting{Reason: reasonCreateContainerError}
	prev := map[string]createFailure{"a": {At: t0, Waiting: w}, "c": {At: t0, Waiting: w}}
	acts := &podActions{Starts: []containerStart{{Container: a}, {Container: b}}}
	now := t0.Add(time.Minute)
	got := nextCreateFailures(prev, acts, outcome{CreateFailed: map[string]status.Waiting{"b": w}}, now)
	want := map[string]createFailure{"b": {At: now, Waiting: w}, "c": {At: t0, Waiting: w}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v: a started container is forgotten, a new failure recorded at now, the rest kept", got, want)
	}
}
