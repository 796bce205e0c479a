package status

import (
	"fmt"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition reasons, named and spelled as the kubelet's
// (pkg/kubelet/status/generate.go, pkg/kubelet/types).
const (
	// UnknownContainerStatuses says that no container status is known yet.
	UnknownContainerStatuses = "UnknownContainerStatuses"
	// PodCompleted says that all containers of the pod have succeeded.
	PodCompleted = "PodCompleted"
	// PodFailed says that the pod has failed, so its containers are not ready.
	PodFailed = "PodFailed"
	// ContainersNotReady says that one or more containers are not ready.
	ContainersNotReady = "ContainersNotReady"
	// ContainersNotInitialized says that one or more init containers have not
	// completed (or, for a sidecar, not started).
	ContainersNotInitialized = "ContainersNotInitialized"
	// ReadinessGatesNotReady says that one or more pod readiness gates are not
	// True.
	ReadinessGatesNotReady = "ReadinessGatesNotReady"
	// PodSandboxNotReady says that the pod has no ready sandbox with
	// networking, so containers cannot be started.
	PodSandboxNotReady = "PodSandboxNotReady"
)

// SandboxMessageNoSandbox is the message of the PodReadyToStartContainers
// condition when it is False because no sandbox exists for the pod.
const SandboxMessageNoSandbox = "no pod sandbox exists"

// ConditionInput is what the pod conditions are computed from.
type ConditionInput struct {
	// Spec is the pod's spec; readiness gates and init containers come from it.
	Spec *v1.PodSpec
	// Generation is the pod's metadata.generation; when set, it is recorded as
	// observedGeneration on the conditions computed here, as the kubelet does.
	Generation int64
	// Phase is the phase PodPhase computed for the same statuses.
	Phase v1.PodPhase
	// InitStatuses and Statuses are the container statuses about to be
	// published, with Ready and Started already set from the probes.
	InitStatuses []v1.ContainerStatus
	Statuses     []v1.ContainerStatus
	// SandboxReady says that the pod's sandbox is ready and its networking is
	// set up (host-network pods need no IP).
	SandboxReady bool
	// SandboxMessage says why the sandbox is not ready (SandboxMessageNoSandbox,
	// or the runtime's words). Empty means SandboxMessageNoSandbox. Ignored
	// when SandboxReady is true.
	SandboxMessage string
	// Previous are the conditions published last time. They give the
	// lastTransitionTime of a condition whose status has not changed, and
	// conditions the kubelet does not own (readiness gates set by others) are
	// carried over unchanged.
	Previous []v1.PodCondition
}

// Conditions computes the pod conditions the kubelet publishes, in the
// kubelet's order: conditions it does not own (carried over from Previous),
// then PodReadyToStartContainers, Initialized, Ready, ContainersReady and
// PodScheduled. Each condition's lastTransitionTime is the previous one when
// its status did not change, and now when it did (see MergeConditions).
func Conditions(in ConditionInput, now time.Time) []v1.PodCondition {
	spec := in.Spec
	if spec == nil {
		spec = &v1.PodSpec{}
	}
	all := make([]v1.ContainerStatus, 0, len(in.InitStatuses)+len(in.Statuses))
	all = append(all, in.InitStatuses...)
	all = append(all, in.Statuses...)
	if len(all) == 0 {
		// The kubelet distinguishes "no statuses at all" (nil) from statuses
		// that miss some containers.
		all = nil
	}

	var foreign []v1.PodCondition
	for _, c := range in.Previous {
		if !ownedByKubelet(c.Type) {
			foreign = append(foreign, c)
		}
	}

	generated := []v1.PodCondition{
		readyToStartContainersCondition(in.SandboxReady, in.SandboxMessage),
		InitializedCondition(spec, all, in.Phase),
	}
	// As the kubelet, readiness gates are looked up among the conditions
	// gathered so far: the foreign ones, PodReadyToStartContainers and
	// Initialized.
	gateSource := append(append([]v1.PodCondition{}, foreign...), generated...)
	generated = append(generated,
		ReadyCondition(spec, gateSource, all, in.Phase),
		ContainersReadyCondition(spec, all, in.Phase),
		v1.PodCondition{Type: v1.PodScheduled, Status: v1.ConditionTrue},
	)
	for i := range generated {
		generated[i].ObservedGeneration = in.Generation
	}

	out := make([]v1.PodCondition, 0, len(foreign)+len(generated))
	out = append(out, foreign...)
	return append(out, MergeConditions(in.Previous, generated, now)...)
}

// MergeConditions returns current with each condition's lastTransitionTime set
// as the kubelet's status manager sets it: kept from the previous condition of
// the same type when the status is unchanged (and that time is known), now
// otherwise. now is truncated to the second, the precision a condition's time
// has once serialized, so a published condition compares equal to its
// round-tripped self. current is not modified.
func MergeConditions(previous, current []v1.PodCondition, now time.Time) []v1.PodCondition {
	stamp := metav1.NewTime(now.Truncate(time.Second))
	out := make([]v1.PodCondition, len(current))
	for i, c := range current {
		c.LastTransitionTime = stamp
		for _, p := range previous {
			if p.Type == c.Type {
				if p.Status == c.Status && !p.LastTransitionTime.IsZero() {
					c.LastTransitionTime = p.LastTransitionTime
				}
				break
			}
		}
		out[i] = c
	}
	return out
}

// InitializedCondition is the kubelet's Initialized condition: True once every
// regular init container completed and every sidecar started, or once a
// regular container has started (a restarting sidecar does not uninitialize
// the pod); True with reason PodCompleted when the pod succeeded; otherwise
// False with ContainersNotInitialized and "containers with incomplete status:
// [a b]" (preceded by "containers with unknown status: [c]" for init
// containers that have no status). statuses holds init and regular container
// statuses together; nil means none is known yet.
func InitializedCondition(spec *v1.PodSpec, statuses []v1.ContainerStatus, phase v1.PodPhase) v1.PodCondition {
	if statuses == nil && len(spec.InitContainers) > 0 {
		return v1.PodCondition{Type: v1.PodInitialized, Status: v1.ConditionFalse, Reason: UnknownContainerStatuses}
	}

	var unknown, incomplete []string
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		s, ok := findStatus(statuses, c.Name)
		if !ok {
			unknown = append(unknown, c.Name)
			continue
		}
		if !initContainerDone(c, s) {
			incomplete = append(incomplete, c.Name)
		}
	}

	if phase == v1.PodSucceeded && len(unknown) == 0 {
		return v1.PodCondition{Type: v1.PodInitialized, Status: v1.ConditionTrue, Reason: PodCompleted}
	}
	if anyRegularContainerStarted(spec, statuses) {
		return v1.PodCondition{Type: v1.PodInitialized, Status: v1.ConditionTrue}
	}

	return containersCondition(v1.PodInitialized, ContainersNotInitialized, unknown, "incomplete", incomplete)
}

