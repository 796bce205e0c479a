package qos

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func rl(kv ...string) v1.ResourceList {
	l := v1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[v1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func ctr(name string, req, lim v1.ResourceList) v1.Container {
	return v1.Container{Name: name, Resources: v1.ResourceRequirements{Requests: req, Limits: lim}}
}

func sidecar(name string, req, lim v1.ResourceList) v1.Container {
	c := ctr(name, req, lim)
	always := v1.ContainerRestartPolicyAlways
	c.RestartPolicy = &always
	return c
}

func TestPodQOS(t *testing.T) {
	g := rl("cpu", "1", "memory", "1Gi")
	tests := []struct {
		name string
		spec v1.PodSpec
		want v1.PodQOSClass
	}{
		{"nothing", v1.PodSpec{Containers: []v1.Container{ctr("a", nil, nil)}}, v1.PodQOSBestEffort},
		{"only ephemeral storage", v1.PodSpec{Containers: []v1.Container{ctr("a", rl("ephemeral-storage", "1Gi"), nil)}}, v1.PodQOSBestEffort},
		{"equal limits", v1.PodSpec{Containers: []v1.Container{ctr("a", g, g), ctr("b", g, g)}}, v1.PodQOSGuaranteed},
		{"one best effort", v1.PodSpec{Containers: []v1.Container{ctr("a", g, g), ctr("b", nil, nil)}}, v1.PodQOSBurstable},
		{"cpu only", v1.PodSpec{Containers: []v1.Container{ctr("a", rl("cpu", "1"), rl("cpu", "1"))}}, v1.PodQOSBurstable},
		{"init burstable", v1.PodSpec{InitContainers: []v1.Container{ctr("i", rl("cpu", "1"), nil)}, Containers: []v1.Container{ctr("a", g, g)}}, v1.PodQOSBurstable},
		{"pod level guaranteed", v1.PodSpec{Resources: &v1.ResourceRequirements{Requests: g, Limits: g}, Containers: []v1.Container{ctr("a", nil, nil)}}, v1.PodQOSGuaranteed},
		{"pod level burstable", v1.PodSpec{Resources: &v1.ResourceRequirements{Limits: rl("memory", "1Gi"), Requests: rl("memory", "100Mi")}, Containers: []v1.Container{ctr("a", g, g)}}, v1.PodQOSBurstable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PodQOS(&tt.spec); got != tt.want {
				t.Errorf("PodQOS = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestContainerOOMScoreAdjust(t *testing.T) {
	const capacity = 10 << 30
	g := rl("cpu", "1", "memory", "1Gi")
	tests := []struct {
		name string
		spec v1.PodSpec
		c    int // index into InitContainers when init, else Containers
		init bool
		want int
	}{
		{"guaranteed", v1.PodSpec{Containers: []v1.Container{ctr("a", g, g)}}, 0, false, -997},
		{"best effort", v1.PodSpec{Containers: []v1.Container{ctr("a", nil, nil)}}, 0, false, 1000},
		{"node critical best effort", v1.PodSpec{PriorityClassName: "system-node-critical", Containers: []v1.Container{ctr("a", nil, nil)}}, 0, false, -997},
		{"cluster critical is not node critical", v1.PodSpec{PriorityClassName: "system-cluster-critical", Containers: []v1.Container{ctr("a", nil, nil)}}, 0, false, 1000},
		{"burstable 1 of 10 GiB", v1.PodSpec{Containers: []v1.Container{ctr("a", rl("memory", "1Gi"), nil)}}, 0, false, 900},
		{"burstable no memory request", v1.PodSpec{Containers: []v1.Container{ctr("a", rl("cpu", "1"), nil)}}, 0, false, 999},
		{"burstable all memory", v1.PodSpec{Containers: []v1.Container{ctr("a", rl("memory", "10Gi"), nil)}}, 0, false, 3},
		{"sidecar smaller than app", v1.PodSpec{
			InitContainers: []v1.Container{sidecar("s", rl("memory", "1Gi"), nil)},
			Containers:     []v1.Container{ctr("a", rl("memory", "2Gi"), nil)},
		}, 0, true, 901},
		{"sidecar larger than app", v1.PodSpec{
			InitContainers: []v1.Container{sidecar("s", rl("memory", "2Gi"), nil)},
			Containers:     []v1.Container{ctr("a", rl("memory", "1Gi"), nil)},
		}, 0, true, 901},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &tt.spec.Containers[0]
			if tt.init {
				c = &tt.spec.InitContainers[tt.c]
			}
			if got := ContainerOOMScoreAdjust(&tt.spec, c, capacity); got != tt.want {
				t.Errorf("ContainerOOMScoreAdjust = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPodRequestsAndLimits(t *testing.T) {
	tests := []struct {
		name                string
		spec                v1.PodSpec
		wantReq, wantLim    v1.ResourceList
		wantCPUAll, wantMem bool
	}{
		{
			name: "sum of containers, overhead on set limits",
			spec: v1.PodSpec{
				Containers: []v1.Container{ctr("a", rl("cpu", "100m"), rl("cpu", "200m")), ctr("b", rl("cpu", "50m", "memory", "10Mi"), rl("cpu", "100m"))},
				Overhead:   rl("cpu", "10m", "memory", "5Mi"),
			},
			wantReq: rl("cpu", "160m", "memory", "15Mi"), wantLim: rl("cpu", "310m"), wantCPUAll: true,
		},
		{
			name: "init container larger than the app",
			spec: v1.PodSpec{
				InitContainers: []v1.Container{ctr("i", rl("cpu", "1"), nil)},
				Containers:     []v1.Container{ctr("a", rl("cpu", "100m"), nil)},
			},
			wantReq: rl("cpu", "1"), wantLim: v1.ResourceList{},
		},
		{
			name: "sidecar adds to app and to later init containers",
			spec: v1.PodSpec{
				InitContainers: []v1.Container{sidecar("s", rl("cpu", "200m"), nil), ctr("i", rl("cpu", "500m"), nil)},
				Containers:     []v1.Container{ctr("a", rl("cpu", "100m"), nil)},
			},
			wantReq: rl("cpu", "700m"), wantLim: v1.ResourceList{},
		},
		{
			name: "pod level replaces",
			spec: v1.PodSpec{
				Resources:  &v1.ResourceRequirements{Requests: rl("memory", "64Mi"), Limits: rl("memory", "128Mi")},
				Containers: []v1.Container{ctr("a", rl("cpu", "100m"), nil)},
			},
			wantReq: rl("cpu", "100m", "memory", "64Mi"), wantLim: rl("memory", "128Mi"), wantMem: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := PodRequests(&tt.spec)
			lim, cpuAll, memAll := PodLimits(&tt.spec)
			if !equal(req, tt.wantReq) {
				t.Errorf("PodRequests = %v, want %v", req, tt.wantReq)
			}
			if !equal(lim, tt.wantLim) {
				t.Errorf("PodLimits = %v, want %v", lim, tt.wantLim)
			}
			if cpuAll != tt.wantCPUAll || memAll != tt.wantMem {
				t.Errorf("limits declared cpu %v memory %v, want %v %v", cpuAll, memAll, tt.wantCPUAll, tt.wantMem)
			}
		})
	}
}

func equal(a, b v1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v.Cmp(w) != 0 {
			return false
		}
	}
	return true
}

func TestCFS(t *testing.T) {
	for _, tt := range []struct{ milli, shares, quota int64 }{
		{0, 2, 0}, {1, 2, 1000}, {5, 5, 1000}, {100, 102, 10000}, {1000, 1024, 100000}, {300000, 262144, 30000000},
	} {
		if got := MilliCPUToShares(tt.milli); got != tt.shares {
			t.Errorf("MilliCPUToShares(%d) = %d, want %d", tt.milli, got, tt.shares)
		}
		if got := MilliCPUToQuota(tt.milli); got != tt.quota {
			t.Errorf("MilliCPUToQuota(%d) = %d, want %d", tt.milli, got, tt.quota)
		}
	}
}
