package eviction

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/clock"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// monitoringPeriod is how often thresholds are checked, the kubelet's
// evictionMonitoringPeriod.
const monitoringPeriod = 10 * time.Second

// eventEvictionThresholdMet is the kubelet's node event reason.
const eventEvictionThresholdMet = "EvictionThresholdMet"

// imageFs names the runtime's image filesystem (CRI ImageFsInfo).
type imageFs interface {
	ImageFsInfo(ctx context.Context) ([]*runtimeapi.FilesystemUsage, error)
}

// statsLister lists the node's containers' stats (CRI).
type statsLister interface {
	ListContainerStats(ctx context.Context, filter *runtimeapi.ContainerStatsFilter) ([]*runtimeapi.ContainerStats, error)
}

// podLister lists the pods the node shows (status.Store).
type podLister interface {
	List() []v1.Pod
}

// evictor evicts a pod (podworker.Manager): false when it cannot.
type evictor interface {
	Evict(uid types.UID, signal, message string) bool
}

// nodeEvents records events about the node (status.Events).
type nodeEvents interface {
	RecordNode(eventType, reason, message string, now time.Time)
}

// Config wires a Manager.
type Config struct {
	Thresholds []Threshold
	NodeName   string
	// RootDir is on the nodefs; PodDir is where a pod's volumes are on it,
	// and PodLogDir where its logs are.
	RootDir   string
	PodDir    func(uid types.UID) string
	PodLogDir func(pod *v1.Pod) string
	// MemoryCapacity is MemTotal; MemoryCgroup the root memory cgroup.
	MemoryCapacity int64
	MemoryCgroup   string
	Images         imageFs
	Stats          statsLister
	Pods           podLister
	Evictor        evictor
	Events         nodeEvents
	Clock          clock.WithTicker
	Logger         *zap.Logger
}

// Manager checks the thresholds and evicts.
type Manager struct {
	cfg Config
	log *zap.Logger

	mu         sync.Mutex
	conditions []v1.NodeCondition
}

// New returns a Manager; nothing runs until Run.
func New(cfg Config) *Manager {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.MemoryCgroup == "" {
		cfg.MemoryCgroup = "/sys/fs/cgroup/memory"
	}
	m := &Manager{cfg: cfg, log: cfg.Logger}
	m.setConditions(false, false, cfg.Clock.Now())
	return m
}

// Run checks the thresholds every 10 s until ctx ends; it returns nil.
func (m *Manager) Run(ctx context.Context) error {
	if len(m.cfg.Thresholds) == 0 {
		return nil
	}
	ticker := m.cfg.Clock.NewTicker(monitoringPeriod)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C():
		}
		m.synchronize(ctx)
	}
}

// Conditions are the node's MemoryPressure and DiskPressure conditions as
// of the last check, as the kubelet reports them in the node's status.
func (m *Manager) Conditions() []v1.NodeCondition {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]v1.NodeCondition(nil), m.conditions...)
}

// synchronize is one round of the kubelet's eviction manager: measure,
// set the conditions, and evict one pod while a threshold is met.
func (m *Manager) synchronize(ctx context.Context) {
	now := m.cfg.Clock.Now()
	ms := thresholdsMet(m.cfg.Thresholds, m.observe(ctx))
	memory, disk := nodeConditions(ms)
	m.setConditions(memory, disk, now)
	if len(ms) == 0 {
		return
	}
	first := ms[0]
	res := resourceToReclaim(first.Signal)
	m.log.Warn("eviction threshold met, attempting to reclaim", zap.String("signal", string(first.Signal)),
		zap.String("threshold", first.String()), zap.Int64("available", first.available), zap.String("resource", string(res)))
	if m.cfg.Events != nil {
		m.cfg.Events.RecordNode(v1.EventTypeWarning, eventEvictionThresholdMet, fmt.Sprintf("Attempting to reclaim %s", res), now)
	}
	pods := m.podUsages(ctx)
	rank(pods, res)
	for _, u := range pods {
		if !evictable(u.pod) {
			continue
		}
		msg := message(first, u)
		if m.cfg.Evictor.Evict(u.pod.UID, string(first.Signal), msg) {
			m.log.Info("evicting pod for node pressure", zap.String("pod", u.pod.Namespace+"/"+u.pod.Name),
				zap.String("namespace", u.pod.Namespace), zap.String("uid", string(u.pod.UID)), zap.String("message", msg))
			return // one pod per round, as the kubelet
		}
	}
	m.log.Info("eviction manager: unable to evict any pods from the node", zap.String("signal", string(first.Signal)))
}

