package chaos

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// waitModel waits for containerd to hold exactly the pods of names, each
// running, and for /pods to list them Running.
func (n *node) waitModel(what string, names []string, timeout time.Duration) time.Duration {
	n.t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	var problems []string
	for time.Now().Before(deadline) {
		pods, err := n.pods()
		if err == nil {
			wants := map[string]want{}
			problems = problems[:0]
			for _, name := range names {
				p := pods[name]
				if p == nil || !running(p) {
					problems = append(problems, "pod "+name+": not Running in /pods")
					continue
				}
				wants[name] = want{uid: string(p.UID), running: true}
			}
			if len(problems) == 0 {
				if problems = n.criState().problems(wants); len(problems) == 0 {
					return time.Since(start)
				}
			}
		}
		time.Sleep(pollInterval)
	}
	n.t.Fatalf("%s: containerd and /pods did not settle within %s: %v\ndaemon log tail:\n%s", what, timeout, problems, n.logTail())
	return 0
}

// TestChaos_ManifestDirectoryPulledAway: the directory removed (as the
// kubelet, its pods stop) and recreated (they start again); made mode
// 000 (as root the daemon still reads it: CAP_DAC_OVERRIDE; nothing
// changes); replaced by a symlink to another directory (its pods replace
// the first set) and back.
func TestChaos_ManifestDirectoryPulledAway(t *testing.T) {
	n := startNode(t)
	first := []string{"dir-a", "dir-b", "dir-c"}
	for _, name := range first {
		n.writeManifest(name+".yaml", simplePod(name))
	}
	n.waitModel("first set", first, 60*time.Second)

	aside := n.dir + ".aside"
	if err := os.Rename(n.dir, aside); err != nil {
		t.Fatal(err)
	}
	took := n.waitModel("directory removed", nil, 60*time.Second)
	t.Logf("directory removed: every pod gone in %.2fs", took.Seconds())
	if err := os.Rename(aside, n.dir); err != nil {
		t.Fatal(err)
	}
	tookBack := n.waitModel("directory recreated", first, 60*time.Second)
	t.Logf("directory back: every pod Running in %.2fs", tookBack.Seconds())

	if err := os.Chmod(n.dir, 0); err != nil {
		t.Fatal(err)
	}
	n.writeManifest("dir-d.yaml", simplePod("dir-d"))
	withD := append(append([]string(nil), first...), "dir-d")
	n.waitModel("directory mode 000 (root reads it anyway)", withD, 60*time.Second)
	if err := os.Chmod(n.dir, 0o755); err != nil {
		t.Fatal(err)
	}

	other := filepath.Join(n.work, "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	second := []string{"dir-x", "dir-y"}
	for _, name := range second {
		if err := os.WriteFile(filepath.Join(other, name+".yaml"), []byte(simplePod(name)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(n.dir, aside); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, n.dir); err != nil {
		t.Fatal(err)
	}
	tookSwap := n.waitModel("directory replaced by a symlink", second, 60*time.Second)
	if err := os.Remove(n.dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(aside, n.dir); err != nil {
		t.Fatal(err)
	}
	tookSwapBack := n.waitModel("symlink replaced by the directory", withD, 60*time.Second)
	t.Logf("chaos: manifest directory: removed (pods gone in %.2fs) and recreated (back in %.2fs), mode 000 (read anyway as root), swapped for a symlink (%.2fs) and back (%.2fs); nothing duplicated or left behind",
		took.Seconds(), tookBack.Seconds(), tookSwap.Seconds(), tookSwapBack.Seconds())
}

// silentServer accepts connections and never answers; it counts the
// connections open at once.
type silentServer struct {
	l        net.Listener
	mu       sync.Mutex
	open     int
	maxOpen  int
	accepted int
}

func startSilentServer(t *testing.T) *silentServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentServer{l: l}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.open++
			s.accepted++
			s.maxOpen = max(s.maxOpen, s.open)
			s.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						break
					}
				}
				c.Close()
				s.mu.Lock()
				s.open--
				s.mu.Unlock()
			}()
		}
	}()
	return s
}

func (s *silentServer) port() int { return s.l.Addr().(*net.TCPAddr).Port }

func (s *silentServer) counts() (open, maxOpen, accepted int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open, s.maxOpen, s.accepted
}

// TestChaos_ProbeTargetNeverAnswers: an httpGet liveness probe against a
// server that accepts and never answers times out (timeoutSeconds 1), the
// container is restarted for it, each probe closes its connection (at
// most a few open at once) and the daemon's goroutines come back to where
// they were once the pod is gone.
func TestChaos_ProbeTargetNeverAnswers(t *testing.T) {
	srv := startSilentServer(t)
	n := startNode(t)
	base, err := sampleProc(n)
	if err != nil {
		t.Fatal(err)
	}
	n.writeManifest("silent.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: silent
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    livenessProbe:
      httpGet: {host: 127.0.0.1, port: %d, path: /healthz}
      periodSeconds: 1
      timeoutSeconds: 1
      failureThreshold: 2
    readinessProbe:
      tcpSocket: {host: 127.0.0.1, port: %d}
      periodSeconds: 1
`, busyboxImage, srv.port(), srv.port()))
	p := n.waitPod("silent", 60*time.Second, func(p *v1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 2
	})
	_, maxOpen, accepted := srv.counts()
	if maxOpen > 4 {
		t.Errorf("%d probe connections open at once to a server that never answers, want at most 4 (each probe's timeout closes its own)", maxOpen)
	}
	n.removeManifest("silent.yaml")
	n.waitModel("pod removed", nil, 60*time.Second)
	var end procSample
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if end, err = sampleProc(n); err == nil && end.goroutines <= base.goroutines {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if end.goroutines > base.goroutines {
		t.Errorf("goroutines %.0f before the pod, %.0f after it went: a probe of the silent server leaked", base.goroutines, end.goroutines)
	}
	open, _, _ := srv.counts()
	if open != 0 {
		t.Errorf("%d probe connections still open after the pod went", open)
	}
	t.Logf("chaos: probe target that never answers: %d connections accepted, at most %d open at once, restarted %d times for liveness timeouts, goroutines %.0f before and %.0f after",
		accepted, maxOpen, p.Status.ContainerStatuses[0].RestartCount, base.goroutines, end.goroutines)
}
