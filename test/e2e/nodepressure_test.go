package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// With the root directory (the nodefs) on a 64Mi tmpfs and
// evictionHard nodefs.available 16Mi, a pod filling an emptyDir puts the
// node under disk pressure: the eviction manager evicts it, the pod with
// the larger usage, with the kubelet's message, and a quiet pod keeps
// running once the evicted pod's volumes are gone.
func TestNodePressure_DiskPressureEvictsTheLargestUser(t *testing.T) {
	root := t.TempDir()
	if out, err := execCommand("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", root); err != nil {
		t.Fatalf("mount a tmpfs for the root directory: %v\n%s", err, out)
	}
	t.Cleanup(func() { execCommand("umount", "-l", root) }) //nolint:errcheck
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("evictionHard:\n  nodefs.available: 16Mi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "--config", cfg, "--root-dir", root)
	n.writeManifest("quiet.yaml", imagePod("quiet", busyboxImage, v1.PullIfNotPresent))
	n.waitPod("quiet", 30*time.Second, "running", podRunning)
	n.writeManifest("hog.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: hog
spec:
  terminationGracePeriodSeconds: 30
  volumes:
  - name: scratch
    emptyDir: {}
  containers:
  - name: writer
    image: busybox:1.35
    command: ["sh", "-c", "dd if=/dev/zero of=/scratch/fill bs=1M count=56; exec sleep 3600"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
`)
	p := n.waitPod("hog", 40*time.Second, "Failed, Evicted", func(p *v1.Pod) bool {
		return p.Status.Phase == v1.PodFailed && p.Status.Reason == "Evicted"
	})
	t.Logf("evicted: %s", p.Status.Message)
	const prefix = "The node was low on resource: ephemeral-storage. Threshold quantity: 16Mi, available: "
	if !strings.HasPrefix(p.Status.Message, prefix) || !strings.Contains(p.Status.Message, "Container writer was using ") ||
		!strings.HasSuffix(p.Status.Message, ", request is 0, has larger consumption of ephemeral-storage. ") {
		t.Fatalf("message %q, want the kubelet's (%q...)", p.Status.Message, prefix)
	}
	var thresholdMet bool
	for _, e := range n.events() {
		if e.Reason == "EvictionThresholdMet" && e.InvolvedObject.Kind == "Node" && e.Message == "Attempting to reclaim ephemeral-storage" {
			thresholdMet = true
		}
	}
	if !thresholdMet {
		t.Fatalf("no EvictionThresholdMet node event: %+v", n.events())
	}
	if v := n.metric("kubelet_evictions", map[string]string{"eviction_signal": "nodefs.available"}); v != 1 {
		t.Fatalf("kubelet_evictions{eviction_signal=nodefs.available} = %v, want 1", v)
	}
	// Two more rounds of the eviction manager: the hog's volume is gone,
	// so the quiet pod is not evicted.
	time.Sleep(25 * time.Second)
	if q, err := n.pod("quiet"); err != nil || q == nil || !podRunning(q) {
		t.Fatalf("quiet pod %+v (%v), want it still running\n%s", q, err, n.logTail())
	}
}
