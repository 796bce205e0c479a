package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// procStatusField is a field of /proc/self/status as a container sees it.
func procStatusField(t *testing.T, n *testNode, p *v1.Pod, container, field string) string {
	t.Helper()
	out, err := n.exec(p, container, "cat", "/proc/self/status")
	if err != nil {
		t.Fatalf("read /proc/self/status in %s: %v (%s)", container, err, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in /proc/self/status of %s:\n%s", field, container, out)
	return ""
}

// neverCreated fails the test if the runtime has any instance of the
// pod's container.
func neverCreated(t *testing.T, n *testNode, pod, container string) {
	t.Helper()
	for _, c := range n.containersOf(pod) {
		if c.GetMetadata().GetName() == container {
			t.Fatalf("a container was created for %s (%s): it must never be", container, c.GetId())
		}
	}
}

func TestSecurity_RunAsNonRootRefusesARootImage(t *testing.T) {
	n := startNode(t)
	n.writeManifest("nonroot.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: nonroot
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    runAsNonRoot: true
  containers:
  - name: root
    image: busybox:1.35
    command: ["sleep", "3600"]
  - name: user
    image: busybox:1.35
    command: ["sleep", "3600"]
    securityContext:
      runAsUser: 1000
`)
	p := n.waitPod("nonroot", 15*time.Second, "root waiting in CreateContainerConfigError, user running", func(p *v1.Pod) bool {
		root, user := statusOf(p, "root"), statusOf(p, "user")
		return root != nil && root.State.Waiting != nil && root.State.Waiting.Reason == "CreateContainerConfigError" && running(user)
	})
	want := `container has runAsNonRoot and image will run as root (pod: "` + p.Name + `_default(` + string(p.UID) + `)", container: root)`
	if got := statusOf(p, "root").State.Waiting.Message; got != want {
		t.Fatalf("waiting message %q, want %q", got, want)
	}
	if out, _ := n.exec(p, "user", "id", "-u"); out != "1000" {
		t.Fatalf("id -u in user: %q, want 1000", out)
	}
	neverCreated(t, n, "nonroot", "root")
	if !hasEvent(n.events(), "Failed", "Error: "+want) {
		t.Fatalf("no Failed event %q among %v", "Error: "+want, n.events())
	}
}

func TestSecurity_SeccompAndProcMountApplied(t *testing.T) {
	n := startNode(t)
	root := filepath.Join(filepath.Dir(n.dir), "root", "seccomp")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// Allows everything but mkdir, which fails with EPERM.
	profile := `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`
	if err := os.WriteFile(filepath.Join(root, "nomkdir.json"), []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	n.writeManifest("seccomp.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: seccomp
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: pod-default
    image: busybox:1.35
    command: ["sleep", "3600"]
  - name: unconfined
    image: busybox:1.35
    command: ["sleep", "3600"]
    securityContext:
      seccompProfile: {type: Unconfined}
  - name: localhost
    image: busybox:1.35
    command: ["sleep", "3600"]
    securityContext:
      seccompProfile: {type: Localhost, localhostProfile: nomkdir.json}
      procMount: Default
`)
	p := n.waitPod("seccomp", 15*time.Second, "Running", podRunning)
	for c, want := range map[string]string{"pod-default": "2", "unconfined": "0", "localhost": "2"} {
		if got := procStatusField(t, n, p, c, "Seccomp"); got != want {
			t.Errorf("Seccomp of %s is %s, want %s", c, got, want)
		}
	}
	if out, err := n.exec(p, "localhost", "mkdir", "/tmp/x"); err == nil && !strings.Contains(out, "not permitted") {
		t.Errorf("mkdir under the Localhost profile: %q, want it refused", out)
	}
	if out, err := n.exec(p, "unconfined", "mkdir", "/tmp/x"); err != nil || out != "" {
		t.Errorf("mkdir without seccomp: %q (%v)", out, err)
	}
	// procMount Default: the kubelet's masked and read-only paths.
	mounts, err := n.exec(p, "localhost", "cat", "/proc/mounts")
	if err != nil {
		t.Fatalf("read /proc/mounts: %v (%s)", err, mounts)
	}
	// (This kernel has no /proc/kcore; runc masks only what exists.)
	for _, masked := range []string{"/proc/keys", "/proc/timer_list", "/proc/acpi", "/sys/firmware"} {
		if !strings.Contains(mounts, " "+masked+" ") {
			t.Errorf("%s is not masked (no mount over it):\n%s", masked, mounts)
		}
	}
	if !strings.Contains(mounts, "proc /proc/sys proc ro,") {
		t.Errorf("/proc/sys is not read-only:\n%s", mounts)
	}
}

func TestSecurity_UnsupportedFieldsAreRefusedAtLoad(t *testing.T) {
	n := startNode(t)
	files := map[string]struct{ spec, want string }{
		"userns.yaml": {"  hostUsers: false\n", "spec.hostUsers: Forbidden: user namespaces are not supported"},
		"apparmor.yaml": {"  securityContext:\n    appArmorProfile: {type: RuntimeDefault}\n",
			"spec.securityContext.appArmorProfile: Forbidden: Cannot enforce AppArmor: AppArmor is not enabled on the host"},
		"selinux.yaml": {"  securityContext:\n    seLinuxOptions: {level: \"s0:c1,c2\"}\n", "spec.securityContext.seLinuxOptions: Forbidden: SELinux is not enabled"},
		"sysctl.yaml": {"  securityContext:\n    sysctls: [{name: kernel.msgmax, value: \"65536\"}]\n",
			`spec.securityContext.sysctls[0].name: Forbidden: SysctlForbidden: forbidden sysctl: "kernel.msgmax" not allowlisted`},
		"vmsysctl.yaml": {"  securityContext:\n    sysctls: [{name: vm.swappiness, value: \"10\"}]\n", `forbidden sysctl: "vm.swappiness" not allowlisted`},
		"handler.yaml":  {"  runtimeClassName: gvisor\n", `spec.runtimeClassName: Invalid value: "gvisor": the runtime has no handler of this name (it serves "runc")`},
	}
	for file, f := range files {
		name := strings.TrimSuffix(file, ".yaml")
		n.writeManifest(file, `apiVersion: v1
kind: Pod
metadata:
  name: `+name+`
spec:
  terminationGracePeriodSeconds: 1
`+f.spec+`  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
`)
	}
	items := n.waitManifests(10*time.Second, "every file refused", func(items []manifestItem) bool {
		refused := 0
		for _, it := range items {
			if it.Error != "" {
				refused++
			}
		}
		return refused == len(files)
	})
	for _, it := range items {
		f := files[filepath.Base(it.File)]
		if !strings.Contains(it.Error, f.want) {
			t.Errorf("%s refused with\n  %s\nwant\n  %s", it.File, it.Error, f.want)
		}
		if it.Pod != "" {
			t.Errorf("%s gave pod %s", it.File, it.Pod)
		}
	}
	// A safe sysctl and the runtime's own handler run.
	n.writeManifest("ok.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: ok
spec:
  terminationGracePeriodSeconds: 1
  runtimeClassName: runc
  securityContext:
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "80"}]
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
`)
	p := n.waitPod("ok", 15*time.Second, "Running", podRunning)
	if out, _ := n.exec(p, "c", "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"); out != "80" {
		t.Fatalf("ip_unprivileged_port_start in the pod is %q, want 80", out)
	}
}

func TestSecurity_SubPathSymlinkCannotEscapeTheVolume(t *testing.T) {
	n := startNode(t)
	// The init container plants a symlink to / in the emptyDir; the app
	// container then mounts it as a subPath. Resolved on the host, it
	// would be the host's root.
	n.writeManifest("escape.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: escape
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: scratch, emptyDir: {}}]
  initContainers:
  - name: plant
    image: busybox:1.35
    command: ["ln", "-s", "/", "/scratch/host"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  containers:
  - name: app
    image: busybox:1.35
    command: ["sleep", "3600"]
    volumeMounts: [{name: scratch, mountPath: /host, subPath: host}]
`)
	p := n.waitPod("escape", 15*time.Second, "app waiting in CreateContainerConfigError", func(p *v1.Pod) bool {
		s := statusOf(p, "app")
		return s != nil && s.State.Waiting != nil && s.State.Waiting.Reason == "CreateContainerConfigError"
	})
	msg := statusOf(p, "app").State.Waiting.Message
	if !strings.Contains(msg, `failed to prepare subPath for volumeMount "scratch" of container "app"`) || !strings.Contains(msg, "not within volume path") {
		t.Fatalf("waiting message %q, want the kubelet's subPath failure", msg)
	}
	neverCreated(t, n, "escape", "app")
}

