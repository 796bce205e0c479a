package staticpods

import (
	"path/filepath"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func admissionPod(mutate func(*v1.Pod)) *v1.Pod {
	p := &v1.Pod{Spec: v1.PodSpec{Containers: []v1.Container{{Name: "app"}}}}
	mutate(p)
	return p
}

func requests(kv ...string) func(*v1.Pod) {
	return func(p *v1.Pod) {
		l := v1.ResourceList{}
		for i := 0; i < len(kv); i += 2 {
			l[v1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
		}
		p.Spec.Containers[0].Resources.Requests = l
	}
}

func affinity(terms ...v1.NodeSelectorTerm) func(*v1.Pod) {
	return func(p *v1.Pod) {
		p.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{NodeSelectorTerms: terms},
		}}
	}
}

func expr(key string, op v1.NodeSelectorOperator, values ...string) v1.NodeSelectorTerm {
	return v1.NodeSelectorTerm{MatchExpressions: []v1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func TestAdmission(t *testing.T) {
	node := Node{
		Name:   "n1",
		Labels: map[string]string{"kubernetes.io/hostname": "n1", "disk": "ssd", "cores": "8"},
		Allocatable: v1.ResourceList{
			v1.ResourcePods: resource.MustParse("2"), v1.ResourceCPU: resource.MustParse("2"),
			v1.ResourceMemory: resource.MustParse("1Gi"), "hugepages-2Mi": resource.Quantity{},
		},
	}
	tests := []struct {
		name      string
		pods      []*v1.Pod
		wantField []string // per pod: "" admitted, else the refused field
		wantMsg   string
	}{
		{name: "selector matches", pods: []*v1.Pod{admissionPod(func(p *v1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "ssd"} })}, wantField: []string{""}},
		{
			name:      "selector does not match",
			pods:      []*v1.Pod{admissionPod(func(p *v1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "hdd"} })},
			wantField: []string{"spec.nodeSelector[disk]"}, wantMsg: "Predicate NodeAffinity failed",
		},
		{name: "affinity In", pods: []*v1.Pod{admissionPod(affinity(expr("disk", v1.NodeSelectorOpIn, "ssd", "nvme")))}, wantField: []string{""}},
		{name: "affinity one term of two", pods: []*v1.Pod{admissionPod(affinity(expr("disk", v1.NodeSelectorOpIn, "hdd"), expr("cores", v1.NodeSelectorOpGt, "4")))}, wantField: []string{""}},
		{
			name:      "affinity NotIn",
			pods:      []*v1.Pod{admissionPod(affinity(expr("disk", v1.NodeSelectorOpNotIn, "ssd")))},
			wantField: []string{"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"}, wantMsg: "NodeAffinity",
		},
		{name: "affinity on the name field", pods: []*v1.Pod{admissionPod(affinity(v1.NodeSelectorTerm{MatchFields: []v1.NodeSelectorRequirement{{Key: "metadata.name", Operator: v1.NodeSelectorOpIn, Values: []string{"n1"}}}}))}, wantField: []string{""}},
		{
			name:      "more pods than maxPods",
			pods:      []*v1.Pod{admissionPod(func(*v1.Pod) {}), admissionPod(func(*v1.Pod) {}), admissionPod(func(*v1.Pod) {})},
			wantField: []string{"", "", "metadata.name"}, wantMsg: "OutOfpods: Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2",
		},
		{
			name:      "cpu counted over the pods before",
			pods:      []*v1.Pod{admissionPod(requests("cpu", "1500m")), admissionPod(requests("cpu", "1"))},
			wantField: []string{"", "spec.containers[0].resources.requests[cpu]"}, wantMsg: "OutOfcpu: Node didn't have enough resource: cpu, requested: 1000, used: 1500, capacity: 2000",
		},
		{
			name:      "extended resource the node lacks",
			pods:      []*v1.Pod{admissionPod(requests("example.com/gpu", "1"))},
			wantField: []string{"spec.containers[0].resources.requests[example.com/gpu]"}, wantMsg: "OutOfexample.com/gpu: Node didn't have enough resource: example.com/gpu, requested: 1, used: 0, capacity: 0",
		},
		{
			name:      "hugepages the node has none of",
			pods:      []*v1.Pod{admissionPod(requests("memory", "10Mi", "hugepages-2Mi", "2Mi"))},
			wantField: []string{"spec.containers[0].resources.requests[hugepages-2Mi]"}, wantMsg: "requested: 2097152, used: 0, capacity: 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAdmission(node)
			for i, p := range tt.pods {
				errs := a.admit(p)
				if tt.wantField[i] == "" {
					if len(errs) > 0 {
						t.Fatalf("pod %d refused: %v", i, errs)
					}
					continue
				}
				if len(errs) != 1 || errs[0].Field != tt.wantField[i] || !strings.Contains(errs[0].Detail, tt.wantMsg) {
					t.Fatalf("pod %d: errors %v, want one on %s saying %q", i, errs, tt.wantField[i], tt.wantMsg)
				}
			}
		})
	}
}

// As the kubelet: an admitted pod stays admitted. A manifest added later
// that comes first by file name does not push out a pod that already
// runs; it is the one refused.
func TestSource_AnAdmittedPodStaysAdmitted(t *testing.T) {
	dir := t.TempDir()
	one := Node{Name: testNode, Labels: map[string]string{}, Allocatable: v1.ResourceList{v1.ResourcePods: resource.MustParse("1")}}
	h := startSource(t, dir, func(c *Config) { c.Admit = &one })
	writeFile(t, filepath.Join(dir, "m.yaml"), namedPod("m", "busybox:1"))
	h.waitFor("m admitted", func(s Snapshot) bool { return len(s.Manifests) == 1 })
	writeFile(t, filepath.Join(dir, "a.yaml"), namedPod("a", "busybox:1"))
	snap, _ := h.waitFor("a read", func(s Snapshot) bool { return len(s.Errors) == 1 })
	if len(snap.Manifests) != 1 || filepath.Base(snap.Manifests[0].Path) != "m.yaml" {
		t.Fatalf("snapshot %s: want m.yaml still running", describe(snap))
	}
	if got := snap.Errors[0].Err.Error(); filepath.Base(snap.Errors[0].Path) != "a.yaml" || !strings.Contains(got, "OutOfpods") {
		t.Fatalf("error %s: %q, want a.yaml refused with OutOfpods", snap.Errors[0].Path, got)
	}
}
