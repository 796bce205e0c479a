package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/minikubelet/minikubelet/internal/fieldpath"
)

// Plugin directories of the kubelet's downwardAPI and projected volumes.
const (
	downwardAPIKind = "kubernetes.io~downward-api"
	projectedKind   = "kubernetes.io~projected"
	// defaultFileMode is the API server's default for a volume's files.
	defaultFileMode = int32(0o644)
)

// projectionSource is one downwardAPI volume, or the downwardAPI sources of
// one projected volume: the files to write and their default mode.
type projectionSource struct {
	items       []v1.DownwardAPIVolumeFile
	defaultMode *int32
}

// downwardAPISource returns the kind directory and the items a volume
// projects, or ok false when it is neither a downwardAPI nor a projected
// volume.
func downwardAPISource(vol *v1.Volume) (kind string, src projectionSource, ok bool) {
	switch {
	case vol.DownwardAPI != nil:
		return downwardAPIKind, projectionSource{items: vol.DownwardAPI.Items, defaultMode: vol.DownwardAPI.DefaultMode}, true
	case vol.Projected != nil:
		src := projectionSource{defaultMode: vol.Projected.DefaultMode}
		for _, s := range vol.Projected.Sources {
			if s.DownwardAPI != nil {
				src.items = append(src.items, s.DownwardAPI.Items...)
			}
		}
		return projectedKind, src, true
	}
	return "", projectionSource{}, false
}

// downwardAPIPayload is what the kubelet's downwardAPI plugin writes for
// the items: each file's content and mode, by its path in the volume.
// allocatable stands in for a limit the container does not set.
func downwardAPIPayload(pod *v1.Pod, src projectionSource, allocatable v1.ResourceList) (map[string]payloadFile, error) {
	mode := defaultFileMode
	if src.defaultMode != nil {
		mode = *src.defaultMode
	}
	out := make(map[string]payloadFile, len(src.items))
	for _, item := range src.items {
		var data string
		var err error
		switch {
		case item.FieldRef != nil:
			var ok bool
			if data, ok = fieldpath.ExtractMetadata(pod, item.FieldRef.FieldPath); !ok {
				err = fmt.Errorf("unsupported fieldPath %q", item.FieldRef.FieldPath)
			}
		case item.ResourceFieldRef != nil:
			data, err = fieldpath.ContainerResource(pod, item.ResourceFieldRef, allocatable)
		default:
			err = fmt.Errorf("no fieldRef or resourceFieldRef")
		}
		if err != nil {
			return nil, fmt.Errorf("file %q: %w", item.Path, err)
		}
		m := mode
		if item.Mode != nil {
			m = *item.Mode
		}
		out[filepath.Clean(item.Path)] = payloadFile{data: []byte(data), mode: m}
	}
	return out, nil
}

// setupDownwardAPI makes a downwardAPI or projected volume at path: a
// tmpfs, as the kubelet backs these volumes with a memory emptyDir, holding
// the payload through the atomic writer. Called again, it swaps in the
// files whose content changed (the pod's labels or annotations).
func (m *Manager) setupDownwardAPI(pod *v1.Pod, path string, src projectionSource) error {
	payload, err := downwardAPIPayload(pod, src, m.allocatable())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	mounted, err := isMountPoint(path)
	if err != nil {
		return err
	}
	if !mounted {
		if err := unix.Mount("tmpfs", path, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
			return fmt.Errorf("mount tmpfs at %s: %w", path, err)
		}
	}
	var fsGroup *int64
	if psc := pod.Spec.SecurityContext; psc != nil {
		fsGroup = psc.FSGroup
	}
	if fsGroup != nil {
		for rel, f := range payload {
			f.mode |= readOnlyGroupMask
			payload[rel] = f
		}
	}
	wrote, err := writeAtomically(path, payload, time.Now())
	if err != nil || !wrote || fsGroup == nil {
		return err
	}
	return setGroupOwnership(path, *fsGroup)
}

// The kubelet's SetVolumeOwnership masks for a read-only volume
// (pkg/volume/volume_linux.go): the group may read every file and enter
// every directory, and new files in a directory keep its group.
const (
	readOnlyGroupMask = 0o440
	groupExecMask     = 0o110
)

// setGroupOwnership gives every file and directory of a volume to the pod's
// fsGroup, as the kubelet does before the containers see the volume.
// Symlinks are left alone.
func setGroupOwnership(root string, gid int64) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		if err := os.Lchown(p, -1, int(gid)); err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := info.Mode() | readOnlyGroupMask
		if d.IsDir() {
			mode |= fs.ModeSetgid | groupExecMask
		}
		return os.Chmod(p, mode)
	})
}

// allocatable is the node's capacity, which a container's unset limit
// stands for in a downwardAPI file. Nothing is reserved for system daemons
// here, so allocatable equals capacity, as the kubelet computes it with no
// reservations: the CPUs, the memory, and the size of the filesystem
// holding the root directory.
func (m *Manager) allocatable() v1.ResourceList {
	list := v1.ResourceList{
		v1.ResourceCPU: *resource.NewQuantity(int64(goruntime.NumCPU()), resource.DecimalSI),
	}
	if mem, err := memTotal(); err == nil {
		list[v1.ResourceMemory] = *resource.NewQuantity(mem, resource.BinarySI)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(m.root, &st); err == nil {
		list[v1.ResourceEphemeralStorage] = *resource.NewQuantity(int64(st.Blocks)*st.Bsize, resource.BinarySI)
	}
	return list
}

// memTotal reads MemTotal from /proc/meminfo, in bytes.
func memTotal() (int64, error) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no MemTotal in /proc/meminfo")
}

// volumeSourceName names a volume's type for messages.
func volumeSourceName(vol *v1.Volume) string {
	if vol.Projected != nil {
		return "projected"
	}
	return "downwardAPI"
}
