package podworker

import (
	"fmt"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/machine"
	"github.com/minikubelet/minikubelet/internal/qos"
)

// linuxResources is the CRI resources of one container, as the kubelet's
// generateLinuxContainerResources (pkg/kubelet/kuberuntime/
// kuberuntime_container_linux.go) makes them: shares from the request (or
// the limit when there is no request), always a CFS period, a quota only
// for a non-zero limit, a container without a limit of its own bounded by
// the pod-level one, the kubelet's oom_score_adj (never below what this
// node lets a process set), and a hugetlb limit for every page size the
// node has, 0 where the container asks for none.
func linuxResources(pc podContext, c *v1.Container) *runtimeapi.LinuxContainerResources {
	spec := &pc.Pod.Spec
	cpuLimit, memLimit := effectiveLimit(spec, c, v1.ResourceCPU), effectiveLimit(spec, c, v1.ResourceMemory)
	r := &runtimeapi.LinuxContainerResources{CpuPeriod: qos.QuotaPeriod}
	if req, ok := c.Resources.Requests[v1.ResourceCPU]; ok {
		r.CpuShares = qos.MilliCPUToShares(req.MilliValue())
	} else {
		r.CpuShares = qos.MilliCPUToShares(cpuLimit.MilliValue())
	}
	r.CpuQuota = qos.MilliCPUToQuota(cpuLimit.MilliValue())
	r.MemoryLimitInBytes = memLimit.Value()
	r.OomScoreAdj = int64(max(qos.ContainerOOMScoreAdjust(spec, c, pc.Node.MemoryCapacity), pc.Node.OOMScoreAdjFloor))
	r.HugepageLimits = hugepageLimits(pc.Node, c.Resources.Limits)
	return r
}

// effectiveLimit is the container's limit of name, or the pod-level one
// when the container sets none (the kubelet's getCPULimit/getMemoryLimit).
func effectiveLimit(spec *v1.PodSpec, c *v1.Container, name v1.ResourceName) resource.Quantity {
	if q := c.Resources.Limits[name]; !q.IsZero() || spec.Resources == nil {
		return q
	}
	return spec.Resources.Limits[name]
}

// hugepageLimits lists every page size of the node, limited to what limits
// asks of it (the kubelet's GetHugepageLimitsFromResources).
func hugepageLimits(node machine.Info, limits v1.ResourceList) []*runtimeapi.HugepageLimit {
	var out []*runtimeapi.HugepageLimit
	for _, p := range node.HugePages {
		q := limits[machine.HugePageResource(p.PageSize)]
		out = append(out, &runtimeapi.HugepageLimit{PageSize: machine.CRIPageSize(p.PageSize), Limit: uint64(q.Value())})
	}
	return out
}

// resourceFieldValue is a resourceFieldRef's value, as the kubelet's
// ExtractContainerResourceValue reads it: from the container it names (this
// one when it names none); an unset limit reads as the pod-level limit,
// else the node's allocatable (pkg/kubelet/kubelet_resources.go
// containerResourceRuntimeValue); CPU rounds up to whole divisor units.
func resourceFieldValue(pc podContext, c *v1.Container, ref *v1.ResourceFieldSelector) (string, error) {
	if ref.ContainerName != "" && ref.ContainerName != c.Name {
		named := findContainer(&pc.Pod.Spec, ref.ContainerName)
		if named == nil {
			return "", fmt.Errorf("resourceFieldRef: no container named %q in the pod", ref.ContainerName)
		}
		c = named
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("unsupported resourceFieldRef %q", ref.Resource)
	}
	res := v1.ResourceName(name)
	switch {
	case res == v1.ResourceCPU, res == v1.ResourceMemory, res == v1.ResourceEphemeralStorage, strings.HasPrefix(name, v1.ResourceHugePagesPrefix):
	default:
		return "", fmt.Errorf("unsupported resourceFieldRef %q", ref.Resource)
	}
	var q resource.Quantity
	if kind == "requests" {
		q = c.Resources.Requests[res]
	} else {
		q = effectiveLimit(&pc.Pod.Spec, c, res)
		if q.IsZero() && !strings.HasPrefix(name, v1.ResourceHugePagesPrefix) {
			q = pc.Node.Allocatable()[res]
		}
	}
	if res == v1.ResourceCPU {
		v := (q.MilliValue() + divisor.MilliValue() - 1) / divisor.MilliValue()
		return strconv.FormatInt(v, 10), nil
	}
	v := (q.Value() + divisor.Value() - 1) / divisor.Value()
	return strconv.FormatInt(v, 10), nil
}

func findContainer(spec *v1.PodSpec, name string) *v1.Container {
	for _, list := range [][]v1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}