func TestSecurity_SubPathExprIsExpandedAndMadeWithTheVolumesMode(t *testing.T) {
	n := startNode(t)
	n.writeManifest("expr.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: expr
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: logs, emptyDir: {}}]
  containers:
  - name: writer
    image: busybox:1.35
    command: ["sh", "-c", "echo mine > /logs/note; exec sleep 3600"]
    securityContext: {runAsUser: 1000}
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    volumeMounts: [{name: logs, mountPath: /logs, subPathExpr: "$(POD_NAME)/writer"}]
  - name: reader
    image: busybox:1.35
    command: ["sleep", "3600"]
    volumeMounts: [{name: logs, mountPath: /all}]
`)
	p := n.waitPod("expr", 15*time.Second, "Running", podRunning)
	dir := "/all/" + p.Name + "/writer"
	if out, err := n.exec(p, "reader", "cat", dir+"/note"); err != nil || out != "mine" {
		t.Fatalf("%s/note reads %q (%v), want the writer's note", dir, out, err)
	}
	// Made with the emptyDir's mode (0777), so user 1000 could write.
	for _, d := range []string{"/all/" + p.Name, dir} {
		if out, _ := n.exec(p, "reader", "stat", "-c", "%a", d); out != "777" {
			t.Errorf("%s has mode %s, want the volume's 777", d, out)
		}
	}
}
