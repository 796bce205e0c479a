package cgroups

import (
	"path"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minikubelet/minikubelet/internal/qos"
)

// Cgroup names of pkg/kubelet/cm.
const (
	kubepodsName   = "kubepods"
	podNamePrefix  = "pod"
	burstableName  = "burstable"
	besteffortName = "besteffort"
)

// config is what the kubelet writes into a cgroup. Zero fields are left
// alone (the kernel's default: unlimited).
type config struct {
	CPUShares int64
	CPUQuota  int64 // with CPUPeriod; 0 sets no quota
	CPUPeriod int64
	Memory    int64
	// HugePages maps a page size in bytes to its limit in bytes.
	HugePages map[int64]int64
}

// PodCgroupName is the cgroupfs name of the pod's cgroup under root:
// <root>/kubepods/pod<uid> for a Guaranteed pod, else
// <root>/kubepods/<qos>/pod<uid>.
func PodCgroupName(root string, pod *v1.Pod) string {
	return path.Join(qosCgroupName(root, qos.PodQOS(&pod.Spec)), podNamePrefix+string(pod.UID))
}

func podCgroupName(root string, class v1.PodQOSClass, uid types.UID) string {
	return path.Join(qosCgroupName(root, class), podNamePrefix+string(uid))
}

func qosCgroupName(root string, class v1.PodQOSClass) string {
	kubepods := path.Join("/", root, kubepodsName)
	switch class {
	case v1.PodQOSBurstable:
		return path.Join(kubepods, burstableName)
	case v1.PodQOSBestEffort:
		return path.Join(kubepods, besteffortName)
	default:
		return kubepods
	}
}

// podConfig is the pod cgroup's config, as the kubelet's
// ResourceConfigForPod (pkg/kubelet/cm/helpers_linux.go): shares from the
// requests; a quota and a memory limit for a Guaranteed pod, and for a
// Burstable one only where every container (or the pod level) sets that
// limit; 2 shares and nothing else for BestEffort. Requests and limits
// include the overhead and pod-level resources. hugePageSizes lists the
// node's page sizes: each is limited, to 0 where the pod asks for none.
func podConfig(pod *v1.Pod, hugePageSizes []int64) config {
	spec := &pod.Spec
	reqs := qos.PodRequests(spec)
	limits, cpuAll, memoryAll := qos.PodLimits(spec)
	cpuReq, cpuLim, memLim := reqs[v1.ResourceCPU], limits[v1.ResourceCPU], limits[v1.ResourceMemory]
	var c config
	switch qos.PodQOS(spec) {
	case v1.PodQOSGuaranteed:
		c = config{CPUShares: qos.MilliCPUToShares(cpuReq.MilliValue()), CPUQuota: qos.MilliCPUToQuota(cpuLim.MilliValue()), CPUPeriod: qos.QuotaPeriod, Memory: memLim.Value()}
	case v1.PodQOSBurstable:
		c.CPUShares = qos.MilliCPUToShares(cpuReq.MilliValue())
		if cpuAll {
			c.CPUQuota, c.CPUPeriod = qos.MilliCPUToQuota(cpuLim.MilliValue()), qos.QuotaPeriod
		}
		if memoryAll {
			c.Memory = memLim.Value()
		}
	default:
		c.CPUShares = qos.MinShares
	}
	c.HugePages = map[int64]int64{}
	for _, size := range hugePageSizes {
		q := reqs[hugePageResource(size)]
		c.HugePages[size] = q.Value()
	}
	return c
}

// qosShares is the burstable cgroup's cpu.shares: the sum of the CPU
// requests of the Burstable pods (pkg/kubelet/cm
// qos_container_manager_linux.go setCPUCgroupConfig).
func qosShares(pods []*v1.Pod) int64 {
	var milli int64
	for _, p := range pods {
		if qos.PodQOS(&p.Spec) != v1.PodQOSBurstable {
			continue
		}
		q := qos.PodRequests(&p.Spec)[v1.ResourceCPU]
		milli += q.MilliValue()
	}
	return qos.MilliCPUToShares(milli)
}
