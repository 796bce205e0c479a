package status

import (
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEvents_NodeEventsAreAboutTheNodeAndCountRepeats(t *testing.T) {
	e := NewEvents("node-1")
	now := time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1"}}
	e.Record(pod, "", v1.EventTypeNormal, "Started", "Started container c", now)
	e.RecordNode(v1.EventTypeWarning, "FreeDiskSpaceFailed", "not enough", now.Add(time.Second))
	e.RecordNode(v1.EventTypeWarning, "FreeDiskSpaceFailed", "not enough", now.Add(2*time.Second))
	list := e.List()
	if len(list) != 2 {
		t.Fatalf("%d events, want 2: %+v", len(list), list)
	}
	node := list[1]
	if node.InvolvedObject.Kind != "Node" || node.InvolvedObject.Name != "node-1" || node.InvolvedObject.UID != "node-1" ||
		node.Namespace != "default" || node.Count != 2 || node.Reason != "FreeDiskSpaceFailed" {
		t.Fatalf("node event %+v, want one about Node node-1 in default, counted twice", node)
	}
	e.Forget("u1")
	if list := e.List(); len(list) != 1 || list[0].InvolvedObject.Kind != "Node" {
		t.Fatalf("after the pod went: %+v, want the node's event only", list)
	}
}
