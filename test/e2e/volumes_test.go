package e2e

import (
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

const downwardPodManifest = `apiVersion: v1
kind: Pod
metadata:
  name: dapi
  labels:
    tier: web
    zone: a-1
  annotations:
    note: 'say "hi"'
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
    resources:
      limits:
        cpu: 250m
        memory: 64Mi
    volumeMounts:
    - name: podinfo
      mountPath: /etc/podinfo
    - name: proj
      mountPath: /etc/proj
  volumes:
  - name: podinfo
    downwardAPI:
      items:
      - path: labels
        fieldRef: {fieldPath: metadata.labels}
      - path: annotations
        fieldRef: {fieldPath: metadata.annotations}
      - path: name
        fieldRef: {fieldPath: metadata.name}
      - path: namespace
        fieldRef: {fieldPath: metadata.namespace}
      - path: uid
        fieldRef: {fieldPath: metadata.uid}
      - path: cpu_limit_m
        resourceFieldRef: {containerName: c, resource: limits.cpu, divisor: 1m}
      - path: mem_limit_mi
        resourceFieldRef: {containerName: c, resource: limits.memory, divisor: 1Mi}
      - path: mem_request
        resourceFieldRef: {containerName: c, resource: requests.memory, divisor: 1Mi}
  - name: proj
    projected:
      sources:
      - downwardAPI:
          items:
          - path: tier
            fieldRef: {fieldPath: "metadata.labels['tier']"}
            mode: 0400
      - downwardAPI:
          items:
          - path: sub/cpus
            resourceFieldRef: {containerName: nolimit, resource: limits.cpu}
`

func TestVolumes_DownwardAPIFilesShowThePod(t *testing.T) {
	n := startNode(t)
	// The projected cpus file reads a container without limits: the
	// node's CPUs stand in.
	n.writeManifest("dapi.yaml", downwardPodManifest+`  initContainers:
  - name: nolimit
    image: busybox:1.35
    command: ["true"]
`)
	p := n.waitPod("dapi", 15*time.Second, "Running", podRunning)
	want := map[string]string{
		"/etc/podinfo/labels":       "tier=\"web\"\nzone=\"a-1\"",
		"/etc/podinfo/name":         n.podName("dapi"),
		"/etc/podinfo/namespace":    "default",
		"/etc/podinfo/uid":          string(p.UID),
		"/etc/podinfo/cpu_limit_m":  "250",
		"/etc/podinfo/mem_limit_mi": "64",
		// The API server defaults requests to the limits.
		"/etc/podinfo/mem_request": "64",
		"/etc/proj/tier":           "web",
		"/etc/proj/sub/cpus":       fmt.Sprint(runtime.NumCPU()),
	}
	for path, w := range want {
		if got, err := n.exec(p, "c", "cat", path); err != nil || got != w {
			t.Errorf("%s reads %q (%v), want %q", path, got, err, w)
		}
	}
	ann, _ := n.exec(p, "c", "cat", "/etc/podinfo/annotations")
	for _, line := range []string{`note="say \"hi\""`, `kubernetes.io/config.source="file"`, `kubernetes.io/config.hash="` + string(p.UID) + `"`} {
		if !strings.Contains(ann, line) {
			t.Errorf("annotations file %q lacks %s", ann, line)
		}
	}
	if out, err := n.exec(p, "c", "sh", "-c", "readlink /etc/podinfo/labels; readlink /etc/podinfo/..data"); err != nil ||
		!strings.HasPrefix(out, "..data/labels\n..20") {
		t.Errorf("the volume's links are %q (%v), want labels -> ..data/labels -> ..<timestamp>/labels", out, err)
	}
	if out, err := n.exec(p, "c", "stat", "-L", "-c", "%a", "/etc/proj/tier", "/etc/podinfo/name"); err != nil || out != "400\n644" {
		t.Errorf("file modes are %q (%v), want the item's 400 and the default 644", out, err)
	}
	if out, err := n.exec(p, "c", "sh", "-c", "touch /etc/podinfo/x 2>&1; grep ' /etc/podinfo ' /proc/mounts"); err != nil ||
		!strings.Contains(out, "Read-only file system") || !strings.Contains(out, "tmpfs /etc/podinfo tmpfs ro") {
		t.Errorf("writing to the volume gave %q (%v), want a read-only tmpfs", out, err)
	}
}

func TestVolumes_DownwardAPIFollowsTheDaemonRestartWithFSGroup(t *testing.T) {
	n := startNode(t)
	n.writeManifest("seen.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: seen
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    fsGroup: 2345
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
    volumeMounts:
    - name: podinfo
      mountPath: /etc/podinfo
  volumes:
  - name: podinfo
    downwardAPI:
      items:
      - path: seen
        fieldRef: {fieldPath: "metadata.annotations['kubernetes.io/config.seen']"}
`)
	p := n.waitPod("seen", 15*time.Second, "Running", podRunning)
	before, err := n.exec(p, "c", "cat", "/etc/podinfo/seen")
	if err != nil || before == "" {
		t.Fatalf("config.seen file reads %q (%v)", before, err)
	}
	if out, err := n.exec(p, "c", "stat", "-L", "-c", "%g %a", "/etc/podinfo/seen"); err != nil || out != "2345 644" {
		t.Errorf("the file's group and mode are %q (%v), want the fsGroup 2345 and 644", out, err)
	}
	n.stop(syscall.SIGKILL)
	n.start()
	n.waitHealthy()
	deadline := time.Now().Add(15 * time.Second)
	var after string
	for time.Now().Before(deadline) {
		p = n.waitPod("seen", 5*time.Second, "Running after the restart", podRunning)
		after, _ = n.exec(p, "c", "cat", "/etc/podinfo/seen")
		if after != before && after != "" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	cur, _ := n.pod("seen")
	if after == before || cur.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Fatalf("after the daemon restart the file reads %q (before %q), restarts %d; want the new config.seen in the same container",
			after, before, cur.Status.ContainerStatuses[0].RestartCount)
	}
	if seen := cur.Annotations["kubernetes.io/config.seen"]; seen != after {
		t.Fatalf("file reads %q, the pod's config.seen is %q", after, seen)
	}
}

// waitingReason is the waiting reason and message of container name.
func waitingReason(p *v1.Pod, name string) (string, string) {
	for _, cs := range append(append([]v1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if cs.Name == name && cs.State.Waiting != nil {
			return cs.State.Waiting.Reason, cs.State.Waiting.Message
		}
	}
	return "", ""
}

func TestVolumes_TypesThisNodeCannotMountAreRefusedAtLoad(t *testing.T) {
	n := startNode(t)
	sources := map[string]string{
		"nfs":     "nfs:\n      server: 127.0.0.1\n      path: /export",
		"image":   "image:\n      reference: busybox:1.35",
		"gitRepo": "gitRepo:\n      repository: https://127.0.0.1/repo.git",
		"iscsi":   "iscsi:\n      targetPortal: 127.0.0.1:3260\n      iqn: iqn.2001-04.com.example:disk\n      lun: 0",
	}
	for typ, src := range sources {
		n.writeManifest(strings.ToLower(typ)+".yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: vol-%s
spec:
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
    volumeMounts:
    - name: v
      mountPath: /v
  volumes:
  - name: v
    %s
`, strings.ToLower(typ), src))
	}
	items := n.waitManifests(5*time.Second, "listing every file with its error", func(items []manifestItem) bool {
		errs := 0
		for _, m := range items {
			if m.Error != "" {
				errs++
			}
		}
		return errs == len(sources)
	})
	for typ := range sources {
		m := manifestOf(items, n.dir+"/"+strings.ToLower(typ)+".yaml")
		if m == nil || m.Pod != "" || !strings.Contains(m.Error, "spec.volumes[0]."+typ+": Forbidden") {
			t.Errorf("GET /manifests for the %s volume: %+v; want no pod and an error naming spec.volumes[0].%s", typ, m, typ)
		}
	}
	if got := len(n.sandboxes()); got != 0 {
		t.Fatalf("%d sandboxes for refused manifests, want none", got)
	}
}

