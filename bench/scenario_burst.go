package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
)

// Scenario 2: 50 manifests written at once (pod network). Per pod, the
// time from the burst's start to its process running; for the burst, the
// time until all are reported Running, and until all are gone after their
// manifests are removed.

const (
	burstSize    = 50
	burstTimeout = 3 * time.Minute
	burstPoll    = 50 * time.Millisecond
)

type burstSamples struct {
	perPod, all, teardown map[string]*samples
}

func runBurst(ctx context.Context, e *env, res *Result, reps int) error {
	defer e.cleanupFloor("burst", res)
	return e.withDaemon(ctx, "burst", res, func(d *daemon) error {
		s := burstSamples{
			perPod:   map[string]*samples{implMinikubelet: {}, implFloor: {}, implPodman: e.podmanSamples()},
			all:      map[string]*samples{implMinikubelet: {}, implFloor: {}, implPodman: e.podmanSamples()},
			teardown: map[string]*samples{implMinikubelet: {}, implFloor: {}, implPodman: e.podmanSamples()},
		}
		for i := 0; i < reps && ctx.Err() == nil; i++ {
			for _, impl := range order(i, implMinikubelet, implFloor, implPodman) {
				progress("burst: repetition %d, %s", i+1, impl)
				pods := burstPods(i)
				switch impl {
				case implMinikubelet:
					burstMinikubelet(ctx, e, d, pods, s)
				case implFloor:
					burstFloor(ctx, e, pods, s)
				case implPodman:
					if e.podman != nil {
						burstPodman(ctx, e, pods, s)
					}
				}
			}
		}
		res.add(figure(fmt.Sprintf("per pod: burst start → process started (%d pods x %d)", burstSize, reps), "s", "", s.perPod))
		res.add(figure(fmt.Sprintf("all %d Running reported", burstSize), "s", "", s.all))
		res.add(figure(fmt.Sprintf("all %d manifests removed → all sandboxes gone", burstSize), "s", "", s.teardown))
		res.note("floor: %d goroutines, each RunPodSandbox + CreateContainer + StartContainer, all at once; podman: one `podman kube play` of a %d-document file", burstSize, burstSize)
		return ctx.Err()
	})
}

func burstPods(rep int) []*v1.Pod {
	pods := make([]*v1.Pod, burstSize)
	for i := range pods {
		pods[i] = basePod(fmt.Sprintf("burst-%d-%02d", rep, i), false, sleepForever)
	}
	return pods
}

func burstMinikubelet(ctx context.Context, e *env, d *daemon, pods []*v1.Pod, s burstSamples) {
	m := implMinikubelet
	t0 := time.Now()
	for _, p := range pods {
		if _, err := d.writeManifest(p); err != nil {
			s.all[m].fail(err.Error())
		}
	}
	var list []v1.Pod
	err := poll(ctx, burstTimeout, burstPoll, func() (bool, error) {
		var err error
		list, err = d.pods(ctx)
		if err != nil {
			return false, nil
		}
		n := 0
		for i := range list {
			if running(&list[i]) {
				n++
			}
		}
		return n == len(pods), nil
	})
	if err != nil {
		s.all[m].fail(fmt.Sprintf("not all Running: %v", err))
	} else {
		s.all[m].addDuration(time.Since(t0))
		for i := range list {
			started, err := startedAt(ctx, e.rt, containerID(&list[i], containerName))
			if err != nil {
				s.perPod[m].fail(err.Error())
				continue
			}
			s.perPod[m].addDuration(started.Sub(t0))
		}
	}
	settle(ctx)
	tRemoved := time.Now()
	if err := d.removeAllManifests(); err != nil {
		s.teardown[m].fail(err.Error())
		return
	}
	gone, err := waitSandboxesGone(ctx, e.rt, d.node, "", burstTimeout, burstPoll)
	if err != nil {
		s.teardown[m].fail(err.Error())
		return
	}
	s.teardown[m].addDuration(gone.Sub(tRemoved))
}

func burstFloor(ctx context.Context, e *env, pods []*v1.Pod, s burstSamples) {
	f := implFloor
	var wg sync.WaitGroup
	var mu sync.Mutex
	var started []*floorPod
	var last time.Time
	t0 := time.Now()
	for _, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fp, _, err := floorStart(ctx, e.rt, p, e.floorNode("burst"))
			done := time.Now()
			mu.Lock()
			defer mu.Unlock()
			if fp != nil {
				started = append(started, fp)
			}
			if err != nil {
				s.all[f].fail(err.Error())
				return
			}
			if done.After(last) {
				last = done
			}
		}()
	}
	wg.Wait()
	if s.all[f].na == "" {
		s.all[f].addDuration(last.Sub(t0))
	}
	for _, fp := range started {
		if t, err := startedAt(ctx, e.rt, fp.containerID); err == nil {
			s.perPod[f].addDuration(t.Sub(t0))
		} else {
			s.perPod[f].fail(err.Error())
		}
	}
	settle(ctx)
	tRemoved := time.Now()
	for _, fp := range started {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fp.teardown(ctx, e.rt, 30); err != nil {
				mu.Lock()
				s.teardown[f].fail(err.Error())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s.teardown[f].addDuration(time.Since(tRemoved))
}

func burstPodman(ctx context.Context, e *env, pods []*v1.Pod, s burstSamples) {
	p := implPodman
	path, t0, err := e.podman.play(ctx, pods...)
	if err != nil {
		s.all[p].fail(err.Error())
	} else {
		s.all[p].addDuration(time.Since(t0))
		for _, pod := range pods {
			st, err := e.podman.inspect(ctx, pod.Name, containerName)
			if err != nil {
				s.perPod[p].fail(err.Error())
				continue
			}
			s.perPod[p].addDuration(st.StartedAt.Sub(t0))
		}
	}
	t1, t2, err := e.podman.down(ctx, path)
	if err != nil {
		s.teardown[p].fail(err.Error())
		return
	}
	s.teardown[p].addDuration(t2.Sub(t1))
}
