package volumes

import (
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/types"
)

// etcHostsFile is the name of a pod's hosts file in its directory, as the
// kubelet's getEtcHostsPath.
const etcHostsFile = "etc-hosts"

// HostsFile writes content as the pod's /etc/hosts and returns its path on
// the node. As the kubelet's ensureHostsFile, the file is written in place
// with mode 0644: containers already running have it bind-mounted, and a
// file renamed over it would not reach them. It goes with the pod's
// directory in Cleanup.
func (m *Manager) HostsFile(uid types.UID, content []byte) (string, error) {
	dir := m.PodDir(uid)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	path := filepath.Join(dir, etcHostsFile)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		return "", err
	}
	return path, os.Chmod(path, 0o644)
}
