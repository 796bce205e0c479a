package eviction

import (
	"fmt"
	"sort"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The kubelet's eviction messages (pkg/kubelet/eviction/helpers.go),
// trailing spaces included.
const (
	nodeLowMessageFmt      = "The node was low on resource: %v. "
	thresholdMetMessageFmt = "Threshold quantity: %v, available: %v. "
	containerMessageFmt    = "Container %s was using %s, request is %s, has larger consumption of %v. "
	// resourceInodes is the kubelet's name of the inodes resource.
	resourceInodes v1.ResourceName = "inodes"
)

// observation is what one signal measured.
type observation struct {
	available, capacity int64
}

// met is a threshold met, with what was available.
type met struct {
	Threshold
	available, capacity int64
}

// thresholdsMet returns the thresholds whose signal has less available
// than the threshold, in the order of ths. A signal not measured is not
// met.
func thresholdsMet(ths []Threshold, obs map[Signal]observation) []met {
	var out []met
	for _, t := range ths {
		o, ok := obs[t.Signal]
		if !ok || o.capacity <= 0 {
			continue
		}
		if o.available < t.value(o.capacity) {
			out = append(out, met{Threshold: t, available: o.available, capacity: o.capacity})
		}
	}
	return out
}

// nodeConditions are the pressures the met thresholds put the node under.
func nodeConditions(ms []met) (memoryPressure, diskPressure bool) {
	for _, m := range ms {
		if m.Signal == SignalMemoryAvailable {
			memoryPressure = true
		} else {
			diskPressure = true
		}
	}
	return memoryPressure, diskPressure
}

// resourceToReclaim is the resource a signal's pressure is about.
func resourceToReclaim(s Signal) v1.ResourceName {
	switch s {
	case SignalMemoryAvailable:
		return v1.ResourceMemory
	case SignalNodeFsInodesFree, SignalImageFsInodesFree:
		return resourceInodes
	default:
		return v1.ResourceEphemeralStorage
	}
}

// podUsage is what a pod uses, for ranking: memory is the working set;
// disk is what the disk signals count (its containers' writable layers
// and logs, its local volumes); containers holds each container's memory
// and disk (writable layer and logs).
type podUsage struct {
	pod        *v1.Pod
	memory     int64
	disk       int64
	containers map[string]containerUsage
}

type containerUsage struct {
	memory, disk int64
}

// usage is the pod's use of the resource a signal reclaims.
func (u podUsage) usage(res v1.ResourceName) int64 {
	if res == v1.ResourceMemory {
		return u.memory
	}
	return u.disk
}

// requests is the sum of the pod's regular containers' requests of res.
func requests(pod *v1.Pod, res v1.ResourceName) int64 {
	if res == resourceInodes {
		return 0
	}
	var n int64
	for i := range pod.Spec.Containers {
		if q, ok := pod.Spec.Containers[i].Resources.Requests[res]; ok {
			n += q.Value()
		}
	}
	return n
}

func priority(pod *v1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	return 0
}

// rank orders pods for eviction under pressure on res as the kubelet's
// rankMemoryPressure and rankDiskPressureFunc: pods whose usage exceeds
// their requests first, then lower priority first, then the larger usage
// over requests first.
func rank(pods []podUsage, res v1.ResourceName) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		ra, rb := requests(a.pod, res), requests(b.pod, res)
		ea, eb := a.usage(res) > ra, b.usage(res) > rb
		if ea != eb {
			return ea
		}
		if pa, pb := priority(a.pod), priority(b.pod); pa != pb {
			return pa < pb
		}
		return a.usage(res)-ra > b.usage(res)-rb
	})
}

// evictable reports whether the pod may be evicted: not one of a
// system-critical priority, as the kubelet keeps critical pods.
func evictable(pod *v1.Pod) bool {
	return priority(pod) < 2000000000 // scheduling.SystemCriticalPriority
}

// message is the kubelet's eviction message for pod under the met
// threshold m: the resource, the threshold and what was available, and
// each container using more than it requests.
func message(m met, u podUsage) string {
	res := resourceToReclaim(m.Signal)
	msg := fmt.Sprintf(nodeLowMessageFmt, res)
	msg += fmt.Sprintf(thresholdMetMessageFmt, quantity(m.value(m.capacity), res).String(), quantity(m.available, res).String())
	if res == resourceInodes {
		return msg
	}
	for i := range u.pod.Spec.Containers {
		c := &u.pod.Spec.Containers[i]
		cu, ok := u.containers[c.Name]
		if !ok {
			continue
		}
		used := cu.disk
		if res == v1.ResourceMemory {
			used = cu.memory
		}
		req := c.Resources.Requests[res]
		usage := resource.NewQuantity(used, resource.BinarySI)
		if usage.Cmp(req) > 0 {
			msg += fmt.Sprintf(containerMessageFmt, c.Name, usage.String(), req.String(), res)
		}
	}
	return msg
}

func quantity(n int64, res v1.ResourceName) *resource.Quantity {
	if res == resourceInodes {
		return resource.NewQuantity(n, resource.DecimalSI)
	}
	return resource.NewQuantity(n, resource.BinarySI)
}
