package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/minikubelet/minikubelet/test/testnode"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

const (
	pollInterval = 50 * time.Millisecond
	// cleanupTimeout bounds how long a test waits for its pods to go when
	// it ends.
	cleanupTimeout = 90 * time.Second
	logTailLines   = 40
)

// testNode is one minikubelet daemon with its own manifest directory and
// node name, so tests never see each other's pods.
type testNode struct {
	t       *testing.T
	name    string
	dir     string
	socket  string
	logPath string
	// port is the node's own HTTPS port, kubeconfig the kubeconfig the
	// daemon writes for it (kubectl_test.go).
	port       int
	kubeconfig string
	cmd        *exec.Cmd
	exited     chan struct{}
	client     *http.Client
	// args are daemon flags beyond the ones every test node has, added
	// to every start's command line.
	args []string
}

// startNode starts a daemon, with args added to its command line, and
// registers its cleanup: every manifest is removed, the test waits for the
// pods to be gone from containerd, the daemon stops, and anything left is
// removed through CRI.
func startNode(t *testing.T, args ...string) *testNode {
	t.Helper()
	suffix := make([]byte, 3)
	rand.Read(suffix)
	work, err := os.MkdirTemp("", "minikubelet-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{
		t:       t,
		name:    "e2e-" + hex.EncodeToString(suffix),
		dir:     filepath.Join(work, "manifests"),
		socket:  filepath.Join(work, "api.sock"),
		logPath: filepath.Join(work, "daemon.log"),
		args:    args,
		// One port per node, kept across restarts.
		port:       freePort(t),
		kubeconfig: filepath.Join(work, "kubeconfig"),
	}
	if err := os.Mkdir(n.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	n.client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", n.socket)
		},
	}}
	n.start()
	t.Cleanup(func() {
		n.cleanup()
		if !t.Failed() {
			os.RemoveAll(work)
		}
	})
	n.waitHealthy()
	return n
}

func (n *testNode) start() {
	logFile, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		n.t.Fatal(err)
	}
	n.cmd = exec.Command(binary, "run",
		"--pod-manifest-path", n.dir,
		"--hostname-override", n.name,
		"--api-socket", n.socket,
		"--root-dir", n.rootDir(),
		"--log-level", "debug",
		// The tests read the console format; a test may ask for json.
		"--log-format", "text",
		"--cgroup-root", n.cgroupRoot(),
		"--port", strconv.Itoa(n.port),
		"--kubeconfig-path", n.kubeconfig,
		// Test nodes share the machine: none takes the kubelet's 10248.
		"--healthz-port", "0",
	)
	n.cmd.Args = append(n.cmd.Args, n.args...)
	n.cmd.Stdout, n.cmd.Stderr = logFile, logFile
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		n.t.Fatalf("start minikubelet: %v", err)
	}
	logFile.Close()
	n.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		close(done)
	}(n.cmd, n.exited)
}

func (n *testNode) waitHealthy() {
	n.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-n.exited:
			n.t.Fatalf("minikubelet exited at start:\n%s", n.logTail())
		default:
		}
		if body, err := n.get("/healthz"); err == nil && string(body) == "ok" {
			return
		}
		time.Sleep(pollInterval)
	}
	n.t.Fatalf("minikubelet did not answer /healthz within 30s:\n%s", n.logTail())
}

// stop sends sig to the daemon and waits for it to exit.
func (n *testNode) stop(sig syscall.Signal) {
	n.t.Helper()
	select {
	case <-n.exited:
		return
	default:
	}
	n.cmd.Process.Signal(sig)
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		n.cmd.Process.Kill()
		<-n.exited
		n.t.Errorf("minikubelet did not exit within 30s of %v", sig)
	}
}

func (n *testNode) cleanup() {
	if n.t.Failed() {
		n.t.Logf("daemon log tail (%s):\n%s", n.logPath, n.logTail())
	}
	entries, _ := os.ReadDir(n.dir)
	for _, e := range entries {
		os.Remove(filepath.Join(n.dir, e.Name()))
	}
	running := true
	select {
	case <-n.exited:
		running = false
	default:
	}
	if running {
		deadline := time.Now().Add(cleanupTimeout)
		for time.Now().Before(deadline) && len(n.sandboxes()) > 0 {
			time.Sleep(pollInterval)
		}
		n.stop(syscall.SIGTERM)
	}
	// Whatever is left (the daemon died, or stopping timed out) goes
	// through CRI, and fails the test: a test must not leak pods.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, s := range n.sandboxes() {
		n.t.Errorf("sandbox %s of pod %s was left behind; removing it", s.Id, s.Metadata.Name)
		cri.StopPodSandbox(ctx, s.Id)
		cri.RemovePodSandbox(ctx, s.Id)
	}
	removeCgroupRoot(n.cgroupRoot())
}

