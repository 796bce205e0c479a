// Command bench measures minikubelet against the CRI floor (direct calls to
// containerd doing the least a kubelet must) and against podman kube play,
// side by side in one run, and prints a markdown table and writes
// bench/results.json. See issue 6 and `make bench`.
//
//	go run ./bench -minikubelet bin/minikubelet [-scenario start] [-reps N] [-out bench/results.json]
//
// It needs root and the node of hack/node-up.sh (containerd with the pause
// and busybox images). Every scenario runs its own daemon with a node name
// of its own, and removes every pod it made before it stops the daemon.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// scenario is one measurement of issue 6, runnable alone.
type scenario struct {
	name  string
	title string
	// reps is the default number of repetitions.
	reps int
	run  func(ctx context.Context, e *env, res *Result, reps int) error
	// optional scenarios run only when named (-scenario): too long for
	// `make bench`.
	optional bool
}

var scenarios = []scenario{
	{"start", "1. Start latency, one pod", 30, runStart, false},
	{"burst", "2. Start latency, burst of 50", 2, runBurst, false},
	{"restart", "3. Restart reaction (exit 1, restartPolicy Always)", 6, runRestart, false},
	{"liveness", "4. Liveness reaction (exec probe, period 1 s, failureThreshold 1)", 5, runLiveness, false},
	{"termination", "5. Termination (SIGTERM ignored, grace 3 s)", 4, runTermination, false},
	{"edit", "6. Manifest edit (env var changed)", 5, runEdit, false},
	{"footprint", "7. Footprint with 0, 50, 110, 250 probed pods", 1, runFootprint, false},
	{"restart-daemon", "8. Daemon restart with probed pods (SIGKILL, start again)", 3, runRestartDaemon, false},
	{"scale", "9. Scale curve: per-pod cost at 50, 110, 250, 500 probed pods", 1, runScale, true},
}

// env is what every scenario shares.
type env struct {
	bin   string
	rt    *runtime.Client
	runID string
	// reps overrides every scenario's repetition count when > 0.
	reps int
	// window is the footprint's measuring window.
	window time.Duration
	// maxPods caps the footprint's largest stage.
	maxPods int
	// restartPods is the size of the restart-daemon scenario's fleet.
	restartPods int
	// scaleSizes are the scale curve's stages; hold is how long each is
	// held and measured.
	scaleSizes []int
	hold       time.Duration
	// podmanReps caps podman's repetitions in scenario 1: each of its
	// teardowns takes ~3.5 s, and the run must stay under 15 minutes.
	podmanReps int
	// profileDir, when set, receives the daemon's heap and CPU profiles
	// of each footprint and scale stage.
	profileDir string
	// podman is nil when the peer cannot run here; podmanErr says why.
	podman    *podman
	podmanErr error
}

// node is the node name of a scenario's daemon: unique to this run.
func (e *env) node(scenario string) string { return "bench" + e.runID + "-" + scenario }

// floorNode is the node name the floor's pods carry: no daemon runs it.
func (e *env) floorNode(scenario string) string { return e.node(scenario) + "-floor" }

// repsFor returns the repetition count of a scenario.
func (e *env) repsFor(s scenario) int {
	if e.reps > 0 {
		return e.reps
	}
	return s.reps
}

