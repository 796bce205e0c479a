package status

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fxFormatConditions renders conditions one per line for failure messages.
func fxFormatConditions(cs ...v1.PodCondition) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "\n  %s=%s reason=%q message=%q lastTransitionTime=%s observedGeneration=%d",
			c.Type, c.Status, c.Reason, c.Message, c.LastTransitionTime.UTC().Format(time.RFC3339Nano), c.ObservedGeneration)
	}
	return b.String()
}

func fxCondition(t v1.PodConditionType, s v1.ConditionStatus, reason, message string) v1.PodCondition {
	return v1.PodCondition{Type: t, Status: s, Reason: reason, Message: message}
}

func TestInitializedCondition(t *testing.T) {
	twoInit := fxSpec(v1.RestartPolicyAlways, []v1.Container{fxInit("a"), fxInit("b")}, "app")
	withSidecar := fxSpec(v1.RestartPolicyAlways, []v1.Container{fxInit("a"), fxSidecar("s")}, "app")
	noInit := fxSpec(v1.RestartPolicyAlways, nil, "app")

	tests := []struct {
		name     string
		spec     *v1.PodSpec
		statuses []v1.ContainerStatus
		phase    v1.PodPhase
		want     v1.PodCondition
	}{
		{
			name:  "NoInitContainersIsInitialized",
			spec:  noInit,
			phase: v1.PodPending,
			want:  fxCondition(v1.PodInitialized, v1.ConditionTrue, "", ""),
		},
		{
			name:  "NoStatusesYetIsUnknown",
			spec:  twoInit,
			phase: v1.PodPending,
			want:  fxCondition(v1.PodInitialized, v1.ConditionFalse, UnknownContainerStatuses, ""),
		},
		{
			name:     "InitContainersNotDoneListsThemInOrder",
			spec:     twoInit,
			statuses: fxStatuses(fxRunning("a"), fxWaiting("b"), fxWaiting("app")),
			phase:    v1.PodPending,
			want:     fxCondition(v1.PodInitialized, v1.ConditionFalse, ContainersNotInitialized, "containers with incomplete status: [a b]"),
		},
		{
			name:     "UnknownListedBeforeIncomplete",
			spec:     twoInit,
			statuses: fxStatuses(fxRunning("a")),
			phase:    v1.PodPending,
			want:     fxCondition(v1.PodInitialized, v1.ConditionFalse, ContainersNotInitialized, "containers with unknown status: [b], containers with incomplete status: [a]"),
		},
		{
			name:     "AllInitContainersReadyIsInitialized",
			spec:     twoInit,
			statuses: fxStatuses(fxReady(fxTerminated("a", 0)), fxReady(fxTerminated("b", 0)), fxWaiting("app")),
			phase:    v1.PodPending,
			want:     fxCondition(v1.PodInitialized, v1.ConditionTrue, "", ""),
		},
		{
			name:     "SidecarNotStartedIsIncomplete",
			spec:     withSidecar,
			statuses: fxStatuses(fxReady(fxTerminated("a", 0)), fxRunning("s")),
			phase:    v1.PodPending,
			want:     fxCondition(v1.PodInitialized, v1.ConditionFalse, ContainersNotInitialized, "containers with incomplete status: [s]"),
		},
		{
			name:     "SidecarStartedCountsAsInitializedEvenIfNotReady",
			spec:     withSidecar,
			statuses: fxStatuses(fxReady(fxTerminated("a", 0)), fxStarted("s"), fxWaiting("app")),
			phase:    v1.PodPending,
			want:     fxCondition(v1.PodInitialized, v1.ConditionTrue, "", ""),
		},
		{
			name:     "RestartingSidecarDoesNotUninitializeOnceAppStarted",
			spec:     withSidecar,
			statuses: fxStatuses(fxReady(fxTerminated("a", 0)), fxWaitingAfter("s", 1), fxRunning("app")),
			phase:    v1.PodRunning,
			want:     fxCondition(v1.PodInitialized, v1.ConditionTrue, "", ""),
		},
		{
			name:     "SucceededPodIsInitializedWithPodCompleted",
			spec:     twoInit,
			statuses: fxStatuses(fxTerminated("a", 0), fxTerminated("b", 0), fxTerminated("app", 0)),
			phase:    v1.PodSucceeded,
			want:     fxCondition(v1.PodInitialized, v1.ConditionTrue, PodCompleted, ""),
		},
		{
			name:     "FailedInitWithNeverStaysNotInitialized",
			spec:     twoInit,
			statuses: fxStatuses(fxTerminated("a", 1), fxWaiting("b"), fxWaiting("app")),
			phase:    v1.PodFailed,
			want:     fxCondition(v1.PodInitialized, v1.ConditionFalse, ContainersNotInitialized, "containers with incomplete status: [a b]"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := InitializedCondition(tt.spec, tt.statuses, tt.phase)
			if !reflect.DeepEqual(tt.want, got) {
				t.Errorf("InitializedCondition() =%s\nwant%s", fxFormatConditions(got), fxFormatConditions(tt.want))
			}
		})
	}
}

