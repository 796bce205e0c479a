package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Scenario 7: the daemon's resident memory and CPU, from /proc, over a
// window (60 s) with 0, 50, 110 and 250 pods, each with an httpGet
// liveness and a tcpSocket readiness probe every second; containerd's and
// the pods' shims' beside it. The pods are added to the same daemon stage
// after stage, and the time to start each batch is reported too. Beside
// the daemon's CPU, the probe floor's (probefloor.go: the same probes
// made by a bare program through the same window), and the relist floor.

var footprintStages = []int{0, 50, 110, 250}

// footprintSettle lets the start of a batch calm down before measuring.
const footprintSettle = 3 * time.Second

func runFootprint(ctx context.Context, e *env, res *Result, _ int) error {
	containerd, err := containerdPID()
	if err != nil {
		return err
	}
	return e.withDaemon(ctx, "footprint", res, func(d *daemon) error {
		have := 0
		for _, n := range footprintStages {
			if n > e.maxPods || ctx.Err() != nil {
				break
			}
			label := fmt.Sprintf("%d pods", n)
			if n > have {
				progress("footprint: starting pods %d to %d", have+1, n)
				took, err := growFleet(ctx, d, have, n)
				if err != nil {
					res.note("%s: %v", label, err)
					res.add(figure(fmt.Sprintf("%s: time to start pods %d-%d", label, have+1, n), "s", "", map[string]*samples{implMinikubelet: missing(err.Error())}))
					footprintWindow(ctx, e, d, containerd, label, n, e.window, res)
					res.note("stopped at %s: the pods did not all start", label)
					return nil
				}
				res.add(figure(fmt.Sprintf("%s: time to start pods %d-%d", label, have+1, n), "s", "", map[string]*samples{implMinikubelet: single(took.Seconds())}))
				have = n
			}
			st, err := footprintWindow(ctx, e, d, containerd, label, n, e.window, res)
			if err != nil {
				return err
			}
			if n == lastStage(e.maxPods) {
				if err := containerdWithoutDaemon(ctx, d, containerd, label, e.window/2, st, res); err != nil {
					return err
				}
			}
		}
		return ctx.Err()
	})
}

// lastStage is the largest footprint stage of at most maxPods pods.
func lastStage(maxPods int) int {
	last := 0
	for _, n := range footprintStages {
		if n <= maxPods {
			last = n
		}
	}
	return last
}

// containerdWithoutDaemon measures containerd's CPU over window with the
// daemon stopped (SIGSTOP) and its pods left running: what containerd
// spends on the pods by itself. The rest of its CPU in the stage's window
// is what the daemon's calls cost it.
func containerdWithoutDaemon(ctx context.Context, d *daemon, containerd int, label string, window time.Duration, st stage, res *Result) error {
	if err := syscall.Kill(d.pid(), syscall.SIGSTOP); err != nil {
		return fmt.Errorf("stop the daemon: %w", err)
	}
	defer syscall.Kill(d.pid(), syscall.SIGCONT) //nolint:errcheck // a daemon gone shows in the next stage
	progress("%s: %s with the daemon stopped: measuring containerd for %s", res.Scenario, label, window)
	// Calls in flight when it stopped end within moments.
	if err := sleepCtx(ctx, time.Second); err != nil {
		return err
	}
	cpu := sampleCPU(containerd)
	if err := sleepCtx(ctx, window); err != nil {
		return err
	}
	alone := cpu.percent()
	add := func(what, target string, v float64) {
		res.add(figure(label+": "+what, "% of a core", target, map[string]*samples{implMinikubelet: single(v)}))
	}
	add("containerd CPU with the daemon stopped (SIGSTOP), pods running", "", alone)
	add("containerd CPU caused by the daemon (the stage's less the stopped daemon's)", "<= 2", max(st.containerdCPU-alone, 0))
	return nil
}

// stage is what footprintWindow measured of one stage.
type stage struct {
	pods, ready, shims int
	// daemonCPU, floorCPU (-1: none), containerdCPU, shimsCPU are % of a
	// core over the window.
	daemonCPU, floorCPU, containerdCPU, shimsCPU float64
	// daemonRSS, containerdRSS, shimsPSS, memInUse are MB at the end.
	daemonRSS, containerdRSS, shimsPSS, memInUse float64
}

