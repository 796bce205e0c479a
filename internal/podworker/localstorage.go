package podworker

// Local storage limits (ephemeral-storage limits, a disk emptyDir's
// sizeLimit), enforced as the kubelet's eviction manager does
// (pkg/kubelet/eviction/eviction_manager.go localStorageEviction): the
// worker measures every evictionMonitoringPeriod, computeActions decides.
//
// Upstream, the kubelet never evicts a static pod: evictPod refuses
// critical pods, and every static pod is critical. minikubelet's pods are
// all static, so it enforces the limits anyway: a limit accepted and never
// enforced would be silently ignored.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/minikubelet/minikubelet/internal/qos"
	"github.com/minikubelet/minikubelet/internal/status"
)

const (
	// evictionMonitoringPeriod is how often the local storage of a pod with
	// a limit is measured, as the kubelet's (pkg/kubelet/kubelet.go), the
	// period of its eviction manager.
	evictionMonitoringPeriod = 10 * time.Second
	// immediateEvictionGracePeriodSeconds is the grace an evicted pod's
	// containers get, as the kubelet's for local storage evictions (the
	// kill then gives at least minimumGracePeriod).
	immediateEvictionGracePeriodSeconds = int64(1)

	reasonEvicted = "Evicted"
	// The kubelet's eviction signals of local storage limits, the
	// eviction_signal of kubelet_evictions.
	signalEphemeralContainerFsLimit = "ephemeralcontainerfs.limit"
	signalEphemeralPodFsLimit       = "ephemeralpodfs.limit"
	signalEmptyDirFsLimit           = "emptydirfs.limit"
	// The kubelet's messages (pkg/kubelet/eviction/helpers.go), trailing
	// space included.
	emptyDirMessageFmt                  = "Usage of EmptyDir volume %q exceeds the limit %q. "
	podEphemeralStorageMessageFmt       = "Pod ephemeral local storage usage exceeds the total limit of containers %s. "
	containerEphemeralStorageMessageFmt = "Container %s exceeded its local ephemeral storage limit %q. "
)

// storageUsage is one measurement of a pod's local storage, in bytes.
type storageUsage struct {
	// EmptyDirs holds each disk emptyDir's usage, by volume name.
	EmptyDirs map[string]int64
	// Containers holds each running container's writable layer plus its
	// log files, by container name.
	Containers map[string]int64
}

// total is the pod's usage: its containers' and its disk emptyDirs'.
func (u *storageUsage) total() int64 {
	var n int64
	for _, b := range u.EmptyDirs {
		n += b
	}
	for _, b := range u.Containers {
		n += b
	}
	return n
}

// hasLocalStorageLimit reports whether the pod has a limit eviction
// enforces; only such pods are measured.
func hasLocalStorageLimit(pod *v1.Pod) bool {
	for i := range pod.Spec.Volumes {
		if ed := pod.Spec.Volumes[i].EmptyDir; ed != nil && ed.Medium == v1.StorageMediumDefault && ed.SizeLimit != nil && ed.SizeLimit.Sign() == 1 {
			return true
		}
	}
	_, ok := podStorageLimit(pod)
	return ok
}

// podStorageLimit is the pod's ephemeral-storage limit as the kubelet's
// resourcehelper.PodLimits sums it: present when the pod level or any
// container sets one.
func podStorageLimit(pod *v1.Pod) (resource.Quantity, bool) {
	limits, _, _ := qos.PodLimits(&pod.Spec)
	q, ok := limits[v1.ResourceEphemeralStorage]
	return q, ok
}

// localStorageEviction returns the kubelet's eviction message when the
// usage goes over a limit, in the kubelet's order: a disk emptyDir's
// sizeLimit, then the pod's limit, then a container's; "" when none is.
func localStorageEviction(pod *v1.Pod, u *storageUsage) (message, signal string) {
	if u == nil {
		return "", ""
	}
	for i := range pod.Spec.Volumes {
		vol := &pod.Spec.Volumes[i]
		ed := vol.EmptyDir
		if ed == nil || ed.SizeLimit == nil || ed.SizeLimit.Sign() != 1 {
			continue
		}
		used, ok := u.EmptyDirs[vol.Name]
		if ok && resource.NewQuantity(used, resource.BinarySI).Cmp(*ed.SizeLimit) > 0 {
			return fmt.Sprintf(emptyDirMessageFmt, vol.Name, ed.SizeLimit.String()), signalEmptyDirFsLimit
		}
	}
	if limit, ok := podStorageLimit(pod); ok && resource.NewQuantity(u.total(), resource.BinarySI).Cmp(limit) > 0 {
		return fmt.Sprintf(podEphemeralStorageMessageFmt, limit.String()), signalEphemeralPodFsLimit
	}
	// As the kubelet, only regular containers' limits are checked here.
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		limit := c.Resources.Limits.StorageEphemeral()
		if limit == nil || limit.Value() == 0 {
			continue
		}
		used, ok := u.Containers[c.Name]
		if ok && limit.Cmp(*resource.NewQuantity(used, resource.BinarySI)) < 0 {
			return fmt.Sprintf(containerEphemeralStorageMessageFmt, c.Name, limit.String()), signalEphemeralContainerFsLimit
		}
	}
	return "", ""
}

// measureStorage measures what the pod's limits count: each disk
// emptyDir, and each running container's writable layer (the CRI's
// ContainerStats) plus its log directory, as the kubelet's stats provider
// on a node without a dedicated image filesystem. What cannot be measured
// is left out, as the kubelet skips missing stats.
func (w *worker) measureStorage(ctx context.Context, pod *v1.Pod, obs observation) *storageUsage {
	u := &storageUsage{EmptyDirs: map[string]int64{}, Containers: map[string]int64{}}
	for i := range pod.Spec.Volumes {
		vol := &pod.Spec.Volumes[i]
		if vol.EmptyDir == nil || vol.EmptyDir.Medium != v1.StorageMediumDefault {
			continue
		}
		n, err := diskUsage(w.m.cfg.Volumes.EmptyDirPath(pod.UID, vol.Name))
		if err != nil {
			w.log.Debug("measure emptyDir", zap.String("volume", vol.Name), zap.Error(err))
			continue
		}
		u.EmptyDirs[vol.Name] = n
	}
	for _, c := range obs.Containers {
		if c.State != status.ContainerRunning {
			continue
		}
		stats, err := w.m.cfg.Runtime.ContainerStats(ctx, c.ID)
		if err != nil {
			w.log.Debug("measure container", zap.String("container", c.Name), zap.Error(err))
			continue
		}
		var n int64
		if wl := stats.GetWritableLayer(); wl != nil && wl.UsedBytes != nil {
			n = int64(wl.UsedBytes.Value)
		}
		if c.LogPath != "" {
			logs, err := diskUsage(filepath.Dir(c.LogPath))
			if err != nil {
				w.log.Debug("measure container logs", zap.String("container", c.Name), zap.Error(err))
			}
			n += logs
		}
		u.Containers[c.Name] += n
	}
	return u
}

// diskUsage is the space the regular files under root take, as du counts
// it: allocated blocks, a hard-linked file once. A missing root is empty.
func diskUsage(root string) (int64, error) {
	var n int64
	seen := map[[2]uint64]bool{}
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			n += info.Size()
			return nil
		}
		key := [2]uint64{uint64(st.Dev), st.Ino}
		if st.Nlink > 1 {
			if seen[key] {
				return nil
			}
			seen[key] = true
		}
		n += st.Blocks * 512
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return n, fmt.Errorf("measure %s: %w", root, err)
	}
	return n, nil
}