// ContainersReadyCondition is the kubelet's ContainersReady condition: True
// when every regular container and every sidecar is ready; False with
// PodCompleted when the pod succeeded and PodFailed when it failed; otherwise
// False with ContainersNotReady and "containers with unready status: [a b]"
// (preceded by "containers with unknown status: [c]" for containers without a
// status). statuses holds init and regular container statuses together; nil
// means none is known yet.
func ContainersReadyCondition(spec *v1.PodSpec, statuses []v1.ContainerStatus, phase v1.PodPhase) v1.PodCondition {
	if statuses == nil {
		return v1.PodCondition{Type: v1.ContainersReady, Status: v1.ConditionFalse, Reason: UnknownContainerStatuses}
	}

	var unknown, unready []string
	check := func(name string) {
		s, ok := findStatus(statuses, name)
		switch {
		case !ok:
			unknown = append(unknown, name)
		case !s.Ready:
			unready = append(unready, name)
		}
	}
	for i := range spec.InitContainers {
		if isSidecar(&spec.InitContainers[i]) {
			check(spec.InitContainers[i].Name)
		}
	}
	for i := range spec.Containers {
		check(spec.Containers[i].Name)
	}

	if phase == v1.PodSucceeded && len(unknown) == 0 {
		return v1.PodCondition{Type: v1.ContainersReady, Status: v1.ConditionFalse, Reason: PodCompleted}
	}
	if phase == v1.PodFailed {
		// Containers of a failed pod may still be stopping; none counts as ready.
		return v1.PodCondition{Type: v1.ContainersReady, Status: v1.ConditionFalse, Reason: PodFailed}
	}

	return containersCondition(v1.ContainersReady, ContainersNotReady, unknown, "unready", unready)
}