// footprintWindow measures one stage of n pods over window and adds its
// figures to res.
func footprintWindow(ctx context.Context, e *env, d *daemon, containerd int, label string, n int, window time.Duration, res *Result) (stage, error) {
	st := stage{pods: n, floorCPU: -1}
	readyPods := 0
	if n > 0 {
		readyPods = waitFleetReady(ctx, d, n)
	}
	if err := sleepCtx(ctx, footprintSettle); err != nil {
		return st, err
	}
	sandboxIDs := map[string]bool{}
	if sbs, err := sandboxesOf(ctx, e.rt, d.node, ""); err == nil {
		for _, sb := range sbs {
			sandboxIDs[sb.Id] = true
		}
	}
	shims := shimPIDs(sandboxIDs)
	var relist *samples
	if n > 0 {
		relist = relistFloor(ctx, e.rt, d.node)
	}
	// The probe floor runs through the same window, probing the same pods.
	var floor *probeFloor
	var floorCPU *cpuSampler
	if n > 0 {
		f, targets, err := startProbeFloor(ctx, d)
		if err != nil {
			res.note("%s: no probe floor: %v", label, err)
		} else {
			floor = f
			defer floor.stop()
			floorCPU = sampleCPU(floor.pid())
			if targets != n {
				res.note("%s: the probe floor probes %d pods (the others have no address yet)", label, targets)
			}
		}
	}
	progress("%s: %s (%d Ready, %d shims): measuring for %s", res.Scenario, label, readyPods, len(shims), window)
	daemonCPU, containerdCPU, shimsCPU := sampleCPU(d.pid()), sampleCPU(containerd), sampleCPU(shims...)
	profiled := profileWindow(ctx, e, d, res, fmt.Sprintf("%s-%dpods", res.Scenario, n), window)
	var daemonRSSMax float64
	end := time.Now().Add(window)
	for time.Now().Before(end) {
		if v, err := rssMB(d.pid()); err == nil {
			daemonRSSMax = max(daemonRSSMax, v)
		}
		if err := sleepCtx(ctx, min(5*time.Second, time.Until(end))); err != nil {
			return st, err
		}
	}
	daemonRSS, err := rssMB(d.pid())
	if err != nil {
		return st, fmt.Errorf("daemon RSS: %w (has it exited? %s)", err, d.logTail(5))
	}
	daemonAnon, _ := statusMB(d.pid(), "RssAnon")
	daemonFile, _ := statusMB(d.pid(), "RssFile")
	containerdRSS, _ := rssMB(containerd)
	profiled()
	st.ready, st.shims = readyPods, len(shims)
	st.daemonCPU, st.containerdCPU, st.shimsCPU = daemonCPU.percent(), containerdCPU.percent(), shimsCPU.percent()
	if floorCPU != nil {
		st.floorCPU = floorCPU.percent()
	}
	st.daemonRSS, st.containerdRSS = daemonRSS, containerdRSS
	st.memInUse = memInUseMB()
	if n > 0 {
		st.shimsPSS = totalPSS(shims)
	}
	add := func(what, unit, target string, v float64) {
		res.add(figure(label+": "+what, unit, target, map[string]*samples{implMinikubelet: single(v)}))
	}
	target := func(t string) string {
		if n == 250 {
			return t
		}
		return ""
	}
	add("daemon RSS at the end", "MB", target("<= 60"), daemonRSS)
	add("daemon RSS max", "MB", "", max(daemonRSSMax, daemonRSS))
	add("daemon RSS at the end: anonymous (heap, stacks)", "MB", "", daemonAnon)
	add("daemon RSS at the end: file-backed (the binary's pages)", "MB", "", daemonFile)
	cpu := map[string]*samples{implMinikubelet: single(st.daemonCPU)}
	if floorCPU != nil {
		cpu[implFloor] = single(st.floorCPU)
	}
	res.add(figure(label+": daemon CPU (floor: the probes alone)", "% of a core", target("< 10, <= 1.5 x floor"), cpu))
	add("containerd CPU", "% of a core", "", st.containerdCPU)
	add("containerd RSS", "MB", "", containerdRSS)
	if n > 0 {
		add(fmt.Sprintf("shims CPU (%d)", len(shims)), "% of a core", "", st.shimsCPU)
		add("shims PSS, total", "MB", "", st.shimsPSS)
		add("pods Ready", "count", "", float64(readyPods))
	}
	add("node memory in use", "MB", "", st.memInUse)
	if relist != nil {
		res.add(figure(label+": relist floor (ListPodSandbox + ListContainers, alone)", "ms", "", map[string]*samples{implFloor: relist}))
	}
	if n > 0 && readyPods == 0 {
		res.note("%s: no pod turned Ready within %s: the readiness probes are not run by this build, so the CPU figures hold no probe work", label, fleetReadyWait)
	}
	return st, nil
}

// profileWindow takes the daemon's CPU profile over the first 30 s of a
// window when -profile is set; the function it returns waits for it and
// takes the heap profile. Profiling costs the daemon a little CPU: the
// figures of a profiled run are not the bench's.
func profileWindow(ctx context.Context, e *env, d *daemon, res *Result, name string, window time.Duration) func() {
	if e.profileDir == "" {
		return func() {}
	}
	if err := os.MkdirAll(e.profileDir, 0o755); err != nil {
		res.note("profile: %v", err)
		return func() {}
	}
	seconds := int(min(window, 30*time.Second) / time.Second)
	cpuDone := make(chan error, 1)
	go func() {
		cpuDone <- d.saveProfile(ctx, "profile", fmt.Sprintf("seconds=%d", max(seconds, 1)), filepath.Join(e.profileDir, name+"-cpu.pb.gz"))
	}()
	return func() {
		if err := <-cpuDone; err != nil {
			res.note("%s: %v", name, err)
		}
		if err := d.saveProfile(ctx, "heap", "gc=1", filepath.Join(e.profileDir, name+"-heap.pb.gz")); err != nil {
			res.note("%s: %v", name, err)
		}
		progress("%s: profiles in %s", name, e.profileDir)
	}
}

// memInUseMB is MemTotal - MemAvailable of the node.
func memInUseMB() float64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var total, avail float64
	for _, line := range strings.Split(string(data), "\n") {
		var kb float64
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			fmt.Sscan(rest, &kb)
			total = kb
		}
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			fmt.Sscan(rest, &kb)
			avail = kb
		}
	}
	return (total - avail) / 1024
}
