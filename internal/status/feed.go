package status

import (
	"strconv"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
)

// defaultFeedSize is how many changes a Feed keeps for watchers that resume
// from a resourceVersion; an older one is answered 410 Expired.
const defaultFeedSize = 4096

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
}

// Feed numbers every change of the pods and events it is given with one
// monotonic resourceVersion, as the API server's storage does, and keeps the
// most recent ones so that a watch can resume from a list's version. Store
// and Events record into it under their own lock, so a list they return
// with its version holds exactly the changes up to that version.
type Feed struct {
	mu     sync.Mutex
	rv     uint64
	oldest uint64 // the resourceVersion of log[0], or rv+1 when empty
	log    []Change
	size   int
	notify chan struct{}
}

// NewFeed returns a feed whose first change gets resourceVersion first+1.
// A daemon passes a value above any it handed out before (its start time in
// microseconds), so that a client resuming from an earlier run's version is
// told to relist instead of waiting for versions that already passed.
func NewFeed(first uint64) *Feed {
	return &Feed{rv: first, oldest: first + 1, size: defaultFeedSize, notify: make(chan struct{})}
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
	f.log = append(f.log, Change{RV: f.rv, Type: typ, Object: obj, Prev: prev})
	if len(f.log) > f.size {
		drop := len(f.log) - f.size
		f.log = append([]Change(nil), f.log[drop:]...)
	}
	f.oldest = f.log[0].RV
	close(f.notify)
	f.notify = make(chan struct{})
	return f.rv
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
