package podworker

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
)

const mi = 1 << 20

// storagePod has container a (limited to aLimit when set), container b,
// and a disk emptyDir "data" (with sizeLimit when set).
func storagePod(aLimit, sizeLimit string) *v1.Pod {
	pod := testPod(v1.RestartPolicyAlways, nil, "a", "b")
	if aLimit != "" {
		pod.Spec.Containers[0].Resources.Limits = v1.ResourceList{v1.ResourceEphemeralStorage: resource.MustParse(aLimit)}
	}
	ed := &v1.EmptyDirVolumeSource{}
	if sizeLimit != "" {
		q := resource.MustParse(sizeLimit)
		ed.SizeLimit = &q
	}
	pod.Spec.Volumes = []v1.Volume{{Name: "data", VolumeSource: v1.VolumeSource{EmptyDir: ed}}}
	return pod
}

func TestComputeActions_LocalStorageEviction(t *testing.T) {
	tests := []struct {
		name        string
		pod         *v1.Pod
		usage       *storageUsage
		wantMessage string
	}{
		{name: "not measured", pod: storagePod("1Mi", "1Mi")},
		{name: "emptyDir under its sizeLimit", pod: storagePod("", "1Mi"),
			usage: &storageUsage{EmptyDirs: map[string]int64{"data": mi}}},
		{name: "emptyDir over its sizeLimit", pod: storagePod("", "1Mi"),
			usage:       &storageUsage{EmptyDirs: map[string]int64{"data": mi + 4096}},
			wantMessage: `Usage of EmptyDir volume "data" exceeds the limit "1Mi". `},
		{name: "emptyDir without a sizeLimit is not limited", pod: storagePod("", ""),
			usage: &storageUsage{EmptyDirs: map[string]int64{"data": 100 * mi}}},
		// Container a's limit is the pod's limit too (the sum of the
		// containers' limits), which counts b and the emptyDir.
		{name: "pod total under the containers' limits", pod: storagePod("4Mi", ""),
			usage: &storageUsage{EmptyDirs: map[string]int64{"data": mi}, Containers: map[string]int64{"a": mi, "b": mi}}},
		{name: "pod total over the containers' limits", pod: storagePod("4Mi", ""),
			usage:       &storageUsage{EmptyDirs: map[string]int64{"data": 2 * mi}, Containers: map[string]int64{"a": mi, "b": 2 * mi}},
			wantMessage: "Pod ephemeral local storage usage exceeds the total limit of containers 4Mi. "},
		{name: "container under its limit", pod: withLimit(storagePod("2Mi", ""), "b", "10Mi"),
			usage: &storageUsage{Containers: map[string]int64{"a": 2 * mi, "b": mi}}},
		{name: "container over its limit", pod: withLimit(storagePod("2Mi", ""), "b", "10Mi"),
			usage:       &storageUsage{Containers: map[string]int64{"a": 2*mi + 1, "b": mi}},
			wantMessage: `Container a exceeded its local ephemeral storage limit "2Mi". `},
		{name: "emptyDir checked before the pod and the containers", pod: storagePod("1Mi", "1Mi"),
			usage:       &storageUsage{EmptyDirs: map[string]int64{"data": 2 * mi}, Containers: map[string]int64{"a": 2 * mi}},
			wantMessage: `Usage of EmptyDir volume "data" exceeds the limit "1Mi". `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := observation{Sandboxes: []sandboxRecord{ready("s1", 0)}, Containers: []containerRecord{running("c1", "a", 0), running("c2", "b", 0)}}
			acts := computeActions(decisionInput{Pod: tt.pod, Observed: obs, StartTime: t0, Now: t0, Storage: tt.usage})
			if acts.Evicted != tt.wantMessage {
				t.Fatalf("evicted %q, want %q", acts.Evicted, tt.wantMessage)
			}
			if tt.wantMessage == "" {
				if acts.KillPod || acts.Finished || len(acts.Events) != 0 {
					t.Fatalf("under the limits: %+v, want nothing done", acts)
				}
				return
			}
			if !acts.KillPod || !acts.Finished || len(acts.Starts) != 0 || acts.KillGrace == nil || *acts.KillGrace != immediateEvictionGracePeriodSeconds {
				t.Fatalf("over a limit: %+v, want the pod killed with the eviction's grace and nothing started", acts)
			}
			want := podEvent{Type: v1.EventTypeWarning, Reason: "Evicted", Message: tt.wantMessage}
			if len(acts.Events) != 1 || acts.Events[0] != want {
				t.Fatalf("events %+v, want %+v", acts.Events, want)
			}
		})
	}
}

func withLimit(pod *v1.Pod, container, limit string) *v1.Pod {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == container {
			pod.Spec.Containers[i].Resources.Limits = v1.ResourceList{v1.ResourceEphemeralStorage: resource.MustParse(limit)}
		}
	}
	return pod
}

