package status

import (
	"fmt"
	"sort"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// maxEventsPerPod bounds the events kept for one object; the oldest go first.
const maxEventsPerPod = 64

// eventSource is the component that reports events, as the kubelet's.
const eventSource = "kubelet"

// clusterEventNamespace is where events about objects without a namespace
// (the node) live, as the kubelet records them.
const clusterEventNamespace = metav1.NamespaceDefault

// Events keeps recent events per involved object (each pod, the node),
// merging repeats of the same reason and message into one event with a
// count, as the API server's event aggregation shows them in kubectl
// describe. Every change is numbered by its Feed.
type Events struct {
	mu     sync.Mutex
	byObj  map[types.UID][]*v1.Event
	host   string
	serial int
	feed   *Feed
}

// NewEvents returns an empty event store for a node named host, with a
// feed of its own.
func NewEvents(host string) *Events { return NewEventsOn(host, NewFeed(0)) }

// NewEventsOn returns an empty event store for a node named host,
// recording its changes in feed.
func NewEventsOn(host string, feed *Feed) *Events {
	return &Events{byObj: map[types.UID][]*v1.Event{}, host: host, feed: feed}
}

// Record adds an event about pod (Normal or Warning). fieldPath names the
// container when the event is about one ("spec.containers{web}").
func (e *Events) Record(pod *v1.Pod, fieldPath, eventType, reason, message string, now time.Time) {
	e.RecordFor(v1.ObjectReference{
		Kind:       "Pod",
		APIVersion: "v1",
		Namespace:  pod.Namespace,
		Name:       pod.Name,
		UID:        pod.UID,
		FieldPath:  fieldPath,
	}, eventType, reason, message, now)
}

// NodeRef is how the kubelet names its node in events: kind Node, the
// node's name as its UID, no namespace.
func NodeRef(nodeName string) v1.ObjectReference {
	return v1.ObjectReference{Kind: "Node", Name: nodeName, UID: types.UID(nodeName)}
}

// RecordNode adds an event about the node itself (image garbage
// collection, node pressure), as the kubelet records them against its
// node.
func (e *Events) RecordNode(eventType, reason, message string, now time.Time) {
	e.RecordFor(NodeRef(e.host), eventType, reason, message, now)
}

// RecordFor adds an event about the object ref names.
func (e *Events) RecordFor(ref v1.ObjectReference, eventType, reason, message string, now time.Time) {
	ts := metav1.NewTime(now)
	e.mu.Lock()
	defer e.mu.Unlock()
	list := e.byObj[ref.UID]
	for i, ev := range list {
		if ev.Reason == reason && ev.Message == message && ev.Type == eventType && ev.InvolvedObject.FieldPath == ref.FieldPath {
			// Recorded events are shared with the feed: change a copy.
			next := ev.DeepCopy()
			next.Count++
			next.LastTimestamp = ts
			e.feed.record(Modified, next, ev)
			list[i] = next
			return
		}
	}
	e.serial++
	namespace := ref.Namespace
	if namespace == "" {
		namespace = clusterEventNamespace
	}
	ev := &v1.Event{
		TypeMeta: metav1.TypeMeta{Kind: "Event", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name:              fmt.Sprintf("%s.%x", ref.Name, now.UnixNano()+int64(e.serial)),
			Namespace:         namespace,
			UID:               types.UID(fmt.Sprintf("%s-%x-%d", ref.UID, now.UnixNano(), e.serial)),
			CreationTimestamp: ts,
		},
		InvolvedObject: ref,
		Reason:         reason,
		Message:        message,
		Type:           eventType,
		Count:          1,
		FirstTimestamp: ts,
		LastTimestamp:  ts,
		Source:         v1.EventSource{Component: eventSource, Host: e.host},
	}
	e.feed.record(Added, ev, nil)
	list = append(list, ev)
	if len(list) > maxEventsPerPod {
		for _, old := range list[:len(list)-maxEventsPerPod] {
			e.feed.record(Deleted, old.DeepCopy(), old)
		}
		list = append([]*v1.Event(nil), list[len(list)-maxEventsPerPod:]...)
	}
	e.byObj[ref.UID] = list
}

// Forget drops the events of a pod that is gone.
func (e *Events) Forget(uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, old := range e.byObj[uid] {
		e.feed.record(Deleted, old.DeepCopy(), old)
	}
	delete(e.byObj, uid)
}

// List returns copies of every event, oldest first by last occurrence.
func (e *Events) List() []v1.Event {
	events, _ := e.ListAt()
	return events
}

// ListAt is List with the resourceVersion the list is at.
func (e *Events) ListAt() ([]v1.Event, uint64) {
	e.mu.Lock()
	var out []v1.Event
	for _, list := range e.byObj {
		for _, ev := range list {
			out = append(out, *ev.DeepCopy())
		}
	}
	rv := e.feed.Current()
	e.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].LastTimestamp.Equal(&out[j].LastTimestamp) {
			return out[i].LastTimestamp.Before(&out[j].LastTimestamp)
		}
		return out[i].Name < out[j].Name
	})
	return out, rv
}

// ContainerFieldPath is how an event names a container of a pod.
func ContainerFieldPath(pod *v1.Pod, name string) string {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return fmt.Sprintf("spec.initContainers{%s}", name)
		}
	}
	return fmt.Sprintf("spec.containers{%s}", name)
}
