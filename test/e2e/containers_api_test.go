package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
)

const busyPod = `apiVersion: v1
kind: Pod
metadata:
  name: busy
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: spin
    image: busybox:1.35
    command: ["sh", "-c", "while :; do :; done"]
  - name: talker
    image: busybox:1.35
    command: ["sh", "-c", "echo first; sleep 1; echo second; exit 1"]
`

// metrics.k8s.io measures a busy container's CPU from CRI stats, and the
// node's from /proc, as kubectl top reads them.
func TestKubeAPI_MetricsAndLogs(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	n.writeManifest("busy.yaml", busyPod)
	n.waitPod("busy", 60*time.Second, "running", func(p *v1.Pod) bool {
		s := statusOf(p, "spin")
		return s != nil && s.State.Running != nil
	})
	pod := n.podName("busy")

	t.Run("pod metrics", func(t *testing.T) {
		body, err := n.get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/" + pod)
		if err != nil {
			t.Fatal(err)
		}
		var m metricsv1beta1.PodMetrics
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("decode PodMetrics %q: %v", body, err)
		}
		for _, c := range m.Containers {
			if c.Name == "spin" {
				cpu, mem := c.Usage[v1.ResourceCPU], c.Usage[v1.ResourceMemory]
				if cpu.MilliValue() < 100 || mem.Value() == 0 {
					t.Fatalf("spin uses cpu %s memory %s over %s, want at least 100m of a busy loop and some memory", cpu.String(), mem.String(), m.Window.Duration)
				}
				return
			}
		}
		t.Fatalf("PodMetrics %s has no container spin", body)
	})
	t.Run("node metrics", func(t *testing.T) {
		body, err := n.get("/apis/metrics.k8s.io/v1beta1/nodes")
		if err != nil {
			t.Fatal(err)
		}
		var list metricsv1beta1.NodeMetricsList
		if err := json.Unmarshal(body, &list); err != nil || len(list.Items) != 1 {
			t.Fatalf("NodeMetricsList %q: %v", body, err)
		}
		cpu, mem := list.Items[0].Usage[v1.ResourceCPU], list.Items[0].Usage[v1.ResourceMemory]
		if list.Items[0].Name != n.name || cpu.MilliValue() < 100 || mem.Value() == 0 {
			t.Fatalf("NodeMetrics %s: cpu %s memory %s, want this node with the busy loop's CPU", list.Items[0].Name, cpu.String(), mem.String())
		}
	})
	t.Run("previous and follow", func(t *testing.T) {
		n.waitPod("busy", 60*time.Second, "talker restarted", func(p *v1.Pod) bool {
			s := statusOf(p, "talker")
			return s != nil && s.RestartCount >= 1 && s.State.Running != nil
		})
		body, err := n.get("/api/v1/namespaces/default/pods/" + pod + "/log?container=talker&previous=true")
		if err != nil || string(body) != "first\nsecond\n" {
			t.Fatalf("log --previous = %q, %v; want the previous instance's two lines", body, err)
		}
		// follow ends with the instance: it exits a second after "second".
		body, err = n.get("/api/v1/namespaces/default/pods/" + pod + "/log?container=talker&follow=true")
		if err != nil || !strings.HasSuffix(string(body), "second\n") {
			t.Fatalf("log -f = %q, %v; want the instance's lines until it exits", body, err)
		}
	})
}
