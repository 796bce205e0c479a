package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minikubelet/minikubelet/internal/status"
)

// The fidelity tests check what the kubelet shows a user at the moments
// where it is easy to get wrong: while a sync is still in progress, while a
// pod terminates, right after a restart. Each cites the kubelet code or the
// upstream e2e test it matches. They run in parallel, each with its own
// daemon.

// fastPoll is how often the sampling tests read GET /pods: fast enough to
// see a status that is wrong for only a moment.
const fastPoll = 20 * time.Millisecond

// failPod fails the test with what a user needs to debug it: the pod as GET
// /pods showed it (its deletionTimestamp and status) and the daemon's log
// tail.
func (n *testNode) failPod(p *v1.Pod, format string, args ...any) {
	n.t.Helper()
	var view any
	if p != nil {
		view = struct {
			DeletionTimestamp *metav1.Time `json:"deletionTimestamp,omitempty"`
			Status            v1.PodStatus `json:"status"`
		}{p.DeletionTimestamp, p.Status}
	}
	dump, _ := json.MarshalIndent(view, "", "  ")
	n.t.Fatalf("%s; last pod seen:\n%s\ndaemon log tail:\n%s", fmt.Sprintf(format, args...), dump, n.logTail())
}

// samplePod reads the pod of manifest name from GET /pods every interval
// until check reports done or d passes since start, and returns the number
// of samples. check sees nil while the pod is not listed; a complaint from
// it fails the test with that sample. Reaching d without done fails the
// test with the last sample and want.
func (n *testNode) samplePod(name string, every, d time.Duration, start time.Time, want string,
	check func(p *v1.Pod, since time.Duration) (complaint string, done bool)) int {
	n.t.Helper()
	samples := 0
	var last *v1.Pod
	for {
		since := time.Since(start)
		p, err := n.pod(name)
		if err == nil {
			samples++
			last = p
			complaint, done := check(p, since)
			if complaint != "" {
				n.failPod(p, "pod %s, sample %d at %s: %s", n.podName(name), samples, since.Round(time.Millisecond), complaint)
			}
			if done {
				return samples
			}
		}
		if since > d {
			n.failPod(last, "pod %s: not %s within %s (%d samples)", n.podName(name), want, d, samples)
		}
		time.Sleep(every)
	}
}

