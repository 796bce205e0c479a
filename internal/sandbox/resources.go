package sandbox

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/qos"
)

// sandboxResources are the pod's resources without its overhead and the
// overhead alone (nil without one), as the kubelet hands them to the runtime
// (pkg/kubelet/kuberuntime kuberuntime_sandbox_linux.go
// applySandboxResources).
func sandboxResources(pod *v1.Pod) (resources, overhead *runtimeapi.LinuxContainerResources) {
	spec := pod.Spec
	spec.Overhead = nil
	reqs := qos.PodRequests(&spec)
	limits, _, _ := qos.PodLimits(&spec)
	var cpuReq *resource.Quantity
	if q, ok := reqs[v1.ResourceCPU]; ok {
		cpuReq = &q
	}
	resources = cfsResources(cpuReq, limits[v1.ResourceCPU], limits[v1.ResourceMemory])
	if oh := pod.Spec.Overhead; oh != nil {
		cpu := oh[v1.ResourceCPU]
		overhead = cfsResources(&cpu, cpu, oh[v1.ResourceMemory])
	}
	return resources, overhead
}

// cfsResources is the kubelet's calculateLinuxResources: shares from the
// request, or from the limit when there is no request.
func cfsResources(cpuReq *resource.Quantity, cpuLim, memLim resource.Quantity) *runtimeapi.LinuxContainerResources {
	r := &runtimeapi.LinuxContainerResources{CpuPeriod: qos.QuotaPeriod, MemoryLimitInBytes: memLim.Value()}
	if cpuReq == nil {
		r.CpuShares = qos.MilliCPUToShares(cpuLim.MilliValue())
	} else {
		r.CpuShares = qos.MilliCPUToShares(cpuReq.MilliValue())
	}
	r.CpuQuota = qos.MilliCPUToQuota(cpuLim.MilliValue())
	return r
}
