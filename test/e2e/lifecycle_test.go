package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// instance is one container instance as containerd recorded it.
type instance struct {
	id                string
	restartCount      int
	started, finished time.Time
}

// instances polls containerd for every instance of a container of a pod,
// remembering instances the daemon has since removed.
type instanceLog struct {
	n         *testNode
	pod, name string
	seen      map[string]instance
}

func (l *instanceLog) poll() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, c := range l.n.containersOf(l.pod) {
		if c.Metadata.Name != l.name {
			continue
		}
		st, err := cri.ContainerStatus(ctx, c.Id, false)
		if err != nil {
			continue
		}
		in := instance{id: c.Id, restartCount: int(c.Metadata.Attempt)}
		if s := st.Status; s != nil {
			if s.StartedAt > 0 {
				in.started = time.Unix(0, s.StartedAt)
			}
			if s.FinishedAt > 0 {
				in.finished = time.Unix(0, s.FinishedAt)
			}
		}
		l.seen[c.Id] = in
	}
}

func (l *instanceLog) sorted() []instance {
	var out []instance
	for _, in := range l.seen {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].restartCount < out[j].restartCount })
	return out
}

func TestLifecycle_CrashLoopBackOffIntervals(t *testing.T) {
	n := startNode(t)
	n.writeManifest("crash.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: crash
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "sleep 1; exit 1"]
`)
	log := &instanceLog{n: n, pod: "crash", name: "c", seen: map[string]instance{}}
	sawBackOff := false
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		log.poll()
		if p, err := n.pod("crash"); err == nil && p != nil && len(p.Status.ContainerStatuses) == 1 {
			cs := p.Status.ContainerStatuses[0]
			if w := cs.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
				sawBackOff = true
				if !strings.HasPrefix(w.Message, "back-off ") || !strings.Contains(w.Message, "restarting failed container=c pod="+n.podName("crash")+"_default(") {
					t.Fatalf("CrashLoopBackOff message %q is not the kubelet's", w.Message)
				}
			}
		}
		if in := log.sorted(); len(in) >= 4 && !in[3].started.IsZero() {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	in := log.sorted()
	if len(in) < 4 {
		t.Fatalf("saw %d instances in 60s, want 4: %+v", len(in), in)
	}
	want := []time.Duration{0, 10 * time.Second, 20 * time.Second}
	for i, w := range want {
		gap := in[i+1].started.Sub(in[i].finished)
		t.Logf("restart %d: %s after the exit (want %s)", i+1, gap.Round(time.Millisecond), w)
		if gap < w || gap > w+time.Second {
			t.Errorf("restart %d came %s after the exit, want %s (never early, at most 1s late)", i+1, gap, w)
		}
	}
	if !sawBackOff {
		t.Error("never saw the container Waiting in CrashLoopBackOff between restarts")
	}
}

func TestLifecycle_OnFailureExitZeroSucceeds(t *testing.T) {
	n := startNode(t)
	n.writeManifest("done.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: done
spec:
  restartPolicy: OnFailure
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "exit 0"]
`)
	p := n.waitPod("done", 10*time.Second, "Succeeded", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodSucceeded })
	cs := p.Status.ContainerStatuses[0]
	if cs.State.Terminated == nil || cs.State.Terminated.Reason != "Completed" || cs.RestartCount != 0 {
		t.Fatalf("container state %+v restarts %d, want Terminated Completed with no restart", cs.State, cs.RestartCount)
	}
	if got := statusColumn(t, p); got != "Completed" {
		t.Fatalf("STATUS column %q, want Completed", got)
	}
}

