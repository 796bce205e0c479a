package podcolumns

import (
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The STATUS, READY and RESTARTS rules are tested through their users in
// internal/status (TestStatusColumn, TestReadyColumn, TestRestartsColumn);
// these cover what only the API's Tables show.

func TestWideCells(t *testing.T) {
	tests := []struct {
		name string
		pod  v1.Pod
		want string
	}{
		{name: "Empty", want: "<none> <none> <none> <none>"},
		{name: "FirstPodIP", pod: v1.Pod{
			Spec:   v1.PodSpec{NodeName: "node1"},
			Status: v1.PodStatus{PodIPs: []v1.PodIP{{IP: "10.88.0.5"}, {IP: "fd00::5"}}, NominatedNodeName: "node2"},
		}, want: "10.88.0.5 node1 node2 <none>"},
		{name: "ReadinessGatesMet", pod: v1.Pod{
			Spec:   v1.PodSpec{ReadinessGates: []v1.PodReadinessGate{{ConditionType: "a"}, {ConditionType: "b"}, {ConditionType: "c"}}},
			Status: v1.PodStatus{Conditions: []v1.PodCondition{{Type: "a", Status: v1.ConditionTrue}, {Type: "b", Status: v1.ConditionFalse}}},
		}, want: "<none> <none> <none> 1/3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(WideCells(&tt.pod), " "); got != tt.want {
				t.Errorf("WideCells() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRestartsCell_AgoOfTheLatestRestart(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	finished := func(ago time.Duration) v1.ContainerState {
		return v1.ContainerState{Terminated: &v1.ContainerStateTerminated{FinishedAt: metav1.NewTime(now.Add(-ago))}}
	}
	pod := &v1.Pod{
		Spec: v1.PodSpec{Containers: []v1.Container{{Name: "a"}, {Name: "b"}}},
		Status: v1.PodStatus{ContainerStatuses: []v1.ContainerStatus{
			{Name: "a", RestartCount: 2, LastTerminationState: finished(10 * time.Minute)},
			{Name: "b", RestartCount: 1, LastTerminationState: finished(5 * time.Minute)},
		}},
	}
	if got := Summarize(pod).RestartsCell(now); got != "3 (5m ago)" {
		t.Errorf("RestartsCell() = %q, want 3 (5m ago)", got)
	}
}
