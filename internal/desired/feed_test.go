package desired

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/minikubelet/minikubelet/internal/server"
	"github.com/minikubelet/minikubelet/internal/staticpods"
)

type fakePods struct{ calls [][]*v1.Pod }

func (f *fakePods) SetDesired(pods []*v1.Pod) { f.calls = append(f.calls, pods) }

type fakeView struct{ items []server.Manifest }

func (f *fakeView) Set(items []server.Manifest) { f.items = items }

type event struct {
	uid                        types.UID
	eventType, reason, message string
	fieldPath                  string
	at                         time.Time
}

type fakeEvents struct{ got []event }

func (f *fakeEvents) Record(pod *v1.Pod, fieldPath, eventType, reason, message string, now time.Time) {
	f.got = append(f.got, event{uid: pod.UID, eventType: eventType, reason: reason, message: message, fieldPath: fieldPath, at: now})
}

type harness struct {
	feed   *Feed
	pods   *fakePods
	view   *fakeView
	events *fakeEvents
	clock  *testingclock.FakeClock
}

func newHarness() *harness {
	h := &harness{pods: &fakePods{}, view: &fakeView{}, events: &fakeEvents{}, clock: testingclock.NewFakeClock(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))}
	h.feed = New(Config{Pods: h.pods, View: h.view, Events: h.events, Clock: h.clock})
	return h
}

func pod(name string, uid types.UID) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name + "-node-1", UID: uid}}
}

func TestFeed_ViewListsFilesByNameWithPodsAndErrors(t *testing.T) {
	h := newHarness()
	web, db := pod("web", "u-web"), pod("db", "u-db")
	h.feed.feed(staticpods.Snapshot{
		Manifests: []staticpods.Manifest{
			{Path: "/m/web.yaml", Pod: web, Changes: []string{"spec.containers[0].image"}},
			{Path: "/m/db.yaml", Pod: db, Err: errors.New("/m/db.yaml: invalid pod: spec.containers: Required value")},
		},
		Errors: []staticpods.FileError{{Path: "/m/bad.yaml", Err: errors.New("/m/bad.yaml: the file is empty")}},
	})
	want := []server.Manifest{
		{File: "/m/bad.yaml", Error: "/m/bad.yaml: the file is empty"},
		{File: "/m/db.yaml", Pod: "default/db-node-1", UID: "u-db", Error: "/m/db.yaml: invalid pod: spec.containers: Required value"},
		{File: "/m/web.yaml", Pod: "default/web-node-1", UID: "u-web", Changes: []string{"spec.containers[0].image"}},
	}
	if !reflect.DeepEqual(h.view.items, want) {
		t.Errorf("view =\n  %+v\nwant\n  %+v", h.view.items, want)
	}
	if len(h.pods.calls) != 1 || !reflect.DeepEqual(h.pods.calls[0], []*v1.Pod{web, db}) {
		t.Errorf("SetDesired calls = %+v, want one with web and db in snapshot order", h.pods.calls)
	}
}

func TestFeed_ManifestChangedOncePerReplacedPod(t *testing.T) {
	h := newHarness()
	first := staticpods.Snapshot{Manifests: []staticpods.Manifest{{Path: "/m/web.yaml", Pod: pod("web", "v1")}}}
	h.feed.feed(first)
	if len(h.events.got) != 0 {
		t.Fatalf("first version of a file recorded %+v, want no event", h.events.got)
	}

	h.clock.Step(time.Minute)
	edited := staticpods.Snapshot{Manifests: []staticpods.Manifest{{Path: "/m/web.yaml", Pod: pod("web", "v2"), Changes: []string{"metadata.labels[app]", "spec.containers[0].image"}}}}
	h.feed.feed(edited)
	h.feed.feed(edited) // the same version again: no second event
	want := []event{{
		uid: "v2", eventType: v1.EventTypeNormal, reason: "ManifestChanged",
		message: "Manifest /m/web.yaml was edited; the pod was replaced for changes in metadata.labels[app], spec.containers[0].image",
		at:      h.clock.Now(),
	}}
	if !reflect.DeepEqual(h.events.got, want) {
		t.Errorf("events =\n  %+v\nwant\n  %+v", h.events.got, want)
	}

	// A version that went away and came back is new again.
	h.feed.feed(staticpods.Snapshot{})
	h.feed.feed(edited)
	if len(h.events.got) != 2 {
		t.Errorf("got %d events after the pod came back, want 2", len(h.events.got))
	}
}

func TestFeed_RunFeedsUntilTheContextEnds(t *testing.T) {
	h := newHarness()
	ctx, cancel := context.WithCancel(context.Background())
	snapshots := make(chan staticpods.Snapshot)
	done := make(chan error, 1)
	go func() { done <- h.feed.Run(ctx, snapshots) }()
	snapshots <- staticpods.Snapshot{Manifests: []staticpods.Manifest{{Path: "/m/web.yaml", Pod: pod("web", "u")}}}
	snapshots <- staticpods.Snapshot{} // handed over only once the first one is fed
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if len(h.pods.calls) < 1 || len(h.pods.calls[0]) != 1 {
		t.Errorf("SetDesired calls = %+v, want the first snapshot's pod first", h.pods.calls)
	}
}

func TestFeed_ManifestErrorsMetricFollowsTheFilesInError(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHarness()
	h.feed = New(Config{Pods: h.pods, View: h.view, Events: h.events, Clock: h.clock, Metrics: reg})
	web := pod("web", "u-web")
	h.feed.feed(staticpods.Snapshot{
		Manifests: []staticpods.Manifest{{Path: "/m/web.yaml", Pod: web, Err: errors.New("web.yaml: bad edit")}},
		Errors:    []staticpods.FileError{{Path: "/m/bad.yaml", Err: errors.New("bad.yaml: not YAML")}},
	})
	want := map[string]float64{"/m/bad.yaml": 1, "/m/web.yaml": 1}
	if got := manifestErrorSeries(t, reg); !reflect.DeepEqual(got, want) {
		t.Fatalf("minikubelet_manifest_errors = %v, want %v", got, want)
	}
	// Fixed files leave the metric.
	h.feed.feed(staticpods.Snapshot{Manifests: []staticpods.Manifest{{Path: "/m/web.yaml", Pod: web}}})
	if got := manifestErrorSeries(t, reg); len(got) != 0 {
		t.Fatalf("minikubelet_manifest_errors = %v after every file was fixed, want none", got)
	}
}

func manifestErrorSeries(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "minikubelet_manifest_errors" {
			continue
		}
		for _, m := range f.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	return out
}
