package chaos

import (
	"context"
	"fmt"
	"github.com/minikubelet/minikubelet/test/testnode"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	// cri talks to the node's containerd, to check what the daemons made.
	cri *runtime.Client
	// long says the suite runs at the sizes of the README's table.
	long bool
)

// size picks the short or the long form of a figure.
func size[T any](short, longForm T) T {
	if long {
		return longForm
	}
	return short
}

// override is the figure MINIKUBELET_CHAOS_<what> names instead of def,
// for small development runs on a shared machine.
func override(what string, def int) int {
	if v, err := strconv.Atoi(os.Getenv("MINIKUBELET_CHAOS_" + what)); err == nil && v > 0 {
		return v
	}
	return def
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	switch mode := os.Getenv("MINIKUBELET_CHAOS"); mode {
	case "short":
	case "long":
		long = true
	case "":
		fmt.Fprintln(os.Stderr, "chaos: skipped: set MINIKUBELET_CHAOS=short or long (make chaos-short, make chaos)")
		return 0
	default:
		fmt.Fprintf(os.Stderr, "chaos: MINIKUBELET_CHAOS=%q, want short or long\n", mode)
		return 2
	}
	// Asked for by name, a missing prerequisite is a failure, never a skip.
	fail := func(format string, args ...any) int {
		fmt.Fprintln(os.Stderr, "chaos: FAIL: prerequisite missing:", fmt.Sprintf(format, args...))
		return 1
	}
	if os.Geteuid() != 0 {
		return fail("the chaos tests need root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	cri, err = runtime.Dial(ctx, criEndpoint, time.Minute)
	if err != nil {
		return fail("%v", err)
	}
	defer cri.Close()
	binary = os.Getenv("MINIKUBELET_BIN")
	if binary == "" {
		dir, err := os.MkdirTemp("", "minikubelet-chaos-bin")
		if err != nil {
			return fail("temp dir: %v", err)
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "minikubelet")
		build := exec.Command("go", "build", "-o", binary, "../../cmd/minikubelet")
		if out, err := build.CombinedOutput(); err != nil {
			return fail("build minikubelet: %v\n%s", err, out)
		}
	}
	if _, err := os.Stat(binary); err != nil {
		return fail("minikubelet binary: %v", err)
	}
	if err := testnode.EnsureBusybox(ctx, cri, criEndpoint); err != nil {
		return fail("%v", err)
	}
	return m.Run()
}
