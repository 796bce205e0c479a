package podworker

import (
	"reflect"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

func portsPod(name string, app []v1.ContainerPort, init []v1.ContainerPort) *v1.Pod {
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(name)}}
	p.Spec.Containers = []v1.Container{{Name: "c", Ports: app}}
	if init != nil {
		p.Spec.InitContainers = []v1.Container{{Name: "i", Ports: init}}
	}
	return p
}

func TestAdmit_HostPortConflicts(t *testing.T) {
	tcp := func(port int32, ip string) v1.ContainerPort {
		return v1.ContainerPort{ContainerPort: 80, HostPort: port, HostIP: ip, Protocol: v1.ProtocolTCP}
	}
	udp := v1.ContainerPort{ContainerPort: 53, HostPort: 8080, Protocol: v1.ProtocolUDP}
	tests := []struct {
		name     string
		held     *v1.Pod
		want     []v1.ContainerPort
		wantInit []v1.ContainerPort
		rejected bool
	}{
		{name: "the same port", held: portsPod("a", []v1.ContainerPort{tcp(8080, "")}, nil), want: []v1.ContainerPort{tcp(8080, "")}, rejected: true},
		{name: "another port", held: portsPod("a", []v1.ContainerPort{tcp(8080, "")}, nil), want: []v1.ContainerPort{tcp(8081, "")}},
		{name: "another protocol", held: portsPod("a", []v1.ContainerPort{tcp(8080, "")}, nil), want: []v1.ContainerPort{udp}},
		{name: "an empty protocol is TCP", held: portsPod("a", []v1.ContainerPort{{ContainerPort: 80, HostPort: 8080}}, nil), want: []v1.ContainerPort{tcp(8080, "")}, rejected: true},
		{name: "two distinct host IPs", held: portsPod("a", []v1.ContainerPort{tcp(8080, "127.0.0.1")}, nil), want: []v1.ContainerPort{tcp(8080, "127.0.0.2")}},
		{name: "0.0.0.0 takes every IP", held: portsPod("a", []v1.ContainerPort{tcp(8080, "0.0.0.0")}, nil), want: []v1.ContainerPort{tcp(8080, "127.0.0.2")}, rejected: true},
		{name: "an IP against every IP", held: portsPod("a", []v1.ContainerPort{tcp(8080, "127.0.0.1")}, nil), want: []v1.ContainerPort{tcp(8080, "")}, rejected: true},
		{name: "init containers' ports are not mapped, so not held", held: portsPod("a", nil, []v1.ContainerPort{tcp(8080, "")}), want: []v1.ContainerPort{tcp(8080, "")}},
		{name: "nor asked for", held: portsPod("a", []v1.ContainerPort{tcp(8080, "")}, nil), wantInit: []v1.ContainerPort{tcp(8080, "")}},
		{name: "a container port without a host port", held: portsPod("a", []v1.ContainerPort{{ContainerPort: 8080}}, nil), want: []v1.ContainerPort{{ContainerPort: 8080}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := admit(portsPod("b", tt.want, tt.wantInit), []*v1.Pod{tt.held})
			if (r != nil) != tt.rejected {
				t.Fatalf("admit = %+v, want rejected %v", r, tt.rejected)
			}
			if r != nil && (r.Reason != "NodePorts" || r.Message != "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports") {
				t.Errorf("rejection %+v, want the kubelet's NodePorts reason and message", r)
			}
		})
	}
}

func TestAdmissionOrder_RunningPodsThenFirstSeen(t *testing.T) {
	pods := map[types.UID]*v1.Pod{}
	for uid, seen := range map[types.UID]string{"a": "2026-01-01T00:00:03Z", "b": "2026-01-01T00:00:01Z", "c": "2026-01-01T00:00:02Z", "d": "2026-01-01T00:00:09Z"} {
		pods[uid] = &v1.Pod{ObjectMeta: metav1.ObjectMeta{UID: uid, Annotations: map[string]string{configSeenAnnotation: seen}}}
	}
	uids := []types.UID{"a", "b", "c", "d"}
	admissionOrder(uids, pods, func(uid types.UID) bool { return uid == "d" })
	if want := []types.UID{"d", "b", "c", "a"}; !reflect.DeepEqual(uids, want) {
		t.Fatalf("order %v, want %v", uids, want)
	}
}

// The second pod asking for a held host port is shown Failed with the
// kubelet's reason and never gets a sandbox; the first keeps running.
func TestManager_SecondPodOnAHeldHostPortIsRejected(t *testing.T) {
	h := newHarness(t, busybox)
	h.run()
	first, second := hostPortClash()
	h.m.SetDesired([]*v1.Pod{first, second})
	h.runningOne("a")
	h.waitFor("u2 Failed", func() bool { return h.status("u2").Phase == v1.PodFailed })
	if st := h.status("u2"); st.Reason != reasonNodePorts || st.Message != messageNodePorts {
		t.Errorf("rejected pod status %+v, want reason %s", st, reasonNodePorts)
	}
	if len(h.events.withReason(reasonNodePorts)) != 1 {
		t.Errorf("events %+v, want one NodePorts warning", h.events.events)
	}
	for _, op := range h.rt.history() {
		if op == "run sandbox u2" {
			t.Fatalf("runtime operations %v: the rejected pod got a sandbox", h.rt.history())
		}
	}
	h.waitFor("u1 Running", func() bool { return h.status("u1").Phase == v1.PodRunning })
	// Removing the rejected pod's manifest removes its status.
	h.m.SetDesired([]*v1.Pod{first})
	h.waitFor("u2 gone", func() bool { return h.sink.get("u2") == nil })
}

// As the kubelet's filterOutInactivePods: a pod that finished holds its
// host ports no more; a pod asking for them later is admitted.
func TestManager_AFinishedPodHoldsNoHostPort(t *testing.T) {
	h := newHarness(t, busybox)
	h.run()
	port := []v1.ContainerPort{{ContainerPort: 80, HostPort: 8080, Protocol: v1.ProtocolTCP}}
	first := managedPod("u1", v1.RestartPolicyNever, "a")
	first.Spec.Containers[0].Ports = port
	h.m.SetDesired([]*v1.Pod{first})
	h.rt.exit(h.runningOne("a"), 0)
	h.m.ContainerExited(runtime.Exit{ContainerID: h.rt.lastContainer("a"), ExitCode: 0})
	h.waitFor("u1 Succeeded", func() bool { return h.status("u1").Phase == v1.PodSucceeded })
	second := managedPod("u2", v1.RestartPolicyAlways, "b")
	second.Spec.Containers[0].Ports = port
	h.m.SetDesired([]*v1.Pod{first, second})
	h.runningOne("b")
	if st := h.status("u2"); st.Reason == reasonNodePorts {
		t.Fatalf("u2 rejected for a port only a finished pod asked for: %+v", st)
	}
}

// hostPortClash is two pods asking for host port 8080, u1 (container a)
// seen before u2 (container b).
func hostPortClash() (first, second *v1.Pod) {
	port := []v1.ContainerPort{{ContainerPort: 80, HostPort: 8080, Protocol: v1.ProtocolTCP}}
	first = managedPod("u1", v1.RestartPolicyAlways, "a")
	first.Spec.Containers[0].Ports = port
	first.Annotations = map[string]string{configSeenAnnotation: "2026-01-01T00:00:01Z"}
	second = managedPod("u2", v1.RestartPolicyAlways, "b")
	second.Spec.Containers[0].Ports = port
	second.Annotations = map[string]string{configSeenAnnotation: "2026-01-01T00:00:02Z"}
	return first, second
}
