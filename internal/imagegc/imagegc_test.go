package imagegc

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)

func TestAmountToFree_AsTheKubelet(t *testing.T) {
	p := Policy{HighThresholdPercent: 85, LowThresholdPercent: 80}
	for _, tt := range []struct {
		capacity, available int64
		want                int64
		usage               int
	}{
		{capacity: 1000, available: 200, want: 0, usage: 80},  // under the high threshold
		{capacity: 1000, available: 150, want: 50, usage: 85}, // at it: down to 80%
		{capacity: 1000, available: 50, want: 150, usage: 95}, // over it
		{capacity: 1000, available: 2000, want: 0, usage: 0},  // available clamped to capacity
		{capacity: 1000, available: 151, want: 49, usage: 85}, // 84.9% used counts as 85, as the kubelet rounds
	} {
		got, usage := amountToFree(tt.capacity, tt.available, p)
		if got != tt.want || usage != tt.usage {
			t.Errorf("amountToFree(%d, %d) = %d, %d%%; want %d, %d%%", tt.capacity, tt.available, got, usage, tt.want, tt.usage)
		}
	}
}

func TestPick_LeastRecentlyUsedFirstNeverInUsePinnedOrYoung(t *testing.T) {
	now := t0.Add(time.Hour)
	records := []record{
		{id: "in-use", size: 100, firstDetected: t0, lastUsed: now},
		{id: "pinned", size: 100, firstDetected: t0, pinned: true},
		{id: "young", size: 100, firstDetected: now.Add(-time.Minute)},
		{id: "used-recently", size: 100, firstDetected: t0, lastUsed: t0.Add(30 * time.Minute)},
		{id: "used-long-ago", size: 100, firstDetected: t0, lastUsed: t0.Add(time.Minute)},
		{id: "never-used-newer", size: 100, firstDetected: t0.Add(time.Second)},
		{id: "never-used", size: 100, firstDetected: t0},
	}
	inUse := map[string]bool{"in-use": true}
	ids := func(rs []record) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.id)
		}
		return out
	}
	if got, want := ids(pick(records, inUse, 1<<40, now, 2*time.Minute)), []string{"never-used", "never-used-newer", "used-long-ago", "used-recently"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("pick everything = %v, want %v", got, want)
	}
	if got, want := ids(pick(records, inUse, 150, now, 2*time.Minute)), []string{"never-used", "never-used-newer"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("pick 150 bytes = %v, want %v (until the sizes add up)", got, want)
	}
}

type fakeRuntime struct {
	images     []*runtimeapi.Image
	containers []*runtimeapi.Container
	removed    []string
	removeErr  error
}

func (f *fakeRuntime) ListImages(context.Context, *runtimeapi.ImageFilter) ([]*runtimeapi.Image, error) {
	return f.images, nil
}

func (f *fakeRuntime) RemoveImage(_ context.Context, spec *runtimeapi.ImageSpec) error {
	if f.removeErr != nil {
		return f.removeErr
	}
	f.removed = append(f.removed, spec.Image)
	var kept []*runtimeapi.Image
	for _, img := range f.images {
		if img.Id != spec.Image {
			kept = append(kept, img)
		}
	}
	f.images = kept
	return nil
}

func (f *fakeRuntime) ImageFsInfo(context.Context) ([]*runtimeapi.FilesystemUsage, error) {
	return []*runtimeapi.FilesystemUsage{{FsId: &runtimeapi.FilesystemIdentifier{Mountpoint: "/var/lib/containerd/snapshots"}}}, nil
}

func (f *fakeRuntime) ListContainers(context.Context, *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	return f.containers, nil
}

type fakeEvents struct {
	mu                sync.Mutex
	reasons, messages []string
}

func (e *fakeEvents) RecordNode(_, reason, message string, _ time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reasons = append(e.reasons, reason)
	e.messages = append(e.messages, message)
}

func (e *fakeEvents) snapshot() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.reasons...)
}

