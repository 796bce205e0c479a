package machine

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The kubelet's default hard eviction thresholds (pkg/kubelet/eviction
// DefaultEvictionHard), which its allocatable subtracts.
const (
	evictionHardMemory        = 100 * 1024 * 1024 // memory.available<100Mi
	evictionHardNodefsPercent = 10                // nodefs.available<10%
	capSysResource            = 24                // CAP_SYS_RESOURCE
	hugePagesDir              = "/sys/kernel/mm/hugepages"
	defaultMaxPods            = 110
	oomScoreAdjMin            = -1000
)

// HugePagePool is the kernel's pool of one huge page size.
type HugePagePool struct {
	PageSize int64 // bytes
	Pages    int64 // nr_hugepages
}

// Info is what the node has.
type Info struct {
	CPUs           int
	MemoryCapacity int64 // bytes, MemTotal
	HugePages      []HugePagePool
	// StorageCapacity is the size of the filesystem of the root directory
	// (the kubelet's nodefs), in bytes.
	StorageCapacity int64
	// OOMScoreAdjFloor is the lowest oom_score_adj a container may be
	// given: -1000 with CAP_SYS_RESOURCE, else this process's own value,
	// which an unprivileged process can never go below.
	OOMScoreAdjFloor int
	// MaxPods is the number of pods the node admits: the kubelet's 110
	// from Read, the configuration's maxPods once the daemon sets it.
	MaxPods int
}

// Read reads the machine's info; rootDir is the daemon's state directory.
func Read(rootDir string) (Info, error) {
	info := Info{CPUs: goruntime.NumCPU(), MaxPods: defaultMaxPods, OOMScoreAdjFloor: oomScoreAdjMin}
	meminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return info, fmt.Errorf("read memory capacity: %w", err)
	}
	if info.MemoryCapacity, err = memTotal(meminfo); err != nil {
		return info, err
	}
	if info.HugePages, err = readHugePages(hugePagesDir); err != nil {
		return info, err
	}
	var st unix.Statfs_t
	if err := os.MkdirAll(rootDir, 0o755); err != nil {
		return info, fmt.Errorf("create root directory: %w", err)
	}
	if err := unix.Statfs(rootDir, &st); err != nil {
		return info, fmt.Errorf("statfs %s: %w", rootDir, err)
	}
	info.StorageCapacity = int64(st.Blocks) * st.Bsize
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return info, fmt.Errorf("read process capabilities: %w", err)
	}
	if !hasCapability(status, capSysResource) {
		own, err := os.ReadFile("/proc/self/oom_score_adj")
		if err != nil {
			return info, fmt.Errorf("read oom_score_adj: %w", err)
		}
		if info.OOMScoreAdjFloor, err = strconv.Atoi(strings.TrimSpace(string(own))); err != nil {
			return info, fmt.Errorf("read oom_score_adj: %w", err)
		}
	}
	return info, nil
}

func memTotal(meminfo []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read MemTotal: %w", err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no MemTotal in /proc/meminfo")
}

// readHugePages lists dir's hugepages-<N>kB entries with their pool sizes.
func readHugePages(dir string) ([]HugePagePool, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list huge page sizes: %w", err)
	}
	var pools []HugePagePool
	for _, e := range entries {
		kb, ok := strings.CutPrefix(e.Name(), "hugepages-")
		kb, ok2 := strings.CutSuffix(kb, "kB")
		n, err := strconv.ParseInt(kb, 10, 64)
		if !ok || !ok2 || err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name(), "nr_hugepages"))
		if err != nil {
			return nil, fmt.Errorf("read huge page pool: %w", err)
		}
		pages, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("read huge page pool %s: %w", e.Name(), err)
		}
		pools = append(pools, HugePagePool{PageSize: n * 1024, Pages: pages})
	}
	sort.Slice(pools, func(i, j int) bool { return pools[i].PageSize < pools[j].PageSize })
	return pools, nil
}

func hasCapability(status []byte, bit uint) bool {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<bit) != 0
		}
	}
	return false
}

// HugePageResource is the resource name of a page size: hugepages-2Mi.
func HugePageResource(pageSize int64) v1.ResourceName {
	return v1.ResourceName(v1.ResourceHugePagesPrefix + resource.NewQuantity(pageSize, resource.BinarySI).String())
}

// Capacity is the node's capacity, as the kubelet reports it.
func (i Info) Capacity() v1.ResourceList {
	l := v1.ResourceList{
		v1.ResourceCPU:              *resource.NewQuantity(int64(i.CPUs), resource.DecimalSI),
		v1.ResourceMemory:           *resource.NewQuantity(i.MemoryCapacity, resource.BinarySI),
		v1.ResourceEphemeralStorage: *resource.NewQuantity(i.StorageCapacity, resource.BinarySI),
		v1.ResourcePods:             *resource.NewQuantity(int64(i.MaxPods), resource.DecimalSI),
	}
	for _, p := range i.HugePages {
		l[HugePageResource(p.PageSize)] = *resource.NewQuantity(p.PageSize*p.Pages, resource.BinarySI)
	}
	return l
}

// Allocatable is the capacity less the kubelet's hard eviction thresholds
// (pkg/kubelet/cm node_container_manager_linux.go
// GetNodeAllocatableAbsolute with no reservations) and less the huge pages,
// which memory does not count twice.
func (i Info) Allocatable() v1.ResourceList {
	l := i.Capacity()
	mem := i.MemoryCapacity - evictionHardMemory
	for _, p := range i.HugePages {
		mem -= p.PageSize * p.Pages
	}
	l[v1.ResourceMemory] = *resource.NewQuantity(max(mem, 0), resource.BinarySI)
	l[v1.ResourceEphemeralStorage] = *resource.NewQuantity(i.StorageCapacity-i.StorageCapacity*evictionHardNodefsPercent/100, resource.BinarySI)
	return l
}

// HugePageSizes are the page sizes as the CRI names them (2MB, 1GB), as
// runc's HugePageSizes lists them.
func (i Info) HugePageSizes() []string {
	out := make([]string, 0, len(i.HugePages))
	for _, p := range i.HugePages {
		out = append(out, CRIPageSize(p.PageSize))
	}
	return out
}

// CRIPageSize names a page size as the CRI and runc do: 2MB, 1GB, 64KB.
func CRIPageSize(size int64) string {
	units := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	i := 0
	for size >= 1024 && size%1024 == 0 && i < len(units)-1 {
		size /= 1024
		i++
	}
	return strconv.FormatInt(size, 10) + units[i]
}
