package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// Scenario 3: a container that exits 1 after a second under restartPolicy
// Always; the time from its exit (CRI finishedAt) to the next instance's
// startedAt, for the first restart (which the kubelet makes at once: its
// backoff begins with the second).

const restartTimeout = 30 * time.Second

func runRestart(ctx context.Context, e *env, res *Result, reps int) error {
	defer e.cleanupFloor("restart", res)
	return e.withDaemon(ctx, "restart", res, func(d *daemon) error {
		s := map[string]*samples{implMinikubelet: {}, implFloor: {}, implPodman: e.podmanSamples()}
		atEvent := &samples{}
		// The CRI floor from the exit: how long containerd takes to record
		// it, and that plus the floor's Create+Start.
		recorded, fromExit := &samples{}, &samples{}
		progress("restart: %d repetitions", reps)
		for i := 0; i < reps && ctx.Err() == nil; i++ {
			name := fmt.Sprintf("restart-%d", i)
			for _, impl := range order(i, implMinikubelet, implFloor, implPodman) {
				switch impl {
				case implMinikubelet:
					restartMinikubelet(ctx, e, d, name, s[impl])
				case implFloor:
					restartFloor(ctx, e, name, s[impl], recorded, fromExit)
					restartFloorAtEvent(ctx, e, name+"-ev", atEvent)
				case implPodman:
					if e.podman != nil {
						restartPodman(ctx, e, name, s[impl])
					}
				}
			}
		}
		res.add(figure("exit (finishedAt) → restarted (startedAt)", "s", "< 0.100, <= floor + 0.015", s))
		res.add(figure("exit (finishedAt) → restarted (startedAt), floor started by the exit event", "s", "", map[string]*samples{implMinikubelet: s[implMinikubelet], implFloor: atEvent}))
		res.add(figure("exit (finishedAt) → restarted (startedAt), floor started once the CRI shows the exit, timed from finishedAt", "s", "", map[string]*samples{implMinikubelet: s[implMinikubelet], implFloor: fromExit}))
		res.add(figure("exit (finishedAt) → the CRI shows it exited (floor's ContainerStatus every 2 ms)", "s", "", map[string]*samples{implFloor: recorded}))
		res.note("floor: CreateContainer + StartContainer of the next attempt in the same sandbox, from the moment the CRI shows the exit (exit detection costs the floor nothing, and containerd has finished with the exit)")
		res.note("floor started by the exit event: the same calls issued as containerd's TaskExit event arrives, timed from the exit's finishedAt as minikubelet's: what an event-driven agent cannot save (the event's delivery, containerd's own work on the exit overlapping the restart)")
		res.note("podman: finishedAt is the first \"died\" event of its file events log; startedAt from podman inspect once RestartCount is 1")
		return ctx.Err()
	})
}

func restartMinikubelet(ctx context.Context, e *env, d *daemon, name string, s *samples) {
	pod := restartingPod(name)
	if _, err := d.writeManifest(pod); err != nil {
		s.fail(err.Error())
		return
	}
	defer func() {
		d.removeManifest(name)
		waitSandboxesGone(ctx, e.rt, d.node, d.podName(name), goneTimeout, 100*time.Millisecond)
	}()
	// The first instance is read as soon as it has exited: the daemon may
	// remove it once the next one runs.
	var exited, restarted time.Time
	err := poll(ctx, restartTimeout, fastPoll, func() (bool, error) {
		cs, err := containersOf(ctx, e.rt, d.node, d.podName(name))
		if err != nil {
			return false, err
		}
		for _, c := range cs {
			switch attempt(c.Annotations, c.Metadata.Attempt) {
			case 0:
				if exited.IsZero() {
					exited, _ = finishedAt(ctx, e.rt, c.Id)
				}
			case 1:
				if t, err := startedAt(ctx, e.rt, c.Id); err == nil {
					restarted = t
				}
			}
		}
		return !exited.IsZero() && !restarted.IsZero(), nil
	})
	if err != nil {
		s.fail(fmt.Sprintf("no first restart seen: %v (exited %v, restarted %v)", err, !exited.IsZero(), !restarted.IsZero()))
		return
	}
	s.addDuration(restarted.Sub(exited))
}

// attempt is a container's restart count: the kubelet's annotation, else
// the CRI metadata's attempt.
func attempt(annotations map[string]string, metadataAttempt uint32) int {
	if v, err := strconv.Atoi(annotations[runtime.AnnotationRestartCount]); err == nil {
		return v
	}
	return int(metadataAttempt)
}

