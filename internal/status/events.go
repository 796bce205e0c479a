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

// maxEventsPerPod bounds the events kept for one pod; the oldest go first.
const maxEventsPerPod = 64

// eventSource is the component that reports events, as the kubelet's.
const eventSource = "kubelet"

// Events keeps recent events per pod, merging repeats of the same reason
// and message into one event with a count, as the API server's event
// aggregation shows them in kubectl describe.
type Events struct {
	mu     sync.Mutex
	byPod  map[types.UID][]*v1.Event
	node   []*v1.Event
	host   string
	serial int
}

// NewEvents returns an empty event store for a node named host.
func NewEvents(host string) *Events {
	return &Events{byPod: map[types.UID][]*v1.Event{}, host: host}
}

// Record adds an event about pod (Normal or Warning). fieldPath names the
// container when the event is about one ("spec.containers{web}").
func (e *Events) Record(pod *v1.Pod, fieldPath, eventType, reason, message string, now time.Time) {
	ref := v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, FieldPath: fieldPath}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.byPod[pod.UID] = e.record(e.byPod[pod.UID], ref, pod.Namespace, eventType, reason, message, now)
}

// RecordNode adds an event about the node itself (image garbage
// collection), as the kubelet records them against its node: in the
// default namespace, the node's name as its UID.
func (e *Events) RecordNode(eventType, reason, message string, now time.Time) {
	ref := v1.ObjectReference{Kind: "Node", Name: e.host, UID: types.UID(e.host)}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.node = e.record(e.node, ref, metav1.NamespaceDefault, eventType, reason, message, now)
}

// record adds an event about ref to list, or counts a repeat, and returns
// the list; e.mu is held.
func (e *Events) record(list []*v1.Event, ref v1.ObjectReference, namespace, eventType, reason, message string, now time.Time) []*v1.Event {
	ts := metav1.NewTime(now)
	for _, ev := range list {
		if ev.Reason == reason && ev.Message == message && ev.Type == eventType && ev.InvolvedObject.FieldPath == ref.FieldPath {
			ev.Count++
			ev.LastTimestamp = ts
			return list
		}
	}
	e.serial++
	ev := &v1.Event{
		TypeMeta: metav1.TypeMeta{Kind: "Event", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name:              fmt.Sprintf("%s.%x", ref.Name, now.UnixNano()+int64(e.serial)),
			Namespace:         namespace,
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
	list = append(list, ev)
	if len(list) > maxEventsPerPod {
		list = list[len(list)-maxEventsPerPod:]
	}
	return list
}

// Forget drops the events of a pod that is gone.
func (e *Events) Forget(uid types.UID) {
	e.mu.Lock()
	delete(e.byPod, uid)
	e.mu.Unlock()
}

// List returns copies of every event, oldest first by last occurrence.
func (e *Events) List() []v1.Event {
	e.mu.Lock()
	var out []v1.Event
	for _, ev := range e.node {
		out = append(out, *ev.DeepCopy())
	}
	for _, list := range e.byPod {
		for _, ev := range list {
			out = append(out, *ev.DeepCopy())
		}
	}
	e.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].LastTimestamp.Before(&out[j].LastTimestamp)
	})
	return out
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
