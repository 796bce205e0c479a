package podworker

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/minikubelet/minikubelet/internal/machine"
)

var testMachine = machine.Info{
	CPUs: 2, MemoryCapacity: 4 << 30, StorageCapacity: 100 << 30, OOMScoreAdjFloor: -1000, MaxPods: 110,
	HugePages: []machine.HugePagePool{{PageSize: 2 << 20, Pages: 0}, {PageSize: 1 << 30, Pages: 0}},
}

func TestLinuxResources(t *testing.T) {
	q := resource.MustParse
	req := func(kv ...string) v1.ResourceList {
		l := v1.ResourceList{}
		for i := 0; i < len(kv); i += 2 {
			l[v1.ResourceName(kv[i])] = q(kv[i+1])
		}
		return l
	}
	zero := 0
	type want struct {
		shares, quota, memory, oom int64
		huge2M                     uint64
	}
	tests := []struct {
		name     string
		res      v1.ResourceRequirements
		podLevel *v1.ResourceRequirements
		priority string
		floor    *int
		want     want
	}{
		{name: "none is best effort", want: want{shares: 2, oom: 1000}},
		{name: "cpu request", res: v1.ResourceRequirements{Requests: req("cpu", "250m")}, want: want{shares: 256, oom: 999}},
		{name: "tiny request keeps the minimum", res: v1.ResourceRequirements{Requests: req("cpu", "1m")}, want: want{shares: 2, oom: 999}},
		{name: "shares capped at the kernel's maximum", res: v1.ResourceRequirements{Requests: req("cpu", "300")}, want: want{shares: 262144, oom: 999}},
		{name: "cpu limit without request", res: v1.ResourceRequirements{Limits: req("cpu", "500m")}, want: want{shares: 512, quota: 50000, oom: 999}},
		{name: "limit of 0 sets no quota", res: v1.ResourceRequirements{Limits: req("cpu", "0"), Requests: req("memory", "1Gi")}, want: want{shares: 2, quota: 0, oom: 750}},
		{name: "tiny limit keeps the minimum quota", res: v1.ResourceRequirements{Limits: req("cpu", "1m")}, want: want{shares: 2, quota: 1000, oom: 999}},
		{
			name: "guaranteed",
			res:  v1.ResourceRequirements{Requests: req("cpu", "1", "memory", "128Mi"), Limits: req("cpu", "1", "memory", "128Mi")},
			want: want{shares: 1024, quota: 100000, memory: 128 << 20, oom: -997},
		},
		{
			name:  "guaranteed clamped where the node forbids lowering",
			res:   v1.ResourceRequirements{Requests: req("cpu", "1", "memory", "128Mi"), Limits: req("cpu", "1", "memory", "128Mi")},
			floor: &zero, want: want{shares: 1024, quota: 100000, memory: 128 << 20, oom: 0},
		},
		{name: "system-node-critical", priority: "system-node-critical", want: want{shares: 2, oom: -997}},
		{
			name:     "pod-level limits bound a container without its own",
			podLevel: &v1.ResourceRequirements{Limits: req("cpu", "2", "memory", "256Mi")},
			want:     want{shares: 2048, quota: 200000, memory: 256 << 20, oom: 999},
		},
		{
			name: "hugepages limit",
			res:  v1.ResourceRequirements{Requests: req("memory", "1Gi", "hugepages-2Mi", "4Mi"), Limits: req("memory", "1Gi", "hugepages-2Mi", "4Mi")},
			want: want{shares: 2, memory: 1 << 30, oom: 750, huge2M: 4 << 20},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := v1.Container{Name: "app", Image: "busybox", Resources: tt.res}
			pod := configPod(c)
			pod.Spec.Resources = tt.podLevel
			pod.Spec.PriorityClassName = tt.priority
			node := testMachine
			if tt.floor != nil {
				node.OOMScoreAdjFloor = *tt.floor
			}
			r := linuxResources(podContext{Pod: pod, Node: node}, &pod.Spec.Containers[0])
			got := want{shares: r.CpuShares, quota: r.CpuQuota, memory: r.MemoryLimitInBytes, oom: r.OomScoreAdj}
			if len(r.HugepageLimits) != 2 || r.HugepageLimits[0].PageSize != "2MB" || r.HugepageLimits[1].PageSize != "1GB" || r.HugepageLimits[1].Limit != 0 {
				t.Fatalf("hugepage limits = %v, want 2MB and 1GB, 1GB at 0", r.HugepageLimits)
			}
			got.huge2M = r.HugepageLimits[0].Limit
			if got != tt.want || r.CpuPeriod != 100000 {
				t.Errorf("resources = %+v period %d, want %+v period 100000", got, r.CpuPeriod, tt.want)
			}
		})
	}
}

func TestResourceFieldValue(t *testing.T) {
	q := resource.MustParse
	app := v1.Container{Name: "app", Resources: v1.ResourceRequirements{
		Limits:   v1.ResourceList{v1.ResourceCPU: q("500m"), "hugepages-2Mi": q("4Mi"), v1.ResourceMemory: q("1Gi")},
		Requests: v1.ResourceList{v1.ResourceMemory: q("1Gi"), "hugepages-2Mi": q("4Mi")},
	}}
	side := v1.Container{Name: "side"}
	tests := []struct {
		name      string
		container string
		resource  string
		divisor   string
		podLevel  v1.ResourceList
		want      string
		wantErr   bool
	}{
		{name: "own limit", container: "app", resource: "limits.cpu", divisor: "1m", want: "500"},
		{name: "another container's limit", container: "app", resource: "limits.memory", divisor: "1Mi", want: "1024"},
		{name: "unset cpu limit is node allocatable", resource: "limits.cpu", want: "2"},
		{name: "unset memory limit is node allocatable", resource: "limits.memory", divisor: "1Mi", want: "3996"},
		{name: "unset ephemeral-storage limit is node allocatable", resource: "limits.ephemeral-storage", divisor: "1Gi", want: "90"},
		{name: "unset limit reads the pod-level one", resource: "limits.memory", divisor: "1Mi", podLevel: v1.ResourceList{v1.ResourceMemory: q("512Mi")}, want: "512"},
		{name: "unset request is 0", resource: "requests.cpu", want: "0"},
		{name: "hugepages limit", container: "app", resource: "limits.hugepages-2Mi", divisor: "1Mi", want: "4"},
		{name: "hugepages request", container: "app", resource: "requests.hugepages-2Mi", want: "4194304"},
		{name: "unknown container", container: "nope", resource: "limits.cpu", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := configPod(side, app)
			if tt.podLevel != nil {
				pod.Spec.Resources = &v1.ResourceRequirements{Limits: tt.podLevel}
			}
			ref := &v1.ResourceFieldSelector{ContainerName: tt.container, Resource: tt.resource}
			if tt.divisor != "" {
				ref.Divisor = q(tt.divisor)
			}
			got, err := resourceFieldValue(podContext{Pod: pod, Node: testMachine}, &pod.Spec.Containers[0], ref)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("resourceFieldValue = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
