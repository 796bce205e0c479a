package e2e

import (
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

func TestHooks_PostStartRunsBeforeTheContainerIsRunning(t *testing.T) {
	n := startNode(t)
	n.writeManifest("post.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: post
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
    lifecycle:
      postStart:
        exec:
          command: ["sh", "-c", "echo hooked > /tmp/poststart"]
`)
	p := n.waitPod("post", 10*time.Second, "Running", podRunning)
	out, err := n.exec(p, "c", "cat", "/tmp/poststart")
	if err != nil || out != "hooked" {
		t.Fatalf("the postStart hook's file reads %q (%v) once the container shows Running, want hooked", out, err)
	}
}

func TestHooks_FailingPostStartKillsAndRestartsTheContainer(t *testing.T) {
	n := startNode(t)
	n.writeManifest("badpost.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: badpost
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    lifecycle:
      postStart:
        exec:
          command: ["sh", "-c", "echo no way >&2; exit 7"]
`)
	n.waitPod("badpost", 15*time.Second, "restarted after its postStart hook failed", func(p *v1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 1
	})
	if !hasEvent(n.events(), "FailedPostStartHook", "no way") {
		t.Fatalf("no FailedPostStartHook event with the hook's output: %+v", n.events())
	}
}

func TestLifecycle_ActiveDeadlineFailsThePod(t *testing.T) {
	n := startNode(t)
	n.writeManifest("deadline.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: deadline
spec:
  activeDeadlineSeconds: 3
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
`)
	n.waitPod("deadline", 10*time.Second, "Running", podRunning)
	p := n.waitPod("deadline", 10*time.Second, "Failed with DeadlineExceeded", func(p *v1.Pod) bool {
		return p.Status.Phase == v1.PodFailed && p.Status.Reason == "DeadlineExceeded"
	})
	if p.Status.ContainerStatuses[0].State.Terminated == nil {
		t.Fatalf("the container still runs past the deadline: %+v", p.Status.ContainerStatuses[0].State)
	}
}

func TestVolumes_MemoryEmptyDirIsATmpfsSharedByContainers(t *testing.T) {
	n := startNode(t)
	n.writeManifest("mem.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: mem
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: scratch
    emptyDir:
      medium: Memory
      sizeLimit: 16Mi
  containers:
  - name: writer
    image: busybox:1.35
    command: ["sh", "-c", "echo shared > /scratch/note; exec sleep 3600"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  - name: reader
    image: busybox:1.35
    command: ["sleep", "3600"]
    volumeMounts: [{name: scratch, mountPath: /data, readOnly: true}]
`)
	p := n.waitPod("mem", 10*time.Second, "Running", podRunning)
	out, err := n.exec(p, "reader", "cat", "/data/note")
	if err != nil || out != "shared" {
		t.Fatalf("reader sees %q (%v), want the writer's note", out, err)
	}
	mounts, _ := n.exec(p, "reader", "cat", "/proc/mounts")
	var line string
	for _, l := range strings.Split(mounts, "\n") {
		if strings.Contains(l, " /data ") {
			line = l
		}
	}
	if !strings.HasPrefix(line, "tmpfs /data tmpfs ro") || !strings.Contains(line, "size=16384k") {
		t.Fatalf("/data is mounted as %q, want a read-only 16 MiB tmpfs", line)
	}
	if _, err := n.exec(p, "reader", "touch", "/data/x"); err == nil {
		t.Fatal("a readOnly mount was writable")
	}
}