func TestLifecycle_NeverExitOneFails(t *testing.T) {
	n := startNode(t)
	n.writeManifest("fail.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: fail
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "echo bye > /dev/termination-log; exit 1"]
`)
	p := n.waitPod("fail", 10*time.Second, "Failed", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodFailed })
	term := p.Status.ContainerStatuses[0].State.Terminated
	if term == nil || term.Reason != "Error" || term.ExitCode != 1 || strings.TrimSpace(term.Message) != "bye" {
		t.Fatalf("container state %+v, want Terminated Error exit 1 with the termination message", p.Status.ContainerStatuses[0].State)
	}
	if got := statusColumn(t, p); got != "Error" {
		t.Fatalf("STATUS column %q, want Error", got)
	}
	time.Sleep(2 * time.Second)
	if p, _ := n.pod("fail"); p.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Fatalf("a Never pod restarted: %d", p.Status.ContainerStatuses[0].RestartCount)
	}
}

func TestLifecycle_InitContainersRunInOrderBeforeTheApp(t *testing.T) {
	n := startNode(t)
	n.writeManifest("init.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: init
spec:
  terminationGracePeriodSeconds: 2
  volumes:
  - name: data
    emptyDir: {}
  initContainers:
  - name: first
    image: busybox:1.35
    command: ["sh", "-c", "sleep 1; echo first >> /data/order"]
    volumeMounts: [{name: data, mountPath: /data}]
  - name: second
    image: busybox:1.35
    command: ["sh", "-c", "echo second >> /data/order"]
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - name: app
    image: busybox:1.35
    command: ["sh", "-c", "echo app >> /data/order; exec sleep 3600"]
    volumeMounts: [{name: data, mountPath: /data}]
`)
	sawInit := false
	deadline := time.Now().Add(15 * time.Second)
	var p *v1.Pod
	for time.Now().Before(deadline) {
		p, _ = n.pod("init")
		if p != nil && strings.HasPrefix(statusColumn(t, p), "Init:") {
			sawInit = true
		}
		if p != nil && podRunning(p) {
			break
		}
		time.Sleep(pollInterval)
	}
	p = n.waitPod("init", time.Second, "Running", podRunning)
	if !sawInit {
		t.Error("never saw STATUS Init:N/2 while the init containers ran")
	}
	out, err := n.exec(p, "app", "cat", "/data/order")
	if err != nil || out != "first\nsecond\napp" {
		t.Fatalf("order file %q (%v), want first, second, app", out, err)
	}
	for _, cs := range p.Status.InitContainerStatuses {
		if cs.State.Terminated == nil || cs.State.Terminated.Reason != "Completed" {
			t.Errorf("init container %s: %+v, want Terminated Completed", cs.Name, cs.State)
		}
	}
}

func TestLifecycle_FailingInitContainerUnderNeverFailsThePod(t *testing.T) {
	n := startNode(t)
	n.writeManifest("badinit.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: badinit
spec:
  restartPolicy: Never
  initContainers:
  - name: setup
    image: busybox:1.35
    command: ["sh", "-c", "exit 3"]
  containers:
  - name: app
    image: busybox:1.35
    command: ["sleep", "3600"]
`)
	p := n.waitPod("badinit", 10*time.Second, "Failed", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodFailed })
	if p.Status.ContainerStatuses[0].State.Running != nil || p.Status.ContainerStatuses[0].ContainerID != "" {
		t.Fatalf("the app container ran although its init container failed: %+v", p.Status.ContainerStatuses[0])
	}
	if got := statusColumn(t, p); got != "Init:ExitCode:3" && got != "Init:Error" {
		t.Fatalf("STATUS column %q, want Init:Error or Init:ExitCode:3", got)
	}
}

// hostDir makes a directory for a test's hostPath volume.
func hostDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "minikubelet-e2e-host-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, _ := os.ReadFile(path)
	return strings.Fields(string(data))
}

func TestLifecycle_SidecarStartsBeforeAndStopsAfterTheApp(t *testing.T) {
	n := startNode(t)
	dir := hostDir(t)
	n.writeManifest("side.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: side
spec:
  terminationGracePeriodSeconds: 5
  volumes:
  - name: log
    hostPath: {path: %s, type: Directory}
  initContainers:
  - name: sidecar
    image: busybox:1.35
    restartPolicy: Always
    command: ["sh", "-c", "echo sidecar-start >> /log/order; trap 'echo sidecar-stop >> /log/order; exit 0' TERM; while true; do sleep 0.1; done"]
    volumeMounts: [{name: log, mountPath: /log}]
  containers:
  - name: app
    image: busybox:1.35
    command: ["sh", "-c", "echo app-start >> /log/order; trap 'sleep 0.5; echo app-stop >> /log/order; exit 0' TERM; while true; do sleep 0.1; done"]
    volumeMounts: [{name: log, mountPath: /log}]
`, dir))
	n.waitPod("side", 10*time.Second, "Running", podRunning)
	n.removeManifest("side.yaml")
	n.waitGone("side", 15*time.Second)
	got := readLines(t, filepath.Join(dir, "order"))
	want := []string{"sidecar-start", "app-start", "app-stop", "sidecar-stop"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("order %v, want %v", got, want)
	}
}

