package qos

import (
	"strings"

	v1 "k8s.io/api/core/v1"
)

// isPodLevelResource: the resources spec.resources may set (cpu, memory
// and hugepages), as k8s.io/component-helpers/resource
// IsSupportedPodLevelResource.
func isPodLevelResource(name v1.ResourceName) bool {
	return name == v1.ResourceCPU || name == v1.ResourceMemory || strings.HasPrefix(string(name), v1.ResourceHugePagesPrefix)
}

// PodRequests is what the pod requests as a whole, as the kubelet sizes
// its cgroup and admits it (k8s.io/component-helpers/resource
// PodRequests): the sum of the app containers and sidecars, or the
// largest init container with the sidecars started before it when that
// is more; pod-level resources replace what they set; overhead is added.
func PodRequests(spec *v1.PodSpec) v1.ResourceList {
	reqs := aggregate(spec, func(c *v1.Container) v1.ResourceList { return c.Resources.Requests })
	if spec.Resources != nil {
		for name, q := range spec.Resources.Requests {
			if isPodLevelResource(name) {
				reqs[name] = q.DeepCopy()
			}
		}
	}
	for name, q := range spec.Overhead {
		v := reqs[name]
		v.Add(q)
		reqs[name] = v
	}
	return reqs
}

// PodLimits is the pod's limits as a whole, summed as PodRequests; overhead
// is added only to a limit that is set. cpuAll and memoryAll report whether
// every container (or the pod level) limits cpu and memory: only then does
// the kubelet limit the pod cgroup.
func PodLimits(spec *v1.PodSpec) (limits v1.ResourceList, cpuAll, memoryAll bool) {
	cpuAll, memoryAll = true, true
	for _, list := range [][]v1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			l := list[i].Resources.Limits
			if q := l[v1.ResourceCPU]; q.IsZero() {
				cpuAll = false
			}
			if q := l[v1.ResourceMemory]; q.IsZero() {
				memoryAll = false
			}
		}
	}
	limits = aggregate(spec, func(c *v1.Container) v1.ResourceList { return c.Resources.Limits })
	if spec.Resources != nil {
		for name, q := range spec.Resources.Limits {
			if !isPodLevelResource(name) {
				continue
			}
			limits[name] = q.DeepCopy()
			if !q.IsZero() && name == v1.ResourceCPU {
				cpuAll = true
			}
			if !q.IsZero() && name == v1.ResourceMemory {
				memoryAll = true
			}
		}
	}
	for name, q := range spec.Overhead {
		if v, ok := limits[name]; ok && !v.IsZero() {
			v.Add(q)
			limits[name] = v
		}
	}
	return limits, cpuAll, memoryAll
}

// aggregate sums of of the app containers and sidecars, and takes, per
// resource, the larger of that and each init container's own (plus the
// sidecars declared before it).
func aggregate(spec *v1.PodSpec, of func(*v1.Container) v1.ResourceList) v1.ResourceList {
	sum := v1.ResourceList{}
	for i := range spec.Containers {
		addTo(sum, of(&spec.Containers[i]))
	}
	sidecars := v1.ResourceList{}
	initMax := v1.ResourceList{}
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways {
			addTo(sum, of(c))
			addTo(sidecars, of(c))
			// A sidecar runs alongside the init containers after it.
			maxInto(initMax, sidecars)
			continue
		}
		tmp := v1.ResourceList{}
		addTo(tmp, of(c))
		addTo(tmp, sidecars)
		maxInto(initMax, tmp)
	}
	maxInto(sum, initMax)
	return sum
}

func addTo(dst, src v1.ResourceList) {
	for name, q := range src {
		v := dst[name]
		v.Add(q)
		dst[name] = v
	}
}

func maxInto(dst, src v1.ResourceList) {
	for name, q := range src {
		if v, ok := dst[name]; !ok || q.Cmp(v) > 0 {
			dst[name] = q.DeepCopy()
		}
	}
}
