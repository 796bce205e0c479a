package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// waitInstances polls containerd until cond holds for the instances of one
// container of a pod (oldest first), and fails the test with what it saw
// when timeout passes.
func (n *testNode) waitInstances(log *instanceLog, timeout time.Duration, what string, cond func([]instance) bool) []instance {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		log.poll()
		in := log.sorted()
		if cond(in) {
			return in
		}
		if time.Now().After(deadline) {
			p, _ := n.pod(log.pod)
			n.failPod(p, "container %s of pod %s: not %s within %s; containerd's instances: %+v",
				log.name, n.podName(log.pod), what, timeout, in)
		}
		time.Sleep(fastPoll)
	}
}

// As the kubelet: a container whose start fails (containerd records it
// exited, reason StartError, exit code 128) is restarted by the same backoff
// as one that exited, and doBackOff lets the first restart through at once
// (no entry yet) and then waits 10s, 20s... from the last exit
// (pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff). The failed
// start leaves RunContainerError in the reason cache
// (pkg/kubelet/kuberuntime/kuberuntime_container.go startContainer returns
// ErrRunContainer); the next sync finds the container in backoff and
// replaces it with CrashLoopBackOff, "back-off 10s restarting failed
// container=...", which is what a user sees between retries
// (pkg/kubelet/kubelet_pods.go convertToAPIContainerStatuses, reasonCache).
func TestLifecycle_StartErrorIsRetriedAtOnceThenBacksOff(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	n.writeManifest("nocmd.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: nocmd
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["/does-not-exist"]
`)
	log := &instanceLog{n: n, pod: "nocmd", name: "c", seen: map[string]instance{}}
	in := n.waitInstances(log, 10*time.Second, "failed to start once", func(in []instance) bool {
		return len(in) >= 1 && !in[0].finished.IsZero()
	})
	firstFailure := in[0].finished
	p := n.waitPod("nocmd", 3*time.Second, "restarted once", func(p *v1.Pod) bool { return restarts(p) >= 1 })
	t.Logf("restartCount 1 in GET /pods %s after the first failed start", time.Since(firstFailure).Round(time.Millisecond))
	if restarts(p) != 1 {
		n.failPod(p, "restartCount %d right after the first retry, want 1", restarts(p))
	}
	c := statusOf(p, "c")
	if last := c.LastTerminationState.Terminated; last == nil || last.Reason != "StartError" || last.ExitCode != 128 {
		n.failPod(p, "lastState after the failed start: want terminated, reason StartError, exit code 128 (containerd's)")
	}
	n.waitPod("nocmd", 3*time.Second, "waiting in CrashLoopBackOff", func(p *v1.Pod) bool {
		c := statusOf(p, "c")
		if c == nil {
			return false
		}
		w := c.State.Waiting
		return w != nil && w.Reason == "CrashLoopBackOff" && strings.HasPrefix(w.Message, "back-off 10s restarting failed container=c pod=")
	})
	in = n.waitInstances(log, 15*time.Second, "retried a second time", func(in []instance) bool {
		return len(in) >= 3 && !in[2].finished.IsZero()
	})
	first, second := in[1].finished.Sub(in[0].finished), in[2].finished.Sub(in[1].finished)
	t.Logf("failed starts %s and then %s apart (want immediate, then 10s)", first.Round(time.Millisecond), second.Round(time.Millisecond))
	if first > 3*time.Second || second < 10*time.Second || second > 11500*time.Millisecond {
		t.Fatalf("failed starts came %s then %s apart; want the first retry at once, the second 10s after the retry failed", first, second)
	}
}

// As the kubelet: a restarted init container's status shows the previous
// run's termination as lastState, as for app containers (the same
// pkg/kubelet/kubelet_pods.go convertToAPIContainerStatuses builds both:
// the second-newest instance becomes LastTerminationState), and under
// restartPolicy Always a failed init container is restarted
// (test/e2e/common/node/init_container.go, "should not start app containers
// if init containers fail on a RestartAlways pod"). The kubelet keeps that
// previous instance while the restarted run runs; once the new run has
// exited, SyncPod's pruneInitContainersBeforeStart
// (pkg/kubelet/kuberuntime/kuberuntime_container.go) removes every exited
// instance but the newest, and lastState goes empty again, so this test
// checks lastState during the second run, which lasts 1s.
func TestLifecycle_RestartedInitContainerShowsThePreviousRunAsLastState(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	start := time.Now()
	n.writeManifest("retryinit.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: retryinit
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  volumes:
  - name: work
    emptyDir: {}
  initContainers:
  - name: once
    image: busybox:1.35
    command: ["sh", "-c", "test -f /work/once && { sleep 1; exit 0; }; touch /work/once; sleep 0.5; exit 3"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: busybox:1.35
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
`)
	secondRun := 0
	n.samplePod("retryinit", 50*time.Millisecond, 15*time.Second, start, "Running after the init container's second run", func(p *v1.Pod, _ time.Duration) (string, bool) {
		s := statusOf(p, "once")
		if running(s) && s.RestartCount > 0 {
			secondRun++
			if s.RestartCount != 1 {
				return fmt.Sprintf("restartCount %d during the second run, want 1", s.RestartCount), false
			}
			if last := s.LastTerminationState.Terminated; last == nil || last.ExitCode != 3 {
				return "during its second run the init container's lastState must be the first run: terminated with exit code 3", false
			}
		}
		return "", p != nil && podRunning(p)
	})
	if secondRun == 0 {
		t.Fatal("never saw the init container's second run (it lasts 1s) with restartCount 1")
	}
	t.Logf("%d samples of the second run, each with lastState exit code 3", secondRun)
}