func TestContainersReadyCondition(t *testing.T) {
	spec := fxSpec(v1.RestartPolicyAlways, []v1.Container{fxInit("init"), fxSidecar("s")}, "a", "b")

	tests := []struct {
		name     string
		statuses []v1.ContainerStatus
		phase    v1.PodPhase
		want     v1.PodCondition
	}{
		{
			name:  "NoStatusesYetIsUnknown",
			phase: v1.PodPending,
			want:  fxCondition(v1.ContainersReady, v1.ConditionFalse, UnknownContainerStatuses, ""),
		},
		{
			name:     "AllReadyIsTrue",
			statuses: fxStatuses(fxTerminated("init", 0), fxReady(fxStarted("s")), fxReady(fxRunning("a")), fxReady(fxRunning("b"))),
			phase:    v1.PodRunning,
			want:     fxCondition(v1.ContainersReady, v1.ConditionTrue, "", ""),
		},
		{
			name:     "UnreadyAppContainersListedInOrder",
			statuses: fxStatuses(fxReady(fxStarted("s")), fxRunning("a"), fxRunning("b")),
			phase:    v1.PodRunning,
			want:     fxCondition(v1.ContainersReady, v1.ConditionFalse, ContainersNotReady, "containers with unready status: [a b]"),
		},
		{
			name:     "UnreadySidecarCountsAndComesFirst",
			statuses: fxStatuses(fxStarted("s"), fxReady(fxRunning("a")), fxRunning("b")),
			phase:    v1.PodRunning,
			want:     fxCondition(v1.ContainersReady, v1.ConditionFalse, ContainersNotReady, "containers with unready status: [s b]"),
		},
		{
			name:     "RegularInitContainerDoesNotCount",
			statuses: fxStatuses(fxRunning("init"), fxReady(fxStarted("s")), fxReady(fxRunning("a")), fxReady(fxRunning("b"))),
			phase:    v1.PodRunning,
			want:     fxCondition(v1.ContainersReady, v1.ConditionTrue, "", ""),
		},
		{
			name:     "UnknownListedBeforeUnready",
			statuses: fxStatuses(fxReady(fxStarted("s")), fxRunning("a")),
			phase:    v1.PodPending,
			want:     fxCondition(v1.ContainersReady, v1.ConditionFalse, ContainersNotReady, "containers with unknown status: [b], containers with unready status: [a]"),
		},
		{
			name:     "SucceededPodIsPodCompleted",
			statuses: fxStatuses(fxTerminated("s", 0), fxTerminated("a", 0), fxTerminated("b", 0)),
			phase:    v1.PodSucceeded,
			want:     fxCondition(v1.ContainersReady, v1.ConditionFalse, PodCompleted, ""),
		},
		{
			name:     "SucceededWithUnknownContainerListsIt",
			statuses: fxStatuses(fxTerminated("s", 0), fxTerminated("a", 0)),
			phase:    v1.PodSucceeded,
			want:     fxCondition(v1.ContainersReady, v1.ConditionFalse, ContainersNotReady, "containers with unknown status: [b], containers with unready status: [s a]"),
		},
		{
			name:     "FailedPodIsPodFailedEvenWithReadyContainers",
			statuses: fxStatuses(fxReady(fxStarted("s")), fxReady(fxRunning("a")), fxTerminated("b", 1)),
			phase:    v1.PodFailed,
			want:     fxCondition(v1.ContainersReady, v1.ConditionFalse, PodFailed, ""),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ContainersReadyCondition(spec, tt.statuses, tt.phase)
			if !reflect.DeepEqual(tt.want, got) {
				t.Errorf("ContainersReadyCondition() =%s\nwant%s", fxFormatConditions(got), fxFormatConditions(tt.want))
			}
		})
	}
}