// statusOf finds a container's status by name among the pod's init and app
// container statuses; nil when the pod (or the status) is missing.
func statusOf(p *v1.Pod, name string) *v1.ContainerStatus {
	if p == nil {
		return nil
	}
	for _, list := range [][]v1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

func conditionOf(p *v1.Pod, t v1.PodConditionType) *v1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func running(s *v1.ContainerStatus) bool { return s != nil && s.State.Running != nil }

func succeeded(s *v1.ContainerStatus) bool {
	return s != nil && s.State.Terminated != nil && s.State.Terminated.ExitCode == 0
}

// As the kubelet: SyncPod publishes the pod's status (Pending, containers
// waiting in ContainerCreating) before it creates anything, and a sync that
// blocks in a postStart hook leaves that status in place until the next
// sync (pkg/kubelet/kubelet.go SyncPod: generateAPIPodStatus and
// statusManager.SetPodStatus come before containerRuntime.SyncPod). The pod
// is never missing from the list while its first sync runs.
func TestStatus_NewPodIsListedWhileItsPostStartHookRuns(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	start := time.Now()
	n.writeManifest("hooked.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: hooked
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    lifecycle:
      postStart:
        exec:
          command: ["sleep", "3"]
`)
	listed := time.Duration(-1)
	samples := n.samplePod("hooked", fastPoll, 10*time.Second, start, "Running", func(p *v1.Pod, since time.Duration) (string, bool) {
		switch {
		case p == nil && listed >= 0:
			return fmt.Sprintf("the pod, listed since %s, is missing from GET /pods", listed.Round(time.Millisecond)), false
		case p == nil && since > time.Second:
			return "the pod is not listed 1s after its manifest was written", false
		case p == nil:
			return "", false
		}
		if listed < 0 {
			listed = since
		}
		// The hook sleeps 3s after the container starts, so before 3s it
		// surely runs.
		if since < 3*time.Second {
			c := statusOf(p, "c")
			creating := c != nil && c.State.Waiting != nil && c.State.Waiting.Reason == status.ReasonContainerCreating
			runningNotReady := running(c) && !c.Ready
			if p.Status.Phase != v1.PodPending || !(creating || runningNotReady) {
				return "while the postStart hook runs, want phase Pending and the container waiting in ContainerCreating or running and not ready", false
			}
		}
		return "", podRunning(p)
	})
	t.Logf("listed %s after the manifest was written; Running after %s; %d samples",
		listed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), samples)
}

// As the kubelet: during graceful termination the prober keeps running
// readiness probes (only liveness and startup probes stop:
// pkg/kubelet/prober/worker.go doProbe, "Graceful shutdown of the pod"),
// and each result reaches the status at once through
// statusManager.SetContainerReadiness (pkg/kubelet/status/status_manager.go),
// even while the pod worker is blocked in killPod. Upstream e2e: "should
// mark readiness on pods to false while pod is in progress of terminating
// when a pod has a readiness probe" (test/e2e/common/node/container_probe.go),
// whose SIGTERM trap removes the readiness file as this one does.
func TestStatus_ReadinessKeepsUpdatingWhileThePodTerminates(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	n.writeManifest("draining.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: draining
spec:
  terminationGracePeriodSeconds: 6
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "touch /tmp/ready; trap 'sleep 2; rm -f /tmp/ready; sleep 30' TERM; sleep 3600 & wait"]
    readinessProbe:
      exec:
        command: ["cat", "/tmp/ready"]
      periodSeconds: 1
      failureThreshold: 1
`)
	n.waitPod("draining", 15*time.Second, "ready", containerReady)
	removed := time.Now()
	n.removeManifest("draining.yaml")
	unready := time.Duration(-1)
	n.samplePod("draining", 50*time.Millisecond, 10*time.Second, removed, "ready:false before it is gone", func(p *v1.Pod, since time.Duration) (string, bool) {
		if p == nil {
			if unready < 0 {
				return "the pod left the list before its readiness probe failed (grace period 6s, the probe fails from ~2s)", false
			}
			return "", true
		}
		c := statusOf(p, "c")
		switch {
		case since > time.Second && p.DeletionTimestamp == nil:
			return "a terminating pod is listed without a deletionTimestamp", false
		case since < 1500*time.Millisecond && (c == nil || !c.Ready):
			return "the container turned not ready although its readiness probe still passes (the trap removes /tmp/ready 2s after SIGTERM)", false
		case c != nil && !c.Ready && unready < 0:
			unready = since
			if cond := conditionOf(p, v1.PodReady); cond == nil || cond.Status != v1.ConditionFalse {
				return "the container is not ready but the pod's Ready condition is not False", false
			}
		case c != nil && c.Ready && unready >= 0:
			return "the container turned ready again during termination", false
		}
		return "", false
	})
	t.Logf("not ready %s after the manifest was removed (readiness file removed at ~2s); gone after %s",
		unready.Round(time.Millisecond), time.Since(removed).Round(time.Millisecond))
}

// As the kubelet: the status of a container is built from its newest
// instance, and lastState from the one before it, in the same pass over
// one runtime snapshot (pkg/kubelet/kubelet_pods.go
// convertToAPIContainerStatuses: "statuses[cName].LastTerminationState =
// status.State" for the second-newest instance). A restartCount above 0
// therefore always comes with the previous run's termination.
func TestStatus_LastStateIsNeverEmptyWhileRestartCountIsAboveZero(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	start := time.Now()
	n.writeManifest("flaky.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: flaky
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "sleep 0.3; exit 1"]
`)
	restarted, maxRestarts := 0, int32(0)
	samples := n.samplePod("flaky", fastPoll, 20*time.Second, start, "sampled for 15s", func(p *v1.Pod, since time.Duration) (string, bool) {
		if c := statusOf(p, "c"); c != nil && c.RestartCount > 0 {
			restarted++
			maxRestarts = max(maxRestarts, c.RestartCount)
			if last := c.LastTerminationState.Terminated; last == nil || last.ExitCode != 1 {
				return fmt.Sprintf("restartCount %d without lastState.terminated with exit code 1", c.RestartCount), false
			}
		}
		return "", since > 15*time.Second
	})
	t.Logf("%d samples in 15s, %d of them with restartCount > 0 (up to %d)", samples, restarted, maxRestarts)
	if restarted == 0 {
		t.Fatal("the container never restarted in 15s; the test saw nothing to check")
	}
}

// As the kubelet: a regular init container is ready once it exited 0
// (pkg/kubelet/prober/prober_manager.go UpdatePodStatus: "Init containers
// are ready if they have exited with success"), and the Initialized
// condition lists every init container that is not yet ready, in spec
// order: "containers with incomplete status: [init1 init2]", reason
// ContainersNotInitialized (pkg/kubelet/status/generate.go
// GeneratePodInitializedCondition). kubectl prints Init:i/n while an init
// container runs and PodInitializing only once Initialized is True
// (printPod in kubectl's get printer, which internal/status ports).
func TestStatus_InitContainerReadyFlagsAndTheInitializedCondition(t *testing.T) {
	t.Parallel()
	t.Run("TwoInitContainers", func(t *testing.T) {
		t.Parallel()
		n := startNode(t)
		start := time.Now()
		n.writeManifest("twoinit.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: twoinit
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: init1
    image: busybox:1.35
    command: ["sleep", "2"]
  - name: init2
    image: busybox:1.35
    command: ["sleep", "2"]
`+initTestApp)
		sawInit1, sawInit2 := false, false
		n.samplePod("twoinit", 50*time.Millisecond, 15*time.Second, start, "Running", func(p *v1.Pod, _ time.Duration) (string, bool) {
			if p == nil {
				return "", false
			}
			init1, init2 := statusOf(p, "init1"), statusOf(p, "init2")
			switch {
			case running(init1):
				sawInit1 = true
				if init1.Ready {
					return "init1 is ready while it runs", false
				}
				return initializedIs(p, v1.ConditionFalse, "containers with incomplete status: [init1 init2]"), false
			case running(init2):
				sawInit2 = true
				if !succeeded(init1) || !init1.Ready {
					return "init1 completed but is not shown terminated with exit 0 and ready", false
				}
				return initializedIs(p, v1.ConditionFalse, "containers with incomplete status: [init2]"), false
			}
			if !podRunning(p) {
				return "", false
			}
			for _, s := range []*v1.ContainerStatus{init1, init2} {
				if !succeeded(s) || !s.Ready {
					return "once both init containers completed, each must show terminated with exit 0 and ready", false
				}
			}
			return initializedIs(p, v1.ConditionTrue, ""), true
		})
		if !sawInit1 || !sawInit2 {
			t.Errorf("saw init1 running: %v, init2 running: %v; want both (each sleeps 2s)", sawInit1, sawInit2)
		}
	})
	t.Run("OneInitContainer", func(t *testing.T) {
		t.Parallel()
		n := startNode(t)
		start := time.Now()
		n.writeManifest("oneinit.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: oneinit
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: only
    image: busybox:1.35
    command: ["sleep", "3"]
`+initTestApp)
		checkedCLI := false
		n.samplePod("oneinit", 50*time.Millisecond, 15*time.Second, start, "Running", func(p *v1.Pod, _ time.Duration) (string, bool) {
			if !running(statusOf(p, "only")) {
				return "", p != nil && podRunning(p)
			}
			if got := statusColumn(t, p); got != "Init:0/1" {
				return fmt.Sprintf("STATUS %q while the only init container runs, want Init:0/1", got), false
			}
			if msg := initializedIs(p, v1.ConditionFalse, "containers with incomplete status: [only]"); msg != "" {
				return msg, false
			}
			if !checkedCLI {
				checkedCLI = true
				if got := n.cliStatus("oneinit"); got != "Init:0/1" {
					return fmt.Sprintf("`minikubelet get pods` prints STATUS %q while the only init container runs (it sleeps 3s), want Init:0/1", got), false
				}
			}
			return "", false
		})
		if !checkedCLI {
			t.Error("never saw the only init container running (it sleeps 3s)")
		}
	})
}

// initTestApp is the app container of the init container tests: it runs
// until SIGTERM.
const initTestApp = `  containers:
  - name: app
    image: busybox:1.35
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
`

// initializedIs checks the pod's Initialized condition: its status and,
// for False, the kubelet's reason and message.
func initializedIs(p *v1.Pod, want v1.ConditionStatus, message string) string {
	c := conditionOf(p, v1.PodInitialized)
	if c == nil || c.Status != want || (message != "" && (c.Message != message || c.Reason != "ContainersNotInitialized")) {
		if message == "" {
			return fmt.Sprintf("want Initialized %s", want)
		}
		return fmt.Sprintf("want Initialized %s with reason ContainersNotInitialized and message %q", want, message)
	}
	return ""
}

// cliStatus is the STATUS column `minikubelet get pods` prints for the pod
// of manifest name.
func (n *testNode) cliStatus(name string) string {
	n.t.Helper()
	for _, line := range strings.Split(n.cli("get", "pods"), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == n.podName(name) {
			return f[2]
		}
	}
	return ""
}

// As the kubelet: init containers run one at a time, each after the one
// before it exited 0 (test/e2e/common/node/init_container.go, "should
// invoke init containers on a RestartAlways pod"), and a status is
// generated from one runtime snapshot of the pod (kubelet.go SyncPod:
// one podStatus into generateAPIPodStatus). So no status shows an init
// container running beside a later one that has started, an app container
// started while an init container runs, or STATUS PodInitializing (which
// needs Initialized True) while an init container runs.
//
// A status stitched from two views is wrong only for a moment (about 20 ms
// at a hand-over, and not at every one), so three pods of six 0.3s init
// containers each (fifteen hand-overs) are read together from GET /pods
// every 5 ms.
func TestStatus_InitContainerStatusesComeFromOneView(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	inits := []string{"init1", "init2", "init3", "init4", "init5", "init6"}
	names := []string{"seq1", "seq2", "seq3"}
	start := time.Now()
	for _, name := range names {
		manifest := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  terminationGracePeriodSeconds: 1\n  initContainers:\n", name)
		for _, c := range inits {
			manifest += fmt.Sprintf("  - name: %s\n    image: busybox:1.35\n    command: [\"sleep\", \"0.3\"]\n", c)
		}
		n.writeManifest(name+".yaml", manifest+initTestApp)
	}
	started := func(s *v1.ContainerStatus) bool {
		return s != nil && (s.State.Running != nil || s.State.Terminated != nil)
	}
	check := func(p *v1.Pod) string {
		runningInit := ""
		for i, name := range inits {
			if !running(statusOf(p, name)) {
				continue
			}
			runningInit = name
			for _, later := range inits[i+1:] {
				if started(statusOf(p, later)) {
					return fmt.Sprintf("%s shows running while %s has started", name, later)
				}
			}
		}
		switch {
		case runningInit != "" && started(statusOf(p, "app")):
			return fmt.Sprintf("the app container shows started while %s runs", runningInit)
		case runningInit != "" && statusColumn(t, p) == status.ReasonPodInitializing:
			return fmt.Sprintf("STATUS PodInitializing while %s runs", runningInit)
		}
		return ""
	}
	samples := 0
	last := map[string]*v1.Pod{}
	for {
		pods, err := n.pods()
		if err == nil {
			samples++
			done := 0
			for i := range pods {
				p := &pods[i]
				last[p.Name] = p
				if msg := check(p); msg != "" {
					n.failPod(p, "pod %s, sample %d at %s: %s", p.Name, samples, time.Since(start).Round(time.Millisecond), msg)
				}
				if podRunning(p) {
					done++
				}
			}
			if done == len(names) {
				break
			}
		}
		if time.Since(start) > 20*time.Second {
			var notRunning *v1.Pod
			for _, name := range names {
				if p := last[n.podName(name)]; p == nil || !podRunning(p) {
					notRunning = p
				}
			}
			n.failPod(notRunning, "not all of %v Running within 20s (%d samples)", names, samples)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("%d samples of %d pods from the manifests to Running", samples, len(names))
}
