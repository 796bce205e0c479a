package podworker

import (
	"errors"
	"reflect"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/status"
)

func TestSettle(t *testing.T) {
	a := &v1.Container{Name: "a", Image: "img:1"}
	b := &v1.Container{Name: "b", Image: "img:1"}
	crash := status.Waiting{Reason: reasonCrashLoopBackOff, Message: "back-off"}
	pulled := newBackoff(0, 0)
	pulled.next("img:1", t0) // one failed pull before: the next waits 20 s
	tests := []struct {
		name      string
		acts      podActions
		res       applyResult
		images    *backoff
		want      outcome
		wantClean bool
	}{
		{
			name:      "everything started: nothing waits, the next plan may follow",
			acts:      podActions{Starts: []containerStart{{Container: a}}, Waiting: map[string]status.Waiting{}},
			res:       applyResult{Starts: []startResult{{}}},
			want:      outcome{Waiting: map[string]status.Waiting{}},
			wantClean: true,
		},
		{
			name:      "a restart grows the crash backoff whatever came of it",
			acts:      podActions{Starts: []containerStart{{Container: a, Restart: true}}, Waiting: map[string]status.Waiting{"b": crash}, Wake: 7 * time.Second},
			res:       applyResult{Starts: []startResult{{}}},
			want:      outcome{Waiting: map[string]status.Waiting{"b": crash}, Wake: 7 * time.Second, Restarted: []string{"a"}},
			wantClean: true,
		},
		{
			name:   "a failed pull grows the image backoff once per image and syncs again to show ImagePullBackOff",
			acts:   podActions{Starts: []containerStart{{Container: a}, {Container: b}}, Waiting: map[string]status.Waiting{}},
			res:    applyResult{Starts: []startResult{{Waiting: status.Waiting{Reason: reasonErrImagePull, Message: "not found"}, PullFailed: true}, {Waiting: status.Waiting{Reason: reasonErrImagePull, Message: "not found"}, PullFailed: true}}},
			images: pulled,
			want: outcome{
				Waiting:     map[string]status.Waiting{"a": {Reason: reasonErrImagePull, Message: "not found"}, "b": {Reason: reasonErrImagePull, Message: "not found"}},
				Wake:        retryInterval, // the next sync shows ImagePullBackOff
				FailedPulls: []string{"img:1"},
			},
		},
		{
			name: "an image in its pull backoff wakes when the backoff ends",
			acts: podActions{Starts: []containerStart{{Container: a, PullBackoff: 4 * time.Second}}, Waiting: map[string]status.Waiting{}},
			res:  applyResult{Starts: []startResult{{Waiting: status.Waiting{Reason: reasonImagePullBackOff}}}},
			want: outcome{Waiting: map[string]status.Waiting{"a": {Reason: reasonImagePullBackOff}}, Wake: 4 * time.Second},
		},
		{
			name: "a container that could not be created waits the kubelet's sync backoff",
			acts: podActions{Starts: []containerStart{{Container: a}}, Waiting: map[string]status.Waiting{}, Wake: time.Minute},
			res:  applyResult{Starts: []startResult{{Waiting: status.Waiting{Reason: reasonCreateContainerError, Message: "no such file"}}}},
			want: outcome{Waiting: map[string]status.Waiting{"a": {Reason: reasonCreateContainerError, Message: "no such file"}}, Wake: syncErrorBackoff,
				CreateFailed: map[string]status.Waiting{"a": {Reason: reasonCreateContainerError, Message: "no such file"}}},
		},
		{
			name: "a config that cannot be made waits the sync backoff too",
			acts: podActions{Starts: []containerStart{{Container: a}}, Waiting: map[string]status.Waiting{}},
			res:  applyResult{Starts: []startResult{{Waiting: status.Waiting{Reason: reasonCreateContainerConfigError, Message: "key not found"}}}},
			want: outcome{Waiting: map[string]status.Waiting{"a": {Reason: reasonCreateContainerConfigError, Message: "key not found"}}, Wake: syncErrorBackoff,
				CreateFailed: map[string]status.Waiting{"a": {Reason: reasonCreateContainerConfigError, Message: "key not found"}}},
		},
		{
			name: "a failed start is retried soon: its exited instance goes through the crash-loop backoff",
			acts: podActions{Starts: []containerStart{{Container: a}}, Waiting: map[string]status.Waiting{}},
			res:  applyResult{Starts: []startResult{{Waiting: status.Waiting{Reason: reasonRunContainerError, Message: "exec: no such file"}}}},
			want: outcome{Waiting: map[string]status.Waiting{"a": {Reason: reasonRunContainerError, Message: "exec: no such file"}}, Wake: retryInterval},
		},
		{
			name: "a failed sandbox leaves every start ContainerCreating",
			acts: podActions{CreateSandbox: true, Starts: []containerStart{{Container: a}, {Container: b}}, Waiting: map[string]status.Waiting{}},
			res:  applyResult{SandboxFailed: "cni: no IP"},
			want: outcome{Waiting: map[string]status.Waiting{"a": {Reason: status.ReasonContainerCreating}, "b": {Reason: status.ReasonContainerCreating}}, Wake: retryInterval},
		},
		{
			name: "failed volumes are a CreateContainerError and wait the sync backoff",
			acts: podActions{Starts: []containerStart{{Container: a}}, Waiting: map[string]status.Waiting{}},
			res:  applyResult{VolumesFailed: "hostPath /x is not a directory"},
			want: outcome{Waiting: map[string]status.Waiting{"a": {Reason: reasonCreateContainerError, Message: "hostPath /x is not a directory"}}, Wake: syncErrorBackoff,
				CreateFailed: map[string]status.Waiting{"a": {Reason: reasonCreateContainerError, Message: "hostPath /x is not a directory"}}},
		},
		{
			name: "a failed removal is tried again at the next sync, not at once",
			acts: podActions{Removes: []string{"c1"}, Waiting: map[string]status.Waiting{}},
			res:  applyResult{RemoveFailed: true},
			want: outcome{Waiting: map[string]status.Waiting{}, Wake: retryInterval},
		},
		{
			name: "a runtime error retries the sync in a second",
			acts: podActions{KillPod: true, Waiting: map[string]status.Waiting{}},
			res:  applyResult{Err: errors.New("stop sandbox: deadline exceeded")},
			want: outcome{Waiting: map[string]status.Waiting{}, Wake: retryInterval},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			images := tt.images
			if images == nil {
				images = newBackoff(0, 0)
			}
			got := settle(&tt.acts, tt.res, images, t0)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("settle:\n got %+v\nwant %+v", got, tt.want)
			}
			if got.clean() != tt.wantClean {
				t.Fatalf("clean() = %v, want %v", got.clean(), tt.wantClean)
			}
		})
	}
}

