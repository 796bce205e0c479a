package podworker

import (
	"time"

	"github.com/minikubelet/minikubelet/internal/status"
)

// retryInterval paces a sync that failed on a runtime error, and the retry
// of a container that could not be created or started.
const retryInterval = time.Second

// applyResult is what applying a plan taught: what the runtime refused.
type applyResult struct {
	// Err stopped the sync before it was done (a kill or the sandbox
	// failed, the context ended): the sync is tried again soon.
	Err error
	// SandboxFailed says the new sandbox could not be made, with the
	// runtime's words; no container was started.
	SandboxFailed string
	// RemoveFailed says a dead container or an old sandbox could not be
	// removed: it is tried again at the next sync, not at once.
	RemoveFailed bool
	// VolumesFailed says the pod's volumes could not be set up.
	VolumesFailed string
	// Starts holds, for each planned start in order, how it went; shorter
	// than the plan's when the sync stopped early.
	Starts []startResult
}

// startResult is how one planned start went.
type startResult struct {
	// Waiting is why the container did not start; empty when it did.
	Waiting status.Waiting
	// PullFailed says an image pull was tried and failed: the image's pull
	// backoff grows.
	PullFailed bool
}

// outcome is what a sync ends with: the waiting reasons to show, when to
// sync again, and how the backoffs move.
type outcome struct {
	Waiting map[string]status.Waiting
	Wake    time.Duration
	// Restarted are the containers whose crash-loop backoff grows.
	Restarted []string
	// FailedPulls are the images whose pull backoff grows.
	FailedPulls []string
	// CreateFailed are the containers that could not be created, with
	// why: they wait syncErrorBackoff before the next try.
	CreateFailed map[string]status.Waiting
}

// clean reports whether the plan went through: nothing waits for a failure
// to clear, so the next plan may follow at once.
func (o outcome) clean() bool {
	for _, w := range o.Waiting {
		if w.Reason != reasonCrashLoopBackOff {
			return false
		}
	}
	return o.Wake == 0 || o.Wake > retryInterval
}

// settle turns a plan and what applying it taught into the sync's outcome.
// images is read to say how long a failed pull's backoff will last.
func settle(acts *podActions, res applyResult, images *backoff, now time.Time) outcome {
	out := outcome{Waiting: make(map[string]status.Waiting, len(acts.Waiting)), Wake: acts.Wake}
	for name, w := range acts.Waiting {
		out.Waiting[name] = w
	}
	wake := func(d time.Duration) {
		if d > 0 && (out.Wake == 0 || d < out.Wake) {
			out.Wake = d
		}
	}
	if res.Err != nil || res.RemoveFailed {
		wake(retryInterval)
	}
	for _, s := range acts.Starts {
		if s.Restart {
			// As the kubelet: the backoff grows when a restart is
			// attempted, however the attempt then goes.
			out.Restarted = append(out.Restarted, s.Container.Name)
		}
	}
	if res.SandboxFailed != "" || res.VolumesFailed != "" {
		w := status.Waiting{Reason: status.ReasonContainerCreating}
		if res.VolumesFailed != "" {
			w = status.Waiting{Reason: reasonCreateContainerError, Message: res.VolumesFailed}
		}
		for _, s := range acts.Starts {
			out.Waiting[s.Container.Name] = w
			if res.VolumesFailed != "" {
				out.createFailed(s.Container.Name, w)
			}
		}
		if res.VolumesFailed != "" {
			wake(syncErrorBackoff)
		} else {
			wake(retryInterval)
		}
		return out
	}
	pulls := map[string]bool{}
	for i, r := range res.Starts {
		if r.Waiting.Reason == "" {
			continue
		}
		s := acts.Starts[i]
		out.Waiting[s.Container.Name] = r.Waiting
		switch {
		case r.PullFailed:
			if !pulls[s.Container.Image] {
				pulls[s.Container.Image] = true
				out.FailedPulls = append(out.FailedPulls, s.Container.Image)
				// The next sync, a second later, finds the image in its
				// backoff and shows ImagePullBackOff until it ends, as
				// the kubelet's sync after the pod's sandbox event does:
				// ErrImagePull is what a pull said, ImagePullBackOff what
				// the node waits for.
				wake(retryInterval)
			}
		case r.Waiting.Reason == reasonImagePullBackOff:
			wake(s.PullBackoff)
		case createFailed(r.Waiting):
			out.createFailed(s.Container.Name, r.Waiting)
			wake(syncErrorBackoff)
		default:
			wake(retryInterval)
		}
	}
	return out
}

func (o *outcome) createFailed(name string, w status.Waiting) {
	if o.CreateFailed == nil {
		o.CreateFailed = map[string]status.Waiting{}
	}
	o.CreateFailed[name] = w
}

// nextReasons updates the kubelet's reason cache after a sync: why each
// container last could not run, kept until it starts again.
func nextReasons(reasons map[string]status.Waiting, acts *podActions, res applyResult, out outcome) map[string]status.Waiting {
	next := make(map[string]status.Waiting, len(reasons)+len(out.Waiting))
	for name, w := range reasons {
		next[name] = w
	}
	for i, r := range res.Starts {
		if r.Waiting.Reason == "" {
			delete(next, acts.Starts[i].Container.Name)
		}
	}
	for name, w := range out.Waiting {
		next[name] = w
	}
	return next
}

// withReasons is what a status shows as waiting: the sync's own reasons,
// and, as the kubelet's reason cache, the last reason of a container whose
// newest instance exited and that waits to run again (at the end of its
// back-off it still shows CrashLoopBackOff, with the run that ended as its
// last state, until it is started).
func withReasons(waiting, reasons map[string]status.Waiting, obs observation) map[string]status.Waiting {
	if len(reasons) == 0 {
		return waiting
	}
	out := make(map[string]status.Waiting, len(waiting)+len(reasons))
	for name, w := range waiting {
		out[name] = w
	}
	latest := latestByName(obs.Containers)
	for name, w := range reasons {
		if _, ok := out[name]; ok {
			continue
		}
		if l := latest[name]; len(l) == 0 || l[0].State == status.ContainerExited {
			out[name] = w
		}
	}
	return out
}
