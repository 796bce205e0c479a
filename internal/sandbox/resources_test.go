package sandbox

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestConfig_Resources(t *testing.T) {
	q := resource.MustParse
	pod := testPod(func(p *v1.Pod) {
		p.Spec.Containers[0].Resources = v1.ResourceRequirements{
			Requests: v1.ResourceList{v1.ResourceCPU: q("250m")},
			Limits:   v1.ResourceList{v1.ResourceCPU: q("500m"), v1.ResourceMemory: q("64Mi")},
		}
		p.Spec.Overhead = v1.ResourceList{v1.ResourceCPU: q("100m"), v1.ResourceMemory: q("8Mi")}
	})
	lc := Config(pod, 0, Options{}).GetLinux()
	r, o := lc.GetResources(), lc.GetOverhead()
	if r.GetCpuShares() != 256 || r.GetCpuQuota() != 50000 || r.GetCpuPeriod() != 100000 || r.GetMemoryLimitInBytes() != 64<<20 {
		t.Errorf("resources = %v, want the pod's without overhead", r)
	}
	if o.GetCpuShares() != 102 || o.GetCpuQuota() != 10000 || o.GetMemoryLimitInBytes() != 8<<20 {
		t.Errorf("overhead = %v, want 100m and 8Mi", o)
	}
}