func TestReasons_ACrashLoopKeepsShowingUntilTheContainerStarts(t *testing.T) {
	a := &v1.Container{Name: "a"}
	crash := status.Waiting{Reason: reasonCrashLoopBackOff, Message: "back-off 10s"}
	dead := observation{Containers: []containerRecord{exited("c2", "a", 1, 1, t0)}}
	// A sync in the back-off remembers why a waits.
	reasons := nextReasons(nil, &podActions{}, applyResult{}, outcome{Waiting: map[string]status.Waiting{"a": crash}})
	// At the back-off's end the plan restarts a: before it acts, the
	// status still shows CrashLoopBackOff, with the ended run as lastState.
	if got := withReasons(map[string]status.Waiting{}, reasons, dead); got["a"] != crash {
		t.Fatalf("waiting %+v at the end of the back-off, want the cached CrashLoopBackOff", got)
	}
	acts := &podActions{Starts: []containerStart{{Container: a, Restart: true}}}
	reasons = nextReasons(reasons, acts, applyResult{Starts: []startResult{{}}}, outcome{Waiting: map[string]status.Waiting{}})
	if len(reasons) != 0 {
		t.Fatalf("reasons %+v after a started, want none", reasons)
	}
	// A running container never shows a cached reason.
	live := observation{Containers: []containerRecord{running("c3", "a", 2)}}
	if got := withReasons(nil, map[string]status.Waiting{"a": crash}, live); len(got) != 0 {
		t.Fatalf("waiting %+v for a running container", got)
	}
}
