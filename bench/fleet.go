package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
)

// A fleet is many probed pods run by one daemon: the footprint and the
// daemon-restart scenarios use one.

const (
	fleetPrefix = "fleet-"
	fleetPoll   = 500 * time.Millisecond
	// fleetReadyWait is how long the fleet may take to turn Ready once
	// Running: its readiness probes run every second.
	fleetReadyWait = 15 * time.Second
)

// fleetTimeout bounds the start of n pods: generous, since how long it
// takes on this machine is what is measured.
func fleetTimeout(n int) time.Duration { return time.Minute + time.Duration(n)*time.Second }

// growFleet writes the manifests of fleet pods from..to-1 at once and
// waits until to pods are Running; it returns how long that took.
func growFleet(ctx context.Context, d *daemon, from, to int) (time.Duration, error) {
	t0 := time.Now()
	for i := from; i < to; i++ {
		if _, err := d.writeManifest(probedPod(fmt.Sprintf("%s%03d", fleetPrefix, i))); err != nil {
			return 0, err
		}
	}
	var st fleetState
	err := poll(ctx, fleetTimeout(to-from), fleetPoll, func() (bool, error) {
		st = fleetStatus(ctx, d)
		return st.running >= to, nil
	})
	if err != nil {
		return 0, fmt.Errorf("%d of %d pods Running after %s (%s): %w", st.running, to, time.Since(t0).Round(time.Second), st.waiting, err)
	}
	return time.Since(t0), nil
}

// fleetState counts the fleet's pods by state.
type fleetState struct {
	listed, running, ready int
	// waiting is a sample of why pods are not running.
	waiting string
}

func fleetStatus(ctx context.Context, d *daemon) fleetState {
	var st fleetState
	pods, err := d.pods(ctx)
	if err != nil {
		st.waiting = err.Error()
		return st
	}
	reasons := map[string]int{}
	for i := range pods {
		p := &pods[i]
		if !strings.HasPrefix(p.Name, fleetPrefix) {
			continue
		}
		st.listed++
		if running(p) {
			st.running++
		} else {
			reasons[describeWaiting(p)]++
		}
		if ready(p) {
			st.ready++
		}
	}
	for r, n := range reasons {
		st.waiting += fmt.Sprintf("%d %s; ", n, r)
	}
	return st
}

func describeWaiting(p *v1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Waiting != nil {
			return cs.State.Waiting.Reason
		}
		if cs.State.Terminated != nil {
			return "terminated:" + cs.State.Terminated.Reason
		}
	}
	return string(p.Status.Phase)
}

// waitFleetReady waits up to fleetReadyWait for n pods to be Ready and
// returns how many were.
func waitFleetReady(ctx context.Context, d *daemon, n int) int {
	var st fleetState
	poll(ctx, fleetReadyWait, fleetPoll, func() (bool, error) {
		st = fleetStatus(ctx, d)
		return st.ready >= n, nil
	})
	return st.ready
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
