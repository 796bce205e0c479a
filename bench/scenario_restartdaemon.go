package main

import (
	"context"
	"fmt"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// Scenario 8: with 250 probed pods running (-restart-pods), SIGKILL the daemon and start
// it again: the time until its API answers, until every pod is listed
// Running and until every pod is Ready again, and how many containers and
// sandboxes it recreated (must be 0). Repeated on the same pods.

const (
	// adoptTimeout bounds the wait for the pods after a restart.
	adoptTimeout = 2 * time.Minute
	// recreateWatch is how long after adoption new containers are looked
	// for: a late recreation counts too.
	recreateWatch = 3 * time.Second
	adoptPoll     = 50 * time.Millisecond
)

func runRestartDaemon(ctx context.Context, e *env, res *Result, reps int) error {
	return e.withDaemon(ctx, "restart-daemon", res, func(d *daemon) error {
		n := e.restartPods
		progress("restart-daemon: starting %d pods", n)
		took, err := growFleet(ctx, d, 0, n)
		if err != nil {
			return err
		}
		readyBefore := waitFleetReady(ctx, d, n)
		res.note("%d pods started in %.1f s; %d Ready before the first kill", n, took.Seconds(), readyBefore)
		api, all, allReady := &samples{}, &samples{}, &samples{}
		containers, sandboxes := &samples{}, &samples{}
		if readyBefore < n {
			allReady.fail(fmt.Sprintf("only %d of %d pods were Ready before the kill: readiness probes not run by this build?", readyBefore, n))
		}
		for i := 0; i < reps && ctx.Err() == nil; i++ {
			progress("restart-daemon: kill %d of %d", i+1, reps)
			before, err := criIDs(ctx, e.rt, d.node)
			if err != nil {
				return err
			}
			d.kill()
			t0 := time.Now()
			if err := d.start(ctx); err != nil {
				return err
			}
			api.addDuration(time.Since(t0))
			var st fleetState
			err = poll(ctx, adoptTimeout, adoptPoll, func() (bool, error) {
				st = fleetStatus(ctx, d)
				return st.running >= n, nil
			})
			if err != nil {
				all.fail(fmt.Sprintf("%d of %d Running: %v", st.running, n, err))
				return fmt.Errorf("after restart %d: %d of %d pods Running (%s): %w", i+1, st.running, n, st.waiting, err)
			}
			all.addDuration(time.Since(t0))
			if readyBefore == n {
				err = poll(ctx, adoptTimeout, adoptPoll, func() (bool, error) {
					st = fleetStatus(ctx, d)
					return st.ready >= n, nil
				})
				if err != nil {
					allReady.fail(fmt.Sprintf("%d of %d Ready: %v", st.ready, n, err))
				} else {
					allReady.addDuration(time.Since(t0))
				}
			}
			if err := sleepCtx(ctx, recreateWatch); err != nil {
				return err
			}
			after, err := criIDs(ctx, e.rt, d.node)
			if err != nil {
				return err
			}
			containers.add(float64(countNew(before.containers, after.containers)))
			sandboxes.add(float64(countNew(before.sandboxes, after.sandboxes)))
		}
		res.add(figure(fmt.Sprintf("restart → API answers (%d pods)", n), "s", "", map[string]*samples{implMinikubelet: api}))
		res.add(figure(fmt.Sprintf("restart → all %d Running in GET /pods", n), "s", "< 2", map[string]*samples{implMinikubelet: all}))
		res.add(figure(fmt.Sprintf("restart → all %d Ready", n), "s", "< 2", map[string]*samples{implMinikubelet: allReady}))
		res.add(figure("containers recreated", "count", "0", map[string]*samples{implMinikubelet: containers}))
		res.add(figure("sandboxes recreated", "count", "0", map[string]*samples{implMinikubelet: sandboxes}))
		return ctx.Err()
	})
}

// criState is the set of IDs of a node's sandboxes and containers.
type criState struct {
	sandboxes, containers map[string]bool
}

func criIDs(ctx context.Context, rt *runtime.Client, node string) (criState, error) {
	st := criState{sandboxes: map[string]bool{}, containers: map[string]bool{}}
	sbs, err := sandboxesOf(ctx, rt, node, "")
	if err != nil {
		return st, err
	}
	for _, sb := range sbs {
		st.sandboxes[sb.Id] = true
	}
	cs, err := rt.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: map[string]string{runtime.LabelNode: node}})
	if err != nil {
		return st, err
	}
	for _, c := range cs {
		st.containers[c.Id] = true
	}
	return st, nil
}

func countNew(before, after map[string]bool) int {
	n := 0
	for id := range after {
		if !before[id] {
			n++
		}
	}
	return n
}