func TestReadyCondition(t *testing.T) {
	spec := fxSpec(v1.RestartPolicyAlways, nil, "a")
	gated := fxSpec(v1.RestartPolicyAlways, nil, "a")
	gated.ReadinessGates = []v1.PodReadinessGate{{ConditionType: "example.com/lb"}, {ConditionType: "example.com/db"}}
	ready := fxStatuses(fxReady(fxRunning("a")))

	tests := []struct {
		name       string
		spec       *v1.PodSpec
		conditions []v1.PodCondition
		statuses   []v1.ContainerStatus
		phase      v1.PodPhase
		want       v1.PodCondition
	}{
		{
			name:     "ContainersReadyIsReady",
			spec:     spec,
			statuses: ready,
			phase:    v1.PodRunning,
			want:     fxCondition(v1.PodReady, v1.ConditionTrue, "", ""),
		},
		{
			name:     "CopiesContainersNotReady",
			spec:     spec,
			statuses: fxStatuses(fxRunning("a")),
			phase:    v1.PodRunning,
			want:     fxCondition(v1.PodReady, v1.ConditionFalse, ContainersNotReady, "containers with unready status: [a]"),
		},
		{
			name:     "CopiesPodCompleted",
			spec:     spec,
			statuses: fxStatuses(fxTerminated("a", 0)),
			phase:    v1.PodSucceeded,
			want:     fxCondition(v1.PodReady, v1.ConditionFalse, PodCompleted, ""),
		},
		{
			name:     "MissingGateConditions",
			spec:     gated,
			statuses: ready,
			phase:    v1.PodRunning,
			want: fxCondition(v1.PodReady, v1.ConditionFalse, ReadinessGatesNotReady,
				`corresponding condition of pod readiness gate "example.com/lb" does not exist., corresponding condition of pod readiness gate "example.com/db" does not exist.`),
		},
		{
			name:       "GateFalseAndGateMissing",
			spec:       gated,
			conditions: []v1.PodCondition{fxCondition("example.com/lb", v1.ConditionFalse, "", "")},
			statuses:   ready,
			phase:      v1.PodRunning,
			want: fxCondition(v1.PodReady, v1.ConditionFalse, ReadinessGatesNotReady,
				`the status of pod readiness gate "example.com/lb" is not "True", but False, corresponding condition of pod readiness gate "example.com/db" does not exist.`),
		},
		{
			name:       "GateUnknown",
			spec:       gated,
			conditions: []v1.PodCondition{fxCondition("example.com/lb", v1.ConditionTrue, "", ""), fxCondition("example.com/db", v1.ConditionUnknown, "", "")},
			statuses:   ready,
			phase:      v1.PodRunning,
			want: fxCondition(v1.PodReady, v1.ConditionFalse, ReadinessGatesNotReady,
				`the status of pod readiness gate "example.com/db" is not "True", but Unknown`),
		},
		{
			name:       "AllGatesTrueIsReady",
			spec:       gated,
			conditions: []v1.PodCondition{fxCondition("example.com/db", v1.ConditionTrue, "", ""), fxCondition("example.com/lb", v1.ConditionTrue, "", "")},
			statuses:   ready,
			phase:      v1.PodRunning,
			want:       fxCondition(v1.PodReady, v1.ConditionTrue, "", ""),
		},
		{
			name:       "ContainersNotReadyWinsOverGates",
			spec:       gated,
			conditions: nil,
			statuses:   fxStatuses(fxRunning("a")),
			phase:      v1.PodRunning,
			want:       fxCondition(v1.PodReady, v1.ConditionFalse, ContainersNotReady, "containers with unready status: [a]"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ReadyCondition(tt.spec, tt.conditions, tt.statuses, tt.phase)
			if !reflect.DeepEqual(tt.want, got) {
				t.Errorf("ReadyCondition() =%s\nwant%s", fxFormatConditions(got), fxFormatConditions(tt.want))
			}
		})
	}
}

