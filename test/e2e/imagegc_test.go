package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/sandbox"
)

// imageID is the runtime's ID of the image ref, "" when it has none.
func imageID(t *testing.T, ref string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := cri.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: ref}, false)
	if err != nil {
		t.Fatalf("image status %s: %v", ref, err)
	}
	return st.GetImage().GetId()
}

// The image filesystem of this machine is far below the kubelet's 85%, so
// the thresholds are set to collect at once (1%, down to 0%): every image
// no container uses that the daemon first saw imageMinimumGCAge ago is
// removed. The runtime is shared with other tests, so the age is long
// enough for their freshly pulled images, and a pod keeps busybox in use.
func TestImageGC_UnusedImageRemovedUsedAndPauseKept(t *testing.T) {
	requireRegistry(t, openRegistry)
	unused, usedRef := openRegistry+"/e2e-gc-unused:1", openRegistry+"/e2e-gc-used:1"
	pushImage(t, unused, "gc-unused", "")
	pushImage(t, usedRef, "gc-used", "")
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("imageGCHighThresholdPercent: 1\nimageGCLowThresholdPercent: 0\nimageMinimumGCAge: 30s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "--config", cfg, "--image-gc-period", "2s")
	n.writeManifest("keep.yaml", imagePod("keep", busyboxImage, v1.PullIfNotPresent))
	n.writeManifest("used.yaml", imagePod("used", usedRef, v1.PullIfNotPresent))
	n.writeManifest("once.yaml", imagePod("once", unused, v1.PullIfNotPresent))
	n.waitPod("keep", 30*time.Second, "running", podRunning)
	n.waitPod("used", 30*time.Second, "running", podRunning)
	n.waitPod("once", 30*time.Second, "running", podRunning)
	unusedID := imageID(t, unused)
	if unusedID == "" {
		t.Fatalf("%s was not pulled", unused)
	}
	// Its pod goes: nothing uses the image any more.
	n.removeManifest("once.yaml")
	n.waitGone("once", 30*time.Second)
	removedAt := time.Now()
	deadline := removedAt.Add(90 * time.Second)
	for imageID(t, unused) != "" {
		if time.Now().After(deadline) {
			t.Fatalf("%s (%s) still present 90 s after its pod went\n%s", unused, unusedID, n.logTail())
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("unused image removed %s after its pod went", time.Since(removedAt).Round(time.Second))
	for _, ref := range []string{usedRef, busyboxImage, sandbox.PauseImage} {
		if imageID(t, ref) == "" {
			t.Fatalf("%s was removed: an image in use or the pause image must stay", ref)
		}
	}
	if lines := n.logLinesSince(0, "removing image to free bytes", unusedID); len(lines) == 0 {
		t.Fatalf("no log line for the removal of %s\n%s", unusedID, n.logTail())
	}
	var failed bool
	for _, e := range n.events() {
		if e.Reason == "FreeDiskSpaceFailed" && e.InvolvedObject.Kind == "Node" && strings.Contains(e.Message, "Failed to garbage collect required amount of images") {
			failed = true
		}
	}
	if !failed {
		t.Fatalf("no FreeDiskSpaceFailed node event (the node cannot get down to 0%%): %+v", n.events())
	}
}
