package main

import (
	"context"
	"fmt"
	"time"
)

// Scenario 9 (only when named: -scenario scale): the scale curve. One
// daemon; the fleet grows stage by stage (-scale-sizes, 50, 110, 250, 500
// by default), each pod with an httpGet liveness and a tcpSocket readiness
// probe every second, as the footprint's; each stage is held for -hold (5
// minutes by default) and measured over it, with the probe floor of the
// same size beside the daemon. Every figure is per pod, so that a flat
// curve is a cost that grows linearly: the daemon's CPU (millicores per
// pod, against the floor's), its resident memory above the empty daemon's,
// containerd's CPU and the shims' memory. A stage whose pods do not all
// start ends the curve and says where it stopped.

// scaleBaseWindow is the empty daemon's window: its RSS is the base the
// per-pod memory is counted from.
const scaleBaseWindow = 10 * time.Second

func runScale(ctx context.Context, e *env, res *Result, _ int) error {
	containerd, err := containerdPID()
	if err != nil {
		return err
	}
	return e.withDaemon(ctx, "scale", res, func(d *daemon) error {
		base, err := footprintWindow(ctx, e, d, containerd, "0 pods", 0, scaleBaseWindow, res)
		if err != nil {
			return err
		}
		have := 0
		for _, n := range e.scaleSizes {
			if ctx.Err() != nil {
				break
			}
			label := fmt.Sprintf("%d pods", n)
			progress("scale: starting pods %d to %d", have+1, n)
			took, err := growFleet(ctx, d, have, n)
			if err != nil {
				res.note("%s: %v", label, err)
				res.note("stopped at %s: the pods did not all start (%s)", label, d.logTail(3))
				return nil
			}
			perPod := took.Seconds() / float64(n-have)
			res.add(figure(fmt.Sprintf("%s: time to start pods %d-%d, per pod", label, have+1, n), "s", "", map[string]*samples{implMinikubelet: single(perPod)}))
			have = n
			// The hold is the measuring window, less the settling before it.
			window := max(e.hold-footprintSettle, time.Second)
			st, err := footprintWindow(ctx, e, d, containerd, label, n, window, res)
			if err != nil {
				return err
			}
			addScaleFigures(res, label, base, st)
		}
		return ctx.Err()
	})
}

// addScaleFigures adds one stage's per-pod figures.
func addScaleFigures(res *Result, label string, base, st stage) {
	n := float64(st.pods)
	// % of a core is 10 millicores.
	cpu := map[string]*samples{implMinikubelet: single(st.daemonCPU * 10 / n)}
	if st.floorCPU >= 0 {
		cpu[implFloor] = single(st.floorCPU * 10 / n)
	}
	res.add(figure(label+": daemon CPU per pod (floor: the probes alone)", "millicores", "flat", cpu))
	one := func(what, unit string, v float64) {
		res.add(figure(label+": "+what, unit, "", map[string]*samples{implMinikubelet: single(v)}))
	}
	one("daemon RSS per pod, above the empty daemon's", "KB", (st.daemonRSS-base.daemonRSS)*1024/n)
	one("containerd CPU per pod", "millicores", st.containerdCPU*10/n)
	one("containerd RSS per pod, above the 0-pod stage's", "KB", (st.containerdRSS-base.containerdRSS)*1024/n)
	if st.shims > 0 {
		one("shim PSS per pod", "MB", st.shimsPSS/float64(st.shims))
		one("shims CPU per pod", "millicores", st.shimsCPU*10/float64(st.shims))
	}
	// The whole machine: two cores are 2000 millicores.
	one("daemon + containerd + shims CPU, total", "% of a core", st.daemonCPU+st.containerdCPU+st.shimsCPU)
}
