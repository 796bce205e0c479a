package eviction

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minikubelet/minikubelet/internal/config"
)

func TestParseThresholds(t *testing.T) {
	def, err := ParseThresholds(config.DefaultEvictionHard())
	if err != nil || len(def) != 5 || def[0].Signal != SignalMemoryAvailable || def[0].String() != "100Mi" {
		t.Fatalf("the kubelet's defaults %+v, %v; want five, memory first", def, err)
	}
	got, err := ParseThresholds(map[string]string{"nodefs.available": "10Mi", "memory.available": "0%"})
	if err != nil || len(got) != 1 || got[0].Signal != SignalNodeFsAvailable {
		t.Fatalf("set evictionHard %+v, %v; want only nodefs.available (memory disabled by 0%%, the rest unset)", got, err)
	}
	for _, bad := range []map[string]string{{"pid.available": "10"}, {"nodefs.available": "110%"}, {"memory.available": "lots"}} {
		if _, err := ParseThresholds(bad); err == nil || !strings.Contains(err.Error(), "evictionHard") {
			t.Errorf("ParseThresholds(%v) = %v, want an error naming evictionHard", bad, err)
		}
	}
}

func TestThresholdsMet_QuantitiesAndPercentages(t *testing.T) {
	ths, _ := ParseThresholds(map[string]string{"memory.available": "100Mi", "nodefs.available": "10%"})
	obs := map[Signal]observation{
		SignalMemoryAvailable: {available: 200 << 20, capacity: 1 << 30},
		SignalNodeFsAvailable: {available: 9, capacity: 100},
	}
	ms := thresholdsMet(ths, obs)
	if len(ms) != 1 || ms[0].Signal != SignalNodeFsAvailable {
		t.Fatalf("met %+v, want nodefs.available only", ms)
	}
	if memory, disk := nodeConditions(ms); memory || !disk {
		t.Fatalf("conditions memory %v disk %v, want DiskPressure only", memory, disk)
	}
}

func pod(name string, prio int32, memRequest string) *v1.Pod {
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("u-" + name)}, Spec: v1.PodSpec{
		Priority:   &prio,
		Containers: []v1.Container{{Name: "c"}},
	}}
	if memRequest != "" {
		p.Spec.Containers[0].Resources.Requests = v1.ResourceList{v1.ResourceMemory: resource.MustParse(memRequest)}
	}
	return p
}

func TestRank_OverRequestsThenPriorityThenUsage(t *testing.T) {
	pods := []podUsage{
		{pod: pod("within-requests", 0, "1Gi"), memory: 500 << 20},
		{pod: pod("high-priority", 100, ""), memory: 900 << 20},
		{pod: pod("small", 0, ""), memory: 10 << 20},
		{pod: pod("big", 0, ""), memory: 800 << 20},
	}
	rank(pods, v1.ResourceMemory)
	var got []string
	for _, p := range pods {
		got = append(got, p.pod.Name)
	}
	if want := "big small high-priority within-requests"; strings.Join(got, " ") != want {
		t.Fatalf("order %v, want %s", got, want)
	}
}

func TestMessage_AsTheKubelet(t *testing.T) {
	ths, _ := ParseThresholds(map[string]string{"nodefs.available": "10Mi"})
	m := met{Threshold: ths[0], available: 3 << 20, capacity: 64 << 20}
	u := podUsage{pod: pod("hog", 0, ""), containers: map[string]containerUsage{"c": {disk: 20 << 20}}}
	want := "The node was low on resource: ephemeral-storage. Threshold quantity: 10Mi, available: 3Mi. Container c was using 20Mi, request is 0, has larger consumption of ephemeral-storage. "
	if got := message(m, u); got != want {
		t.Fatalf("message %q\nwant    %q", got, want)
	}
}

func TestEvictable_SystemCriticalPodsAreKept(t *testing.T) {
	if evictable(pod("critical", 2000001000, "")) || !evictable(pod("plain", 0, "")) {
		t.Fatal("system-critical pods must be kept, others evictable")
	}
}
