//go:build e2esystemd

package systemd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

const (
	containerdEndpoint = "unix:///run/containerd/containerd.sock"
	busyboxImage       = "docker.io/library/busybox:1.35"
	debInMachine       = "/root/minikubelet.deb"
)

var (
	// vm is the machine every test uses, in turn; the poweroff test, last,
	// shuts it down.
	vm *machine
	// work is bound into the machine at the same path: each node's
	// manifests, root and log directories, and hostPath volumes.
	work string
	cri  *runtime.Client
	// journalDir is the machine's persistent journal, seen from the host.
	journalDir string
)

// TestMain boots the machine and installs the package: the prerequisites
// are hack/e2e-systemd.sh's (NSPAWN_TREE, MINIKUBELET_DEB, root, the
// host's containerd with the busybox image). Without them the tests are
// skipped, or fail with CI set.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tree, deb := os.Getenv("NSPAWN_TREE"), os.Getenv("MINIKUBELET_DEB")
	if tree == "" || deb == "" || os.Getuid() != 0 {
		msg := "test/systemd needs root, NSPAWN_TREE and MINIKUBELET_DEB (run make e2e-systemd)"
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "FAIL:", msg)
			return 1
		}
		fmt.Fprintln(os.Stderr, "skipping:", msg)
		return 0
	}
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if cri, err = runtime.Dial(ctx, containerdEndpoint, 30*time.Second); err != nil {
		return fail(fmt.Errorf("the host's containerd: %w", err))
	}
	defer cri.Close()
	if work, err = os.MkdirTemp("/var/lib", "minikubelet-e2e-systemd-"); err != nil {
		return fail(err)
	}
	defer os.RemoveAll(work)
	name := filepath.Base(work)
	// The machine's journal is kept in work, to be read after a poweroff.
	journalDir = filepath.Join(work, "journal")
	if err := os.Mkdir(journalDir, 0o755); err != nil {
		return fail(err)
	}
	vm, err = bootMachine(tree, "mk-"+name[len(name)-6:], []string{"/run/containerd", work, journalDir + ":/var/log/journal"}, map[string]string{deb: debInMachine})
	if err != nil {
		return fail(err)
	}
	defer vm.terminate()
	fmt.Printf("machine booted in %.1fs\n", vm.booted.Seconds())
	if err := vm.remountCgroupsWritable(); err != nil {
		return fail(err)
	}
	start := time.Now()
	if _, err := vm.run("apt-get", "install", "-y", "-q", "--no-install-recommends", debInMachine); err != nil {
		return fail(fmt.Errorf("install the package: %w", err))
	}
	fmt.Printf("package installed in %.1fs\n", time.Since(start).Seconds())
	return m.Run()
}
