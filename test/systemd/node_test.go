//go:build e2esystemd

package systemd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

const (
	configPath = "/etc/minikubelet/config.yaml"
	dropInDir  = "/etc/systemd/system/minikubelet.service.d"
	unit       = "minikubelet.service"
)

// node is one test's minikubelet in the machine: its own node name,
// directories under work and cgroup root.
type node struct {
	t    *testing.T
	name string
	dir  string
}

// newNode writes the machine's config for a new node (extra is more YAML)
// and removes, at the test's end, the unit's drop-ins, the daemon and
// whatever pods it left.
func newNode(t *testing.T, extra string) *node {
	t.Helper()
	suffix := make([]byte, 3)
	rand.Read(suffix)
	n := &node{t: t, name: "sd-" + hex.EncodeToString(suffix)}
	n.dir = filepath.Join(work, n.name)
	for _, d := range []string{"manifests", "root", "logs", "hostpath"} {
		if err := os.MkdirAll(filepath.Join(n.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	n.writeConfig(extra)
	t.Cleanup(n.cleanup)
	return n
}

func (n *node) writeConfig(extra string) {
	n.t.Helper()
	cfg := fmt.Sprintf("hostnameOverride: %s\nstaticPodPath: %s\nrootDir: %s\npodLogsDir: %s\ncgroupRoot: %s\n%s",
		n.name, filepath.Join(n.dir, "manifests"), filepath.Join(n.dir, "root"), filepath.Join(n.dir, "logs"), n.cgroupRoot(), extra)
	if err := vm.writeFile(configPath, cfg); err != nil {
		n.t.Fatal(err)
	}
}

func (n *node) cgroupRoot() string { return "/minikubelet-" + n.name }

func (n *node) cleanup() {
	if n.t.Failed() && vm.alive() == nil {
		out, _ := vm.run("journalctl", "-u", unit, "--no-pager", "-n", "60", "-o", "cat")
		n.t.Logf("journal of %s:\n%s", unit, out)
	}
	if vm.alive() == nil {
		vm.run("systemctl", "stop", unit)
		vm.run("systemctl", "reset-failed", unit)
		os.RemoveAll(vm.path(dropInDir))
		vm.run("systemctl", "daemon-reload")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, s := range n.sandboxes() {
		cri.StopPodSandbox(ctx, s.Id)
		cri.RemovePodSandbox(ctx, s.Id)
	}
	removeCgroupRoot(n.cgroupRoot())
}

// systemctl runs systemctl in the machine; the test fails if it fails.
func (n *node) systemctl(args ...string) string {
	n.t.Helper()
	out, err := vm.run(append([]string{"systemctl"}, args...)...)
	if err != nil {
		n.t.Fatal(err)
	}
	return out
}

// dropIn adds a drop-in to the unit and reloads systemd.
func (n *node) dropIn(name, content string) {
	n.t.Helper()
	if err := vm.writeFile(filepath.Join(dropInDir, name), content); err != nil {
		n.t.Fatal(err)
	}
	n.systemctl("daemon-reload")
}

func (n *node) show(prop string) string {
	n.t.Helper()
	return strings.TrimSpace(n.systemctl("show", "-p", prop, "--value", unit))
}

// writeManifest writes a busybox pod running script; preStop, when set,
// is its preStop exec hook.
func (n *node) writeManifest(name, script, preStop string, extraSpec string) {
	n.t.Helper()
	hook := ""
	if preStop != "" {
		hook = fmt.Sprintf("    lifecycle:\n      preStop:\n        exec:\n          command: [sh, -c, %q]\n", preStop)
	}
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  terminationGracePeriodSeconds: 10
%s  containers:
  - name: main
    image: %s
    imagePullPolicy: Never
    command: [sh, -c, %q]
%s    volumeMounts:
    - name: out
      mountPath: /out
  volumes:
  - name: out
    hostPath:
      path: %s
`, name, extraSpec, busyboxImage, script, hook, filepath.Join(n.dir, "hostpath"))
	if err := os.WriteFile(filepath.Join(n.dir, "manifests", name+".yaml"), []byte(manifest), 0o644); err != nil {
		n.t.Fatal(err)
	}
}

// sleeper is a script that runs until SIGTERM and records the SIGTERM in
// /out/<name>.term.
func sleeper(name string) string {
	return fmt.Sprintf("trap 'cat /proc/uptime > /out/%s.term; exit 0' TERM; while true; do sleep 0.2; done", name)
}

func (n *node) sandboxes() []*runtimeapi.PodSandbox {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := cri.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"io.minikubelet.node": n.name}})
	if err != nil {
		n.t.Errorf("list sandboxes: %v", err)
	}
	return list
}

// running maps the node's pods (manifest names) to their running
// containers' IDs.
func (n *node) running() map[string]string {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := cri.ListContainers(ctx, &runtimeapi.ContainerFilter{
		State:         &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING},
		LabelSelector: map[string]string{"io.minikubelet.node": n.name},
	})
	if err != nil {
		n.t.Fatalf("list containers: %v", err)
	}
	out := map[string]string{}
	for _, c := range list {
		pod := strings.TrimSuffix(c.Labels["io.kubernetes.pod.name"], "-"+n.name)
		out[pod] = c.Id
	}
	return out
}

// waitFor polls cond every 100 ms until it holds, failing after timeout
// with what was last seen.
func (n *node) waitFor(what string, timeout time.Duration, cond func() (bool, string)) {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("timed out after %s waiting for %s; last seen: %s", timeout, what, seen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitActive waits until the unit is active with a main PID other than
// old, and returns that PID.
func (n *node) waitActive(old string, timeout time.Duration) string {
	n.t.Helper()
	var pid string
	n.waitFor("the unit active with a new main PID", timeout, func() (bool, string) {
		state := n.show("ActiveState")
		pid = n.show("MainPID")
		return state == "active" && pid != "0" && pid != old, state + " pid " + pid
	})
	return pid
}

// journal is the unit's journal entries since the machine booted.
func (n *node) journal() []map[string]any {
	n.t.Helper()
	out, err := vm.run("journalctl", "-u", unit, "-o", "json", "--no-pager")
	if err != nil {
		n.t.Fatal(err)
	}
	var entries []map[string]any
	for _, line := range strings.Split(out, "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) == nil {
			entries = append(entries, e)
		}
	}
	return entries
}

// fields are the structured fields of a daemon's log line: the JSON object
// a console line ends with, or the whole line when it is JSON.
func fields(message string) map[string]any {
	i := strings.Index(message, "{")
	if i < 0 {
		return nil
	}
	var f map[string]any
	if json.Unmarshal([]byte(message[i:]), &f) != nil {
		return nil
	}
	return f
}

// removeCgroupRoot removes the node's cgroup directories from every v1
// hierarchy, deepest first.
func removeCgroupRoot(root string) {
	mounts, _ := filepath.Glob("/sys/fs/cgroup/*")
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
