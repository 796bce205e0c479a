package e2e

import (
	"context"
	"fmt"
	"github.com/minikubelet/minikubelet/test/testnode"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

const (
	criEndpoint  = runtime.DefaultEndpoint
	busyboxImage = testnode.BusyboxImage
)

var (
	// binary is the minikubelet under test.
	binary string
	// cri talks to the node's containerd, to check what the daemon made.
	cri *runtime.Client
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ci := os.Getenv("CI") != ""
	unavailable := func(format string, args ...any) int {
		msg := fmt.Sprintf(format, args...)
		if ci {
			fmt.Fprintln(os.Stderr, "e2e: FAIL: prerequisite missing in CI:", msg)
			return 1
		}
		fmt.Fprintln(os.Stderr, "e2e: skipping all end-to-end tests:", msg, "(run `make e2e`)")
		return 0
	}
	if os.Geteuid() != 0 {
		return unavailable("the end-to-end tests need root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	cri, err = runtime.Dial(ctx, criEndpoint, time.Minute)
	if err != nil {
		return unavailable("%v", err)
	}
	defer cri.Close()
	binary = os.Getenv("MINIKUBELET_BIN")
	if binary == "" {
		dir, err := os.MkdirTemp("", "minikubelet-e2e-bin")
		if err != nil {
			return unavailable("temp dir: %v", err)
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "minikubelet")
		build := exec.Command("go", "build", "-o", binary, "../../cmd/minikubelet")
		if out, err := build.CombinedOutput(); err != nil {
			return unavailable("build minikubelet: %v\n%s", err, out)
		}
	}
	if _, err := os.Stat(binary); err != nil {
		return unavailable("minikubelet binary: %v", err)
	}
	if err := testnode.EnsureBusybox(ctx, cri, criEndpoint); err != nil {
		return unavailable("%v", err)
	}
	return m.Run()
}
