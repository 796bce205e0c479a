package status

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
)

func feedPod(uid, phase string) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: types.UID("u-" + uid)}, Status: v1.PodStatus{Phase: v1.PodPhase(phase)}}
}

func TestStore_NumbersOnlyRealChanges(t *testing.T) {
	feed := NewFeed(100)
	s := NewStoreOn(feed)
	s.Set(feedPod("a", "Pending"))
	s.Set(feedPod("a", "Pending"))
	s.Set(feedPod("a", "Running"))
	s.Delete("u-a")
	s.Delete("u-a")

	changes, _, _, ok := feed.Since(100)
	if !ok {
		t.Fatal("Since(100) expired, want the changes")
	}
	var got []string
	for _, c := range changes {
		p := c.Object.(*v1.Pod)
		got = append(got, string(c.Type)+" "+string(p.Status.Phase)+" "+p.ResourceVersion)
	}
	want := []string{"ADDED Pending 101", "MODIFIED Running 102", "DELETED Running 103"}
	if len(got) != len(want) {
		t.Fatalf("changes = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("changes = %v, want %v", got, want)
		}
	}
	if prev := changes[1].Prev.(*v1.Pod); prev.Status.Phase != v1.PodPending {
		t.Errorf("MODIFIED's previous object has phase %s, want Pending", prev.Status.Phase)
	}
}

func TestStore_ListAtHoldsExactlyTheChangesUpToItsVersion(t *testing.T) {
	feed := NewFeed(0)
	s := NewStoreOn(feed)
	s.Set(feedPod("a", "Pending"))
	pods, rv := s.ListAt()
	s.Set(feedPod("b", "Pending"))
	if len(pods) != 1 || pods[0].ResourceVersion != "1" || rv != 1 {
		t.Fatalf("ListAt() = %d pods (rv %q), list rv %d; want 1 pod at 1", len(pods), pods[0].ResourceVersion, rv)
	}
	changes, _, _, _ := feed.Since(rv)
	if len(changes) != 1 || changes[0].Object.(*v1.Pod).UID != "u-b" {
		t.Fatalf("Since(list rv) = %v, want only the ADDED of b", changes)
	}
}

func TestFeed_TooOldVersionIsExpired(t *testing.T) {
	feed := NewFeed(10)
	s := NewStoreOn(feed)
	for i := range feedMaxChanges + 1 {
		s.Set(feedPod("a", fmt.Sprint("phase-", i)))
	}
	if _, _, oldest, ok := feed.Since(10); ok || oldest != 12 {
		t.Errorf("Since(10) = ok %v oldest %d, want expired with oldest 12", ok, oldest)
	}
	if changes, _, _, ok := feed.Since(11); !ok || len(changes) != feedMaxChanges {
		t.Errorf("Since(11) = ok %v, %d changes; want the %d kept", ok, len(changes), feedMaxChanges)
	}
	if _, _, _, ok := feed.Since(9); ok {
		t.Error("Since(9), before the feed's first version, is not expired")
	}
}

// As the API server's watch cache: a watch may resume from a version of
// the last 75 s, and from any of the last 100 changes however old; older
// ones are let go, even on a node where nothing changes any more.
func TestFeed_KeepsTheLast75SecondsAndAtLeast100Changes(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))
	feed := newFeedOn(0, clk)
	s := NewStoreOn(feed)
	for i := range 300 { // a start of many pods
		s.Set(feedPod(fmt.Sprint(i), "Pending"))
	}
	clk.Step(70 * time.Second)
	s.Set(feedPod("late", "Pending")) // 301
	if _, _, _, ok := feed.Since(0); !ok {
		t.Fatal("a version 70 s old is expired, want it kept")
	}

	clk.Step(10 * time.Second) // the start is 80 s old, the late change 10 s
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { feed.Run(ctx); close(done) }()
	for !clk.HasWaiters() {
		runtime.Gosched()
	}
	clk.Step(feedTrimEvery)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, oldest, ok := feed.Since(0)
		if !ok {
			if want := uint64(301 - feedMinChanges + 1); oldest != want {
				t.Errorf("oldest kept = %d, want %d (the last %d changes)", oldest, want, feedMinChanges)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the start's changes are still kept 95 s later on a node where nothing changed")
		}
		runtime.Gosched()
	}
	if changes, _, _, ok := feed.Since(301 - feedMinChanges); !ok || len(changes) != feedMinChanges {
		t.Errorf("Since(the 100th newest's predecessor) = ok %v with %d changes, want the last %d", ok, len(changes), feedMinChanges)
	}
	cancel()
	<-done
}

func TestFeed_NextClosesOnTheNextChange(t *testing.T) {
	feed := NewFeed(0)
	s := NewStoreOn(feed)
	_, next, _, _ := feed.Since(0)
	select {
	case <-next:
		t.Fatal("next closed before any change")
	default:
	}
	s.Set(feedPod("a", "Pending"))
	select {
	case <-next:
	default:
		t.Fatal("next still open after a change")
	}
}

func TestEvents_RepeatIsModifiedWithACount(t *testing.T) {
	feed := NewFeed(0)
	e := NewEventsOn("node1", feed)
	pod := feedPod("a", "Running")
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	e.Record(pod, "spec.containers{web}", v1.EventTypeWarning, "BackOff", "Back-off restarting failed container", now)
	e.Record(pod, "spec.containers{web}", v1.EventTypeWarning, "BackOff", "Back-off restarting failed container", now.Add(time.Minute))
	e.RecordFor(NodeRef("node1"), v1.EventTypeNormal, "Starting", "Starting kubelet.", now)

	changes, _, _, _ := feed.Since(0)
	if len(changes) != 3 || changes[0].Type != Added || changes[1].Type != Modified || changes[2].Type != Added {
		t.Fatalf("changes = %+v, want ADDED, MODIFIED, ADDED", changes)
	}
	if ev := changes[1].Object.(*v1.Event); ev.Count != 2 || ev.ResourceVersion != "2" {
		t.Errorf("the repeat has count %d rv %q, want 2 and \"2\"", ev.Count, ev.ResourceVersion)
	}
	if first := changes[0].Object.(*v1.Event); first.Count != 1 {
		t.Errorf("the recorded first event was modified in place: count %d", first.Count)
	}
	node := changes[2].Object.(*v1.Event)
	if node.Namespace != "default" || node.InvolvedObject.Kind != "Node" || node.InvolvedObject.UID != "node1" {
		t.Errorf("node event = %s/%s about %+v, want namespace default, Node node1", node.Namespace, node.Name, node.InvolvedObject)
	}
	e.Forget(pod.UID)
	if changes, _, _, _ := feed.Since(3); len(changes) != 1 || changes[0].Type != Deleted {
		t.Errorf("Forget gave %+v, want one DELETED", changes)
	}
}
