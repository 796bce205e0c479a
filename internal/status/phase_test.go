package status

import (
	"testing"

	v1 "k8s.io/api/core/v1"
)

// Container status fixtures shared by the tests of this package.

func fxRunning(name string) v1.ContainerStatus {
	return v1.ContainerStatus{Name: name, State: v1.ContainerState{Running: &v1.ContainerStateRunning{}}}
}

func fxStarted(name string) v1.ContainerStatus {
	s := fxRunning(name)
	s.Started = fxBool(true)
	return s
}

func fxReady(s v1.ContainerStatus) v1.ContainerStatus {
	s.Ready = true
	return s
}

func fxTerminated(name string, exitCode int32) v1.ContainerStatus {
	return v1.ContainerStatus{Name: name, State: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ExitCode: exitCode}}}
}

// fxWaiting is a container waiting for its first run.
func fxWaiting(name string) v1.ContainerStatus {
	return v1.ContainerStatus{Name: name, State: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{}}}
}

// fxWaitingAfter is a container waiting to be restarted after a run that
// exited with exitCode.
func fxWaitingAfter(name string, exitCode int32) v1.ContainerStatus {
	s := fxWaiting(name)
	s.LastTerminationState.Terminated = &v1.ContainerStateTerminated{ExitCode: exitCode}
	return s
}

// fxNoState is a status the runtime reported no state for.
func fxNoState(name string) v1.ContainerStatus {
	return v1.ContainerStatus{Name: name}
}

func fxBool(b bool) *bool { return &b }

func fxSpec(policy v1.RestartPolicy, initContainers []v1.Container, names ...string) *v1.PodSpec {
	spec := &v1.PodSpec{RestartPolicy: policy, InitContainers: initContainers}
	for _, n := range names {
		spec.Containers = append(spec.Containers, v1.Container{Name: n})
	}
	return spec
}

func fxInit(name string) v1.Container { return v1.Container{Name: name} }

func fxSidecar(name string) v1.Container {
	always := v1.ContainerRestartPolicyAlways
	return v1.Container{Name: name, RestartPolicy: &always}
}

func fxStatuses(s ...v1.ContainerStatus) []v1.ContainerStatus { return s }

