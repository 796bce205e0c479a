package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// The probe tests wait on probe periods; they run in parallel with each
// other (each with its own daemon) to keep the suite short.

func restarts(p *v1.Pod) int32 {
	if len(p.Status.ContainerStatuses) == 0 {
		return 0
	}
	return p.Status.ContainerStatuses[0].RestartCount
}

func containerReady(p *v1.Pod) bool {
	return len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].Ready
}

func podReadyCondition(p *v1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodReady {
			return c.Status == v1.ConditionTrue
		}
	}
	return false
}

// watchPod samples the pod every poll interval for d and calls check on
// each sample; check returns a complaint or "".
func watchPod(t *testing.T, n *testNode, name string, d time.Duration, check func(p *v1.Pod, elapsed time.Duration) string) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if p, err := n.pod(name); err == nil && p != nil {
			if msg := check(p, time.Since(start)); msg != "" {
				dump, _ := json.MarshalIndent(p.Status, "", "  ")
				t.Fatalf("%s after %s; status:\n%s", msg, time.Since(start).Round(time.Millisecond), dump)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func hasEvent(events []v1.Event, reason, fragment string) bool {
	for _, e := range events {
		if e.Reason == reason && strings.Contains(e.Message, fragment) {
			return true
		}
	}
	return false
}

func TestProbes_ExecLivenessRestartsWhenTheFileGoes(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	start := time.Now()
	n.writeManifest("live.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: live
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "touch /tmp/health; sleep 10; rm -f /tmp/health; sleep 600"]
    livenessProbe:
      exec:
        command: ["cat", "/tmp/health"]
      initialDelaySeconds: 2
      periodSeconds: 1
      failureThreshold: 3
`)
	p := n.waitPod("live", 25*time.Second, "restarted once", func(p *v1.Pod) bool { return restarts(p) >= 1 })
	took := time.Since(start)
	t.Logf("restarted %s after the manifest was written (file removed at ~10s, period 1s x 3 failures)", took.Round(time.Millisecond))
	if took < 12*time.Second || restarts(p) != 1 {
		t.Fatalf("restart %d came %s after start, want one restart after about 13s", restarts(p), took)
	}
	if !hasEvent(n.events(), "Unhealthy", "Liveness probe failed: cat: can't open '/tmp/health'") {
		t.Fatalf("no Unhealthy event with the probe's output: %+v", n.events())
	}
	if !hasEvent(n.events(), "Killing", "Container c failed liveness probe, will be restarted") {
		t.Fatalf("no Killing event saying why: %+v", n.events())
	}
	// The restarted container's probe worker counts anew once it probes.
	want := `prober_probe_total{container="c",namespace="default",pod="` + n.podName("live") + `"`
	deadline := time.Now().Add(10 * time.Second)
	for {
		metrics, err := n.get("/metrics")
		if err == nil && strings.Contains(string(metrics), want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /metrics lacks %s (%v)", want, err)
		}
		time.Sleep(pollInterval)
	}
}

func TestProbes_HealthyLivenessNeverRestarts(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	n.writeManifest("fine.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: fine
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "touch /tmp/health; exec sleep 600"]
    livenessProbe:
      exec:
        command: ["cat", "/tmp/health"]
      periodSeconds: 1
      failureThreshold: 1
`)
	n.waitPod("fine", 10*time.Second, "Running", podRunning)
	watchPod(t, n, "fine", 60*time.Second, func(p *v1.Pod, _ time.Duration) string {
		if restarts(p) != 0 {
			return "a container with a passing liveness probe restarted"
		}
		return ""
	})
}

func TestProbes_ReadinessInitialDelay(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	n.writeManifest("slow.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: slow
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "600"]
    readinessProbe:
      exec:
        command: ["true"]
      initialDelaySeconds: 5
      periodSeconds: 1
`)
	p := n.waitPod("slow", 10*time.Second, "Running", podRunning)
	started := p.Status.ContainerStatuses[0].State.Running.StartedAt.Time
	watchPod(t, n, "slow", 12*time.Second, func(p *v1.Pod, _ time.Duration) string {
		since := time.Since(started)
		switch {
		case restarts(p) != 0:
			return "the container restarted"
		case containerReady(p) && since < 4*time.Second:
			return "ready before initialDelaySeconds"
		case !containerReady(p) && since > 8*time.Second:
			return "still not ready well after initialDelaySeconds"
		case containerReady(p) != podReadyCondition(p):
			return "the Ready condition disagrees with the container"
		}
		return ""
	})
}

func TestProbes_FailingReadinessKeepsThePodRunningButNotReady(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	n.writeManifest("never.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: never
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "600"]
    readinessProbe:
      exec:
        command: ["false"]
      periodSeconds: 1
`)
	n.waitPod("never", 10*time.Second, "Running", podRunning)
	watchPod(t, n, "never", 10*time.Second, func(p *v1.Pod, _ time.Duration) string {
		if restarts(p) != 0 || containerReady(p) || podReadyCondition(p) || p.Status.Phase != v1.PodRunning {
			return "want Running, not ready, no restart"
		}
		return ""
	})
	if !hasEvent(n.events(), "Unhealthy", "Readiness probe failed") {
		t.Fatal("no Unhealthy event for the failing readiness probe")
	}
}

func TestProbes_HTTPLivenessRestartsWhenServingStops(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	n.writeManifest("web.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "mkdir -p /www; echo ok > /www/index.html; httpd -p 8080 -h /www; sleep 5; killall httpd; sleep 600"]
    ports:
    - name: http
      containerPort: 8080
    livenessProbe:
      httpGet:
        path: /
        port: http
      periodSeconds: 1
      failureThreshold: 2
`)
	p := n.waitPod("web", 20*time.Second, "restarted", func(p *v1.Pod) bool { return restarts(p) >= 1 })
	if !hasEvent(n.events(), "Unhealthy", "Liveness probe failed: Get \"http://") {
		t.Fatalf("no Unhealthy event naming the HTTP failure: %+v", n.events())
	}
	if last := p.Status.ContainerStatuses[0].LastTerminationState.Terminated; last == nil {
		t.Fatalf("no lastState after the liveness restart: %+v", p.Status.ContainerStatuses[0])
	}
}

func TestProbes_TCPReadinessFlipsWhenTheListenerGoes(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	n.writeManifest("tcp.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: tcp
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "mkdir -p /www; httpd -p 9000 -h /www; sleep 6; killall httpd; sleep 600"]
    readinessProbe:
      tcpSocket:
        port: 9000
      periodSeconds: 1
`)
	n.waitPod("tcp", 10*time.Second, "ready", containerReady)
	p := n.waitPod("tcp", 15*time.Second, "not ready once the listener is gone", func(p *v1.Pod) bool { return !containerReady(p) })
	if restarts(p) != 0 || p.Status.Phase != v1.PodRunning {
		t.Fatalf("readiness must not restart the container: restarts %d phase %s", restarts(p), p.Status.Phase)
	}
}

func TestProbes_StartupProbeHoldsLivenessOff(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	n.writeManifest("boot.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: boot
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "sleep 8; touch /tmp/started; exec sleep 600"]
    startupProbe:
      exec:
        command: ["cat", "/tmp/started"]
      periodSeconds: 1
      failureThreshold: 30
    livenessProbe:
      exec:
        command: ["cat", "/tmp/started"]
      periodSeconds: 1
      failureThreshold: 1
`)
	p := n.waitPod("boot", 10*time.Second, "Running", podRunning)
	if cs := p.Status.ContainerStatuses[0]; cs.Started == nil || *cs.Started || cs.Ready {
		t.Fatalf("before the startup probe succeeds the container must be neither started nor ready: %+v", cs)
	}
	n.waitPod("boot", 15*time.Second, "started and ready", func(p *v1.Pod) bool {
		cs := p.Status.ContainerStatuses[0]
		return cs.Started != nil && *cs.Started && cs.Ready
	})
	watchPod(t, n, "boot", 3*time.Second, func(p *v1.Pod, _ time.Duration) string {
		if restarts(p) != 0 {
			return "liveness ran before the startup probe succeeded"
		}
		return ""
	})
}

func TestProbes_ExecTimeoutCountsAsFailure(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	n.writeManifest("sleepy.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: sleepy
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "600"]
    livenessProbe:
      exec:
        command: ["sleep", "5"]
      timeoutSeconds: 1
      periodSeconds: 2
      failureThreshold: 1
`)
	n.waitPod("sleepy", 20*time.Second, "restarted for the timed-out probe", func(p *v1.Pod) bool { return restarts(p) >= 1 })
	if !hasEvent(n.events(), "Unhealthy", "timed out") {
		t.Fatalf("no Unhealthy event saying the probe timed out: %+v", n.events())
	}
}