func TestComputeActions_EvictedPodStaysDone(t *testing.T) {
	pod := storagePod("", "1Mi")
	obs := observation{Sandboxes: []sandboxRecord{{ID: "s1", CreatedAt: t0}}, Containers: []containerRecord{exited("c1", "a", 0, 137, t0), exited("c2", "b", 0, 137, t0)}}
	// The usage went down with the containers gone; the eviction holds.
	acts := computeActions(decisionInput{Pod: pod, Observed: obs, StartTime: t0, Now: t0.Add(time.Minute),
		Storage: &storageUsage{}, Evicted: "msg"})
	if acts.Evicted != "msg" || !acts.Finished || acts.KillPod || len(acts.Starts) != 0 || len(acts.Events) != 0 {
		t.Fatalf("after the eviction: %+v, want the pod done, nothing started, no new event", acts)
	}
}

func TestHasLocalStorageLimit(t *testing.T) {
	memory := storagePod("", "1Mi")
	memory.Spec.Volumes[0].EmptyDir.Medium = v1.StorageMediumMemory
	for _, tt := range []struct {
		name string
		pod  *v1.Pod
		want bool
	}{
		{"none", storagePod("", ""), false},
		{"disk emptyDir sizeLimit", storagePod("", "1Mi"), true},
		{"memory emptyDir sizeLimit is its tmpfs size", memory, false},
		{"container limit", storagePod("1Gi", ""), true},
	} {
		if got := hasLocalStorageLimit(tt.pod); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDiskUsage_CountsRegularFilesBlocksOnce(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, n int) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a", mi)
	write("sub/b", 3*mi)
	if err := os.Link(filepath.Join(dir, "a"), filepath.Join(dir, "sub", "a-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "sub", "b"), filepath.Join(dir, "b-link")); err != nil {
		t.Fatal(err)
	}
	// A sparse file takes the blocks written, not its size.
	f, err := os.Create(filepath.Join(dir, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(100 * mi); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := diskUsage(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Allow a filesystem's rounding up to a few blocks.
	if got < 4*mi || got > 4*mi+64*1024 {
		t.Fatalf("diskUsage = %d, want about %d (each file's blocks, the hard link once, no symlink, no hole)", got, 4*mi)
	}
	if n, err := diskUsage(filepath.Join(dir, "missing")); err != nil || n != 0 {
		t.Fatalf("missing dir: %d, %v; want 0, nil", n, err)
	}
}

// storageVolumes puts the pod's emptyDirs in a temp dir.
type storageVolumes struct {
	fakeVolumes
	root string
}

func (v storageVolumes) EmptyDirPath(uid types.UID, name string) string {
	return filepath.Join(v.root, string(uid), name)
}

// TestWorker_MeasuresOnTheMonitoringPeriod drives one worker's syncs on
// the fake clock: the emptyDir goes over its limit after the first
// measurement, and the pod is evicted at the next one, 10 s later, with
// the writable layer measured through the CRI.
func TestWorker_MeasuresOnTheMonitoringPeriod(t *testing.T) {
	h := newHarness(t, busybox)
	root := t.TempDir()
	h.m.cfg.Volumes = storageVolumes{root: root}
	pod := storagePod("", "1Mi")
	pod.Spec.NodeName = testNode
	h.rt.setWritableLayer("a", 4096)
	w := newWorker(h.m, pod, false)
	ctx := context.Background()
	w.sync(ctx, pod)
	if len(h.rt.running("a")) != 1 || len(h.rt.running("b")) != 1 {
		t.Fatalf("containers not running after the first sync")
	}
	if got := w.nextMeasurement(pod); got != evictionMonitoringPeriod {
		t.Fatalf("next measurement in %v, want %v", got, evictionMonitoringPeriod)
	}

	dir := filepath.Join(root, string(pod.UID), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), make([]byte, 2*mi), 0o644); err != nil {
		t.Fatal(err)
	}
	h.step(evictionMonitoringPeriod - time.Second)
	w.sync(ctx, pod)
	if w.nextMeasurement(pod) != time.Second {
		t.Fatalf("next measurement in %v, want 1s", w.nextMeasurement(pod))
	}
	if st := h.status(pod.UID); st.Reason == "Evicted" || len(h.rt.running("a")) != 1 {
		t.Fatalf("evicted before the monitoring period: %+v", st)
	}
	h.step(time.Second)
	w.sync(ctx, pod)
	if got := w.storage.Containers["a"]; got != 4096 {
		t.Errorf("container a measured %d, want its writable layer's 4096", got)
	}
	want := `Usage of EmptyDir volume "data" exceeds the limit "1Mi". `
	if st := h.status(pod.UID); st.Phase != v1.PodFailed || st.Reason != "Evicted" || st.Message != want {
		t.Fatalf("status %s %q %q, want Failed, Evicted, %q", st.Phase, st.Reason, st.Message, want)
	}
	if len(h.rt.running("a")) != 0 || len(h.rt.running("b")) != 0 {
		t.Fatalf("containers still running after the eviction")
	}
	w.sync(ctx, pod)
	if evs := h.events.withReason("Evicted"); len(evs) != 1 || evs[0].Type != v1.EventTypeWarning || evs[0].Message != want {
		t.Fatalf("events %+v, want one Warning Evicted with the kubelet's message", evs)
	}
	if len(h.rt.running("a")) != 0 {
		t.Fatalf("an evicted pod started again")
	}
}