// containersCondition is True when no container is listed, otherwise False
// with reason and the kubelet's message: "containers with unknown status:
// [a], containers with <what> status: [b c]".
func containersCondition(t v1.PodConditionType, reason string, unknown []string, what string, listed []string) v1.PodCondition {
	var msgs []string
	if len(unknown) > 0 {
		msgs = append(msgs, fmt.Sprintf("containers with unknown status: %s", unknown))
	}
	if len(listed) > 0 {
		msgs = append(msgs, fmt.Sprintf("containers with %s status: %s", what, listed))
	}
	if len(msgs) == 0 {
		return v1.PodCondition{Type: t, Status: v1.ConditionTrue}
	}
	return v1.PodCondition{Type: t, Status: v1.ConditionFalse, Reason: reason, Message: strings.Join(msgs, ", ")}
}

// ReadyCondition is the kubelet's Ready condition: the status, reason and
// message of ContainersReady while that is not True; then False with
// ReadinessGatesNotReady while a readiness gate's condition is missing from
// conditions ("corresponding condition of pod readiness gate \"x\" does not
// exist.") or not True ("the status of pod readiness gate \"x\" is not
// \"True\", but False"), the messages joined by ", "; True otherwise.
func ReadyCondition(spec *v1.PodSpec, conditions []v1.PodCondition, statuses []v1.ContainerStatus, phase v1.PodPhase) v1.PodCondition {
	cr := ContainersReadyCondition(spec, statuses, phase)
	if cr.Status != v1.ConditionTrue {
		return v1.PodCondition{Type: v1.PodReady, Status: cr.Status, Reason: cr.Reason, Message: cr.Message}
	}

	var msgs []string
	for _, gate := range spec.ReadinessGates {
		c, ok := findCondition(conditions, gate.ConditionType)
		switch {
		case !ok:
			msgs = append(msgs, fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", string(gate.ConditionType)))
		case c.Status != v1.ConditionTrue:
			msgs = append(msgs, fmt.Sprintf("the status of pod readiness gate %q is not \"True\", but %v", string(gate.ConditionType), c.Status))
		}
	}
	if len(msgs) > 0 {
		return v1.PodCondition{
			Type:    v1.PodReady,
			Status:  v1.ConditionFalse,
			Reason:  ReadinessGatesNotReady,
			Message: strings.Join(msgs, ", "),
		}
	}
	return v1.PodCondition{Type: v1.PodReady, Status: v1.ConditionTrue}
}

func readyToStartContainersCondition(sandboxReady bool, message string) v1.PodCondition {
	if sandboxReady {
		return v1.PodCondition{Type: v1.PodReadyToStartContainers, Status: v1.ConditionTrue}
	}
	if message == "" {
		message = SandboxMessageNoSandbox
	}
	return v1.PodCondition{
		Type:    v1.PodReadyToStartContainers,
		Status:  v1.ConditionFalse,
		Reason:  PodSandboxNotReady,
		Message: message,
	}
}

// initContainerDone is the kubelet's isInitContainerInitialized: a sidecar
// counts once started, a regular init container once ready (exited 0).
func initContainerDone(c *v1.Container, s *v1.ContainerStatus) bool {
	if isSidecar(c) {
		return isTrue(s.Started)
	}
	return s.Ready
}

// ownedByKubelet reports whether the kubelet generates conditions of type t,
// so that a previous one is replaced rather than carried over.
func ownedByKubelet(t v1.PodConditionType) bool {
	switch t {
	case v1.PodScheduled, v1.PodReady, v1.PodInitialized, v1.ContainersReady, v1.PodReadyToStartContainers:
		return true
	}
	return false
}

func findCondition(conditions []v1.PodCondition, t v1.PodConditionType) (*v1.PodCondition, bool) {
	for i := range conditions {
		if conditions[i].Type == t {
			return &conditions[i], true
		}
	}
	return nil, false
}
