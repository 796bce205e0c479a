package podworker

import (
	"time"

	"github.com/minikubelet/minikubelet/internal/status"
)

// syncErrorBackoff is how long a container that could not be created waits
// before it is tried again: the kubelet's backOffPeriod, after which its
// pod worker requeues a pod whose sync failed (pkg/kubelet/pod_workers.go;
// every start error but CrashLoopBackOff and ImagePullBackOff fails the
// sync). The kubelet adds up to 50% jitter to spread many pods' retries;
// a decision here stays a pure function of its input, so it does not.
const syncErrorBackoff = 10 * time.Second

// createFailure is a container whose last start made nothing in the runtime
// (no instance, so no crash-loop backoff), for a reason that a retry a
// second later would meet again: its config (env, mounts), the runtime's
// refusal, the volumes, a missing image under pull policy Never.
type createFailure struct {
	At      time.Time
	Waiting status.Waiting
}

// createFailed reports whether a start's waiting reason is a create
// failure that waits out syncErrorBackoff.
func createFailed(w status.Waiting) bool {
	switch w.Reason {
	case reasonCreateContainerError, reasonCreateContainerConfigError, reasonErrImageNeverPull, reasonImageInspectError:
		return true
	}
	return false
}

// createBackoffWait reports whether container name is still waiting out a
// create failure at now, with its waiting reason and how long it still
// waits.
func createBackoffWait(failures map[string]createFailure, name string, now time.Time) (status.Waiting, time.Duration, bool) {
	f, ok := failures[name]
	if !ok || f.At.After(now) { // the clock went back: due at once
		return status.Waiting{}, 0, false
	}
	if wait := f.At.Add(syncErrorBackoff).Sub(now); wait > 0 {
		return f.Waiting, wait, true
	}
	return status.Waiting{}, 0, false
}

// nextCreateFailures updates the create failures after a sync: a start that
// failed to create is recorded at now, any other outcome of a start
// forgets the container's entry.
func nextCreateFailures(prev map[string]createFailure, acts *podActions, out outcome, now time.Time) map[string]createFailure {
	next := make(map[string]createFailure, len(prev)+len(out.CreateFailed))
	for name, f := range prev {
		next[name] = f
	}
	for _, s := range acts.Starts {
		delete(next, s.Container.Name)
	}
	for name, w := range out.CreateFailed {
		next[name] = createFailure{At: now, Waiting: w}
	}
	return next
}
