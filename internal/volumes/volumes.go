package volumes

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Directory names under a pod's directory, as the kubelet lays them out.
const (
	podsDir       = "pods"
	volumesDir    = "volumes"
	containersDir = "containers"
	emptyDirKind  = "kubernetes.io~empty-dir"
	// terminationMessageMaxBytes is the most the kubelet reads of a
	// termination message file.
	terminationMessageMaxBytes = 4096
)

// Manager sets up and tears down pod volumes under a root directory.
type Manager struct {
	root string
}

// NewManager returns a manager whose pod directories live under root.
func NewManager(root string) *Manager { return &Manager{root: root} }

// PodDir is the directory holding everything of the pod on the node.
func (m *Manager) PodDir(uid types.UID) string {
	return filepath.Join(m.root, podsDir, string(uid))
}

// EmptyDirPath is where the pod's emptyDir volume named name is on the
// node (a disk one's content, a memory one's mount point).
func (m *Manager) EmptyDirPath(uid types.UID, name string) string {
	return filepath.Join(m.PodDir(uid), volumesDir, emptyDirKind, name)
}

// Volumes maps each volume name of a pod to where it is on the node.
type Volumes map[string]Volume

// Volume is one volume set up on the node.
type Volume struct {
	Path string
	// ReadOnly is set for the volumes the kubelet always mounts read-only
	// (downwardAPI, projected).
	ReadOnly bool
}

// Setup makes every volume of the pod that the node provides and returns
// where each is. It is idempotent: a volume already set up is reused, so
// emptyDir content survives container restarts and daemon restarts.
func (m *Manager) Setup(pod *v1.Pod) (Volumes, error) {
	vols := Volumes{}
	for i := range pod.Spec.Volumes {
		vol := &pod.Spec.Volumes[i]
		kind, src, projected := downwardAPISource(vol)
		switch {
		case vol.EmptyDir != nil:
			path := m.EmptyDirPath(pod.UID, vol.Name)
			if err := setupEmptyDir(path, vol.EmptyDir); err != nil {
				return nil, fmt.Errorf("volume %q (emptyDir): %w", vol.Name, err)
			}
			if sc := pod.Spec.SecurityContext; sc != nil && sc.FSGroup != nil {
				if err := setVolumeOwnership(path, *sc.FSGroup); err != nil {
					return nil, fmt.Errorf("volume %q (emptyDir): give it to fsGroup %d: %w", vol.Name, *sc.FSGroup, err)
				}
			}
			vols[vol.Name] = Volume{Path: path}
		case vol.HostPath != nil:
			if err := checkHostPath(vol.HostPath); err != nil {
				return nil, fmt.Errorf("volume %q (hostPath): %w", vol.Name, err)
			}
			vols[vol.Name] = Volume{Path: vol.HostPath.Path}
		case projected:
			path := filepath.Join(m.PodDir(pod.UID), volumesDir, kind, vol.Name)
			if err := m.setupDownwardAPI(pod, path, src); err != nil {
				return nil, fmt.Errorf("volume %q (%s): %w", vol.Name, volumeSourceName(vol), err)
			}
			vols[vol.Name] = Volume{Path: path, ReadOnly: true}
		default:
			return nil, fmt.Errorf("volume %q: only emptyDir, hostPath, downwardAPI and projected volumes can be mounted on a minikubelet node", vol.Name)
		}
	}
	return vols, nil
}

func setupEmptyDir(path string, src *v1.EmptyDirVolumeSource) error {
	if err := os.MkdirAll(path, 0o777); err != nil {
		return err
	}
	// As the kubelet: everyone may write to an emptyDir.
	if err := os.Chmod(path, 0o777); err != nil {
		return err
	}
	if src.Medium != v1.StorageMediumMemory {
		return nil
	}
	mounted, err := isMountPoint(path)
	if err != nil || mounted {
		return err
	}
	opts := "mode=0777"
	if src.SizeLimit != nil && !src.SizeLimit.IsZero() {
		opts += fmt.Sprintf(",size=%d", src.SizeLimit.Value())
	}
	if err := unix.Mount("tmpfs", path, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount tmpfs at %s: %w", path, err)
	}
	return nil
}

// setVolumeOwnership gives a writable volume to the pod's fsGroup as the
// kubelet's SetVolumeOwnership (pkg/volume/volume_linux.go) does at every
// mount: each file and directory gets the group and group read-write
// (0660), directories also setgid and group execute, symlinks are only
// re-grouped.
func setVolumeOwnership(root string, fsGroup int64) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, -1, int(fsGroup)); err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mask := fs.FileMode(0o660)
		if d.IsDir() {
			mask |= fs.ModeSetgid | 0o110
		}
		return os.Chmod(path, info.Mode()|mask)
	})
}

// isMountPoint reports whether path is on another device than its parent.
func isMountPoint(path string) (bool, error) {
	var st, parent unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return false, err
	}
	if err := unix.Lstat(filepath.Dir(path), &parent); err != nil {
		return false, err
	}
	return st.Dev != parent.Dev, nil
}

