package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/ociimage"
	"github.com/minikubelet/minikubelet/internal/runtime"
)

// privateContainerd is a containerd of the test's own: its own socket,
// root, state, CNI configuration (bridge, subnet and IPAM data directory
// no other containerd uses) and no TCP listener. It may be SIGKILLed; the
// node's shared containerd never is.
type privateContainerd struct {
	t       *testing.T
	dir     string
	socket  string
	config  string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	client  *runtime.Client
}

const privateContainerdConfig = `version = 2
root = "%[1]s/root"
state = "%[1]s/state"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]
[grpc]
  address = "%[1]s/c.sock"
[ttrpc]
  address = "%[1]s/c.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "%[1]s/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "localhost/minikubelet/pause:1.0"
    restrict_oom_score_adj = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_tls_streaming = false
    disable_tcp_service = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      discard_unpacked_layers = false
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "%[1]s/cni"
      max_conf_num = 1
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = ""
`

// privateCNI is a bridge network no other containerd uses; the chaos
// pods run on the host network, so it is only there to be valid.
const privateCNI = `{
  "cniVersion": "0.4.0",
  "name": "minikubelet-chaos",
  "plugins": [{
    "type": "bridge", "bridge": "mkchaos0", "isGateway": true, "ipMasq": true,
    "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.254.%d.0/24"}]], "dataDir": "%s/ipam"}
  }]
}`

// startPrivateContainerd starts one; start it before the daemon that uses
// it, so that its cleanup (stop, remove its directory) runs after the
// daemon's.
func startPrivateContainerd(t *testing.T) *privateContainerd {
	t.Helper()
	if _, err := exec.LookPath("containerd"); err != nil {
		t.Fatalf("containerd: %v", err)
	}
	dir, err := os.MkdirTemp("", "mkc-")
	if err != nil {
		t.Fatal(err)
	}
	c := &privateContainerd{t: t, dir: dir, socket: filepath.Join(dir, "c.sock"), config: filepath.Join(dir, "config.toml"), logPath: filepath.Join(dir, "containerd.log")}
	if err := os.MkdirAll(filepath.Join(dir, "cni"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.config, []byte(fmt.Sprintf(privateContainerdConfig, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	cni := fmt.Sprintf(privateCNI, os.Getpid()%250, dir)
	if err := os.WriteFile(filepath.Join(dir, "cni", "10-chaos.conflist"), []byte(cni), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.client != nil {
			c.client.Close()
		}
		if c.alive() {
			c.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-c.exited:
			case <-time.After(30 * time.Second):
				c.kill()
			}
		}
		if t.Failed() {
			data, _ := os.ReadFile(c.logPath)
			t.Logf("private containerd log tail:\n%s", tail(string(data), 20))
		}
		if mounts, _ := os.ReadFile("/proc/self/mounts"); bytes.Contains(mounts, []byte(dir)) {
			t.Errorf("mounts are left under the private containerd's %s; not removing it", dir)
			return
		}
		os.RemoveAll(dir)
	})
	c.start()
	return c
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// start runs containerd (again) and waits for its CRI to answer.
func (c *privateContainerd) start() {
	c.t.Helper()
	logFile, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	c.cmd = exec.Command("containerd", "--config", c.config)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		c.t.Fatalf("start containerd: %v", err)
	}
	logFile.Close()
	c.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		close(done)
	}(c.cmd, c.exited)
	if c.client == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		client, err := runtime.Dial(ctx, "unix://"+c.socket, time.Minute)
		if err != nil {
			data, _ := os.ReadFile(c.logPath)
			c.t.Fatalf("the private containerd did not answer: %v\n%s", err, tail(string(data), 20))
		}
		c.client = client
	}
}

func (c *privateContainerd) alive() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// kill SIGKILLs this containerd, by the PID the test started.
func (c *privateContainerd) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
}

// importBusybox puts the busybox test image in this containerd.
func (c *privateContainerd) importBusybox() {
	c.t.Helper()
	data, err := os.ReadFile("/bin/busybox")
	if err != nil {
		c.t.Fatalf("read /bin/busybox: %v", err)
	}
	var archive bytes.Buffer
	if err := ociimage.Busybox(data, busyboxImage).WriteArchive(&archive); err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := runtime.ImportImage(ctx, c.socket, &archive, busyboxImage, ""); err != nil {
		c.t.Fatalf("import busybox into the private containerd: %v", err)
	}
}

// containerPID is the host PID of a running container.
func (c *privateContainerd) containerPID(id string) int {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.client.ContainerStatus(ctx, id, true)
	if err != nil {
		c.t.Fatal(err)
	}
	var info struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(st.GetInfo()["info"]), &info); err != nil || info.Pid == 0 {
		c.t.Fatalf("no pid for container %s in %q: %v", id, st.GetInfo()["info"], err)
	}
	return info.Pid
}

func containerIDOf(p *v1.Pod) string {
	if len(p.Status.ContainerStatuses) == 0 {
		return ""
	}
	return strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "containerd://")
}