func TestConditions(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 30, 500_000_000, time.UTC)
	nowStamp := metav1.NewTime(time.Date(2025, 3, 1, 12, 0, 30, 0, time.UTC))
	earlier := metav1.NewTime(time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC))

	spec := fxSpec(v1.RestartPolicyAlways, []v1.Container{fxInit("init"), fxSidecar("side")}, "app")
	gated := spec.DeepCopy()
	gated.ReadinessGates = []v1.PodReadinessGate{{ConditionType: "example.com/lb"}}
	gatedOnInitialized := spec.DeepCopy()
	gatedOnInitialized.ReadinessGates = []v1.PodReadinessGate{{ConditionType: v1.PodInitialized}}
	gatedOnScheduled := spec.DeepCopy()
	gatedOnScheduled.ReadinessGates = []v1.PodReadinessGate{{ConditionType: v1.PodScheduled}}

	initDone := fxStatuses(fxReady(fxTerminated("init", 0)), fxReady(fxStarted("side")))
	appReady := fxStatuses(fxReady(fxRunning("app")))

	at := func(c v1.PodCondition, ts metav1.Time) v1.PodCondition {
		c.LastTransitionTime = ts
		return c
	}

	tests := []struct {
		name string
		in   ConditionInput
		want []v1.PodCondition
	}{
		{
			name: "FreshPodWithoutSandbox",
			in:   ConditionInput{Spec: spec, Phase: v1.PodPending},
			want: []v1.PodCondition{
				at(fxCondition(v1.PodReadyToStartContainers, v1.ConditionFalse, PodSandboxNotReady, "no pod sandbox exists"), nowStamp),
				at(fxCondition(v1.PodInitialized, v1.ConditionFalse, UnknownContainerStatuses, ""), nowStamp),
				at(fxCondition(v1.PodReady, v1.ConditionFalse, UnknownContainerStatuses, ""), nowStamp),
				at(fxCondition(v1.ContainersReady, v1.ConditionFalse, UnknownContainerStatuses, ""), nowStamp),
				at(fxCondition(v1.PodScheduled, v1.ConditionTrue, "", ""), nowStamp),
			},
		},
		{
			name: "SandboxWithoutIPSaysSo",
			in: ConditionInput{Spec: spec, Phase: v1.PodPending, SandboxMessage: "pod sandbox has no IP address",
				InitStatuses: fxStatuses(fxWaiting("init"), fxWaiting("side")), Statuses: fxStatuses(fxWaiting("app"))},
			want: []v1.PodCondition{
				at(fxCondition(v1.PodReadyToStartContainers, v1.ConditionFalse, PodSandboxNotReady, "pod sandbox has no IP address"), nowStamp),
				at(fxCondition(v1.PodInitialized, v1.ConditionFalse, ContainersNotInitialized, "containers with incomplete status: [init side]"), nowStamp),
				at(fxCondition(v1.PodReady, v1.ConditionFalse, ContainersNotReady, "containers with unready status: [side app]"), nowStamp),
				at(fxCondition(v1.ContainersReady, v1.ConditionFalse, ContainersNotReady, "containers with unready status: [side app]"), nowStamp),
				at(fxCondition(v1.PodScheduled, v1.ConditionTrue, "", ""), nowStamp),
			},
		},
		{
			name: "RunningAndReady",
			in:   ConditionInput{Spec: spec, Phase: v1.PodRunning, SandboxReady: true, InitStatuses: initDone, Statuses: appReady},
			want: []v1.PodCondition{
				at(fxCondition(v1.PodReadyToStartContainers, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.PodInitialized, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.PodReady, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.ContainersReady, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.PodScheduled, v1.ConditionTrue, "", ""), nowStamp),
			},
		},
		{
			name: "SucceededPod",
			in: ConditionInput{Spec: spec, Phase: v1.PodSucceeded,
				InitStatuses: fxStatuses(fxReady(fxTerminated("init", 0)), fxTerminated("side", 0)), Statuses: fxStatuses(fxTerminated("app", 0))},
			want: []v1.PodCondition{
				at(fxCondition(v1.PodReadyToStartContainers, v1.ConditionFalse, PodSandboxNotReady, "no pod sandbox exists"), nowStamp),
				at(fxCondition(v1.PodInitialized, v1.ConditionTrue, PodCompleted, ""), nowStamp),
				at(fxCondition(v1.PodReady, v1.ConditionFalse, PodCompleted, ""), nowStamp),
				at(fxCondition(v1.ContainersReady, v1.ConditionFalse, PodCompleted, ""), nowStamp),
				at(fxCondition(v1.PodScheduled, v1.ConditionTrue, "", ""), nowStamp),
			},
		},
		{
			name: "ForeignGateConditionCarriedOverAndUsed",
			in: ConditionInput{Spec: gated, Phase: v1.PodRunning, SandboxReady: true, InitStatuses: initDone, Statuses: appReady,
				Previous: []v1.PodCondition{
					at(fxCondition(v1.PodReady, v1.ConditionFalse, ReadinessGatesNotReady, "old"), earlier),
					at(fxCondition("example.com/lb", v1.ConditionFalse, "Draining", "lb says no"), earlier),
				}},
			want: []v1.PodCondition{
				at(fxCondition("example.com/lb", v1.ConditionFalse, "Draining", "lb says no"), earlier),
				at(fxCondition(v1.PodReadyToStartContainers, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.PodInitialized, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.PodReady, v1.ConditionFalse, ReadinessGatesNotReady, `the status of pod readiness gate "example.com/lb" is not "True", but False`), earlier),
				at(fxCondition(v1.ContainersReady, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.PodScheduled, v1.ConditionTrue, "", ""), nowStamp),
			},
		},
		{
			name: "GateOnInitializedFindsTheGeneratedCondition",
			in:   ConditionInput{Spec: gatedOnInitialized, Phase: v1.PodRunning, SandboxReady: true, InitStatuses: initDone, Statuses: appReady},
			want: []v1.PodCondition{
				at(fxCondition(v1.PodReadyToStartContainers, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.PodInitialized, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.PodReady, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.ContainersReady, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.PodScheduled, v1.ConditionTrue, "", ""), nowStamp),
			},
		},
		{
			// As the kubelet: PodScheduled is appended after Ready is computed.
			name: "GateOnPodScheduledDoesNotSeeIt",
			in:   ConditionInput{Spec: gatedOnScheduled, Phase: v1.PodRunning, SandboxReady: true, InitStatuses: initDone, Statuses: appReady},
			want: []v1.PodCondition{
				at(fxCondition(v1.PodReadyToStartContainers, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.PodInitialized, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.PodReady, v1.ConditionFalse, ReadinessGatesNotReady, `corresponding condition of pod readiness gate "PodScheduled" does not exist.`), nowStamp),
				at(fxCondition(v1.ContainersReady, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.PodScheduled, v1.ConditionTrue, "", ""), nowStamp),
			},
		},
		{
			name: "UnchangedStatusesKeepTheirTransitionTime",
			in: ConditionInput{Spec: spec, Phase: v1.PodRunning, SandboxReady: true, InitStatuses: initDone, Statuses: fxStatuses(fxRunning("app")),
				Previous: []v1.PodCondition{
					at(fxCondition(v1.PodReadyToStartContainers, v1.ConditionTrue, "", ""), earlier),
					at(fxCondition(v1.PodInitialized, v1.ConditionFalse, ContainersNotInitialized, "containers with incomplete status: [side]"), earlier),
					at(fxCondition(v1.PodReady, v1.ConditionTrue, "", ""), earlier),
					at(fxCondition(v1.ContainersReady, v1.ConditionFalse, ContainersNotReady, "containers with unready status: [side]"), earlier),
					fxCondition(v1.PodScheduled, v1.ConditionTrue, "", ""),
				}},
			want: []v1.PodCondition{
				at(fxCondition(v1.PodReadyToStartContainers, v1.ConditionTrue, "", ""), earlier),
				at(fxCondition(v1.PodInitialized, v1.ConditionTrue, "", ""), nowStamp),
				at(fxCondition(v1.PodReady, v1.ConditionFalse, ContainersNotReady, "containers with unready status: [app]"), nowStamp),
				at(fxCondition(v1.ContainersReady, v1.ConditionFalse, ContainersNotReady, "containers with unready status: [app]"), earlier),
				at(fxCondition(v1.PodScheduled, v1.ConditionTrue, "", ""), nowStamp),
			},
		},
		{
			name: "GenerationRecordedAsObservedGeneration",
			in:   ConditionInput{Spec: &v1.PodSpec{}, Generation: 3, Phase: v1.PodRunning, SandboxReady: true},
			want: func() []v1.PodCondition {
				cs := []v1.PodCondition{
					at(fxCondition(v1.PodReadyToStartContainers, v1.ConditionTrue, "", ""), nowStamp),
					at(fxCondition(v1.PodInitialized, v1.ConditionTrue, "", ""), nowStamp),
					at(fxCondition(v1.PodReady, v1.ConditionFalse, UnknownContainerStatuses, ""), nowStamp),
					at(fxCondition(v1.ContainersReady, v1.ConditionFalse, UnknownContainerStatuses, ""), nowStamp),
					at(fxCondition(v1.PodScheduled, v1.ConditionTrue, "", ""), nowStamp),
				}
				for i := range cs {
					cs[i].ObservedGeneration = 3
				}
				return cs
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Conditions(tt.in, now)
			if !reflect.DeepEqual(tt.want, got) {
				t.Errorf("Conditions() =%s\nwant%s", fxFormatConditions(got...), fxFormatConditions(tt.want...))
			}
		})
	}
}