// checkHostPath applies the hostPath type check, creating what the
// ...OrCreate types ask for.
func checkHostPath(hp *v1.HostPathVolumeSource) error {
	typ := v1.HostPathUnset
	if hp.Type != nil {
		typ = *hp.Type
	}
	path := hp.Path
	switch typ {
	case v1.HostPathUnset:
		return nil
	case v1.HostPathDirectoryOrCreate:
		if err := os.MkdirAll(path, 0o755); err != nil {
			return fmt.Errorf("create directory %s: %w", path, err)
		}
		return mustBe(path, fs.ModeDir, "a directory")
	case v1.HostPathFileOrCreate:
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o644)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			if st, serr := os.Stat(path); serr == nil && st.IsDir() {
				return fmt.Errorf("hostPath type check failed: %s is not a file", path)
			}
			return fmt.Errorf("create file %s: %w", path, err)
		}
		if f != nil {
			f.Close()
		}
		return mustBe(path, 0, "a file")
	case v1.HostPathDirectory:
		return mustBe(path, fs.ModeDir, "a directory")
	case v1.HostPathFile:
		return mustBe(path, 0, "a file")
	case v1.HostPathSocket:
		return mustBe(path, fs.ModeSocket, "a socket file")
	case v1.HostPathCharDev:
		return mustBe(path, fs.ModeCharDevice|fs.ModeDevice, "a character device")
	case v1.HostPathBlockDev:
		return mustBe(path, fs.ModeDevice, "a block device")
	default:
		return fmt.Errorf("unknown hostPath type %q", typ)
	}
}

func mustBe(path string, want fs.FileMode, what string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("hostPath type check failed: %s does not exist", path)
	}
	got := st.Mode().Type()
	ok := got == want
	if want == fs.ModeDevice {
		ok = got&fs.ModeDevice != 0 && got&fs.ModeCharDevice == 0
	}
	if !ok {
		return fmt.Errorf("hostPath type check failed: %s is not %s", path, what)
	}
	return nil
}

// Mounts turns a container's volumeMounts into CRI mounts. A subPath
// (or a subPathExpr, expanded from env, the container's environment) is
// resolved safely inside its volume and bind-mounted (subpath.go).
// recursiveReadOnly says whether the runtime handler makes read-only
// mounts recursively read-only, for IfPossible.
func (m *Manager) Mounts(pod *v1.Pod, c *v1.Container, vols Volumes, env map[string]string, recursiveReadOnly bool) ([]*runtimeapi.Mount, error) {
	var out []*runtimeapi.Mount
	for i := range c.VolumeMounts {
		vm := &c.VolumeMounts[i]
		vol, ok := vols[vm.Name]
		if !ok {
			return nil, fmt.Errorf("volumeMount %q: no such volume", vm.Name)
		}
		host, err := m.mountSubPath(pod, c, i, vm, vol.Path, env)
		if err != nil {
			return nil, err
		}
		mount := &runtimeapi.Mount{
			ContainerPath: vm.MountPath,
			HostPath:      host,
			Readonly:      vm.ReadOnly || vol.ReadOnly,
			Propagation:   propagation(vm.MountPropagation),
		}
		if rro := vm.RecursiveReadOnly; rro != nil && vm.ReadOnly {
			// Enabled reaches here only where the handler supports it
			// (refused at load otherwise); IfPossible falls back to a
			// plain read-only mount, as the kubelet's makeMounts.
			mount.RecursiveReadOnly = *rro == v1.RecursiveReadOnlyEnabled || *rro == v1.RecursiveReadOnlyIfPossible && recursiveReadOnly
		}
		out = append(out, mount)
	}
	return out, nil
}

func propagation(p *v1.MountPropagationMode) runtimeapi.MountPropagation {
	if p == nil {
		return runtimeapi.MountPropagation_PROPAGATION_PRIVATE
	}
	switch *p {
	case v1.MountPropagationHostToContainer:
		return runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER
	case v1.MountPropagationBidirectional:
		return runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL
	default:
		return runtimeapi.MountPropagation_PROPAGATION_PRIVATE
	}
}

// TerminationMessageFile makes a fresh, empty file for one container
// instance's termination message and returns its path on the node.
func (m *Manager) TerminationMessageFile(uid types.UID, container string, restartCount int32) (string, error) {
	dir := filepath.Join(m.PodDir(uid), containersDir, container)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("termination-log-%d", restartCount))
	// Writable by any user the container runs as.
	if err := os.WriteFile(path, nil, 0o666); err != nil {
		return "", err
	}
	return path, os.Chmod(path, 0o666)
}

// ReadTerminationMessage reads at most the kubelet's limit of a message
// file; a missing file is an empty message.
func ReadTerminationMessage(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, terminationMessageMaxBytes))
	return string(data), err
}

// Cleanup unmounts and removes everything of the pod on the node.
func (m *Manager) Cleanup(uid types.UID) error {
	dir := m.PodDir(uid)
	for _, kind := range []string{emptyDirKind, downwardAPIKind, projectedKind} {
		kindDir := filepath.Join(dir, volumesDir, kind)
		entries, err := os.ReadDir(kindDir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		for _, e := range entries {
			p := filepath.Join(kindDir, e.Name())
			if mounted, err := isMountPoint(p); err == nil && mounted {
				if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
					return fmt.Errorf("unmount %s: %w", p, err)
				}
			}
		}
	}
	if err := cleanupSubPaths(dir); err != nil {
		return fmt.Errorf("clean up the subPaths of pod directory %s: %w", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove pod directory %s: %w", dir, err)
	}
	return nil
}