// podmanSamples are the samples of a podman figure: empty, or saying why
// podman cannot be measured here.
func (e *env) podmanSamples() *samples {
	if e.podman != nil {
		return &samples{}
	}
	return missing(fmt.Sprint(e.podmanErr))
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func main() {
	bin := flag.String("minikubelet", "bin/minikubelet", "the minikubelet binary to measure")
	only := flag.String("scenario", "", "run only this scenario: "+scenarioNames())
	reps := flag.Int("reps", 0, "repetitions of every scenario (default: each scenario's own)")
	out := flag.String("out", "bench/results.json", "results file; scenarios not run now keep their previous entries")
	window := flag.Duration("window", 60*time.Second, "footprint: CPU measuring window at each stage")
	maxPods := flag.Int("max-pods", 250, "footprint: the largest stage (stages are 0, 50, 110, 250 up to this)")
	noPodman := flag.Bool("no-podman", false, "do not measure podman")
	podmanReps := flag.Int("podman-reps", 10, "start: podman's repetitions per variant (at most -reps)")
	restartPods := flag.Int("restart-pods", 250, "restart-daemon: the number of probed pods")
	scaleSizes := flag.String("scale-sizes", "50,110,250,500", "scale: the stages (pod counts, rising)")
	hold := flag.Duration("hold", 5*time.Minute, "scale: how long each stage is held and measured")
	profileDir := flag.String("profile", "", "footprint, scale: write the daemon's CPU profile (30 s of each window) and heap profile (at its end) of each stage into this directory")
	probeFloorTargets := flag.String("probe-floor", "", "internal: run as the footprint's probe floor against these host:port targets")
	flag.Parse()
	if *probeFloorTargets != "" {
		if err := runProbeFloor(*probeFloorTargets); err != nil {
			fmt.Fprintln(os.Stderr, "bench probe floor:", err)
			os.Exit(1)
		}
		return
	}

	sizes, err := parseSizes(*scaleSizes)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: -scale-sizes:", err)
		os.Exit(2)
	}
	opts := options{reps: *reps, window: *window, maxPods: *maxPods, podmanReps: *podmanReps, noPodman: *noPodman,
		restartPods: *restartPods, scaleSizes: sizes, hold: *hold, profileDir: *profileDir}
	if err := run(*bin, *only, *out, opts); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func scenarioNames() string {
	var names []string
	for _, s := range scenarios {
		if s.optional {
			names = append(names, s.name+" (only when named)")
		} else {
			names = append(names, s.name)
		}
	}
	return strings.Join(names, ", ")
}

// options are the flags that tune the measurements.
type options struct {
	reps, maxPods, podmanReps, restartPods int
	scaleSizes                             []int
	window, hold                           time.Duration
	noPodman                               bool
	profileDir                             string
}

func run(bin, only, out string, opts options) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("the bench needs root (containerd's socket, /var/log/pods)")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("minikubelet binary: %w (make build)", err)
	}
	var selected []scenario
	for _, s := range scenarios {
		if (only == "" && !s.optional) || s.name == only {
			selected = append(selected, s)
		}
	}
	if len(selected) == 0 {
		return fmt.Errorf("unknown scenario %q: one of %s", only, scenarioNames())
	}

	// ^C ends the measurements; every scenario still removes its pods.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rt, err := runtime.Dial(ctx, runtime.DefaultEndpoint, time.Minute)
	if err != nil {
		return fmt.Errorf("%w (make node-up)", err)
	}
	defer rt.Close()
	if err := checkImages(ctx, rt); err != nil {
		return err
	}

	runID := newRunID()
	// A copy, so that a rebuild of the binary during the run (by make, by
	// someone else) cannot change what is measured halfway.
	copied, err := copyBinary(abs, runID)
	if err != nil {
		return err
	}
	defer os.RemoveAll(filepath.Dir(copied))
	e := &env{bin: copied, rt: rt, runID: runID, reps: opts.reps, window: opts.window, maxPods: opts.maxPods, podmanReps: opts.podmanReps,
		restartPods: opts.restartPods, scaleSizes: opts.scaleSizes, hold: opts.hold, profileDir: opts.profileDir}
	if needsPodman(selected) {
		if opts.noPodman {
			e.podmanErr = fmt.Errorf("not measured (-no-podman)")
		} else {
			progress("preparing podman")
			e.podman, e.podmanErr = newPodman(ctx)
			if e.podmanErr != nil {
				progress("podman: n/a: %v", e.podmanErr)
			}
		}
	}

	meta, err := machine(ctx, abs, e)
	if err != nil {
		return err
	}
	began := time.Now()
	var results []*Result
	for _, s := range selected {
		if ctx.Err() != nil {
			break
		}
		progress("scenario %s (node %s)", s.name, e.node(s.name))
		res := &Result{Scenario: s.name, Title: s.title, Date: time.Now().UTC().Format(time.RFC3339), Commit: meta.Commit}
		t0 := time.Now()
		if err := s.run(ctx, e, res, e.repsFor(s)); err != nil {
			res.Error = err.Error()
			progress("scenario %s: %v", s.name, err)
		}
		res.Seconds = time.Since(t0).Seconds()
		results = append(results, res)
		printResult(os.Stderr, res)
	}
	if e.podman != nil {
		e.podman.cleanup(context.Background())
	}
	meta.Seconds = time.Since(began).Seconds()
	progress("done in %s", time.Since(began).Round(time.Second))
	fmt.Println()
	printTable(os.Stdout, meta, results)
	return writeResults(out, meta, results)
}

func needsPodman(selected []scenario) bool {
	return slices.ContainsFunc(selected, func(s scenario) bool {
		return slices.Contains([]string{"start", "burst", "restart", "termination", "edit"}, s.name)
	})
}

// parseSizes parses "50,110,250": positive and rising.
func parseSizes(list string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive pod count", f)
		}
		if len(sizes) > 0 && n <= sizes[len(sizes)-1] {
			return nil, fmt.Errorf("%d after %d: the sizes must rise", n, sizes[len(sizes)-1])
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

func copyBinary(path, runID string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "minikubelet-bench-"+runID+"-bin-")
	if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, "minikubelet")
	return dst, os.WriteFile(dst, data, 0o755)
}

func newRunID() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}
