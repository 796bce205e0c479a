package cgroups

import (
	"reflect"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func rl(kv ...string) v1.ResourceList {
	l := v1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[v1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func pod(spec v1.PodSpec) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "u1"}, Spec: spec}
}

func ctr(req, lim v1.ResourceList) v1.Container {
	return v1.Container{Name: "c", Resources: v1.ResourceRequirements{Requests: req, Limits: lim}}
}

func TestPodConfig(t *testing.T) {
	const mb2 = 2 << 20
	g := rl("cpu", "500m", "memory", "64Mi")
	tests := []struct {
		name     string
		pod      *v1.Pod
		wantName string
		want     config
	}{
		{
			name: "best effort", pod: pod(v1.PodSpec{Containers: []v1.Container{ctr(nil, nil)}}),
			wantName: "/kubepods/besteffort/podu1", want: config{CPUShares: 2},
		},
		{
			name: "guaranteed", pod: pod(v1.PodSpec{Containers: []v1.Container{ctr(g, g)}}),
			wantName: "/kubepods/podu1", want: config{CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, Memory: 64 << 20},
		},
		{
			name: "guaranteed with overhead", pod: pod(v1.PodSpec{Containers: []v1.Container{ctr(g, g)}, Overhead: rl("cpu", "100m", "memory", "16Mi")}),
			wantName: "/kubepods/podu1", want: config{CPUShares: 614, CPUQuota: 60000, CPUPeriod: 100000, Memory: 80 << 20},
		},
		{
			name: "burstable without every limit", pod: pod(v1.PodSpec{Containers: []v1.Container{ctr(rl("cpu", "250m"), rl("memory", "128Mi")), ctr(nil, rl("cpu", "1"))}}),
			wantName: "/kubepods/burstable/podu1", want: config{CPUShares: 256},
		},
		{
			name: "burstable with every limit", pod: pod(v1.PodSpec{Containers: []v1.Container{ctr(rl("cpu", "100m"), rl("cpu", "1", "memory", "128Mi"))}}),
			wantName: "/kubepods/burstable/podu1", want: config{CPUShares: 102, CPUQuota: 100000, CPUPeriod: 100000, Memory: 128 << 20},
		},
		{
			name: "pod-level limits apply to the pod cgroup",
			pod: pod(v1.PodSpec{
				Resources:  &v1.ResourceRequirements{Requests: rl("cpu", "200m"), Limits: rl("cpu", "400m", "memory", "256Mi")},
				Containers: []v1.Container{ctr(nil, nil)},
			}),
			wantName: "/kubepods/burstable/podu1", want: config{CPUShares: 204, CPUQuota: 40000, CPUPeriod: 100000, Memory: 256 << 20},
		},
		{
			name: "cpu limit 0 sets no quota", pod: pod(v1.PodSpec{Containers: []v1.Container{ctr(rl("memory", "1Mi"), rl("cpu", "0", "memory", "1Mi"))}}),
			wantName: "/kubepods/burstable/podu1", want: config{CPUShares: 2, Memory: 1 << 20},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := podConfig(tt.pod, []int64{mb2})
			if got.HugePages[mb2] != 0 || len(got.HugePages) != 1 {
				t.Errorf("huge pages = %v, want 2MB limited to 0", got.HugePages)
			}
			got.HugePages = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("podConfig = %+v, want %+v", got, tt.want)
			}
			if name := PodCgroupName("/", tt.pod); name != tt.wantName {
				t.Errorf("PodCgroupName = %s, want %s", name, tt.wantName)
			}
		})
	}
}

func TestPodConfig_HugePages(t *testing.T) {
	p := pod(v1.PodSpec{Containers: []v1.Container{ctr(rl("memory", "1Mi", "hugepages-2Mi", "6Mi"), rl("memory", "1Mi", "hugepages-2Mi", "6Mi"))}})
	got := podConfig(p, []int64{2 << 20, 1 << 30}).HugePages
	if want := map[int64]int64{2 << 20: 6 << 20, 1 << 30: 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("huge pages = %v, want %v", got, want)
	}
}

func TestQOSShares(t *testing.T) {
	pods := []*v1.Pod{
		pod(v1.PodSpec{Containers: []v1.Container{ctr(rl("cpu", "250m"), nil)}}),
		pod(v1.PodSpec{Containers: []v1.Container{ctr(rl("cpu", "750m"), nil)}}),
		pod(v1.PodSpec{Containers: []v1.Container{ctr(rl("cpu", "1", "memory", "1Mi"), rl("cpu", "1", "memory", "1Mi"))}}),
	}
	if got := qosShares(pods); got != 1024 {
		t.Errorf("burstable shares = %d, want 1024", got)
	}
	if got := qosShares(nil); got != 2 {
		t.Errorf("burstable shares with no pod = %d, want 2", got)
	}
}

func TestCgroupNames(t *testing.T) {
	p := pod(v1.PodSpec{Containers: []v1.Container{ctr(nil, nil)}})
	if got := PodCgroupName("/mkl-test", p); got != "/mkl-test/kubepods/besteffort/podu1" {
		t.Errorf("PodCgroupName under a root = %s", got)
	}
}

func TestParseMountInfo(t *testing.T) {
	data := `25 30 0:22 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw,mode=755
26 25 0:23 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
27 25 0:24 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
28 25 0:25 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
`
	mounts, all := parseMountInfo(data)
	if mounts["cpu"] != "/sys/fs/cgroup/cpu" || mounts["memory"] != "/sys/fs/cgroup/memory" || mounts["hugetlb"] != "" {
		t.Errorf("mounts = %v", mounts)
	}
	if want := []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified"}; !reflect.DeepEqual(all, want) {
		t.Errorf("all = %v, want %v", all, want)
	}
}
