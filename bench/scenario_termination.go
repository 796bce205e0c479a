package main

import (
	"context"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
)

// Scenario 5: a container that ignores SIGTERM, terminationGracePeriodSeconds
// 3; from its manifest removed to the container's finishedAt (3 s
// expected) and to its sandbox gone.

const terminationGrace = 3

type terminationSamples struct {
	exited, gone map[string]*samples
}

func runTermination(ctx context.Context, e *env, res *Result, reps int) error {
	defer e.cleanupFloor("termination", res)
	return e.withDaemon(ctx, "termination", res, func(d *daemon) error {
		s := terminationSamples{
			exited: map[string]*samples{implMinikubelet: {}, implFloor: {}, implPodman: e.podmanSamples()},
			gone:   map[string]*samples{implMinikubelet: {}, implFloor: {}, implPodman: e.podmanSamples()},
		}
		var podmanExit []int
		progress("termination: %d repetitions", reps)
		for i := 0; i < reps && ctx.Err() == nil; i++ {
			name := fmt.Sprintf("term-%d", i)
			for _, impl := range order(i, implMinikubelet, implFloor, implPodman) {
				switch impl {
				case implMinikubelet:
					terminationMinikubelet(ctx, e, d, name, s)
				case implFloor:
					terminationFloor(ctx, e, name, s)
				case implPodman:
					if e.podman != nil {
						podmanExit = append(podmanExit, terminationPodman(ctx, e, name, s))
					}
				}
			}
		}
		res.add(figure("manifest removed → container exited (grace 3 s)", "s", "3.0 to 3.2", s.exited))
		res.add(figure("manifest removed → sandbox gone", "s", "", s.gone))
		res.note("floor: StopContainer with timeout 3, then StopPodSandbox + RemovePodSandbox")
		if len(podmanExit) > 0 {
			res.note("podman: `podman kube play --down`; exit codes %v (137: SIGKILL), its terminationGracePeriodSeconds is not honoured", podmanExit)
		}
		return ctx.Err()
	})
}

func terminatingPod(name string) *v1.Pod {
	return withGrace(basePod(name, false, ignoreTerm), terminationGrace)
}

func terminationMinikubelet(ctx context.Context, e *env, d *daemon, name string, s terminationSamples) {
	m := implMinikubelet
	pod := terminatingPod(name)
	if _, err := d.writeManifest(pod); err != nil {
		s.exited[m].fail(err.Error())
		return
	}
	_, p, err := d.waitPod(ctx, name, startTimeout, 50*time.Millisecond, running)
	if err != nil {
		s.exited[m].fail(err.Error())
		d.removeManifest(name)
		waitSandboxesGone(ctx, e.rt, d.node, d.podName(name), goneTimeout, 100*time.Millisecond)
		return
	}
	id := containerID(p, containerName)
	settle(ctx)
	tRemoved, err := d.removeManifest(name)
	if err != nil {
		s.exited[m].fail(err.Error())
		return
	}
	// The container is read every 10 ms until it has exited: the daemon
	// removes it with its sandbox soon after.
	var exited time.Time
	err = poll(ctx, goneTimeout, fastPoll, func() (bool, error) {
		if exited.IsZero() {
			t, err := finishedAt(ctx, e.rt, id)
			if err != nil {
				return false, fmt.Errorf("container removed before its exit was seen: %w", err)
			}
			exited = t
		}
		sbs, err := sandboxesOf(ctx, e.rt, d.node, d.podName(name))
		return !exited.IsZero() && len(sbs) == 0, err
	})
	if !exited.IsZero() {
		s.exited[m].addDuration(exited.Sub(tRemoved))
	}
	if err != nil {
		s.gone[m].fail(err.Error())
		s.exited[m].fail(err.Error())
		waitSandboxesGone(ctx, e.rt, d.node, d.podName(name), goneTimeout, 100*time.Millisecond)
		return
	}
	s.gone[m].addDuration(time.Since(tRemoved))
}

func terminationFloor(ctx context.Context, e *env, name string, s terminationSamples) {
	f := implFloor
	fp, _, err := floorStart(ctx, e.rt, terminatingPod(name), e.floorNode("termination"))
	if err != nil {
		s.exited[f].fail(err.Error())
		if fp != nil {
			fp.teardown(ctx, e.rt, 0)
		}
		return
	}
	// As for the others: the container runs when the pod is deleted.
	settle(ctx)
	t0 := time.Now()
	if err := e.rt.StopContainer(ctx, fp.containerID, terminationGrace); err != nil {
		s.exited[f].fail(err.Error())
	} else if t, err := finishedAt(ctx, e.rt, fp.containerID); err != nil || t.IsZero() {
		s.exited[f].fail(fmt.Sprintf("no finishedAt after StopContainer (%v)", err))
	} else {
		s.exited[f].addDuration(t.Sub(t0))
	}
	if err := fp.teardown(ctx, e.rt, 0); err != nil {
		s.gone[f].fail(err.Error())
		return
	}
	s.gone[f].addDuration(time.Since(t0))
}

func terminationPodman(ctx context.Context, e *env, name string, s terminationSamples) int {
	p := implPodman
	path, _, err := e.podman.play(ctx, terminatingPod(name))
	if err != nil {
		s.exited[p].fail(err.Error())
		e.podman.down(ctx, path)
		return -1
	}
	settle(ctx)
	t0, t1, err := e.podman.down(ctx, path)
	if err != nil {
		s.gone[p].fail(err.Error())
		return -1
	}
	s.gone[p].addDuration(t1.Sub(t0))
	died, err := e.podman.events(name+"-"+containerName, "died")
	if err != nil || len(died) == 0 {
		s.exited[p].fail(fmt.Sprintf("no died event in podman's events log (%v)", err))
		return -1
	}
	last := died[len(died)-1]
	s.exited[p].addDuration(last.Time.Sub(t0))
	return last.ExitCode
}