// cgroupRoot is the node's own cgroup root, so that the kubepods
// hierarchies of the tests' daemons never share a file.
func (n *testNode) cgroupRoot() string { return "/minikubelet-" + n.name }

// rootDir is the node's --root-dir.
func (n *testNode) rootDir() string { return filepath.Join(filepath.Dir(n.dir), "root") }

func (n *testNode) logTail() string { return testnode.LogTail(n.logPath, logTailLines) }

// podName is the name the daemon gives the pod of a manifest named name.
func (n *testNode) podName(name string) string { return name + "-" + n.name }

// writeManifest writes a manifest file atomically (temp file, rename).
func (n *testNode) writeManifest(file, content string) {
	n.t.Helper()
	if err := testnode.WriteManifest(n.dir, file, content); err != nil {
		n.t.Fatal(err)
	}
}

func (n *testNode) removeManifest(file string) {
	n.t.Helper()
	if err := os.Remove(filepath.Join(n.dir, file)); err != nil {
		n.t.Fatal(err)
	}
}

func (n *testNode) get(path string) ([]byte, error) { return testnode.Get(n.client, path) }

// pods is GET /pods.
func (n *testNode) pods() ([]v1.Pod, error) {
	body, err := n.get("/pods")
	if err != nil {
		return nil, err
	}
	var list v1.PodList
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("decode /pods: %w", err)
	}
	return list.Items, nil
}

func (n *testNode) pod(name string) (*v1.Pod, error) {
	pods, err := n.pods()
	if err != nil {
		return nil, err
	}
	for i := range pods {
		if pods[i].Name == n.podName(name) {
			return &pods[i], nil
		}
	}
	return nil, nil
}

// waitPod polls GET /pods until cond holds for the pod of manifest name,
// and fails the test with the last status seen and the daemon's log when
// timeout passes.
func (n *testNode) waitPod(name string, timeout time.Duration, what string, cond func(*v1.Pod) bool) *v1.Pod {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	var last *v1.Pod
	var lastErr error
	for {
		p, err := n.pod(name)
		if err == nil && p != nil && cond(p) {
			return p
		}
		last, lastErr = p, err
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(pollInterval)
	}
	dump, _ := json.MarshalIndent(last, "", "  ")
	n.t.Fatalf("pod %s: not %s within %s (last error: %v); last status:\n%s\ndaemon log tail:\n%s",
		n.podName(name), what, timeout, lastErr, dump, n.logTail())
	return nil
}

// waitGone polls until the pod of manifest name is neither in GET /pods
// nor in containerd.
func (n *testNode) waitGone(name string, timeout time.Duration) {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		p, err := n.pod(name)
		if err == nil && p == nil && len(n.sandboxesOf(name)) == 0 && len(n.containersOf(name)) == 0 {
			return
		}
		time.Sleep(pollInterval)
	}
	n.t.Fatalf("pod %s: still there %s after its manifest was removed: sandboxes %d, containers %d\ndaemon log tail:\n%s",
		n.podName(name), timeout, len(n.sandboxesOf(name)), len(n.containersOf(name)), n.logTail())
}

// sandboxes lists every sandbox containerd has for this node.
func (n *testNode) sandboxes() []*runtimeapi.PodSandbox {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	items, err := cri.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{runtime.LabelNode: n.name}})
	if err != nil {
		n.t.Errorf("list sandboxes: %v", err)
	}
	return items
}

func (n *testNode) sandboxesOf(name string) []*runtimeapi.PodSandbox {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	items, err := cri.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{runtime.LabelPodName: n.podName(name)}})
	if err != nil {
		n.t.Errorf("list sandboxes: %v", err)
	}
	return items
}

func (n *testNode) containersOf(name string) []*runtimeapi.Container {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	items, err := cri.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: map[string]string{runtime.LabelPodName: n.podName(name)}})
	if err != nil {
		n.t.Errorf("list containers: %v", err)
	}
	return items
}

// exec runs cmd in a container of a running pod through CRI.
func (n *testNode) exec(p *v1.Pod, container string, cmd ...string) (string, error) {
	n.t.Helper()
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name != container {
			continue
		}
		id := strings.TrimPrefix(cs.ContainerID, "containerd://")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		stdout, stderr, err := cri.ExecSync(ctx, id, cmd, 20*time.Second)
		return string(bytes.TrimSpace(append(stdout, stderr...))), err
	}
	return "", fmt.Errorf("pod %s has no container %q", p.Name, container)
}

// podRunning is true once the pod is Running with every container running.
func podRunning(p *v1.Pod) bool {
	if p.Status.Phase != v1.PodRunning {
		return false
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil {
			return false
		}
	}
	return len(p.Status.ContainerStatuses) > 0
}