func TestLifecycle_PreStopRunsBeforeSIGTERM(t *testing.T) {
	n := startNode(t)
	dir := hostDir(t)
	n.writeManifest("prestop.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: prestop
spec:
  terminationGracePeriodSeconds: 5
  volumes:
  - name: log
    hostPath: {path: %s}
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "trap 'echo sigterm >> /log/order; exit 0' TERM; while true; do sleep 0.1; done"]
    lifecycle:
      preStop:
        exec:
          command: ["sh", "-c", "echo prestop >> /log/order"]
    volumeMounts: [{name: log, mountPath: /log}]
`, dir))
	n.waitPod("prestop", 10*time.Second, "Running", podRunning)
	n.removeManifest("prestop.yaml")
	n.waitGone("prestop", 10*time.Second)
	if got := readLines(t, filepath.Join(dir, "order")); strings.Join(got, ",") != "prestop,sigterm" {
		t.Fatalf("order %v, want [prestop sigterm]", got)
	}
}

func TestLifecycle_IgnoredSIGTERMIsFollowedBySIGKILLAtTheGracePeriod(t *testing.T) {
	n := startNode(t)
	n.writeManifest("stubborn.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: stubborn
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"]
`)
	p := n.waitPod("stubborn", 10*time.Second, "Running", podRunning)
	id := strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "containerd://")
	removed := time.Now()
	n.removeManifest("stubborn.yaml")
	var finished time.Time
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && finished.IsZero() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := cri.ContainerStatus(ctx, id, false)
		cancel()
		if err != nil {
			t.Fatalf("the container was removed before it was seen to finish: %v", err)
		}
		if st.Status.State == runtimeapi.ContainerState_CONTAINER_EXITED {
			finished = time.Unix(0, st.Status.FinishedAt)
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := finished.Sub(removed)
	t.Logf("container killed %s after its manifest was removed (grace 3s)", took.Round(time.Millisecond))
	if took < 3*time.Second || took > 4*time.Second {
		t.Fatalf("killed %s after removal, want 3s (the grace period) within 1s", took)
	}
	n.waitGone("stubborn", 5*time.Second)
}

func TestLifecycle_ContainerKilledFromOutsideRestartsWithinASecond(t *testing.T) {
	n := startNode(t)
	n.writeManifest("victim.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: victim
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
`)
	p := n.waitPod("victim", 10*time.Second, "Running", podRunning)
	id := strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "containerd://")
	pid := containerPID(t, id)
	killed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
	p = n.waitPod("victim", 5*time.Second, "restarted", func(p *v1.Pod) bool {
		cs := p.Status.ContainerStatuses[0]
		return cs.RestartCount == 1 && cs.State.Running != nil
	})
	newID := strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "containerd://")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := cri.ContainerStatus(ctx, newID, false)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Unix(0, st.Status.StartedAt).Sub(killed)
	t.Logf("restarted %s after the kill", took.Round(time.Millisecond))
	if took > time.Second {
		t.Fatalf("restarted %s after the kill, want within 1s", took)
	}
	last := p.Status.ContainerStatuses[0].LastTerminationState.Terminated
	if last == nil || last.ExitCode != 137 {
		t.Fatalf("lastState %+v, want Terminated with exit code 137", p.Status.ContainerStatuses[0].LastTerminationState)
	}
}

// containerPID reads the host PID of a container's main process from
// containerd's verbose status.
func containerPID(t *testing.T, id string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := cri.ContainerStatus(ctx, id, true)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(st.Info["info"]), &info); err != nil || info.Pid == 0 {
		t.Fatalf("no pid in the verbose status of %s: %v", id, err)
	}
	return info.Pid
}

func TestLifecycle_DaemonKilledAndRestartedAdoptsItsPods(t *testing.T) {
	n := startNode(t)
	for i := range 5 {
		n.writeManifest(fmt.Sprintf("p%d.yaml", i), fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: p%d
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
`, i))
	}
	before := map[string]string{}
	for i := range 5 {
		p := n.waitPod(fmt.Sprintf("p%d", i), 15*time.Second, "Running", podRunning)
		before[p.Name] = p.Status.ContainerStatuses[0].ContainerID
	}
	n.stop(syscall.SIGKILL)
	n.start()
	n.waitHealthy()
	for i := range 5 {
		name := fmt.Sprintf("p%d", i)
		p := n.waitPod(name, 10*time.Second, "Running after the restart", podRunning)
		cs := p.Status.ContainerStatuses[0]
		if cs.ContainerID != before[p.Name] || cs.RestartCount != 0 {
			t.Errorf("pod %s: container %s restarts %d after the daemon restart, want the same container %s with 0 restarts",
				p.Name, cs.ContainerID, cs.RestartCount, before[p.Name])
		}
		if got := len(n.sandboxesOf(name)); got != 1 {
			t.Errorf("pod %s has %d sandboxes, want 1", p.Name, got)
		}
	}
}

