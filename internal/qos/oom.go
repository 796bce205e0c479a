package qos

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// oom_score_adj values of pkg/kubelet/qos/policy.go.
const (
	guaranteedOOMScoreAdj = -997
	besteffortOOMScoreAdj = 1000
)

// systemNodeCritical is the priority class whose pods the kubelet protects
// as it protects itself (pkg/kubelet/types IsNodeCriticalPod: every static
// pod is critical, so the class alone decides).
const systemNodeCritical = "system-node-critical"

// defaultMemoryRequest is what a container without a memory request counts
// as when a sidecar's score is compared to the app containers'
// (pkg/scheduler/util DefaultMemoryRequest).
const defaultMemoryRequest = 200 * 1024 * 1024

// ContainerOOMScoreAdjust is the oom_score_adj the kubelet gives c
// (pkg/kubelet/qos/policy.go GetContainerOOMScoreAdjust): -997 for a
// system-node-critical or Guaranteed pod, 1000 for BestEffort, and for
// Burstable 1000 minus the container's share of the node's memory in
// thousandths, kept within 3..999; a sidecar scores as the smallest of
// the pod's containers, plus one when it is that smallest.
func ContainerOOMScoreAdjust(spec *v1.PodSpec, c *v1.Container, memoryCapacity int64) int {
	if spec.PriorityClassName == systemNodeCritical {
		return guaranteedOOMScoreAdj
	}
	switch PodQOS(spec) {
	case v1.PodQOSGuaranteed:
		return guaranteedOOMScoreAdj
	case v1.PodQOSBestEffort:
		return besteffortOOMScoreAdj
	}
	if memoryCapacity <= 0 {
		return besteffortOOMScoreAdj - 1
	}
	request := c.Resources.Requests.Memory().Value()
	adj := 1000 - (1000*request)/memoryCapacity
	if IsSidecar(spec, c) {
		least := minMemoryRequest(spec, c)
		adj = 1000 - (1000*least)/memoryCapacity
		if least <= request {
			adj++
		}
	}
	if adj < 1000+guaranteedOOMScoreAdj {
		return 1000 + guaranteedOOMScoreAdj
	}
	if adj == besteffortOOMScoreAdj {
		return int(adj - 1)
	}
	return int(adj)
}

// minMemoryRequest is the least memory request among the app containers and
// the sidecar, a missing request counting as defaultMemoryRequest.
func minMemoryRequest(spec *v1.PodSpec, sidecar *v1.Container) int64 {
	least := requestOrDefault(sidecar)
	for i := range spec.Containers {
		least = min(least, requestOrDefault(&spec.Containers[i]))
	}
	return least
}

func requestOrDefault(c *v1.Container) int64 {
	if q, ok := c.Resources.Requests[v1.ResourceMemory]; ok {
		return q.Value()
	}
	return resource.NewQuantity(defaultMemoryRequest, resource.BinarySI).Value()
}
