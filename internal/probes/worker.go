package probes

import (
	"context"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"k8s.io/utils/clock"

	"github.com/minikubelet/minikubelet/internal/timers"
)

// worker probes one container instance with one probe kind, in its own
// goroutine, until the container's context ends or its probing is over (a
// liveness Failure, a startup result).
type worker struct {
	m      *Manager
	c      *container
	kind   Kind
	timing timing
	action action
	// first is when the first probe is due.
	first time.Time
	// result is the probe's Result, read by any goroutine.
	result atomic.Int32
	// tally and series belong to the worker goroutine.
	tally  tally
	series series
	// nudge asks a readiness worker to probe now; set only when the
	// container also has a startup probe, whose success sends on it.
	nudge chan struct{}
	// ctx ends this worker alone (StopLivenessAndStartup); it ends with
	// the container's.
	ctx    context.Context
	cancel context.CancelFunc
}

func (w *worker) get() Result {
	return Result(w.result.Load())
}

// run is the worker goroutine: it probes at w.first and every period after
// it until the container's context ends or tick says probing is over.
func (w *worker) run() {
	defer w.m.wg.Done()
	if w.m.onExit != nil {
		defer w.m.onExit(w)
	}
	ctx, clk := w.ctx, w.m.clock
	base, n := w.first, 0
	next := base
	var timer clock.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if wait := next.Sub(clk.Now()); wait > 0 {
			if timer == nil {
				timer = clk.NewTimer(wait)
			} else {
				timers.Reset(timer, wait)
			}
			if w.m.onArm != nil {
				w.m.onArm(w, next)
			}
			select {
			case <-ctx.Done():
				return
			case <-timer.C():
			case <-w.nudge:
				now := clk.Now()
				if now.Before(w.c.startedAt.Add(w.timing.initialDelay)) {
					continue
				}
				// As the kubelet's manual trigger: probe now, and count the
				// periods from now.
				base, n = now, 0
			}
		} else if ctx.Err() != nil {
			return
		}
		if !w.tick(ctx) {
			return
		}
		next, n = nextProbeAt(base, w.timing.period, n, clk.Now())
	}
}

// tick is one due probe: it runs the probe unless startup gates it, applies
// the thresholds and reports the run. It returns false when this worker's
// probing is over.
func (w *worker) tick(ctx context.Context) bool {
	c := w.c
	if w.kind != Startup && !c.started() {
		// As the kubelet: liveness and readiness wait for the startup probe;
		// their ticks pass without a run.
		return true
	}
	clk := w.m.clock
	start := clk.Now()
	out := w.probe(ctx)
	if ctx.Err() != nil {
		return false
	}
	prev := w.get()
	u := Update{
		PodUID:        c.podUID,
		ContainerName: c.name,
		ContainerID:   c.id,
		Kind:          w.kind,
		Result:        prev,
	}
	if out.err != nil {
		w.m.log.Debug("Probe errored", w.fields(zap.Error(out.err))...)
		u.Errored, u.Output = true, out.err.Error()
		w.m.notify(u)
		return true
	}
	w.m.metrics.observe(&w.series, w.kind, c, out.result, clk.Since(start))

	hold := false
	if w.tally.add(out.result, w.timing.successThreshold, w.timing.failureThreshold) {
		u.Result = out.result
		w.result.Store(int32(out.result))
		// As the kubelet: a liveness Failure waits for the container to be
		// replaced, and a startup probe is done once it has a result.
		hold = (w.kind == Liveness && out.result == Failure) || w.kind == Startup
	}
	u.Changed = u.Result != prev
	u.Failed = out.result == Failure
	u.Output = out.output
	u.Warning = out.warning
	u.FailureThresholdReached = hold && u.Result == Failure

	switch {
	case u.Changed:
		w.m.log.Info("Probe result changed", w.fields(
			zap.Stringer("result", u.Result), zap.String("output", u.Output))...)
	case u.Failed:
		w.m.log.Debug("Probe failed", w.fields(zap.String("output", u.Output))...)
	case u.Warning != "":
		w.m.log.Debug("Probe succeeded with a warning", w.fields(zap.String("warning", u.Warning))...)
	}
	if u.Changed || u.Failed || u.Warning != "" {
		w.m.notify(u)
	}
	if w.kind == Startup && u.Result == Success {
		// As the kubelet, whose status update after a startup success
		// triggers the readiness probe: the container may be ready at once.
		if r := c.workers[Readiness]; r != nil && r.nudge != nil {
			select {
			case r.nudge <- struct{}{}:
			default:
			}
		}
	}
	return !hold
}

// probe makes one run on a goroutine of its own and waits for it. A run
// (dialing, HTTP, an exec stream) needs a stack several times what the
// worker needs between runs; on a goroutine of its own that stack is given
// back as the run ends, where the worker's own would keep it until the
// next probe: with a worker per probe, that was most of the daemon's stack
// memory (8.5 MB at 250 probed pods).
func (w *worker) probe(ctx context.Context) outcome {
	c := w.c
	done := make(chan outcome, 1)
	go func() {
		done <- w.m.prober.run(ctx, &w.action, c.id, *c.podIP.Load(), c.hostNetwork, w.timing.timeout)
	}()
	return <-done
}

// fields are the log fields naming the worker, then extra.
func (w *worker) fields(extra ...zap.Field) []zap.Field {
	return append([]zap.Field{
		zap.String("pod", w.c.podKey()),
		zap.String("namespace", w.c.namespace),
		zap.String("uid", string(w.c.podUID)),
		zap.String("container", w.c.name),
		zap.String("containerID", w.c.id),
		zap.Stringer("probe", w.kind),
	}, extra...)
}

// notify hands u to Config.OnUpdate.
func (m *Manager) notify(u Update) {
	if m.onUpdate != nil {
		m.onUpdate(u)
	}
}
