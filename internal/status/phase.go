package status

import (
	v1 "k8s.io/api/core/v1"
)

// PodPhase computes the pod phase from the spec and the container statuses as
// the kubelet's getPhase does:
//
//   - A regular init container that is missing, running, waiting for its first
//     run, or in no known state keeps the pod Pending. One that exited non-zero
//     (now, or as its last termination while it waits for a retry) fails the
//     pod when restartPolicy is Never.
//   - A native sidecar (an init container with restartPolicy Always) counts as
//     running while it runs. Until it has started (its startupProbe passed) or
//     while it waits for its first run, it keeps the pod Pending, but only
//     until a regular container has started: a sidecar restarting later does
//     not send the pod back to Pending. A stopped sidecar does not count.
//   - A regular container waiting for its first run keeps the pod Pending; one
//     waiting to be restarted counts as stopped.
//   - With nothing pending, the pod is Running when at least one container runs
//     and every container's status is known. When all are stopped, it is
//     Running under restartPolicy Always (they will restart), Succeeded when
//     all exited 0, Failed under Never with a failure, and Running under
//     OnFailure with a failure (it will restart).
//   - Anything else (a container with no status yet) is Pending.
//
// podIsTerminal says the pod is being torn down for good: every container has
// stopped and none will be restarted, whatever the restart policy. The kubelet
// passes the same flag and then reports Succeeded when every container exited
// 0 and Failed otherwise, except for static pods, where it still skips this
// step (kubernetes/kubernetes#116484) and leaves a torn-down pod with
// restartPolicy Always Running. minikubelet only runs static pods, so that
// exception would apply to every pod it has; it follows the rule the kubelet
// means to apply to all pods instead. A caller that wants the kubelet's
// static-pod behaviour passes false.
//
// The kubelet decides whether the pod "has initialized" from the containers
// the runtime holds for the current sandbox. PodPhase derives it from the
// statuses: a regular container that has a container ID, is running, has
// terminated, or has a last termination exists in the runtime.
//
// Container-level restartPolicy and restartPolicyRules on regular containers
// (the kubelet's ContainerRestartRules feature) are not taken into account.
func PodPhase(spec *v1.PodSpec, initStatuses, statuses []v1.ContainerStatus, podIsTerminal bool) v1.PodPhase {
	find := func(name string) (*v1.ContainerStatus, bool) {
		if s, ok := findStatus(statuses, name); ok {
			return s, true
		}
		return findStatus(initStatuses, name)
	}

	pendingInit := 0
	pendingSidecars := 0
	failedInit := 0
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if isSidecar(c) {
			continue
		}
		s, ok := find(c.Name)
		if !ok {
			pendingInit++
			continue
		}
		switch {
		case s.State.Running != nil:
			pendingInit++
		case s.State.Terminated != nil:
			if s.State.Terminated.ExitCode != 0 {
				failedInit++
			}
		case s.State.Waiting != nil:
			if last := s.LastTerminationState.Terminated; last != nil {
				if last.ExitCode != 0 {
					failedInit++
				}
			} else {
				pendingInit++
			}
		default:
			pendingInit++
		}
	}

	unknown, running, waiting, stopped, succeeded := 0, 0, 0, 0, 0
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if !isSidecar(c) {
			continue
		}
		s, ok := find(c.Name)
		if !ok {
			unknown++
			continue
		}
		switch {
		case s.State.Running != nil:
			if !isTrue(s.Started) {
				pendingSidecars++
			}
			running++
		case s.State.Terminated != nil:
			// As the kubelet: a stopped sidecar does not count for the phase.
		case s.State.Waiting != nil:
			if s.LastTerminationState.Terminated == nil {
				pendingSidecars++
				waiting++
			}
		default:
			pendingSidecars++
			unknown++
		}
	}

	for i := range spec.Containers {
		s, ok := find(spec.Containers[i].Name)
		if !ok {
			unknown++
			continue
		}
		switch {
		case s.State.Running != nil:
			running++
		case s.State.Terminated != nil:
			stopped++
			if s.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case s.State.Waiting != nil:
			if s.LastTerminationState.Terminated != nil {
				stopped++
			} else {
				waiting++
			}
		default:
			unknown++
		}
	}

	if failedInit > 0 && spec.RestartPolicy == v1.RestartPolicyNever {
		return v1.PodFailed
	}

	switch {
	case pendingInit > 0 || (pendingSidecars > 0 && !anyRegularContainerCreated(spec, statuses)):
		return v1.PodPending
	case waiting > 0:
		return v1.PodPending
	case running > 0 && unknown == 0:
		return v1.PodRunning
	case running == 0 && stopped > 0 && unknown == 0:
		if podIsTerminal {
			if stopped == succeeded {
				return v1.PodSucceeded
			}
			return v1.PodFailed
		}
		switch {
		case spec.RestartPolicy == v1.RestartPolicyAlways:
			return v1.PodRunning
		case stopped == succeeded:
			return v1.PodSucceeded
		case spec.RestartPolicy == v1.RestartPolicyNever:
			return v1.PodFailed
		default:
			return v1.PodRunning
		}
	default:
		return v1.PodPending
	}
}

// isSidecar reports whether c is a native sidecar: an init container with
// restartPolicy Always.
func isSidecar(c *v1.Container) bool {
	return c != nil && c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways
}

// findStatus returns the status named name.
func findStatus(statuses []v1.ContainerStatus, name string) (*v1.ContainerStatus, bool) {
	for i := range statuses {
		if statuses[i].Name == name {
			return &statuses[i], true
		}
	}
	return nil, false
}

// anyRegularContainerCreated approximates the kubelet's
// HasAnyActiveRegularContainerStarted from API statuses: a regular container
// exists in the runtime once it has an ID, runs, ran, or has a last
// termination.
func anyRegularContainerCreated(spec *v1.PodSpec, statuses []v1.ContainerStatus) bool {
	for i := range spec.Containers {
		s, ok := findStatus(statuses, spec.Containers[i].Name)
		if !ok {
			continue
		}
		if s.ContainerID != "" || s.State.Running != nil || s.State.Terminated != nil || s.LastTerminationState.Terminated != nil {
			return true
		}
	}
	return false
}

// anyRegularContainerStarted is the kubelet's HasAnyRegularContainerStarted:
// a regular container is running or has terminated.
func anyRegularContainerStarted(spec *v1.PodSpec, statuses []v1.ContainerStatus) bool {
	for i := range spec.Containers {
		s, ok := findStatus(statuses, spec.Containers[i].Name)
		if ok && (s.State.Running != nil || s.State.Terminated != nil) {
			return true
		}
	}
	return false
}

func isTrue(b *bool) bool {
	return b != nil && *b
}