// setConditions records the pressures, keeping each condition's last
// transition time while it holds.
func (m *Manager) setConditions(memory, disk bool, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev := map[v1.NodeConditionType]v1.NodeCondition{}
	for _, c := range m.conditions {
		prev[c.Type] = c
	}
	build := func(t v1.NodeConditionType, on bool, reasonOn, msgOn, reasonOff, msgOff string) v1.NodeCondition {
		c := v1.NodeCondition{Type: t, Status: v1.ConditionFalse, Reason: reasonOff, Message: msgOff, LastHeartbeatTime: metav1.NewTime(now)}
		if on {
			c.Status, c.Reason, c.Message = v1.ConditionTrue, reasonOn, msgOn
		}
		if p, ok := prev[t]; ok && p.Status == c.Status {
			c.LastTransitionTime = p.LastTransitionTime
		} else {
			c.LastTransitionTime = metav1.NewTime(now)
			if ok {
				m.log.Info("node condition changed", zap.String("condition", string(t)), zap.String("status", string(c.Status)))
			}
		}
		return c
	}
	// The kubelet's reasons and messages (pkg/kubelet/nodestatus/setters.go).
	m.conditions = []v1.NodeCondition{
		build(v1.NodeMemoryPressure, memory, "KubeletHasInsufficientMemory", "kubelet has insufficient memory available",
			"KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		build(v1.NodeDiskPressure, disk, "KubeletHasDiskPressure", "kubelet has disk pressure",
			"KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
	}
}

// observe measures every signal it can; one it cannot is left out (and
// logged), as the kubelet skips signals without stats.
func (m *Manager) observe(ctx context.Context) map[Signal]observation {
	obs := map[Signal]observation{}
	if ws, err := memoryWorkingSet(m.cfg.MemoryCgroup); err != nil {
		m.log.Debug("measure memory", zap.Error(err))
	} else if m.cfg.MemoryCapacity > 0 {
		avail := m.cfg.MemoryCapacity - ws
		if avail < 0 {
			avail = 0
		}
		obs[SignalMemoryAvailable] = observation{available: avail, capacity: m.cfg.MemoryCapacity}
	}
	if st, err := statfs(m.cfg.RootDir); err != nil {
		m.log.Warn("measure the node filesystem", zap.String("path", m.cfg.RootDir), zap.Error(err))
	} else {
		obs[SignalNodeFsAvailable] = observation{available: st.available, capacity: st.capacity}
		obs[SignalNodeFsInodesFree] = observation{available: st.inodesFree, capacity: st.inodes}
	}
	if m.cfg.Images != nil {
		fss, err := m.cfg.Images.ImageFsInfo(ctx)
		if err == nil && len(fss) > 0 {
			if st, err := statfs(fss[0].GetFsId().GetMountpoint()); err == nil {
				obs[SignalImageFsAvailable] = observation{available: st.available, capacity: st.capacity}
				obs[SignalImageFsInodesFree] = observation{available: st.inodesFree, capacity: st.inodes}
			}
		}
	}
	return obs
}

// podUsages measures the active pods: memory and writable layers from the
// CRI, logs and local volumes from the disk.
func (m *Manager) podUsages(ctx context.Context) []podUsage {
	stats, err := m.cfg.Stats.ListContainerStats(ctx, &runtimeapi.ContainerStatsFilter{
		LabelSelector: map[string]string{runtime.LabelManaged: "true", runtime.LabelNode: m.cfg.NodeName},
	})
	if err != nil {
		m.log.Warn("list container stats", zap.Error(err))
	}
	byPod := map[types.UID]map[string]containerUsage{}
	for _, s := range stats {
		labels := s.GetAttributes().GetLabels()
		uid := types.UID(labels[runtime.LabelPodUID])
		if byPod[uid] == nil {
			byPod[uid] = map[string]containerUsage{}
		}
		name := labels[runtime.LabelContainerName]
		cu := byPod[uid][name]
		cu.memory += int64(s.GetMemory().GetWorkingSetBytes().GetValue())
		cu.disk += int64(s.GetWritableLayer().GetUsedBytes().GetValue())
		byPod[uid][name] = cu
	}
	var out []podUsage
	for _, p := range m.cfg.Pods.List() {
		pod := p
		if pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed {
			continue
		}
		u := podUsage{pod: &pod, containers: byPod[pod.UID]}
		if u.containers == nil {
			u.containers = map[string]containerUsage{}
		}
		for i := range pod.Spec.Containers {
			name := pod.Spec.Containers[i].Name
			cu := u.containers[name]
			cu.disk += diskUsage(filepath.Join(m.cfg.PodLogDir(&pod), name))
			u.containers[name] = cu
		}
		for _, cu := range u.containers {
			u.memory += cu.memory
			u.disk += cu.disk
		}
		u.disk += diskUsage(m.cfg.PodDir(pod.UID))
		out = append(out, u)
	}
	return out
}

// diskUsage is the space the regular files under root take, as du counts
// it (allocated blocks); what cannot be read counts nothing.
func diskUsage(root string) int64 {
	var n int64
	_ = filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			} else {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