func TestLifecycle_DaemonRestartWithAnInvalidManifestKeepsThePod(t *testing.T) {
	n := startNode(t)
	n.writeManifest("keep.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: keep
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
`)
	before := n.waitPod("keep", 10*time.Second, "Running", podRunning)
	n.writeManifest("keep.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: keep\nspec:\n  containerz: []\n")
	n.stop(syscall.SIGKILL)
	n.start()
	n.waitHealthy()
	// Give the restarted daemon time to act on what it found.
	time.Sleep(2 * time.Second)
	p := n.waitPod("keep", 5*time.Second, "Running on its last good spec", podRunning)
	if p.UID != before.UID || p.Status.ContainerStatuses[0].ContainerID != before.Status.ContainerStatuses[0].ContainerID {
		t.Fatalf("after the restart the pod is %s/%s, want the same pod %s/%s untouched",
			p.UID, p.Status.ContainerStatuses[0].ContainerID, before.UID, before.Status.ContainerStatuses[0].ContainerID)
	}
	body, err := n.get("/manifests")
	if err != nil || !strings.Contains(string(body), "containerz") {
		t.Fatalf("GET /manifests does not report the invalid field: %s (%v)", body, err)
	}
}

func TestLifecycle_DeadSandboxIsReplacedAndTheContainerRestarts(t *testing.T) {
	n := startNode(t)
	n.writeManifest("sb.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: sb
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
`)
	before := n.waitPod("sb", 10*time.Second, "Running", podRunning)
	sandboxes := n.sandboxesOf("sb")
	if len(sandboxes) != 1 {
		t.Fatalf("%d sandboxes, want 1", len(sandboxes))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := cri.PodSandboxStatus(ctx, sandboxes[0].Id, true)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(st.Info["info"]), &info); err != nil || info.Pid == 0 {
		t.Fatalf("no pause pid in the sandbox's verbose status: %v", err)
	}
	if err := syscall.Kill(info.Pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the pause process %d: %v", info.Pid, err)
	}
	p := n.waitPod("sb", 15*time.Second, "Running again in a new sandbox", func(p *v1.Pod) bool {
		return podRunning(p) && p.Status.ContainerStatuses[0].ContainerID != before.Status.ContainerStatuses[0].ContainerID
	})
	if got := p.Status.ContainerStatuses[0].RestartCount; got != 1 {
		t.Fatalf("restart count %d after the sandbox was replaced, want 1", got)
	}
	ready := 0
	for _, s := range n.sandboxesOf("sb") {
		if s.State == runtimeapi.PodSandboxState_SANDBOX_READY {
			ready++
		}
	}
	if ready != 1 {
		t.Fatalf("%d ready sandboxes for the pod, want exactly 1", ready)
	}
}
