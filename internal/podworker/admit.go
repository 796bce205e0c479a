package podworker

import (
	"sort"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minikubelet/minikubelet/internal/sandbox"
	"github.com/minikubelet/minikubelet/internal/status"
)

// The kubelet's admission refusal of a pod whose host ports another pod on
// the node holds: the NodePorts predicate of pkg/kubelet/lifecycle/predicate.go,
// and the "Pod was rejected: " prefix of rejectPod in pkg/kubelet/kubelet.go.
const (
	reasonNodePorts  = "NodePorts"
	messageNodePorts = "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports"
)

// configSeenAnnotation is when the node first saw the pod's manifest
// (staticpods' kubernetes.io/config.seen): the older pod is admitted first.
const configSeenAnnotation = "kubernetes.io/config.seen"

// rejection is why the node refused a pod: it never runs, and shows Failed
// with this reason and message until its manifest changes.
type rejection struct {
	Reason, Message string
}

// admissionOrder sorts the UIDs of pods to admit: pods the runtime already
// runs first (so a restart of the daemon keeps the pod that held a port),
// then by when their manifests were first seen, then by UID.
func admissionOrder(uids []types.UID, pods map[types.UID]*v1.Pod, present func(types.UID) bool) {
	seen := func(uid types.UID) string { return pods[uid].Annotations[configSeenAnnotation] }
	sort.Slice(uids, func(i, j int) bool {
		a, b := uids[i], uids[j]
		if pa, pb := present(a), present(b); pa != pb {
			return pa
		}
		if sa, sb := seen(a), seen(b); sa != sb {
			return sa < sb
		}
		return a < b
	})
}

// admit decides whether pod may run beside the pods already admitted, as
// the kubelet's admission does for host ports: nil, or why not.
func admit(pod *v1.Pod, admitted []*v1.Pod) *rejection {
	ports := sandbox.HostPorts(pod)
	if len(ports) == 0 {
		return nil
	}
	for _, other := range admitted {
		for _, held := range sandbox.HostPorts(other) {
			for _, want := range ports {
				if hostPortsConflict(want, held) {
					return &rejection{Reason: reasonNodePorts, Message: messageNodePorts}
				}
			}
		}
	}
	return nil
}

// hostPortsConflict: the same protocol and host port, on the same host IP
// or where either is every address (empty or 0.0.0.0), as the scheduler's
// HostPortInfo counts them.
func hostPortsConflict(a, b v1.ContainerPort) bool {
	if a.HostPort != b.HostPort || protocolOf(a) != protocolOf(b) {
		return false
	}
	wild := func(ip string) bool { return ip == "" || ip == "0.0.0.0" }
	return wild(a.HostIP) || wild(b.HostIP) || a.HostIP == b.HostIP
}

func protocolOf(p v1.ContainerPort) v1.Protocol {
	if p.Protocol == "" {
		return v1.ProtocolTCP
	}
	return p.Protocol
}

// publishRejected shows a refused pod as the kubelet's rejectPod leaves
// it: Failed with the reason and message, and nothing else observed.
func (w *worker) publishRejected(pod *v1.Pod, r *rejection) {
	out := pod.DeepCopy()
	out.Status = v1.PodStatus{
		Phase:    v1.PodFailed,
		Reason:   r.Reason,
		Message:  r.Message,
		QOSClass: status.QOSClass(&pod.Spec),
	}
	if out.CreationTimestamp.IsZero() {
		out.CreationTimestamp = metav1.NewTime(w.m.clock.Now())
	}
	w.m.cfg.Status.Set(out)
}
