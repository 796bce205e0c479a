package status

import (
	"context"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"
)

// What a Feed keeps for watchers that resume from a resourceVersion (an
// older one is answered 410 Expired), as the API server's watch cache:
// the changes of the last 75 s (its DefaultEventFreshDuration), and never
// fewer than the last 100 (its DefaultLowerBoundCapacity). Each change
// holds a whole object, so the feed is bounded at 4096 changes too (the
// API server's bound is 102400): a watcher that far behind relists. Once
// a start of many pods is 75 s old, its changes are let go.
const (
	feedFreshFor   = 75 * time.Second
	feedMinChanges = 100
	feedMaxChanges = 4096
	// feedTrimEvery is how often Run lets go of stale changes on a node
	// where nothing changes.
	feedTrimEvery = 15 * time.Second
)

// ChangeType says what happened to an object, with the words of a watch
// event (k8s.io/apimachinery/pkg/watch.EventType).
type ChangeType string

// The changes a Feed records.
const (
	Added    ChangeType = "ADDED"
	Modified ChangeType = "MODIFIED"
	Deleted  ChangeType = "DELETED"
)

// Change is one change of a pod or an event. Object and Prev are never
// modified once recorded; readers must not modify them either.
type Change struct {
	// RV is the resourceVersion the change made (Object carries it too).
	RV   uint64
	Type ChangeType
	// Object is the object after the change (for Deleted, the last state).
	Object runtime.Object
	// Prev is the object before the change (nil for Added).
	Prev runtime.Object
	// at is when it was recorded.
	at time.Time
}

// Feed numbers every change of the pods and events it is given with one
// monotonic resourceVersion, as the API server's storage does, and keeps the
// most recent ones so that a watch can resume from a list's version. Store
// and Events record into it under their own lock, so a list they return
// with its version holds exactly the changes up to that version.
type Feed struct {
	clock  clock.WithTicker
	mu     sync.Mutex
	rv     uint64
	oldest uint64 // the resourceVersion of log[0], or rv+1 when empty
	log    []Change
	notify chan struct{}
}

// NewFeed returns a feed whose first change gets resourceVersion first+1.
// A daemon passes a value above any it handed out before (its start time in
// microseconds), so that a client resuming from an earlier run's version is
// told to relist instead of waiting for versions that already passed.
func NewFeed(first uint64) *Feed { return newFeedOn(first, clock.RealClock{}) }

func newFeedOn(first uint64, clk clock.WithTicker) *Feed {
	return &Feed{clock: clk, rv: first, oldest: first + 1, notify: make(chan struct{})}
}

// record numbers a change, stamps obj with its resourceVersion and wakes
// the watchers. obj must be a copy no one else modifies.
func (f *Feed) record(typ ChangeType, obj, prev runtime.Object) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rv++
	if m, err := meta.Accessor(obj); err == nil {
		m.SetResourceVersion(strconv.FormatUint(f.rv, 10))
	}
	f.log = append(f.log, Change{RV: f.rv, Type: typ, Object: obj, Prev: prev, at: f.clock.Now()})
	f.trimLocked()
	close(f.notify)
	f.notify = make(chan struct{})
	return f.rv
}

// trimLocked lets go of the changes no longer kept: beyond the newest
// feedMinChanges, those older than feedFreshFor, and any beyond
// feedMaxChanges.
func (f *Feed) trimLocked() {
	drop := 0
	if n := len(f.log); n > feedMaxChanges {
		drop = n - feedMaxChanges
	}
	stale := f.clock.Now().Add(-feedFreshFor)
	for len(f.log)-drop > feedMinChanges && f.log[drop].at.Before(stale) {
		drop++
	}
	if drop > 0 {
		// Cleared, so the dropped objects can be collected; the array's
		// front is let go at the next growth.
		clear(f.log[:drop])
		f.log = f.log[drop:]
	}
	if len(f.log) > 0 {
		f.oldest = f.log[0].RV
	} else {
		f.oldest = f.rv + 1
	}
}

// Run lets go of stale changes every 15 s until ctx ends, so that a node
// where nothing changes does not hold the changes of its start.
func (f *Feed) Run(ctx context.Context) {
	t := f.clock.NewTicker(feedTrimEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			f.mu.Lock()
			f.trimLocked()
			f.mu.Unlock()
		}
	}
}

// Current is the latest resourceVersion.
func (f *Feed) Current() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rv
}

// Since returns the changes after resourceVersion rv and a channel closed at
// the next change. ok is false when changes after rv are no longer kept
// (the API server's "too old resource version"); oldest is then the
// version the feed holds from.
func (f *Feed) Since(rv uint64) (changes []Change, next <-chan struct{}, oldest uint64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rv+1 < f.oldest {
		return nil, f.notify, f.oldest, false
	}
	i := len(f.log)
	for i > 0 && f.log[i-1].RV > rv {
		i--
	}
	return append([]Change(nil), f.log[i:]...), f.notify, f.oldest, true
}
