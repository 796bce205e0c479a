package sdnotify

import (
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestStatusLine(t *testing.T) {
	pods := func(columns ...string) []v1.Pod {
		var out []v1.Pod
		for i, c := range columns {
			out = append(out, *pod(string(rune('a'+i)), c))
		}
		return out
	}
	terminating := pod("t", "Running")
	terminating.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)}
	for _, tt := range []struct {
		name           string
		ready, scanned bool
		pods           []v1.Pod
		want           string
	}{
		{name: "before the scan", want: "Starting: reading the manifests"},
		{name: "starting", scanned: true, pods: pods("Running", "ContainerCreating"), want: "Starting: 2 pods: 1 running, 1 waiting: ContainerCreating"},
		{name: "none", ready: true, scanned: true, want: "0 pods: 0 running"},
		{name: "one", ready: true, scanned: true, pods: pods("Running"), want: "1 pod: 1 running"},
		{name: "the issue's example", ready: true, scanned: true,
			pods: pods("Running", "Running", "Running", "Running", "Running", "Running", "Running", "Running", "Running", "Running", "Running", "CrashLoopBackOff"),
			want: "12 pods: 11 running, 1 waiting: CrashLoopBackOff"},
		{name: "finished pods", ready: true, scanned: true, pods: pods("Completed", "Error", "Running"), want: "3 pods: 1 running, 1 completed, 1 failed"},
		{name: "mixed reasons, ties by name", ready: true, scanned: true, pods: pods("ImagePullBackOff", "CrashLoopBackOff", "Init:0/1"),
			want: "3 pods: 0 running, 3 waiting: 1 CrashLoopBackOff, 2 other"},
		{name: "terminating", ready: true, scanned: true, pods: []v1.Pod{*terminating}, want: "1 pod: 0 running, 1 waiting: Terminating"},
		{name: "ready without a scan (the bound)", ready: true, want: "0 pods: 0 running"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := statusLine(tt.ready, tt.scanned, tt.pods); got != tt.want {
				t.Errorf("statusLine = %q, want %q", got, tt.want)
			}
		})
	}
}
