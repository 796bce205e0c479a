package e2e

import (
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// A disk emptyDir whose content goes over its sizeLimit gets its pod
// evicted as the kubelet's eviction manager does, at the next measurement
// (every 10 s): Failed, reason Evicted, the kubelet's message, a Warning
// event, and its containers stopped.
func TestEviction_EmptyDirOverItsSizeLimitEvictsThePod(t *testing.T) {
	n := startNode(t)
	n.writeManifest("hog.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: hog
spec:
  terminationGracePeriodSeconds: 30
  volumes:
  - name: scratch
    emptyDir:
      sizeLimit: 1Mi
  containers:
  - name: writer
    image: busybox:1.35
    command: ["sh", "-c", "dd if=/dev/zero of=/scratch/fill bs=1M count=4; exec sleep 3600"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
`)
	n.waitPod("hog", 10*time.Second, "Running", podRunning)
	const want = `Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". `
	start := time.Now()
	p := n.waitPod("hog", 15*time.Second, "Failed, Evicted", func(p *v1.Pod) bool {
		return p.Status.Phase == v1.PodFailed && p.Status.Reason == "Evicted"
	})
	t.Logf("evicted %s after the pod ran", time.Since(start).Round(100*time.Millisecond))
	if p.Status.Message != want {
		t.Errorf("message %q, want the kubelet's %q", p.Status.Message, want)
	}
	if cs := p.Status.ContainerStatuses; len(cs) != 1 || cs[0].State.Terminated == nil {
		t.Errorf("container statuses %+v, want the writer terminated", cs)
	}
	for _, c := range n.containersOf("hog") {
		if c.State != runtimeapi.ContainerState_CONTAINER_EXITED {
			t.Errorf("containerd has container %s in state %s, want it stopped", c.Metadata.Name, c.State)
		}
	}
	for _, s := range n.sandboxesOf("hog") {
		if s.State != runtimeapi.PodSandboxState_SANDBOX_NOTREADY {
			t.Errorf("containerd has sandbox %s %s, want it stopped", s.Id, s.State)
		}
	}
	if evs := n.eventsFor("hog", "Evicted"); len(evs) != 1 || !strings.Contains(evs[0], want) {
		t.Errorf("Evicted events %q, want one with the kubelet's message", evs)
	}
	if v := n.metric("kubelet_evictions", map[string]string{"eviction_signal": "emptydirfs.limit"}); v != 1 {
		t.Errorf("kubelet_evictions{eviction_signal=emptydirfs.limit} = %v, want 1", v)
	}
}