// TestChaos_ContainerdKilled: the daemon's containerd is SIGKILLed (its
// shims keep the containers) and, a while later, started again. Meanwhile
// /healthz says the runtime is down and two containers die: one of a
// restartPolicy Always pod, one of a Never pod. Once containerd is back
// the daemon reconnects by itself, nothing that survived is recreated
// (same sandbox and container IDs), the Always pod's container is
// restarted and the Never pod ends Failed without a second run.
func TestChaos_ContainerdKilled(t *testing.T) {
	keep := size(3, 10)
	downFor := size(5*time.Second, 20*time.Second)
	ctd := startPrivateContainerd(t)
	ctd.importBusybox()
	n := newNode(t, ctd.client, "--container-runtime-endpoint", "unix://"+ctd.socket)
	n.start()
	n.waitHealthy()

	var names []string
	for i := 0; i < keep; i++ {
		names = append(names, fmt.Sprintf("keep-%d", i))
	}
	for _, name := range append(names, "dies") {
		n.writeManifest(name+".yaml", simplePod(name))
	}
	n.writeManifest("ends.yaml", strings.Replace(simplePod("ends"), "spec:\n", "spec:\n  restartPolicy: Never\n", 1))
	ids, sandboxes := map[string]string{}, map[string]string{}
	for _, name := range append(names, "dies", "ends") {
		p := n.waitPod(name, 60*time.Second, running)
		ids[name] = containerIDOf(p)
	}
	for name, sbs := range n.criState().sandboxes {
		sandboxes[name] = sbs[0].Id
	}
	diesPID, endsPID := ctd.containerPID(ids["dies"]), ctd.containerPID(ids["ends"])

	ctd.kill()
	down := time.Now()
	var sawDown time.Duration
	var reading string
	for time.Now().Before(down.Add(20 * time.Second)) {
		body, err := n.get("/healthz")
		if err != nil && len(body) > 0 {
			sawDown, reading = time.Since(down), strings.TrimSpace(string(body))
			break
		}
		time.Sleep(pollInterval)
	}
	if sawDown == 0 {
		t.Fatalf("/healthz did not say the runtime is down within 20s of containerd's SIGKILL:\n%s", n.logTail())
	}
	ready := n.nodeReady()
	if ready == nil || ready.Status != v1.ConditionFalse {
		t.Errorf("the node's Ready condition with containerd down: %+v, want False", ready)
	}
	syscall.Kill(diesPID, syscall.SIGKILL)
	syscall.Kill(endsPID, syscall.SIGKILL)
	time.Sleep(downFor)
	if !n.alive() {
		t.Fatalf("the daemon exited while containerd was down:\n%s", n.logTail())
	}
	if body, err := n.get("/healthz"); err == nil {
		t.Fatalf("/healthz says %q %s after containerd went", body, downFor)
	}

	ctd.start()
	back := time.Now()
	for {
		if body, err := n.get("/healthz"); err == nil && string(body) == "ok" {
			break
		}
		if time.Since(back) > 3*time.Minute {
			t.Fatalf("/healthz not ok 3 min after containerd came back:\n%s", n.logTail())
		}
		time.Sleep(pollInterval)
	}
	healthy := time.Since(back)
	p := n.waitPod("dies", 3*time.Minute, func(p *v1.Pod) bool {
		return running(p) && p.Status.ContainerStatuses[0].RestartCount == 1
	})
	restarted := time.Since(back)
	if containerIDOf(p) == ids["dies"] {
		t.Errorf("pod dies: restart count 1 but the same container %s", ids["dies"])
	}
	ends := n.waitPod("ends", time.Minute, func(p *v1.Pod) bool { return p.Status.Phase == v1.PodFailed })
	if rc := ends.Status.ContainerStatuses[0].RestartCount; rc != 0 || containerIDOf(ends) != ids["ends"] {
		t.Errorf("the Never pod ran again: restart count %d, container %s (was %s)", rc, containerIDOf(ends), ids["ends"])
	}
	pods, err := n.pods()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if got := containerIDOf(pods[name]); got != ids[name] || !running(pods[name]) {
			t.Errorf("pod %s: container %s (running %v) after containerd's restart, want %s still running", name, got, running(pods[name]), ids[name])
		}
	}
	state := n.criState()
	wants := map[string]want{"ends": {uid: string(ends.UID)}}
	for _, name := range append(names, "dies") {
		wants[name] = want{uid: string(pods[name].UID), running: true}
	}
	if problems := state.problems(wants); len(problems) > 0 {
		t.Errorf("containerd's state after its restart: %v", problems)
	}
	for name, id := range sandboxes {
		if sbs := state.sandboxes[name]; len(sbs) != 1 || sbs[0].Id != id {
			t.Errorf("pod %s: sandbox %.12s replaced", name, id)
		}
	}
	if r := n.nodeReady(); r == nil || r.Status != v1.ConditionTrue {
		t.Errorf("the node's Ready condition after containerd's return: %+v, want True", r)
	}
	t.Logf("chaos: containerd SIGKILL: %d pods kept, down %s: /healthz said %q %.2fs after the kill, node Ready %s (%s); %.2fs after containerd's return /healthz was ok, %.2fs after it the Always pod's dead container was restarted; the Never pod Failed without a second run; no sandbox or container recreated",
		keep+2, downFor, firstLine(reading, "runtime"), sawDown.Seconds(), ready.Status, ready.Message, healthy.Seconds(), restarted.Seconds())
}

// nodeReady is the Ready condition of the node object the daemon serves.
func (n *node) nodeReady() *v1.NodeCondition {
	body, err := n.get("/api/v1/nodes/" + n.name)
	if err != nil {
		n.t.Errorf("GET the node: %v", err)
		return nil
	}
	var obj v1.Node
	if err := json.Unmarshal(body, &obj); err != nil {
		n.t.Errorf("decode the node: %v", err)
		return nil
	}
	for i := range obj.Status.Conditions {
		if obj.Status.Conditions[i].Type == v1.NodeReady {
			return &obj.Status.Conditions[i]
		}
	}
	return nil
}
