package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

const cgroupV1 = "/sys/fs/cgroup"

// removeCgroupRoot removes a test node's cgroup hierarchy, deepest first,
// from every v1 controller.
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

// cgroupFile reads one cgroup v1 file of a controller.
func cgroupFile(t *testing.T, controller, name, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cgroupV1, controller, name, file))
	if err != nil {
		t.Fatalf("read cgroup file: %v", err)
	}
	return strings.TrimSpace(string(data))
}

func memTotal(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	t.Fatal("no MemTotal")
	return 0
}

const resourcesPod = `apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  terminationGracePeriodSeconds: 1
%s  containers:
  - name: app
    image: busybox:1.35
    command: ["sleep", "3600"]
    resources:
%s
`

// TestResources_PodCgroupsAndOOMScores: each QoS class gets its pod cgroup
// where the kubelet makes it, sized as the kubelet sizes it; containers
// run inside it with the kubelet's oom_score_adj (clamped where this node
// forbids lowering it), and a limits.cpu of 0 sets no quota. The pod
// cgroups go with their pods.
func TestResources_PodCgroupsAndOOMScores(t *testing.T) {
	n := startNode(t)
	root := n.cgroupRoot()
	floor, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		t.Fatal(err)
	}
	// The test runs with the daemon's privileges: the daemon's floor is ours.
	guaranteedAdj := max(-997, mustAtoi(t, strings.TrimSpace(string(floor))))
	pods := []struct {
		name, extra, resources string
		cgroup                 string // under <root>/kubepods
		shares, quota, memory  string
		oomAdj                 int
	}{
		{
			name: "guaranteed", resources: "      requests: {cpu: 500m, memory: 64Mi}\n      limits: {cpu: 500m, memory: 64Mi}",
			cgroup: "", shares: "512", quota: "50000", memory: strconv.Itoa(64 << 20), oomAdj: guaranteedAdj,
		},
		{
			name: "burstable", resources: "      requests: {cpu: 250m, memory: 256Mi}",
			cgroup: "burstable", shares: "256", quota: "-1", oomAdj: burstableAdj(t, 256<<20),
		},
		{
			name: "cpuzero", resources: "      requests: {memory: 16Mi}\n      limits: {cpu: \"0\"}",
			cgroup: "burstable", shares: "2", quota: "-1", oomAdj: burstableAdj(t, 16<<20),
		},
		{
			name: "besteffort", resources: "      {}",
			cgroup: "besteffort", shares: "2", quota: "-1", oomAdj: 1000,
		},
		{
			name: "critical", extra: "  priorityClassName: system-node-critical\n  priority: 2000001000\n", resources: "      {}",
			cgroup: "besteffort", shares: "2", quota: "-1", oomAdj: guaranteedAdj,
		},
	}
	for _, p := range pods {
		n.writeManifest(p.name+".yaml", fmt.Sprintf(resourcesPod, p.name, p.extra, p.resources))
	}
	for _, want := range pods {
		p := n.waitPod(want.name, 30*time.Second, "running", podRunning)
		name := filepath.Join(root, "kubepods", want.cgroup, "pod"+string(p.UID))
		if got := cgroupFile(t, "cpu", name, "cpu.shares"); got != want.shares {
			t.Errorf("%s: pod cgroup cpu.shares %s, want %s", want.name, got, want.shares)
		}
		if got := cgroupFile(t, "cpu", name, "cpu.cfs_quota_us"); got != want.quota {
			t.Errorf("%s: pod cgroup cpu.cfs_quota_us %s, want %s", want.name, got, want.quota)
		}
		if want.memory != "" {
			if got := cgroupFile(t, "memory", name, "memory.limit_in_bytes"); got != want.memory {
				t.Errorf("%s: pod cgroup memory.limit_in_bytes %s, want %s", want.name, got, want.memory)
			}
		}
		out, err := n.exec(p, "app", "cat", "/proc/self/cgroup", "/proc/self/oom_score_adj")
		if err != nil {
			t.Fatalf("%s: exec: %v: %s", want.name, err, out)
		}
		if !strings.Contains(out, ":cpu:"+name+"/") || !strings.Contains(out, ":memory:"+name+"/") {
			t.Errorf("%s: container's /proc/self/cgroup:\n%s\nwant its cpu and memory cgroups under %s", want.name, out, name)
		}
		lines := strings.Split(out, "\n")
		if got := lines[len(lines)-1]; got != strconv.Itoa(want.oomAdj) {
			t.Errorf("%s: container's oom_score_adj %s, want %d", want.name, got, want.oomAdj)
		}
		// The container's own quota: none for limits.cpu 0, where the
		// kubelet sets none.
		if want.name == "cpuzero" {
			id := strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "containerd://")
			if got := cgroupFile(t, "cpu", filepath.Join(name, id), "cpu.cfs_quota_us"); got != "-1" {
				t.Errorf("cpuzero: container cpu.cfs_quota_us %s with limits.cpu 0, want -1 (no limit)", got)
			}
		}
	}
	if got := cgroupFile(t, "cpu", filepath.Join(root, "kubepods", "burstable"), "cpu.shares"); got != "256" {
		t.Errorf("burstable QoS cgroup cpu.shares %s, want 256 (the sum of the Burstable pods' requests)", got)
	}
	if got, want := cgroupFile(t, "memory", filepath.Join(root, "kubepods"), "memory.limit_in_bytes"), strconv.FormatInt(memTotal(t), 10); got != want {
		t.Errorf("kubepods memory.limit_in_bytes %s, want the node's memory %s", got, want)
	}
	if lines := n.logLinesSince(0, "forbids lowering oom_score_adj"); guaranteedAdj > -997 && len(lines) != 1 {
		t.Errorf("the log says the oom_score_adj clamp %d times, want once", len(lines))
	}
	p, _ := n.pod("burstable")
	n.removeManifest("burstable.yaml")
	n.waitGone("burstable", 30*time.Second)
	dir := filepath.Join(cgroupV1, "cpu", root, "kubepods", "burstable", "pod"+string(p.UID))
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("pod cgroup %s is still there after the pod went (%v)", dir, err)
	}
	if got := cgroupFile(t, "cpu", filepath.Join(root, "kubepods", "burstable"), "cpu.shares"); got != "2" {
		t.Errorf("burstable QoS cgroup cpu.shares %s with no Burstable pod left, want 2", got)
	}
}

