package podworker

import (
	"context"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
)

// firstSyncs records Config.OnFirstSync calls.
type firstSyncs struct {
	mu   sync.Mutex
	uids []types.UID
	ch   chan struct{}
}

func (f *firstSyncs) add(uid types.UID) {
	f.mu.Lock()
	f.uids = append(f.uids, uid)
	f.mu.Unlock()
	f.ch <- struct{}{}
}

func (f *firstSyncs) got() []types.UID {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]types.UID{}, f.uids...)
}

func TestManager_FirstSyncIsReportedOncePerPodStartedOrRejected(t *testing.T) {
	h := newHarness(t, busybox)
	f := &firstSyncs{ch: make(chan struct{}, 16)}
	startedFirst := false
	h.m.cfg.OnFirstSync = func(uid types.UID) {
		if uid == "u1" {
			startedFirst = len(h.rt.running("a")) == 1
		}
		f.add(uid)
	}
	h.run()
	first, second := hostPortClash()
	h.m.SetDesired([]*v1.Pod{first, second})
	for range 2 {
		select {
		case <-f.ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("first syncs %v, want u1 and u2", f.got())
		}
	}
	h.runningOne("a")
	h.m.wake("u1")
	h.stop()
	got := f.got()
	seen := map[types.UID]int{}
	for _, uid := range got {
		seen[uid]++
	}
	if len(got) != 2 || seen["u1"] != 1 || seen["u2"] != 1 {
		t.Fatalf("first syncs %v, want u1 and u2 once each", got)
	}
	if !startedFirst {
		t.Fatalf("u1's first sync was reported before its container ran")
	}
}

func TestRelister_LastDoneMovesWithEachRelist(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	r := newRelister(newFakeRuntime(clk), newMetrics(nil), testNode, clk, 0)
	if got := r.lastDone(); !got.IsZero() {
		t.Fatalf("lastDone before the first relist = %v, want zero", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	results := make(chan relistResult)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.run(ctx, func(res relistResult) {
			select {
			case results <- res:
			case <-ctx.Done():
			}
		}, func(error) {})
	}()
	defer func() { cancel(); <-done }()
	for i, want := range []time.Time{t0, t0.Add(defaultRelistInterval)} {
		if i > 0 {
			clk.Step(defaultRelistInterval)
		}
		select {
		case <-results:
		case <-time.After(10 * time.Second):
			t.Fatalf("relist %d never finished", i+1)
		}
		if got := r.lastDone(); !got.Equal(want) {
			t.Fatalf("lastDone after relist %d = %v, want %v", i+1, got, want)
		}
	}
	// The next result is never taken: lastDone stays where it was.
	clk.Step(defaultRelistInterval)
	clk.Step(defaultRelistInterval)
	if got := r.lastDone(); got.After(t0.Add(2 * defaultRelistInterval)) {
		t.Fatalf("lastDone = %v while the result was not taken, want at most %v", got, t0.Add(2*defaultRelistInterval))
	}
}