func TestPodPhase(t *testing.T) {
	always := fxSpec(v1.RestartPolicyAlways, nil, "a", "b")
	never := fxSpec(v1.RestartPolicyNever, nil, "a", "b")
	onFailure := fxSpec(v1.RestartPolicyOnFailure, nil, "a", "b")
	initAlways := fxSpec(v1.RestartPolicyAlways, []v1.Container{fxInit("x")}, "a", "b")
	initNever := fxSpec(v1.RestartPolicyNever, []v1.Container{fxInit("x")}, "a", "b")
	initOnFailure := fxSpec(v1.RestartPolicyOnFailure, []v1.Container{fxInit("x")}, "a", "b")
	sidecarAlways := fxSpec(v1.RestartPolicyAlways, []v1.Container{fxSidecar("s")}, "a", "b")
	sidecarNever := fxSpec(v1.RestartPolicyNever, []v1.Container{fxSidecar("s")}, "a", "b")
	sidecarOnFailure := fxSpec(v1.RestartPolicyOnFailure, []v1.Container{fxSidecar("s")}, "a", "b")
	sidecarThenInit := fxSpec(v1.RestartPolicyAlways, []v1.Container{fxSidecar("s"), fxInit("x")}, "a")

	tests := []struct {
		name     string
		spec     *v1.PodSpec
		init     []v1.ContainerStatus
		statuses []v1.ContainerStatus
		terminal bool
		want     v1.PodPhase
	}{
		// restartPolicy Always
		{name: "NoStatusesYetIsPending", spec: always, want: v1.PodPending},
		{name: "AllRunningIsRunning", spec: always, statuses: fxStatuses(fxRunning("a"), fxRunning("b")), want: v1.PodRunning},
		{name: "AlwaysAllStoppedIsRunningBecauseTheyRestart", spec: always, statuses: fxStatuses(fxTerminated("a", 0), fxTerminated("b", 1)), want: v1.PodRunning},
		{name: "AlwaysAllSucceededButTerminalIsSucceeded", spec: always, statuses: fxStatuses(fxTerminated("a", 0), fxTerminated("b", 0)), terminal: true, want: v1.PodSucceeded},
		{name: "AlwaysOneFailedAndTerminalIsFailed", spec: always, statuses: fxStatuses(fxTerminated("a", 0), fxTerminated("b", 137)), terminal: true, want: v1.PodFailed},
		{name: "RunningAndStoppedIsRunning", spec: always, statuses: fxStatuses(fxRunning("a"), fxTerminated("b", 1)), want: v1.PodRunning},
		{name: "RunningAndMissingStatusIsPending", spec: always, statuses: fxStatuses(fxRunning("a")), want: v1.PodPending},
		{name: "RunningAndWaitingForFirstRunIsPending", spec: always, statuses: fxStatuses(fxRunning("a"), fxWaiting("b")), want: v1.PodPending},
		{name: "RunningAndCrashLoopingIsRunning", spec: always, statuses: fxStatuses(fxRunning("a"), fxWaitingAfter("b", 1)), want: v1.PodRunning},
		{name: "AllCrashLoopingIsRunning", spec: always, statuses: fxStatuses(fxWaitingAfter("a", 1), fxWaitingAfter("b", 2)), want: v1.PodRunning},
		{name: "StatusWithoutStateIsPending", spec: always, statuses: fxStatuses(fxRunning("a"), fxNoState("b")), want: v1.PodPending},
		{name: "TerminalButStillRunningIsRunning", spec: always, statuses: fxStatuses(fxRunning("a"), fxTerminated("b", 0)), terminal: true, want: v1.PodRunning},

		// restartPolicy Never
		{name: "NeverAllSucceededIsSucceeded", spec: never, statuses: fxStatuses(fxTerminated("a", 0), fxTerminated("b", 0)), want: v1.PodSucceeded},
		{name: "NeverOneFailedIsFailed", spec: never, statuses: fxStatuses(fxTerminated("a", 0), fxTerminated("b", 1)), want: v1.PodFailed},
		{name: "NeverRunningAndSucceededIsRunning", spec: never, statuses: fxStatuses(fxRunning("a"), fxTerminated("b", 0)), want: v1.PodRunning},
		{name: "NeverWaitingIsPending", spec: never, statuses: fxStatuses(fxWaiting("a"), fxWaiting("b")), want: v1.PodPending},

		// restartPolicy OnFailure
		{name: "OnFailureAllSucceededIsSucceeded", spec: onFailure, statuses: fxStatuses(fxTerminated("a", 0), fxTerminated("b", 0)), want: v1.PodSucceeded},
		{name: "OnFailureOneFailedIsRunningBecauseItRestarts", spec: onFailure, statuses: fxStatuses(fxTerminated("a", 0), fxTerminated("b", 1)), want: v1.PodRunning},
		{name: "OnFailureBackingOffIsRunning", spec: onFailure, statuses: fxStatuses(fxTerminated("a", 0), fxWaitingAfter("b", 1)), want: v1.PodRunning},
		{name: "OnFailureOneFailedAndTerminalIsFailed", spec: onFailure, statuses: fxStatuses(fxTerminated("a", 0), fxTerminated("b", 1)), terminal: true, want: v1.PodFailed},

		// regular init containers
		{name: "InitNoStatusIsPending", spec: initAlways, want: v1.PodPending},
		{name: "InitRunningIsPending", spec: initAlways, init: fxStatuses(fxRunning("x")), want: v1.PodPending},
		{name: "InitWaitingForFirstRunIsPending", spec: initAlways, init: fxStatuses(fxWaiting("x")), want: v1.PodPending},
		{name: "InitWithoutStateIsPending", spec: initAlways, init: fxStatuses(fxNoState("x")), want: v1.PodPending},
		{name: "InitFailedWithAlwaysIsPendingForRetry", spec: initAlways, init: fxStatuses(fxTerminated("x", 1)), want: v1.PodPending},
		{name: "InitBackingOffWithAlwaysIsPending", spec: initAlways, init: fxStatuses(fxWaitingAfter("x", 1)), want: v1.PodPending},
		{name: "InitFailedWithOnFailureIsPendingForRetry", spec: initOnFailure, init: fxStatuses(fxTerminated("x", 1)), want: v1.PodPending},
		{name: "InitFailedWithNeverFailsThePod", spec: initNever, init: fxStatuses(fxTerminated("x", 1)), want: v1.PodFailed},
		{name: "InitLastRunFailedWithNeverFailsThePod", spec: initNever, init: fxStatuses(fxWaitingAfter("x", 2)), want: v1.PodFailed},
		{name: "InitFailedWithNeverFailsEvenWithAppsWaiting", spec: initNever, init: fxStatuses(fxTerminated("x", 1)), statuses: fxStatuses(fxWaiting("a"), fxWaiting("b")), want: v1.PodFailed},
		{name: "InitSucceededAndAppsRunningIsRunning", spec: initAlways, init: fxStatuses(fxTerminated("x", 0)), statuses: fxStatuses(fxRunning("a"), fxRunning("b")), want: v1.PodRunning},
		{name: "InitSucceededAndAppsWaitingIsPending", spec: initAlways, init: fxStatuses(fxTerminated("x", 0)), statuses: fxStatuses(fxWaiting("a"), fxWaiting("b")), want: v1.PodPending},
		{name: "InitSucceededAndAppsSucceededWithNeverIsSucceeded", spec: initNever, init: fxStatuses(fxTerminated("x", 0)), statuses: fxStatuses(fxTerminated("a", 0), fxTerminated("b", 0)), want: v1.PodSucceeded},
		{name: "InitRerunningAfterAppsRanIsPending", spec: initAlways, init: fxStatuses(fxRunning("x")), statuses: fxStatuses(fxRunning("a"), fxRunning("b")), want: v1.PodPending},

		// native sidecars
		{name: "SidecarWaitingForFirstRunIsPending", spec: sidecarAlways, init: fxStatuses(fxWaiting("s")), want: v1.PodPending},
		{name: "SidecarRunningNotStartedIsPending", spec: sidecarAlways, init: fxStatuses(fxRunning("s")), want: v1.PodPending},
		{name: "SidecarStartedAndAppsWithoutStatusIsPending", spec: sidecarAlways, init: fxStatuses(fxStarted("s")), want: v1.PodPending},
		{name: "SidecarStartedAndOneAppRunningIsPending", spec: sidecarAlways, init: fxStatuses(fxStarted("s")), statuses: fxStatuses(fxRunning("a")), want: v1.PodPending},
		{name: "SidecarStartedAndAppsRunningIsRunning", spec: sidecarAlways, init: fxStatuses(fxStarted("s")), statuses: fxStatuses(fxRunning("a"), fxRunning("b")), want: v1.PodRunning},
		{name: "SidecarRestartingAfterAppsStartedStaysRunning", spec: sidecarAlways, init: fxStatuses(fxRunning("s")), statuses: fxStatuses(fxRunning("a"), fxRunning("b")), want: v1.PodRunning},
		{name: "SidecarRestartingWhileAppsBackOffStaysRunning", spec: sidecarAlways, init: fxStatuses(fxRunning("s")), statuses: fxStatuses(fxWaitingAfter("a", 1), fxWaitingAfter("b", 1)), want: v1.PodRunning},
		{name: "SidecarBackingOffWithAppsRunningIsRunning", spec: sidecarAlways, init: fxStatuses(fxWaitingAfter("s", 1)), statuses: fxStatuses(fxRunning("a"), fxRunning("b")), want: v1.PodRunning},
		{name: "SidecarStartedBlocksNothingButNextInitRunningIsPending", spec: sidecarThenInit, init: fxStatuses(fxStarted("s"), fxRunning("x")), want: v1.PodPending},
		{name: "SidecarStoppedAndAppsSucceededWithNeverIsSucceeded", spec: sidecarNever, init: fxStatuses(fxTerminated("s", 137)), statuses: fxStatuses(fxTerminated("a", 0), fxTerminated("b", 0)), want: v1.PodSucceeded},
		{name: "SidecarRunningAndAppsSucceededWithNeverIsRunning", spec: sidecarNever, init: fxStatuses(fxStarted("s")), statuses: fxStatuses(fxTerminated("a", 0), fxTerminated("b", 0)), want: v1.PodRunning},
		{name: "SidecarBackingOffAndAppsSucceededWithOnFailureIsSucceeded", spec: sidecarOnFailure, init: fxStatuses(fxWaitingAfter("s", 1)), statuses: fxStatuses(fxTerminated("a", 0), fxTerminated("b", 0)), want: v1.PodSucceeded},
		{name: "SidecarKilledAndAppsSucceededOnTeardownIsSucceeded", spec: sidecarAlways, init: fxStatuses(fxTerminated("s", 143)), statuses: fxStatuses(fxTerminated("a", 0), fxTerminated("b", 0)), terminal: true, want: v1.PodSucceeded},
		{name: "SidecarWithoutStatusIsUnknownSoPending", spec: sidecarAlways, statuses: fxStatuses(fxRunning("a"), fxRunning("b")), want: v1.PodPending},
		{name: "SidecarWithoutStateIsPending", spec: sidecarAlways, init: fxStatuses(fxNoState("s")), statuses: fxStatuses(fxRunning("a"), fxRunning("b")), want: v1.PodPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PodPhase(tt.spec, tt.init, tt.statuses, tt.terminal); got != tt.want {
				t.Errorf("PodPhase() = %s, want %s", got, tt.want)
			}
		})
	}
}
