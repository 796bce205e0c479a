package chaos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/minikubelet/minikubelet/test/testnode"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
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
	pollInterval   = 50 * time.Millisecond
	startTimeout   = 30 * time.Second
	cleanupTimeout = 90 * time.Second
	logTailLines   = 40
	cgroupV1       = "/sys/fs/cgroup"
)

// node is one daemon under test with its own node name, manifest
// directory, root directory, API socket and cgroup root. It survives
// being killed: start runs it again with the same name and directories.
type node struct {
	t       *testing.T
	name    string
	work    string
	dir     string
	socket  string
	logPath string
	args    []string
	port    int // the HTTPS port
	cri     *runtime.Client
	client  *http.Client
	cmd     *exec.Cmd
	exited  chan struct{}
}

// startNode runs a daemon against the node's containerd; args are extra
// flags of `minikubelet run`. Its cleanup removes every manifest, waits
// for the pods to go, stops the daemon and fails the test for anything
// left behind.
func startNode(t *testing.T, args ...string) *node {
	t.Helper()
	n := newNode(t, cri, args...)
	n.start()
	n.waitHealthy()
	return n
}

// newNode prepares a node without starting it; c is the CRI client the
// test checks the node's state through.
func newNode(t *testing.T, c *runtime.Client, args ...string) *node {
	t.Helper()
	suffix := make([]byte, 3)
	rand.Read(suffix)
	work, err := os.MkdirTemp("", "minikubelet-chaos-")
	if err != nil {
		t.Fatal(err)
	}
	n := &node{
		t:       t,
		name:    "chaos-" + hex.EncodeToString(suffix),
		work:    work,
		dir:     filepath.Join(work, "manifests"),
		socket:  filepath.Join(work, "api.sock"),
		logPath: filepath.Join(work, "daemon.log"),
		args:    args,
		cri:     c,
		port:    freeLoopbackPort(t),
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
	t.Cleanup(func() {
		n.cleanup()
		if !t.Failed() {
			os.RemoveAll(work)
		}
	})
	return n
}

// freeLoopbackPort finds a free TCP port on loopback.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs the daemon process (again, after a kill).
func (n *node) start() {
	n.t.Helper()
	logFile, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		n.t.Fatal(err)
	}
	n.cmd = exec.Command(binary, "run",
		"--pod-manifest-path", n.dir,
		"--hostname-override", n.name,
		"--api-socket", n.socket,
		"--root-dir", filepath.Join(n.work, "root"),
		"--pod-logs-dir", filepath.Join(n.work, "logs"),
		"--cgroup-root", n.cgroupRoot(),
		"--log-format", "text",
		// A port of its own: the daemons of the suite run side by side.
		"--port", strconv.Itoa(n.port),
		"--healthz-port", "0",
		"--kubeconfig-path", filepath.Join(n.work, "kubeconfig"),
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

func (n *node) pid() int { return n.cmd.Process.Pid }

// waitHealthy waits for /healthz to answer ok.
func (n *node) waitHealthy() {
	n.t.Helper()
	deadline := time.Now().Add(startTimeout)
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
	n.t.Fatalf("minikubelet did not answer /healthz within %s:\n%s", startTimeout, n.logTail())
}

// kill SIGKILLs the daemon and waits for it to be gone.
func (n *node) kill() {
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
}

func (n *node) alive() bool {
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits; SIGKILL (and an error) after 30 s.
func (n *node) stop() {
	n.t.Helper()
	if !n.alive() {
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		n.kill()
		n.t.Errorf("minikubelet did not exit within 30s of SIGTERM")
	}
}

func (n *node) cleanup() {
	if n.t.Failed() {
		n.t.Logf("daemon log tail (%s):\n%s", n.logPath, n.logTail())
	}
	os.Chmod(n.dir, 0o755)
	entries, _ := os.ReadDir(n.dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(n.dir, e.Name()))
	}
	if n.cmd != nil && n.alive() {
		deadline := time.Now().Add(cleanupTimeout)
		for time.Now().Before(deadline) && len(n.sandboxes()) > 0 {
			time.Sleep(pollInterval)
		}
		n.stop()
	}
	// Whatever is left goes through CRI, and fails the test: a test must
	// not leak pods.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, s := range n.sandboxes() {
		n.t.Errorf("sandbox %s of pod %s was left behind; removing it", s.Id, s.Metadata.Name)
		n.cri.StopPodSandbox(ctx, s.Id)
		n.cri.RemovePodSandbox(ctx, s.Id)
	}
	removeCgroupRoot(n.cgroupRoot())
}

// cgroupRoot is the node's own cgroup root.
func (n *node) cgroupRoot() string { return "/minikubelet-" + n.name }

func removeCgroupRoot(root string) {
	mounts, _ := filepath.Glob(filepath.Join(cgroupV1, "*"))
	for _, mnt := range mounts {
		var dirs []string
		filepath.WalkDir(filepath.Join(mnt, root), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		for _, d := range dirs {
			os.Remove(d)
		}
	}
}

func (n *node) logTail() string { return testnode.LogTail(n.logPath, logTailLines) }

// podName is the name the daemon gives the pod of a manifest named name.
func (n *node) podName(name string) string { return name + "-" + n.name }

// writeManifest writes a manifest file atomically (temp file, rename).
func (n *node) writeManifest(file, content string) {
	n.t.Helper()
	if err := testnode.WriteManifest(n.dir, file, content); err != nil {
		n.t.Fatal(err)
	}
}

func (n *node) removeManifest(file string) {
	n.t.Helper()
	if err := os.Remove(filepath.Join(n.dir, file)); err != nil {
		n.t.Fatal(err)
	}
}

func (n *node) get(path string) ([]byte, error) { return testnode.Get(n.client, path) }

// pods is GET /pods, keyed by the manifest's name.
func (n *node) pods() (map[string]*v1.Pod, error) {
	body, err := n.get("/pods")
	if err != nil {
		return nil, err
	}
	var list v1.PodList
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("decode /pods: %w", err)
	}
	out := make(map[string]*v1.Pod, len(list.Items))
	for i := range list.Items {
		out[strings.TrimSuffix(list.Items[i].Name, "-"+n.name)] = &list.Items[i]
	}
	return out, nil
}

// waitPod polls until cond holds for the pod of manifest name.
func (n *node) waitPod(name string, timeout time.Duration, cond func(*v1.Pod) bool) *v1.Pod {
	n.t.Helper()
	var last *v1.Pod
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if pods, err := n.pods(); err == nil {
			last = pods[name]
			if last != nil && cond(last) {
				return last
			}
		}
		time.Sleep(pollInterval)
	}
	n.t.Fatalf("pod %s: condition not met within %s; last seen:\n%s\ndaemon log tail:\n%s", name, timeout, podJSON(last), n.logTail())
	return nil
}

func podJSON(p *v1.Pod) string {
	if p == nil {
		return "not listed"
	}
	data, _ := json.MarshalIndent(p.Status, "", "  ")
	return string(data)
}

// running says every container of p runs.
func running(p *v1.Pod) bool {
	if p.Status.Phase != v1.PodRunning || len(p.Status.ContainerStatuses) == 0 {
		return false
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil {
			return false
		}
	}
	return true
}

func (n *node) sandboxes() []*runtimeapi.PodSandbox {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	items, err := n.cri.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{runtime.LabelNode: n.name}})
	if err != nil {
		n.t.Errorf("list sandboxes: %v", err)
	}
	return items
}

func (n *node) containers() []*runtimeapi.Container {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	items, err := n.cri.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: map[string]string{runtime.LabelNode: n.name}})
	if err != nil {
		n.t.Errorf("list containers: %v", err)
	}
	return items
}
