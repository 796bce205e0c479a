package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minikubelet/minikubelet/internal/machine"
	"github.com/minikubelet/minikubelet/internal/qos"
)

// The v1 controllers the kubelet's values go to; runc makes the rest of a
// container's hierarchy itself.
const (
	cpuController     = "cpu"
	memoryController  = "memory"
	hugetlbController = "hugetlb"
)

// Manager makes and sizes the node's pod cgroups. Its methods may be
// called from any goroutine.
type Manager struct {
	root string
	node machine.Info
	// mounts maps a v1 controller to its mount point; all lists every
	// cgroup mount point, where a pod's directories are removed.
	mounts map[string]string
	all    []string

	mu   sync.Mutex
	pods map[types.UID]*v1.Pod // the pods with a cgroup, for the burstable shares
}

// New finds the cgroup mounts and makes the kubepods hierarchy under root
// (a cgroupfs name such as "/"), sized to the node as the kubelet's
// enforceNodeAllocatable "pods" does with no reservations.
func New(root string, node machine.Info) (*Manager, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("find cgroup mounts: %w", err)
	}
	mounts, all := parseMountInfo(string(data))
	if mounts[cpuController] == "" || mounts[memoryController] == "" {
		return nil, errors.New("pod cgroups need the cgroup v1 cpu and memory controllers mounted; cgroup v2 alone is not supported yet")
	}
	m := &Manager{root: root, node: node, mounts: mounts, all: all, pods: map[types.UID]*v1.Pod{}}
	kubepods := qosCgroupName(root, v1.PodQOSGuaranteed)
	nodeCfg := config{CPUShares: qos.MilliCPUToShares(int64(node.CPUs) * 1000), Memory: node.MemoryCapacity}
	if err := m.write(kubepods, nodeCfg); err != nil {
		return nil, err
	}
	if err := m.write(qosCgroupName(root, v1.PodQOSBestEffort), config{CPUShares: qos.MinShares}); err != nil {
		return nil, err
	}
	if err := m.write(qosCgroupName(root, v1.PodQOSBurstable), config{CPUShares: qos.MinShares}); err != nil {
		return nil, err
	}
	return m, nil
}

// HugetlbAvailable reports whether huge page limits can be enforced: the
// hugetlb controller is mounted.
func (m *Manager) HugetlbAvailable() bool {
	return m.mounts[hugetlbController] != ""
}

// EnsurePod makes the pod's cgroup, writes its limits and the burstable
// shares, and returns its cgroupfs name, the sandbox's cgroup parent.
func (m *Manager) EnsurePod(pod *v1.Pod) (string, error) {
	name := PodCgroupName(m.root, pod)
	sizes := make([]int64, 0, len(m.node.HugePages))
	for _, p := range m.node.HugePages {
		sizes = append(sizes, p.PageSize)
	}
	if err := m.write(name, podConfig(pod, sizes)); err != nil {
		return "", fmt.Errorf("pod cgroup %s: %w", name, err)
	}
	m.mu.Lock()
	m.pods[pod.UID] = pod
	shares := m.burstableShares()
	m.mu.Unlock()
	return name, m.write(qosCgroupName(m.root, v1.PodQOSBurstable), config{CPUShares: shares})
}

// RemovePod removes the pod's cgroup from every hierarchy once its
// containers are gone, and updates the burstable shares.
func (m *Manager) RemovePod(pod *v1.Pod) error {
	var errs []error
	// The QoS class of an adopted pod's spec may differ from the one its
	// cgroup was made with: try every place it can be.
	for _, class := range []v1.PodQOSClass{v1.PodQOSGuaranteed, v1.PodQOSBurstable, v1.PodQOSBestEffort} {
		name := podCgroupName(m.root, class, pod.UID)
		for _, mnt := range m.all {
			if err := removeTree(filepath.Join(mnt, name)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	m.mu.Lock()
	delete(m.pods, pod.UID)
	shares := m.burstableShares()
	m.mu.Unlock()
	if err := m.write(qosCgroupName(m.root, v1.PodQOSBurstable), config{CPUShares: shares}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// burstableShares needs m.mu held.
func (m *Manager) burstableShares() int64 {
	pods := make([]*v1.Pod, 0, len(m.pods))
	for _, p := range m.pods {
		pods = append(pods, p)
	}
	return qosShares(pods)
}

// write makes the cgroup in the controllers the config touches and writes
// what is set.
func (m *Manager) write(name string, c config) error {
	files := map[string][]struct{ file, value string }{}
	add := func(ctrl, file string, v int64) {
		files[ctrl] = append(files[ctrl], struct{ file, value string }{file, strconv.FormatInt(v, 10)})
	}
	add(cpuController, "cpu.shares", c.CPUShares)
	if c.CPUQuota > 0 {
		add(cpuController, "cpu.cfs_period_us", c.CPUPeriod)
		add(cpuController, "cpu.cfs_quota_us", c.CPUQuota)
	}
	files[memoryController] = nil
	if c.Memory > 0 {
		add(memoryController, "memory.limit_in_bytes", c.Memory)
	}
	if m.HugetlbAvailable() {
		for size, limit := range c.HugePages {
			add(hugetlbController, "hugetlb."+hugetlbSizeName(size)+".limit_in_bytes", limit)
		}
	}
	for ctrl, list := range files {
		mnt := m.mounts[ctrl]
		if mnt == "" {
			continue
		}
		dir := filepath.Join(mnt, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create cgroup: %w", err)
		}
		for _, f := range list {
			if err := os.WriteFile(filepath.Join(dir, f.file), []byte(f.value), 0o644); err != nil {
				return fmt.Errorf("write cgroup file: %w", err)
			}
		}
	}
	return nil
}

// removeTree removes a cgroup directory and its children, deepest first.
func removeTree(dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove cgroup: %w", err)
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove cgroup: %w", err)
		}
	}
	return nil
}

// parseMountInfo maps each v1 controller to its shortest mount point and
// lists every cgroup (v1 and v2) mount point.
func parseMountInfo(data string) (map[string]string, []string) {
	mounts := map[string]string{}
	var all []string
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			continue
		}
		switch g[0] {
		case "cgroup2":
			all = append(all, f[4])
		case "cgroup":
			all = append(all, f[4])
			for _, opt := range strings.Split(g[2], ",") {
				if prev := mounts[opt]; prev == "" || len(f[4]) < len(prev) {
					mounts[opt] = f[4]
				}
			}
		}
	}
	return mounts, all
}

func hugePageResource(size int64) v1.ResourceName { return machine.HugePageResource(size) }

// hugetlbSizeName names a page size as the hugetlb controller's files do:
// 2MB, 1GB.
func hugetlbSizeName(size int64) string { return machine.CRIPageSize(size) }