func newTestManager(rt *fakeRuntime, ev *fakeEvents, capacity, available int64) (*Manager, *clocktesting.FakeClock) {
	clk := clocktesting.NewFakeClock(t0)
	m := New(Config{Images: rt, Containers: rt, Events: ev, PauseImage: "localhost/minikubelet/pause:1.0", Clock: clk,
		Policy: Policy{HighThresholdPercent: 85, LowThresholdPercent: 80, MinAge: 2 * time.Minute},
		StatFS: func(path string) (int64, int64, error) {
			if path != "/var/lib/containerd/snapshots" {
				return 0, 0, errors.New("not the image filesystem")
			}
			return capacity, available, nil
		}})
	return m, clk
}

func testImages() []*runtimeapi.Image {
	return []*runtimeapi.Image{
		{Id: "sha256:pause", RepoTags: []string{"localhost/minikubelet/pause:1.0"}, Size: 500},
		{Id: "sha256:used", RepoTags: []string{"127.0.0.1:5000/used:1"}, Size: 500},
		{Id: "sha256:old", RepoTags: []string{"127.0.0.1:5000/old:1"}, Size: 100},
		{Id: "sha256:older", RepoTags: []string{"127.0.0.1:5000/older:1"}, Size: 100},
	}
}

func TestGarbageCollect_RemovesUnusedImagesOnceOldEnough(t *testing.T) {
	rt := &fakeRuntime{images: testImages(), containers: []*runtimeapi.Container{{Id: "c1", ImageRef: "sha256:used"}}}
	ev := &fakeEvents{}
	m, clk := newTestManager(rt, ev, 1000, 100) // 90% used: free 100 bytes
	if err := m.GarbageCollect(context.Background()); err == nil || len(rt.removed) != 0 {
		t.Fatalf("first collection: err %v, removed %v; want nothing removed (every image just seen) and the failure", err, rt.removed)
	}
	if len(ev.reasons) != 1 || ev.reasons[0] != "FreeDiskSpaceFailed" ||
		!strings.Contains(ev.messages[0], "Attempted to free 100 bytes, but only found 0 bytes eligible to free.") {
		t.Fatalf("events %v %v, want FreeDiskSpaceFailed with the kubelet's message", ev.reasons, ev.messages)
	}
	clk.Step(3 * time.Minute)
	if err := m.GarbageCollect(context.Background()); err != nil {
		t.Fatalf("second collection: %v", err)
	}
	if len(rt.removed) != 1 || (rt.removed[0] != "sha256:old" && rt.removed[0] != "sha256:older") {
		t.Fatalf("removed %v, want one unused image: enough for 100 bytes, never the pause image or the one in use", rt.removed)
	}
}

func TestGarbageCollect_UnderTheHighThresholdRemovesNothing(t *testing.T) {
	rt := &fakeRuntime{images: testImages()}
	m, clk := newTestManager(rt, &fakeEvents{}, 1000, 200) // 80%
	m.GarbageCollect(context.Background())                 //nolint:errcheck
	clk.Step(time.Hour)
	if err := m.GarbageCollect(context.Background()); err != nil || len(rt.removed) != 0 {
		t.Fatalf("err %v, removed %v; want nothing under 85%%", err, rt.removed)
	}
}

func TestRun_RepeatedFailureIsAnImageGCFailedEvent(t *testing.T) {
	rt := &fakeRuntime{images: testImages()}
	ev := &fakeEvents{}
	m, clk := newTestManager(rt, ev, 0, 0) // capacity 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }() //nolint:errcheck
	deadline := time.After(10 * time.Second)
	for {
		if len(ev.snapshot()) >= 3 {
			break
		}
		if clk.HasWaiters() {
			clk.Step(DefaultPeriod)
		}
		select {
		case <-deadline:
			t.Fatalf("events %v after 10 s", ev.snapshot())
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	<-done
	got := ev.snapshot()[:3]
	if want := []string{"InvalidDiskCapacity", "InvalidDiskCapacity", "ImageGCFailed"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}