// exitPoll is how often the CRI floor asks whether its container has
// exited: fine enough to time containerd's recording of the exit.
const exitPoll = 2 * time.Millisecond

// restartFloor restarts the floor's container once the CRI shows its exit.
// s gets the Create+Start alone, recorded how long after the exit the CRI
// showed it, fromExit both together.
func restartFloor(ctx context.Context, e *env, name string, s, recorded, fromExit *samples) {
	fp, _, err := floorStart(ctx, e.rt, restartingPod(name), e.floorNode("restart"))
	if fp != nil {
		defer fp.teardown(ctx, e.rt, 30)
	}
	if err != nil {
		s.fail(err.Error())
		return
	}
	var finished time.Time
	err = poll(ctx, restartTimeout, exitPoll, func() (bool, error) {
		finished, err = finishedAt(ctx, e.rt, fp.containerID)
		return !finished.IsZero(), err
	})
	if err != nil {
		s.fail(err.Error())
		return
	}
	t0 := time.Now()
	started, err := fp.startNextAttempt(ctx, e.rt)
	if err != nil {
		s.fail(err.Error())
		return
	}
	s.addDuration(started.Sub(t0))
	recorded.addDuration(t0.Sub(finished))
	fromExit.addDuration(started.Sub(finished))
}

func restartFloorAtEvent(ctx context.Context, e *env, name string, s *samples) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	exits := make(chan runtime.Exit, 64)
	subscribed := make(chan struct{}, 1)
	go runtime.WatchEvents(ctx, runtime.DefaultEndpoint, zap.NewNop(), runtime.EventHandlers{ //nolint:errcheck // ends with ctx
		Exited: func(x runtime.Exit) {
			select {
			case exits <- x:
			default:
			}
		},
		Subscribed: func() {
			select {
			case subscribed <- struct{}{}:
			default:
			}
		},
	})
	select {
	case <-subscribed:
	case <-time.After(restartTimeout):
		s.fail("no containerd event subscription")
		return
	}
	fp, _, err := floorStart(ctx, e.rt, restartingPod(name), e.floorNode("restart"))
	if fp != nil {
		defer fp.teardown(ctx, e.rt, 30)
	}
	if err != nil {
		s.fail(err.Error())
		return
	}
	timeout := time.After(restartTimeout)
	for exited := false; !exited; {
		select {
		case x := <-exits:
			exited = x.ContainerID == fp.containerID
		case <-timeout:
			s.fail("no exit event for the floor's container")
			return
		}
	}
	first := fp.containerID
	started, err := fp.startNextAttempt(ctx, e.rt)
	if err != nil {
		s.fail(err.Error())
		return
	}
	var finished time.Time
	if err := poll(ctx, restartTimeout, fastPoll, func() (bool, error) {
		finished, err = finishedAt(ctx, e.rt, first)
		return !finished.IsZero(), err
	}); err != nil {
		s.fail(err.Error())
		return
	}
	s.addDuration(started.Sub(finished))
}

// startNextAttempt creates and starts the container's next attempt in the
// floor's sandbox and returns its CRI startedAt.
func (fp *floorPod) startNextAttempt(ctx context.Context, rt *runtime.Client) (time.Time, error) {
	fp.attempt++
	if err := fp.startContainer(ctx, rt); err != nil {
		return time.Time{}, err
	}
	return startedAt(ctx, rt, fp.containerID)
}

func restartPodman(ctx context.Context, e *env, name string, s *samples) {
	path, _, err := e.podman.play(ctx, restartingPod(name))
	defer e.podman.down(ctx, path)
	if err != nil {
		s.fail(err.Error())
		return
	}
	var st podmanState
	err = poll(ctx, restartTimeout, 20*time.Millisecond, func() (bool, error) {
		st, err = e.podman.inspect(ctx, name, containerName)
		return err == nil && st.RestartCount >= 1, err
	})
	if err != nil {
		s.fail(err.Error())
		return
	}
	if st.RestartCount > 1 {
		s.fail("restarted more than once before it was seen")
		return
	}
	died, err := e.podman.events(name+"-"+containerName, "died")
	if err != nil || len(died) == 0 {
		s.fail(fmt.Sprintf("no died event in podman's events log (%v)", err))
		return
	}
	s.addDuration(st.StartedAt.Sub(died[0].Time))
}
