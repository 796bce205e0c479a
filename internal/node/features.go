package node

import (
	"context"
	"os"
	"sort"
	"strings"

	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/staticpods"
)

// Where the kernel says whether a security module is on.
const (
	appArmorEnabledFile = "/sys/module/apparmor/parameters/enabled"
	seLinuxEnforceFile  = "/sys/fs/selinux/enforce"
)

// nodeFeatures is what manifests are checked against: the runtime's
// handlers, and each security module only when both the host and the
// runtime apply it.
func nodeFeatures(ctx context.Context, rt *runtime.Client) (staticpods.NodeFeatures, error) {
	f, err := rt.RuntimeFeatures(ctx)
	if err != nil {
		return staticpods.NodeFeatures{}, err
	}
	nf := staticpods.NodeFeatures{
		AppArmor:        f.AppArmor && appArmorEnabled(),
		SELinux:         f.SELinux && fileExists(seLinuxEnforceFile),
		RuntimeHandlers: make(map[string]staticpods.RuntimeHandler, len(f.Handlers)),
	}
	for name, h := range f.Handlers {
		nf.RuntimeHandlers[name] = staticpods.RuntimeHandler{RecursiveReadOnlyMounts: h.RecursiveReadOnlyMounts}
	}
	return nf, nil
}

// appArmorEnabled as the kubelet's apparmor.IsEnabled (via runc): the
// module's "enabled" parameter reads Y.
func appArmorEnabled() bool {
	data, err := os.ReadFile(appArmorEnabledFile)
	return err == nil && strings.HasPrefix(string(data), "Y")
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func handlerNames(f staticpods.NodeFeatures) []string {
	names := make([]string, 0, len(f.RuntimeHandlers))
	for name := range f.RuntimeHandlers {
		if name != "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func recursiveReadOnlyHandlers(f staticpods.NodeFeatures) map[string]bool {
	m := map[string]bool{}
	for name, h := range f.RuntimeHandlers {
		m[name] = h.RecursiveReadOnlyMounts
	}
	return m
}
