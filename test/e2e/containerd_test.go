package e2e

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// containerdPIDFile is where hack/node-up.sh records the containerd it
// started in the background.
const containerdPIDFile = "/run/minikubelet/containerd.pid"

// restartContainerd kills containerd with SIGKILL and starts it again with
// hack/node-up.sh, as a crash and a supervisor's restart would.
func restartContainerd(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile(containerdPIDFile)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no containerd started by hack/node-up.sh (%v): CI must run it", err)
		}
		t.Skipf("containerd was not started by hack/node-up.sh (%v)", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("containerd pid file: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill containerd %d: %v", pid, err)
	}
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			break
		}
		time.Sleep(pollInterval)
	}
	up := exec.Command("bash", "../../hack/node-up.sh")
	up.Env = append(os.Environ(), "MINIKUBELET="+binary)
	if out, err := up.CombinedOutput(); err != nil {
		t.Fatalf("hack/node-up.sh after killing containerd: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := runtime.Dial(ctx, criEndpoint, time.Minute)
	if err != nil {
		t.Fatalf("containerd did not come back: %v", err)
	}
	c.Close()
}

func TestContainerd_RestartLosesAndDuplicatesNothing(t *testing.T) {
	n := startNode(t)
	n.writeManifest("web.yaml", twoContainerPod)
	before := n.waitPod("web", 10*time.Second, "Running", podRunning)
	ids := map[string]string{}
	for _, cs := range before.Status.ContainerStatuses {
		ids[cs.Name] = cs.ContainerID
	}
	restartContainerd(t)
	// The pod keeps its containers: none is recreated or restarted.
	time.Sleep(2 * time.Second)
	after := n.waitPod("web", 15*time.Second, "Running after containerd restarted", podRunning)
	for _, cs := range after.Status.ContainerStatuses {
		if cs.ContainerID != ids[cs.Name] || cs.RestartCount != 0 {
			t.Errorf("container %s: %s with %d restarts after containerd restarted, want %s with 0", cs.Name, cs.ContainerID, cs.RestartCount, ids[cs.Name])
		}
	}
	if got := len(n.sandboxesOf("web")); got != 1 {
		t.Errorf("pod has %d sandboxes after containerd restarted, want 1", got)
	}
	// And the daemon still starts new pods.
	n.writeManifest("hostnet.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: later
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
`)
	n.waitPod("later", 15*time.Second, "Running", podRunning)
}
