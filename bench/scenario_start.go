package main

import (
	"context"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
)

// Scenario 1: one pod, from its manifest written and closed to its process
// running (CRI startedAt), to Running in GET /pods and, with an httpGet
// readiness probe of period 1 s, to Ready; then from its manifest removed
// to its sandbox gone. On the host's network and on the CNI bridge.

const (
	startTimeout = 60 * time.Second
	readyTimeout = 10 * time.Second
	goneTimeout  = 60 * time.Second
	// fastPoll paces the polling of a single pod: the figures' resolution.
	fastPoll = 10 * time.Millisecond
)

// startVariant is one network mode of scenario 1.
type startVariant struct {
	label string
	short string
	pod   func(name string) *v1.Pod
	ready bool // measure Ready: the pod has a readiness probe
}

var startVariants = []startVariant{
	{"hostNetwork", "h", func(name string) *v1.Pod { return basePod(name, true, sleepForever) }, false},
	{"pod network", "p", readyPod, true},
}

// startSamples are a variant's figures, by implementation.
type startSamples struct {
	process, running, teardown map[string]*samples
	ready                      *samples
}

func runStart(ctx context.Context, e *env, res *Result, reps int) error {
	defer e.cleanupFloor("start", res)
	return e.withDaemon(ctx, "start", res, func(d *daemon) error {
		for _, v := range startVariants {
			progress("start: %s, %d repetitions", v.label, reps)
			s := startSamples{
				process:  map[string]*samples{implMinikubelet: {}, implFloor: {}, implPodman: e.podmanSamples()},
				running:  map[string]*samples{implMinikubelet: {}, implFloor: {}, implPodman: e.podmanSamples()},
				teardown: map[string]*samples{implMinikubelet: {}, implFloor: {}, implPodman: e.podmanSamples()},
				ready:    &samples{},
			}
			for i := 0; i < reps && ctx.Err() == nil; i++ {
				name := fmt.Sprintf("start-%s-%d", v.short, i)
				for _, impl := range order(i, implMinikubelet, implFloor, implPodman) {
					switch impl {
					case implMinikubelet:
						startMinikubelet(ctx, e, d, v, v.pod(name), s)
					case implFloor:
						startFloor(ctx, e, v.pod(name), s)
					case implPodman:
						if e.podman != nil && i < e.podmanReps {
							startPodman(ctx, e, v.pod(name), s)
						}
					}
				}
			}
			res.add(figure(v.label+": manifest → process started (CRI startedAt)", "s", "p50 < 1.25 x floor, ahead of podman", s.process))
			res.add(figure(v.label+": manifest → Running reported", "s", "", s.running))
			if v.ready {
				res.add(figure(v.label+": manifest → Ready (httpGet readiness, period 1 s)", "s", "", map[string]*samples{implMinikubelet: s.ready, implPodman: missing("podman kube play has no readiness")}))
			}
			res.add(figure(v.label+": manifest removed → sandbox gone", "s", "", s.teardown))
		}
		res.note("floor \"Running reported\" is StartContainer's return; podman's is `podman kube play` returning; minikubelet's is the first GET /pods (polled every 10 ms) with phase Running")
		if e.podman != nil && e.podmanReps < reps {
			res.note("podman ran the first %d of the %d repetitions of each variant (-podman-reps), to keep the run under 15 minutes", e.podmanReps, reps)
		}
		res.note("podman teardown is `podman kube play --down`, which SIGKILLs at once (no grace period); about 3 s of it is podman removing the pod's cgroup (/libpod_parent/<pod>) under cgroupfs, as its debug log shows")
		return ctx.Err()
	})
}

func startMinikubelet(ctx context.Context, e *env, d *daemon, v startVariant, pod *v1.Pod, s startSamples) {
	m := implMinikubelet
	t0, err := d.writeManifest(pod)
	if err != nil {
		s.process[m].fail(err.Error())
		return
	}
	var started time.Time
	defer func() {
		settleAfter(ctx, started)
		tRemoved, err := d.removeManifest(pod.Name)
		if err != nil {
			s.teardown[m].fail(err.Error())
			return
		}
		gone, err := waitSandboxesGone(ctx, e.rt, d.node, d.podName(pod.Name), goneTimeout, fastPoll)
		if err != nil {
			s.teardown[m].fail(err.Error())
			return
		}
		s.teardown[m].addDuration(gone.Sub(tRemoved))
	}()
	tRunning, p, err := d.waitPod(ctx, pod.Name, startTimeout, fastPoll, running)
	if err != nil {
		s.running[m].fail(err.Error())
		s.process[m].fail(err.Error())
		return
	}
	s.running[m].addDuration(tRunning.Sub(t0))
	started, err = startedAt(ctx, e.rt, containerID(p, containerName))
	if err != nil {
		s.process[m].fail(err.Error())
	} else {
		s.process[m].addDuration(started.Sub(t0))
	}
	if !v.ready {
		return
	}
	if s.ready.na != "" && len(s.ready.values) == 0 {
		return // Ready never came in an earlier repetition: not delivered.
	}
	tReady, last, err := d.waitPod(ctx, pod.Name, readyTimeout, fastPoll, ready)
	if err != nil {
		s.ready.fail(errorf("Ready not reported within %s of the manifest (last: %s): readiness probes not run by this build?", readyTimeout, describePod(last)))
		return
	}
	s.ready.addDuration(tReady.Sub(t0))
}

func startFloor(ctx context.Context, e *env, pod *v1.Pod, s startSamples) {
	f := implFloor
	fp, t0, err := floorStart(ctx, e.rt, pod, e.floorNode("start"))
	var started time.Time
	if fp != nil {
		defer func() {
			settleAfter(ctx, started)
			t := time.Now()
			if err := fp.teardown(ctx, e.rt, 30); err != nil {
				s.teardown[f].fail(err.Error())
				return
			}
			s.teardown[f].addDuration(time.Since(t))
		}()
	}
	if err != nil {
		s.process[f].fail(err.Error())
		return
	}
	s.running[f].addDuration(time.Since(t0))
	started, err = startedAt(ctx, e.rt, fp.containerID)
	if err != nil {
		s.process[f].fail(err.Error())
		return
	}
	s.process[f].addDuration(started.Sub(t0))
}

func startPodman(ctx context.Context, e *env, pod *v1.Pod, s startSamples) {
	p := implPodman
	path, t0, err := e.podman.play(ctx, pod)
	defer func() {
		t0, t1, err := e.podman.down(ctx, path)
		if err != nil {
			s.teardown[p].fail(err.Error())
			return
		}
		s.teardown[p].addDuration(t1.Sub(t0))
	}()
	if err != nil {
		s.process[p].fail(err.Error())
		return
	}
	s.running[p].addDuration(time.Since(t0))
	st, err := e.podman.inspect(ctx, pod.Name, containerName)
	if err != nil {
		s.process[p].fail(err.Error())
		return
	}
	s.process[p].addDuration(st.StartedAt.Sub(t0))
}