// As the kubelet: once no regular container is left to run, computePodActions
// sets KillPod and drops restartable init containers from the start list
// ("To prevent the restartable init containers to keep pod alive, we should
// not restart them", pkg/kubelet/kuberuntime/kuberuntime_manager.go), so a
// restartPolicy Never pod whose app container exited 0 stops its sidecar
// and is Succeeded (test/e2e_node/container_lifecycle_test.go, "should
// terminate sidecars in reverse order after all main containers have
// exited").
func TestLifecycle_SidecarIsStoppedWhenTheAppContainerFinishes(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	start := time.Now()
	n.writeManifest("job.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: job
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 5
  initContainers:
  - name: sidecar
    image: busybox:1.35
    restartPolicy: Always
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
  containers:
  - name: app
    image: busybox:1.35
    command: ["sh", "-c", "sleep 1; exit 0"]
`)
	n.waitPod("job", 10*time.Second, "Succeeded", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodSucceeded })
	succeededAfter := time.Since(start)
	var runningIDs []string
	for {
		runningIDs = nil
		for _, c := range n.containersOf("job") {
			if c.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
				runningIDs = append(runningIDs, c.Metadata.Name+"/"+c.Id)
			}
		}
		if len(runningIDs) == 0 || time.Since(start) > 10*time.Second {
			break
		}
		time.Sleep(pollInterval)
	}
	p, _ := n.pod("job")
	if len(runningIDs) > 0 {
		n.failPod(p, "containerd still runs %v of the Succeeded pod 10s after its manifest was written", runningIDs)
	}
	if _, err := os.Stat(filepath.Join(n.dir, "job.yaml")); err != nil {
		t.Fatalf("the manifest is gone (%v); the sidecar must stop because the app finished, not because the pod was removed", err)
	}
	if p == nil || p.Status.Phase != v1.PodSucceeded {
		n.failPod(p, "the finished pod must stay listed as Succeeded while its manifest is in place")
	}
	t.Logf("Succeeded %s and the sidecar stopped %s after the manifest was written",
		succeededAfter.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// As the kubelet: killing a pod kills every container in its own goroutine;
// each runs its preStop hook at once, and only then waits for its turn to
// be sent SIGTERM: app containers first, then sidecars in reverse start
// order, each after the ones before it exited
// (pkg/kubelet/kuberuntime/kuberuntime_container.go killContainer:
// executePreStopHook, then ordering.waitForTurn;
// pkg/kubelet/kuberuntime/kuberuntime_termination_order.go). Upstream e2e:
// "should call sidecar container PreStop hook simultaneously", tolerance
// 500 ms (test/e2e_node/container_lifecycle_test.go).
//
// The traps append to one file for the order; the times are the files'
// modification times (busybox's date has no %N).
func TestLifecycle_PreStopHooksRunAtOnceAndSIGTERMsGoInReverseStartOrder(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	dir := hostDir(t)
	container := func(name, indent string) string {
		return fmt.Sprintf(`%[2]s- name: %[1]s
%[2]s  image: busybox:1.35
%[2]s  command: ["sh", "-c", "trap 'echo %[1]s >> /shared/term-order; touch /shared/term-%[1]s; exit 0' TERM; sleep 3600 & wait"]
%[2]s  lifecycle:
%[2]s    preStop:
%[2]s      exec:
%[2]s        command: ["sh", "-c", "touch /shared/prestop-%[1]s; sleep 2"]
%[2]s  volumeMounts: [{name: shared, mountPath: /shared}]
`, name, indent)
	}
	n.writeManifest("ordered.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: ordered
spec:
  terminationGracePeriodSeconds: 10
  volumes:
  - name: shared
    hostPath: {path: %s, type: Directory}
  initContainers:
%s    restartPolicy: Always
%s    restartPolicy: Always
  containers:
%s`, dir, container("s1", "  "), container("s2", "  "), container("app", "  ")))
	n.waitPod("ordered", 15*time.Second, "Running with both sidecars running", func(p *v1.Pod) bool {
		return podRunning(p) && running(statusOf(p, "s1")) && running(statusOf(p, "s2"))
	})
	n.removeManifest("ordered.yaml")
	n.waitGone("ordered", 15*time.Second)

	stamp := func(file string) time.Time {
		st, err := os.Stat(filepath.Join(dir, file))
		if err != nil {
			t.Fatalf("%s was never written: %v", file, err)
		}
		return st.ModTime()
	}
	names := []string{"s1", "s2", "app"}
	var first, last time.Time
	for _, name := range names {
		ts := stamp("prestop-" + name)
		if first.IsZero() || ts.Before(first) {
			first = ts
		}
		if ts.After(last) {
			last = ts
		}
	}
	termApp, termS2, termS1 := stamp("term-app"), stamp("term-s2"), stamp("term-s1")
	t.Logf("preStop hooks started within %s; SIGTERM to app at +%s, s2 at +%s, s1 at +%s",
		last.Sub(first).Round(time.Millisecond), termApp.Sub(first).Round(time.Millisecond),
		termS2.Sub(first).Round(time.Millisecond), termS1.Sub(first).Round(time.Millisecond))
	if spread := last.Sub(first); spread > 500*time.Millisecond {
		t.Errorf("the preStop hooks started %s apart, want all at once (within 500 ms)", spread)
	}
	if got := readLines(t, filepath.Join(dir, "term-order")); strings.Join(got, ",") != "app,s2,s1" {
		t.Errorf("the containers handled SIGTERM in the order %v, want [app s2 s1]", got)
	}
}

