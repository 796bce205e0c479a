package volumes

// subPath and subPathExpr, resolved as the kubelet's makeMounts and
// pkg/volume/util/subpath (subpath_linux.go) do: a subPath is never handed
// to the runtime as a path it would resolve itself, since a container can
// make any component of it a symlink to anywhere on the host. Each
// component is opened without following symlinks out of the volume, and
// the opened file, not the path, is bind-mounted under the pod's
// volume-subpaths directory; that mount is what the runtime gets.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minikubelet/minikubelet/internal/expansion"
)

// volumeSubpathsDir holds the bind mounts of a pod's subPaths:
// <pod dir>/volume-subpaths/<volume>/<container>/<mount index>, as the
// kubelet lays them out.
const volumeSubpathsDir = "volume-subpaths"

// expandSubPathExpr expands $(VAR) references from the container's
// environment; a variable that is unset or empty is an error, as the
// kubelet's ExpandContainerVolumeMounts.
func expandSubPathExpr(expr string, env map[string]string) (string, error) {
	missing := map[string]bool{}
	out := expansion.Expand(expr, func(name string) (string, bool) {
		v, ok := env[name]
		if !ok || v == "" {
			missing[name] = true
		}
		return v, ok
	})
	if len(missing) > 0 {
		names := make([]string, 0, len(missing))
		for n := range missing {
			names = append(names, n)
		}
		sort.Strings(names)
		return "", fmt.Errorf("missing value for %s", strings.Join(names, ", "))
	}
	return out, nil
}

// checkSubPath refuses what the kubelet refuses of an expanded subPath.
func checkSubPath(sub string) error {
	if filepath.IsAbs(sub) {
		return fmt.Errorf("error SubPath `%s` must not be an absolute path", sub)
	}
	for _, part := range strings.Split(filepath.ToSlash(sub), "/") {
		if part == ".." {
			return fmt.Errorf("unable to provision SubPath `%s`: must not contain '..'", sub)
		}
	}
	return nil
}

// subPathSource makes the subPath ready to mount and returns the host path
// to give the runtime: a bind mount of the subPath as it was opened inside
// the volume. A missing subPath is made a directory with the volume's own
// mode (the kubelet's SafeMakeDir), so that users the pod runs as can use
// it as they can the volume.
func (m *Manager) subPathSource(uid types.UID, volName, container string, index int, volPath, sub string) (string, error) {
	base, err := filepath.EvalSymlinks(volPath)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(base, sub)); errors.Is(err, fs.ErrNotExist) {
		st, err := os.Stat(base)
		if err != nil {
			return "", err
		}
		fd, err := openInVolume(base, sub, st.Mode().Perm(), true)
		if err != nil {
			return "", fmt.Errorf("create subPath directory: %w", err)
		}
		unix.Close(fd)
	}
	// As the kubelet: symlinks that stay inside the volume are followed,
	// then the resolved path is opened component by component, so a
	// symlink swapped in meanwhile is refused, never followed.
	resolved, err := filepath.EvalSymlinks(filepath.Join(base, sub))
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(base, resolved)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("subpath %q not within volume path %q", resolved, base)
	}
	fd, err := openInVolume(base, rel, 0, false)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", err
	}
	target := filepath.Join(m.PodDir(uid), volumeSubpathsDir, volName, container, strconv.Itoa(index))
	if err := unmountAll(target); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
		return "", err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		err = os.Mkdir(target, 0o750)
	} else {
		var f *os.File
		if f, err = os.OpenFile(target, os.O_CREATE|os.O_RDONLY, 0o640); err == nil {
			f.Close()
		}
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	if err := unix.Mount(fmt.Sprintf("/proc/self/fd/%d", fd), target, "", unix.MS_BIND, ""); err != nil {
		return "", fmt.Errorf("bind-mount the subPath at %s: %w", target, err)
	}
	return target, nil
}

// openInVolume opens base/rel one component at a time with O_NOFOLLOW, so
// that no symlink is followed; with create, missing directories are made
// with perm (and chmodded to it, past the umask).
func openInVolume(base, rel string, perm fs.FileMode, create bool) (int, error) {
	fd, err := unix.Open(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open volume %s: %w", base, err)
	}
	if rel == "." {
		return fd, nil
	}
	parts := strings.Split(rel, "/")
	for i, part := range parts {
		if part == "" || part == "." {
			continue
		}
		last := i == len(parts)-1
		child, err := unix.Openat(fd, part, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) && create {
			if err = unix.Mkdirat(fd, part, uint32(perm)); err == nil || errors.Is(err, unix.EEXIST) {
				child, err = unix.Openat(fd, part, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
				if err == nil {
					err = unix.Fchmod(child, uint32(perm))
				}
			}
		}
		unix.Close(fd)
		if err != nil {
			if child > 0 {
				unix.Close(child)
			}
			return -1, fmt.Errorf("open %s inside the volume: %w", strings.Join(parts[:i+1], "/"), err)
		}
		fd = child
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return -1, err
		}
		switch typ := st.Mode & unix.S_IFMT; {
		case typ == unix.S_IFLNK:
			unix.Close(fd)
			return -1, fmt.Errorf("%s inside the volume is a symlink", strings.Join(parts[:i+1], "/"))
		case !last && typ != unix.S_IFDIR:
			unix.Close(fd)
			return -1, fmt.Errorf("%s inside the volume is not a directory", strings.Join(parts[:i+1], "/"))
		}
	}
	return fd, nil
}

// unmountAll unmounts whatever is mounted at path, however many times.
func unmountAll(path string) error {
	for {
		err := unix.Unmount(path, unix.MNT_DETACH)
		switch {
		case err == nil:
			continue
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil
		default:
			return fmt.Errorf("unmount %s: %w", path, err)
		}
	}
}

// cleanupSubPaths unmounts and removes every subPath bind mount of the pod.
// A mount that stays is an error, before anything below it is removed: a
// recursive removal would otherwise delete the volume's content through it.
func cleanupSubPaths(podDir string) error {
	root := filepath.Join(podDir, volumeSubpathsDir)
	mounts, err := filepath.Glob(filepath.Join(root, "*", "*", "*"))
	if err != nil {
		return err
	}
	for _, p := range mounts {
		if err := unmountAll(p); err != nil {
			return err
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove subPath mount point: %w", err)
		}
	}
	return nil
}

// mountSubPath is the host path a volumeMount with a subPath or
// subPathExpr mounts, with the kubelet's messages.
func (m *Manager) mountSubPath(pod *v1.Pod, c *v1.Container, index int, vm *v1.VolumeMount, volPath string, env map[string]string) (string, error) {
	sub := vm.SubPath
	if vm.SubPathExpr != "" {
		var err error
		if sub, err = expandSubPathExpr(vm.SubPathExpr, env); err != nil {
			return "", err
		}
	}
	if sub == "" {
		return volPath, nil
	}
	if err := checkSubPath(sub); err != nil {
		return "", err
	}
	path, err := m.subPathSource(pod.UID, vm.Name, c.Name, index, volPath, filepath.Clean(sub))
	if err != nil {
		// The kubelet's message, with the reason: on a single node the
		// reader is the node's administrator.
		return "", fmt.Errorf("failed to prepare subPath for volumeMount %q of container %q: %w", vm.Name, c.Name, err)
	}
	return path, nil
}