func TestVolumes_FileKeyRefReadsAnEnvFileAnInitContainerWrote(t *testing.T) {
	n := startNode(t)
	n.writeManifest("envfile.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: envfile
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: setup
    image: busybox:1.35
    command: ["sh", "-c", "printf \"DB_ADDRESS='db.local'\\n# comment\\nLONG=one \\\\\\\\\\n  two\\n\" > /data/config.env"]
    volumeMounts:
    - name: config
      mountPath: /data
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
    env:
    - name: DB_ADDRESS
      valueFrom:
        fileKeyRef: {volumeName: config, path: config.env, key: DB_ADDRESS}
    - name: LONG
      valueFrom:
        fileKeyRef: {volumeName: config, path: config.env, key: LONG}
    - name: OPTIONAL
      valueFrom:
        fileKeyRef: {volumeName: config, path: config.env, key: NOT_THERE, optional: true}
  volumes:
  - name: config
    emptyDir: {}
`)
	p := n.waitPod("envfile", 15*time.Second, "Running", podRunning)
	out, err := n.exec(p, "c", "sh", "-c", `echo "$DB_ADDRESS|$LONG|${OPTIONAL-unset}"`)
	if err != nil || out != "db.local|one two|unset" {
		t.Fatalf("the container's env reads %q (%v), want db.local|one two|unset", out, err)
	}
}

// failedCount is the count of the Failed event whose message holds
// fragment.
func failedCount(events []v1.Event, fragment string) int32 {
	var n int32
	for _, e := range events {
		if e.Reason == "Failed" && strings.Contains(e.Message, fragment) {
			n += max(e.Count, 1)
		}
	}
	return n
}

func TestVolumes_ACreateFailureRetriesThroughTheKubeletBackoff(t *testing.T) {
	n := startNode(t)
	n.writeManifest("nokey.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: nokey
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
    env:
    - name: DB
      valueFrom:
        fileKeyRef: {volumeName: config, path: config.env, key: DB}
  volumes:
  - name: config
    emptyDir: {}
`)
	p := n.waitPod("nokey", 10*time.Second, "waiting in CreateContainerConfigError", func(p *v1.Pod) bool {
		r, _ := waitingReason(p, "c")
		return r == "CreateContainerConfigError"
	})
	first := time.Now()
	if _, msg := waitingReason(p, "c"); !strings.Contains(msg, `env file "config.env" of volume "config"`) {
		t.Errorf("waiting message %q does not name the env file and volume", msg)
	}
	frag := `env file "config.env"`
	// The relist and the 10 s resync wake the worker meanwhile; none of
	// them may try again before the backoff ends.
	time.Sleep(6 * time.Second)
	if got := failedCount(n.events(), frag); got != 1 {
		t.Fatalf("%d failed creates %v after the first, want 1: the retry waits the kubelet's 10 s", got, time.Since(first).Round(time.Second))
	}
	deadline := first.Add(13 * time.Second)
	for time.Now().Before(deadline) && failedCount(n.events(), frag) < 2 {
		time.Sleep(200 * time.Millisecond)
	}
	if got := failedCount(n.events(), frag); got != 2 {
		t.Fatalf("%d failed creates %v after the first, want the retry at 10 s", got, time.Since(first).Round(time.Second))
	}
	if cur, _ := n.pod("nokey"); cur != nil {
		if r, _ := waitingReason(cur, "c"); r != "CreateContainerConfigError" {
			t.Fatalf("waiting reason %q after the retry, want CreateContainerConfigError still", r)
		}
	}
}
