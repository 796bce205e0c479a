package chaos

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// mountTmpfs mounts a tmpfs of size at dir (made if missing) and unmounts
// it at cleanup, after the daemon's cleanup (registered later, run first).
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs at %s: %v: %s", dir, err, out)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

// fill writes a file at path until the file system holding it is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", path, err)
			}
			return
		}
	}
}

func freeBytes(t *testing.T, dir string) uint64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return st.Bavail * uint64(st.Bsize)
}

// TestChaos_DiskFull: the log directory and the root directory are small
// tmpfs mounts. A container floods stdout at full speed and fills the log
// directory, a file fills the root directory. Meanwhile: the running
// containers keep running (same IDs), the daemon's CPU and memory stay
// bounded, a SIGKILLed daemon comes back and adopts every pod, a new pod
// reports why it cannot start, and once space returns the new pod runs
// and nothing was lost.
func TestChaos_DiskFull(t *testing.T) {
	n := newNode(t, cri)
	logs, root := filepath.Join(n.work, "logs"), filepath.Join(n.work, "root")
	mountTmpfs(t, logs, "16m")
	mountTmpfs(t, root, "16m")
	// Registered after the mounts: runs before their unmount.
	t.Cleanup(func() {
		os.Remove(filepath.Join(root, "filler"))
		n.cleanup()
	})
	n.start()
	n.waitHealthy()

	steady := []string{"full-a", "full-b"}
	for _, name := range steady {
		n.writeManifest(name+".yaml", simplePod(name))
	}
	n.writeManifest("flood.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: flood
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: ["yes", "flooding stdout at full speed, flooding stdout at full speed"]
`, busyboxImage))
	ids := map[string]string{}
	for _, name := range append(steady, "flood") {
		p := n.waitPod(name, 60*time.Second, running)
		ids[name] = p.Status.ContainerStatuses[0].ContainerID
	}
	deadline := time.Now().Add(30 * time.Second)
	for freeBytes(t, logs) > 0 && time.Now().Before(deadline) {
		time.Sleep(pollInterval)
	}
	if free := freeBytes(t, logs); free > 0 {
		t.Fatalf("the flood did not fill the log tmpfs in 30s (%d bytes free)", free)
	}
	fill(t, filepath.Join(root, "filler"))

	// Both full: sample the daemon over a while.
	rss0, _ := rssKB(n.pid())
	cpu0, _ := cpuTicks(n.pid())
	window := 10 * time.Second
	time.Sleep(window)
	rss1, _ := rssKB(n.pid())
	cpu1, _ := cpuTicks(n.pid())
	cpuPct := float64(cpu1-cpu0) / window.Seconds()
	if rss1 > 2*rss0 {
		t.Errorf("the daemon's RSS went from %d kB to %d kB while a container flooded a full disk", rss0, rss1)
	}

	// A daemon killed now comes back on the full disk and adopts the pods.
	n.kill()
	n.start()
	n.waitHealthy()
	for _, name := range append(steady, "flood") {
		p := n.waitPod(name, 60*time.Second, running)
		if got := p.Status.ContainerStatuses[0].ContainerID; got != ids[name] {
			t.Errorf("pod %s: container %s replaced by %s on a full disk", name, ids[name], got)
		}
	}
	// A new pod cannot get its files; it says why.
	n.writeManifest("late.yaml", simplePod("late"))
	p := n.waitPod("late", 60*time.Second, func(p *v1.Pod) bool {
		return strings.Contains(podJSON(p), "no space left")
	})
	reported := firstLine(podJSON(p), "no space left")

	// Space returns: the flood goes (its logs with it), the filler too.
	n.removeManifest("flood.yaml")
	os.Remove(filepath.Join(root, "filler"))
	returned := time.Now()
	n.waitPod("late", 60*time.Second, running)
	recovered := time.Since(returned)
	n.waitModel("space back", append(steady, "late"), 60*time.Second)
	for _, name := range steady {
		p := n.waitPod(name, 10*time.Second, running)
		if got := p.Status.ContainerStatuses[0].ContainerID; got != ids[name] {
			t.Errorf("pod %s: container replaced after the disk was full", name)
		}
	}
	t.Logf("chaos: disk full (16 MB tmpfs log dir filled by a flooding container, 16 MB tmpfs root dir filled): daemon RSS %d -> %d kB, CPU %.1f%% of a core; SIGKILL on a full disk adopted all 3 pods (same container IDs); a new pod reported %q and ran %.2fs after space returned",
		rss0, rss1, cpuPct, reported, recovered.Seconds())
}

func firstLine(s, sub string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