// burstableAdj is the kubelet's Burstable oom_score_adj for a memory
// request on this node: within 3..999.
func burstableAdj(t *testing.T, request int64) int {
	adj := int(1000 - 1000*request/memTotal(t))
	return min(max(adj, 3), 999)
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	v, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestResources_Admission: the node's labels (configured ones included)
// decide node selectors and required node affinity, and a pod asking for
// what the node lacks (an extended resource, huge pages where the node has
// none or cannot limit them) is refused when its file is read, with the
// kubelet's reason and message, the field named, and no pod.
func TestResources_Admission(t *testing.T) {
	n := startNode(t, "--node-labels", "disk=ssd,zone=a")
	pod := func(name, spec, resources string) string {
		return fmt.Sprintf(resourcesPod, name, spec, resources)
	}
	n.writeManifest("match.yaml", pod("match", "  nodeSelector: {disk: ssd, kubernetes.io/os: linux}\n", "      {}"))
	n.writeManifest("selector.yaml", pod("selector", "  nodeSelector: {disk: hdd}\n", "      {}"))
	n.writeManifest("affinity.yaml", pod("affinity", `  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: zone, operator: NotIn, values: [a]}]
`, "      {}"))
	n.writeManifest("gpu.yaml", pod("gpu", "", "      limits: {example.com/gpu: 1}"))
	n.writeManifest("huge.yaml", pod("huge", "", "      limits: {memory: 16Mi, hugepages-2Mi: 2Mi}"))
	want := map[string][]string{
		"selector.yaml": {"spec.nodeSelector[disk]", "NodeAffinity: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector", "disk=ssd"},
		"affinity.yaml": {"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution", "Predicate NodeAffinity failed"},
		"gpu.yaml":      {"spec.containers[0].resources.requests[example.com/gpu]", "OutOfexample.com/gpu: Node didn't have enough resource: example.com/gpu, requested: 1, used: 0, capacity: 0"},
		"huge.yaml":     {"spec.containers[0].resources.requests[hugepages-2Mi]", "OutOfhugepages-2Mi: Node didn't have enough resource: hugepages-2Mi, requested: 2097152"},
	}
	n.waitPod("match", 30*time.Second, "running", podRunning)
	items := n.waitManifests(10*time.Second, "listing the refusals", func(items []manifestItem) bool {
		for file := range want {
			if m := manifestOf(items, filepath.Join(n.dir, file)); m == nil || m.Error == "" {
				return false
			}
		}
		return true
	})
	for file, parts := range want {
		m := manifestOf(items, filepath.Join(n.dir, file))
		for _, part := range parts {
			if !strings.Contains(m.Error, part) {
				t.Errorf("%s: error %q does not say %q", file, m.Error, part)
			}
		}
		if m.Pod != "" && m.UID != "" {
			t.Errorf("%s: refused but lists pod %s", file, m.Pod)
		}
	}
	for _, name := range []string{"selector", "affinity", "gpu", "huge"} {
		if p, _ := n.pod(name); p != nil {
			t.Errorf("pod %s runs although its manifest was refused", name)
		}
		if got := len(n.sandboxesOf(name)); got != 0 {
			t.Errorf("pod %s has %d sandboxes, want none", name, got)
		}
	}
}
