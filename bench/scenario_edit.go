package main

import (
	"context"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
)

// Scenario 6: an env var changed in a running pod's manifest; from the
// edited file closed to the new container's startedAt. The same pod is
// edited once per repetition. Its process exits on SIGTERM, so no grace
// period is waited.

const editEnv = "BENCH_VERSION"

func editPod(name string, version int) *v1.Pod {
	return withEnv(basePod(name, false, sleepForever), editEnv, strconv.Itoa(version))
}

func runEdit(ctx context.Context, e *env, res *Result, reps int) error {
	defer e.cleanupFloor("edit", res)
	return e.withDaemon(ctx, "edit", res, func(d *daemon) error {
		s := map[string]*samples{implMinikubelet: {}, implFloor: {}, implPodman: e.podmanSamples()}
		progress("edit: %d repetitions", reps)
		sandboxes := editMinikubelet(ctx, e, d, reps, s[implMinikubelet])
		editFloor(ctx, e, reps, s[implFloor])
		if e.podman != nil {
			editPodman(ctx, e, reps, s[implPodman])
		}
		res.add(figure("manifest edited → new container started", "s", "", s))
		if sandboxes > 0 {
			res.note("minikubelet made %d sandboxes for %d edits: as the kubelet, an edited static pod is a new pod (new UID, new sandbox)", sandboxes-1, reps)
		}
		res.note("floor: as the kubelet does for a static pod whose manifest changed: the old pod torn down (StopContainer, StopPodSandbox, RemovePodSandbox), then the new one run (RunPodSandbox, CreateContainer, StartContainer)")
		res.note("podman: `podman kube play --replace`")
		return ctx.Err()
	})
}

// editMinikubelet edits one pod reps times and returns how many sandboxes
// the pod had over its life.
func editMinikubelet(ctx context.Context, e *env, d *daemon, reps int, s *samples) int {
	const name = "edit"
	sandboxIDs := map[string]bool{}
	defer func() {
		d.removeManifest(name)
		waitSandboxesGone(ctx, e.rt, d.node, d.podName(name), goneTimeout, 100*time.Millisecond)
	}()
	for v := 0; v <= reps && ctx.Err() == nil; v++ {
		t0, err := d.writeManifest(editPod(name, v))
		if err != nil {
			s.fail(err.Error())
			return 0
		}
		want := strconv.Itoa(v)
		_, p, err := d.waitPod(ctx, name, startTimeout, fastPoll, func(p *v1.Pod) bool {
			return running(p) && envValue(p, editEnv) == want
		})
		if err != nil {
			s.fail(err.Error())
			return 0
		}
		started, err := startedAt(ctx, e.rt, containerID(p, containerName))
		if err != nil {
			s.fail(err.Error())
			return 0
		}
		if sbs, err := sandboxesOf(ctx, e.rt, d.node, d.podName(name)); err == nil {
			for _, sb := range sbs {
				sandboxIDs[sb.Id] = true
			}
		}
		if v > 0 { // version 0 is the first start, not an edit
			s.addDuration(started.Sub(t0))
		}
		settle(ctx)
	}
	return len(sandboxIDs)
}

func envValue(p *v1.Pod, name string) string {
	for _, c := range p.Spec.Containers {
		for _, env := range c.Env {
			if env.Name == name {
				return env.Value
			}
		}
	}
	return ""
}

func editFloor(ctx context.Context, e *env, reps int, s *samples) {
	fp, _, err := floorStart(ctx, e.rt, editPod("edit", 0), e.floorNode("edit"))
	for v := 1; v <= reps && err == nil && ctx.Err() == nil; v++ {
		settle(ctx)
		t0 := time.Now()
		if err = fp.teardown(ctx, e.rt, 30); err != nil {
			break
		}
		if fp, _, err = floorStart(ctx, e.rt, editPod("edit", v), e.floorNode("edit")); err != nil {
			break
		}
		var started time.Time
		if started, err = startedAt(ctx, e.rt, fp.containerID); err == nil {
			s.addDuration(started.Sub(t0))
		}
	}
	if err != nil {
		s.fail(err.Error())
	}
	if fp != nil {
		fp.teardown(ctx, e.rt, 30)
	}
}

func editPodman(ctx context.Context, e *env, reps int, s *samples) {
	const name = "edit"
	path, _, err := e.podman.play(ctx, editPod(name, 0))
	defer e.podman.down(ctx, path)
	for v := 1; v <= reps && err == nil && ctx.Err() == nil; v++ {
		settle(ctx)
		var t0 time.Time
		if t0, err = e.podman.replace(ctx, editPod(name, v)); err != nil {
			break
		}
		var st podmanState
		if st, err = e.podman.inspect(ctx, name, containerName); err == nil {
			s.addDuration(st.StartedAt.Sub(t0))
		}
	}
	if err != nil {
		s.fail(err.Error())
	}
}