// As the kubelet: computePodActions puts a container that failed its
// liveness probe both in ContainersToKill, with the message "Container c
// failed liveness probe, will be restarted", and in ContainersToStart, and
// SyncPod starts it right after the kill in the same sync
// (pkg/kubelet/kuberuntime/kuberuntime_manager.go); the first restart has
// no backoff (doBackOff has no entry yet).
func TestProbes_LivenessFailureKillsAndRestartsInOneGo(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	n.writeManifest("sick.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: sick
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "touch /tmp/healthy; (sleep 2; rm -f /tmp/healthy) & trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    livenessProbe:
      exec:
        command: ["cat", "/tmp/healthy"]
      periodSeconds: 1
      failureThreshold: 1
`)
	log := &instanceLog{n: n, pod: "sick", name: "c", seen: map[string]instance{}}
	in := n.waitInstances(log, 20*time.Second, "killed and started again", func(in []instance) bool {
		return len(in) >= 2 && !in[0].finished.IsZero() && !in[1].started.IsZero()
	})
	gap := in[1].started.Sub(in[0].finished)
	t.Logf("the new container started %s after the old one was killed", gap.Round(time.Millisecond))
	if gap > 1500*time.Millisecond {
		p, _ := n.pod("sick")
		n.failPod(p, "the new container started %s after the killed one exited, want within 1.5s", gap)
	}
	want := "Container c failed liveness probe, will be restarted"
	var killing []string
	for _, e := range n.events() {
		if e.Reason == "Killing" && e.InvolvedObject.Name == n.podName("sick") {
			killing = append(killing, e.Message)
			if e.Message == want {
				return
			}
		}
	}
	t.Fatalf("Killing events %q, want one saying %q", killing, want)
}

// As the kubelet: image pulls back off per pod and image, apart from
// container restarts: a failed pull records Failed "Failed to pull image
// ..." and starts a backoff of 10s that doubles (imageBackOffPeriod = 10s in
// pkg/kubelet/kubelet.go; pkg/kubelet/images/image_manager.go: while
// IsInBackOffSinceUpdate the container waits in ImagePullBackOff without a
// pull). Pulls come at about 0s, 10s and 30s, so 35s hold at most 4 failed
// pulls. The sibling's restarts keep their own schedule: at once, then 10s,
// then 20s.
func TestImages_MissingImageBacksOffApartFromTheCrashLoop(t *testing.T) {
	t.Parallel()
	if conn, err := net.DialTimeout("tcp", "127.0.0.1:5999", time.Second); err == nil {
		conn.Close()
		t.Fatal("something listens on 127.0.0.1:5999; this test needs pulls from there to fail")
	}
	n := startNode(t)
	start := time.Now()
	n.writeManifest("noimage.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: noimage
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: img
    image: 127.0.0.1:5999/missing:1
    imagePullPolicy: Always
  - name: crash
    image: busybox:1.35
    command: ["sh", "-c", "exit 1"]
`)
	log := &instanceLog{n: n, pod: "noimage", name: "crash", seen: map[string]instance{}}
	var reasons []string
	n.samplePod("noimage", 100*time.Millisecond, 40*time.Second, start, "sampled for 35s", func(p *v1.Pod, since time.Duration) (string, bool) {
		log.poll()
		if p == nil {
			return "", false
		}
		if c := statusOf(p, "img"); c != nil && c.State.Waiting != nil {
			if r := c.State.Waiting.Reason; len(reasons) == 0 || reasons[len(reasons)-1] != r {
				reasons = append(reasons, r)
			}
		}
		return "", since > 35*time.Second
	})
	p, _ := n.pod("noimage")

	var pulls int32
	for _, e := range n.events() {
		if e.InvolvedObject.Name == n.podName("noimage") && e.Reason == "Failed" && strings.HasPrefix(e.Message, "Failed to pull image") {
			pulls += e.Count
		}
	}
	in := log.sorted()
	var gaps []string
	for i := 1; i < len(in); i++ {
		if !in[i].started.IsZero() && !in[i-1].finished.IsZero() {
			gaps = append(gaps, in[i].started.Sub(in[i-1].finished).Round(time.Millisecond).String())
		}
	}
	t.Logf("img waiting reasons in order: %v; %d failed pulls in 35s; crash restarts %d, started after each exit: %v",
		reasons, pulls, restartsOf(p, "crash"), gaps)

	if i := indexOf(reasons, "ErrImagePull"); i < 0 || indexOf(reasons[i:], "ImagePullBackOff") < 0 {
		t.Errorf("img waiting reasons %v, want ErrImagePull then ImagePullBackOff", reasons)
	}
	if pulls < 2 || pulls > 4 {
		t.Errorf("%d \"Failed to pull image\" events in 35s, want 2 to 4 (pulls at ~0s, 10s, 30s)", pulls)
	}
	if got := restartsOf(p, "crash"); got < 2 {
		n.failPod(p, "the crash-looping sibling restarted %d times in 35s, want at least 2 (at once, then after 10s)", got)
	}
}

func restartsOf(p *v1.Pod, name string) int32 {
	if p == nil {
		return 0
	}
	if s := statusOf(p, name); s != nil {
		return s.RestartCount
	}
	return 0
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
