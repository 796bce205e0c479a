package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// Scenario 4: an exec liveness probe (period 1 s, failureThreshold 1) on
// a container that removes the probed file 3 s after it starts and prints
// "unhealthy" at once: containerd's timestamp of that log line is when the
// probe starts failing. Measured: from then to the old container's exit and
// to the new container's startedAt. The probe period is part of the figure
// (the failure is seen up to a period later), as a user sees it.

const livenessTimeout = 15 * time.Second

func runLiveness(ctx context.Context, e *env, res *Result, reps int) error {
	defer e.cleanupFloor("liveness", res)
	return e.withDaemon(ctx, "liveness", res, func(d *daemon) error {
		killed := map[string]*samples{implMinikubelet: {}}
		restarted := map[string]*samples{implMinikubelet: {}, implFloor: {}}
		progress("liveness: %d repetitions", reps)
		for i := 0; i < reps && ctx.Err() == nil; i++ {
			name := fmt.Sprintf("liveness-%d", i)
			if !livenessMinikubelet(ctx, e, d, name, killed[implMinikubelet], restarted[implMinikubelet]) {
				break // the daemon does not act on liveness: the next ones would not either
			}
			livenessFloor(ctx, e, name, restarted[implFloor])
		}
		res.add(figure("probe starts failing → old container exited", "s", "", killed))
		fig := figure("probe starts failing → new container started", "s", "< 1.1", restarted)
		// The floor has no probe period to wait: a ratio would mislead.
		fig.RatioP50 = 0
		res.add(fig)
		res.note("floor: StopContainer (the process exits on SIGTERM) + RemoveContainer + CreateContainer + StartContainer, without the probe's wait (up to a period), hence no ratio; podman not measured (issue 6 asks it for scenarios 1, 2, 3, 5, 6)")
		return ctx.Err()
	})
}

// livenessMinikubelet measures one repetition; false when the daemon did
// not restart the container at all.
func livenessMinikubelet(ctx context.Context, e *env, d *daemon, name string, killed, restarted *samples) bool {
	if _, err := d.writeManifest(unhealthyPod(name)); err != nil {
		restarted.fail(err.Error())
		return false
	}
	defer func() {
		settle(ctx)
		d.removeManifest(name)
		waitSandboxesGone(ctx, e.rt, d.node, d.podName(name), goneTimeout, 100*time.Millisecond)
	}()
	var first, second string
	var unhealthy, exited, started time.Time
	err := poll(ctx, livenessTimeout, 20*time.Millisecond, func() (bool, error) {
		cs, err := containersOf(ctx, e.rt, d.node, d.podName(name))
		if err != nil {
			return false, err
		}
		for _, c := range cs {
			switch attempt(c.Annotations, c.Metadata.Attempt) {
			case 0:
				first = c.Id
			case 1:
				second = c.Id
			}
		}
		if first != "" && unhealthy.IsZero() {
			unhealthy, _ = logLineTime(ctx, e, first, "unhealthy")
		}
		if first != "" && exited.IsZero() {
			exited, _ = finishedAt(ctx, e.rt, first)
		}
		if second != "" {
			started, _ = startedAt(ctx, e.rt, second)
		}
		return !started.IsZero(), nil
	})
	if err != nil {
		reason := fmt.Sprintf("no restart within %s of the manifest (probe failing since %v, old container exited %v): liveness probes not acted upon by this build?",
			livenessTimeout, !unhealthy.IsZero(), !exited.IsZero())
		killed.fail(reason)
		restarted.fail(reason)
		return false
	}
	if unhealthy.IsZero() {
		restarted.fail("the \"unhealthy\" line was not found in the container's log")
		return true
	}
	if !exited.IsZero() {
		killed.addDuration(exited.Sub(unhealthy))
	}
	restarted.addDuration(started.Sub(unhealthy))
	return true
}

// logLineTime returns containerd's timestamp of the first line of the
// container's CRI log that holds text.
func logLineTime(ctx context.Context, e *env, containerID, text string) (time.Time, error) {
	st, err := e.rt.ContainerStatus(ctx, containerID, false)
	if err != nil {
		return time.Time{}, err
	}
	f, err := os.Open(st.Status.LogPath)
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// <RFC3339Nano> <stream> <tag> <content>
		fields := strings.SplitN(sc.Text(), " ", 4)
		if len(fields) == 4 && strings.Contains(fields[3], text) {
			return time.Parse(time.RFC3339Nano, fields[0])
		}
	}
	return time.Time{}, fmt.Errorf("%q not in %s", text, st.Status.LogPath)
}

func livenessFloor(ctx context.Context, e *env, name string, s *samples) {
	fp, _, err := floorStart(ctx, e.rt, basePod(name, false, sleepForever), e.floorNode("liveness"))
	if fp != nil {
		defer fp.teardown(ctx, e.rt, 30)
	}
	if err != nil {
		s.fail(err.Error())
		return
	}
	settle(ctx)
	t0, err := fp.restartContainer(ctx, e.rt, 30)
	if err != nil {
		s.fail(err.Error())
		return
	}
	started, err := startedAt(ctx, e.rt, fp.containerID)
	if err != nil {
		s.fail(err.Error())
		return
	}
	s.addDuration(started.Sub(t0))
	settle(ctx)
}