func TestMergeConditions(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 30, 900_000_000, time.UTC)
	nowStamp := metav1.NewTime(time.Date(2025, 3, 1, 12, 0, 30, 0, time.UTC))
	earlier := metav1.NewTime(time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC))

	tests := []struct {
		name     string
		previous []v1.PodCondition
		current  v1.PodCondition
		want     metav1.Time
	}{
		{
			name:    "NewConditionGetsNow",
			current: fxCondition(v1.PodReady, v1.ConditionFalse, "", ""),
			want:    nowStamp,
		},
		{
			name:     "SameStatusKeepsPreviousTime",
			previous: []v1.PodCondition{{Type: v1.PodReady, Status: v1.ConditionTrue, LastTransitionTime: earlier}},
			current:  fxCondition(v1.PodReady, v1.ConditionTrue, "", ""),
			want:     earlier,
		},
		{
			name:     "SameStatusDifferentReasonKeepsPreviousTime",
			previous: []v1.PodCondition{{Type: v1.PodReady, Status: v1.ConditionFalse, Reason: ContainersNotReady, LastTransitionTime: earlier}},
			current:  fxCondition(v1.PodReady, v1.ConditionFalse, ReadinessGatesNotReady, ""),
			want:     earlier,
		},
		{
			name:     "ChangedStatusGetsNow",
			previous: []v1.PodCondition{{Type: v1.PodReady, Status: v1.ConditionFalse, LastTransitionTime: earlier}},
			current:  fxCondition(v1.PodReady, v1.ConditionTrue, "", ""),
			want:     nowStamp,
		},
		{
			name:     "PreviousWithoutTimeGetsNow",
			previous: []v1.PodCondition{{Type: v1.PodReady, Status: v1.ConditionTrue}},
			current:  fxCondition(v1.PodReady, v1.ConditionTrue, "", ""),
			want:     nowStamp,
		},
		{
			name:     "OtherTypesDoNotCount",
			previous: []v1.PodCondition{{Type: v1.ContainersReady, Status: v1.ConditionTrue, LastTransitionTime: earlier}},
			current:  fxCondition(v1.PodReady, v1.ConditionTrue, "", ""),
			want:     nowStamp,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			current := []v1.PodCondition{tt.current}
			got := MergeConditions(tt.previous, current, now)
			if len(got) != 1 {
				t.Fatalf("MergeConditions() returned %d conditions, want 1", len(got))
			}
			if !got[0].LastTransitionTime.Equal(&tt.want) {
				t.Errorf("lastTransitionTime = %v, want %v", got[0].LastTransitionTime, tt.want)
			}
			if !current[0].LastTransitionTime.IsZero() {
				t.Errorf("MergeConditions modified its input: %+v", current[0])
			}
		})
	}
}

func TestMergeConditions_TimeSurvivesSerialization(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 30, 123_456_789, time.UTC)
	got := MergeConditions(nil, []v1.PodCondition{fxCondition(v1.PodReady, v1.ConditionTrue, "", "")}, now)
	data, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var back []v1.PodCondition
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 1 || !back[0].LastTransitionTime.Equal(&got[0].LastTransitionTime) {
		t.Errorf("lastTransitionTime changed through JSON: published%s\nread back%s", fxFormatConditions(got...), fxFormatConditions(back...))
	}
}
