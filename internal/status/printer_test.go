package status

import (
	"bytes"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minikubelet/minikubelet/internal/podcolumns"
)

var fxNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func fxAgo(d time.Duration) metav1.Time { return metav1.NewTime(fxNow.Add(-d)) }

// fxPod builds a pod named "web" with the given init containers, app
// container names and statuses.
func fxPod(phase v1.PodPhase, initContainers []v1.Container, apps []string, initStatuses, statuses []v1.ContainerStatus, conditions ...v1.PodCondition) *v1.Pod {
	spec := fxSpec(v1.RestartPolicyAlways, initContainers, apps...)
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", CreationTimestamp: fxAgo(5 * time.Minute)},
		Spec:       *spec,
		Status: v1.PodStatus{
			Phase:                 phase,
			Conditions:            conditions,
			InitContainerStatuses: initStatuses,
			ContainerStatuses:     statuses,
		},
	}
}

func fxWaitingReason(name, reason string) v1.ContainerStatus {
	return v1.ContainerStatus{Name: name, State: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: reason}}}
}

func fxTerminatedReason(name string, exitCode int32, reason string) v1.ContainerStatus {
	return v1.ContainerStatus{Name: name, State: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ExitCode: exitCode, Reason: reason}}}
}

func fxSignaled(name string, signal int32) v1.ContainerStatus {
	return v1.ContainerStatus{Name: name, State: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ExitCode: 128 + signal, Signal: signal}}}
}

// fxRestarted gives s a restart count and a last termination finished ago.
func fxRestarted(s v1.ContainerStatus, count int32, ago time.Duration) v1.ContainerStatus {
	s.RestartCount = count
	s.LastTerminationState.Terminated = &v1.ContainerStateTerminated{ExitCode: 1, FinishedAt: fxAgo(ago)}
	return s
}

func fxTrue(t v1.PodConditionType) v1.PodCondition {
	return v1.PodCondition{Type: t, Status: v1.ConditionTrue}
}

func fxDeleted(p *v1.Pod) *v1.Pod {
	ts := fxAgo(time.Second)
	p.DeletionTimestamp = &ts
	return p
}

func TestStatusColumn(t *testing.T) {
	twoInit := []v1.Container{fxInit("i1"), fxInit("i2")}
	sidecarFirst := []v1.Container{fxSidecar("s"), fxInit("i")}
	app := []string{"a"}
	apps := []string{"a", "b"}

	tests := []struct {
		name string
		pod  *v1.Pod
		want string
	}{
		{
			name: "RunningReady",
			pod:  fxPod(v1.PodRunning, nil, app, nil, fxStatuses(fxReady(fxRunning("a"))), fxTrue(v1.PodReady)),
			want: "Running",
		},
		{
			name: "PhaseWithoutStatuses",
			pod:  fxPod(v1.PodPending, nil, app, nil, nil),
			want: "Pending",
		},
		{
			name: "PodReasonOverridesPhase",
			pod: func() *v1.Pod {
				p := fxPod(v1.PodFailed, nil, app, nil, nil)
				p.Status.Reason = "DeadlineExceeded"
				return p
			}(),
			want: "DeadlineExceeded",
		},
		{
			name: "SchedulingGated",
			pod: fxPod(v1.PodPending, nil, app, nil, nil,
				v1.PodCondition{Type: v1.PodScheduled, Status: v1.ConditionFalse, Reason: v1.PodReasonSchedulingGated}),
			want: "SchedulingGated",
		},
		{
			name: "ContainerCreating",
			pod:  fxPod(v1.PodPending, nil, app, nil, fxStatuses(fxWaitingReason("a", "ContainerCreating"))),
			want: "ContainerCreating",
		},
		{
			name: "FirstInitRunning",
			pod:  fxPod(v1.PodPending, twoInit, app, fxStatuses(fxRunning("i1"), fxWaitingReason("i2", "PodInitializing")), fxStatuses(fxWaitingReason("a", "PodInitializing"))),
			want: "Init:0/2",
		},
		{
			name: "SecondInitRunning",
			pod:  fxPod(v1.PodPending, twoInit, app, fxStatuses(fxTerminatedReason("i1", 0, "Completed"), fxRunning("i2")), fxStatuses(fxWaitingReason("a", "PodInitializing"))),
			want: "Init:1/2",
		},
		{
			name: "InitWaitingPodInitializingCountsAsProgress",
			pod:  fxPod(v1.PodPending, twoInit, app, fxStatuses(fxWaitingReason("i1", "PodInitializing"), fxWaitingReason("i2", "PodInitializing")), nil),
			want: "Init:0/2",
		},
		{
			name: "InitCrashLoopBackOff",
			pod:  fxPod(v1.PodPending, twoInit, app, fxStatuses(fxRestarted(fxWaitingReason("i1", "CrashLoopBackOff"), 2, time.Minute), fxWaitingReason("i2", "PodInitializing")), nil),
			want: "Init:CrashLoopBackOff",
		},
		{
			name: "InitError",
			pod:  fxPod(v1.PodFailed, twoInit, app, fxStatuses(fxTerminatedReason("i1", 1, "Error"), fxWaitingReason("i2", "PodInitializing")), nil),
			want: "Init:Error",
		},
		{
			name: "InitOOMKilled",
			pod:  fxPod(v1.PodPending, twoInit, app, fxStatuses(fxTerminatedReason("i1", 137, "OOMKilled")), nil),
			want: "Init:OOMKilled",
		},
		{
			name: "InitExitCodeWithoutReason",
			pod:  fxPod(v1.PodPending, twoInit, app, fxStatuses(fxTerminated("i1", 3)), nil),
			want: "Init:ExitCode:3",
		},
		{
			name: "InitSignalWithoutReason",
			pod:  fxPod(v1.PodPending, twoInit, app, fxStatuses(fxSignaled("i1", 9)), nil),
			want: "Init:Signal:9",
		},
		{
			name: "StartedSidecarDoesNotHoldUpInit",
			pod:  fxPod(v1.PodPending, sidecarFirst, app, fxStatuses(fxStarted("s"), fxRunning("i")), nil),
			want: "Init:1/2",
		},
		{
			name: "SidecarNotYetStartedIsInitializing",
			pod:  fxPod(v1.PodPending, sidecarFirst, app, fxStatuses(fxRunning("s"), fxWaitingReason("i", "PodInitializing")), nil),
			want: "Init:0/2",
		},
		{
			name: "CrashLoopingSidecarAfterInitStillShowsInit",
			pod: fxPod(v1.PodRunning, sidecarFirst, app,
				fxStatuses(fxRestarted(fxWaitingReason("s", "CrashLoopBackOff"), 1, time.Minute), fxTerminatedReason("i", 0, "Completed")),
				fxStatuses(fxReady(fxRunning("a"))), fxTrue(v1.PodInitialized)),
			want: "Init:CrashLoopBackOff",
		},
		{
			name: "InitializedPodShowsAppReasonOverInitReason",
			pod: fxPod(v1.PodRunning, sidecarFirst, app,
				fxStatuses(fxRestarted(fxWaitingReason("s", "CrashLoopBackOff"), 1, time.Minute), fxTerminatedReason("i", 0, "Completed")),
				fxStatuses(fxWaitingReason("a", "CrashLoopBackOff")), fxTrue(v1.PodInitialized)),
			want: "CrashLoopBackOff",
		},
		{
			name: "PodInitializing",
			pod:  fxPod(v1.PodPending, twoInit, app, fxStatuses(fxTerminatedReason("i1", 0, "Completed"), fxTerminatedReason("i2", 0, "Completed")), fxStatuses(fxWaitingReason("a", "PodInitializing"))),
			want: "PodInitializing",
		},
		{
			name: "CrashLoopBackOff",
			pod:  fxPod(v1.PodRunning, nil, app, nil, fxStatuses(fxRestarted(fxWaitingReason("a", "CrashLoopBackOff"), 3, time.Minute))),
			want: "CrashLoopBackOff",
		},
		{
			name: "Completed",
			pod:  fxPod(v1.PodSucceeded, nil, apps, nil, fxStatuses(fxTerminatedReason("a", 0, "Completed"), fxTerminatedReason("b", 0, "Completed"))),
			want: "Completed",
		},
		{
			name: "Error",
			pod:  fxPod(v1.PodFailed, nil, app, nil, fxStatuses(fxTerminatedReason("a", 1, "Error"))),
			want: "Error",
		},
		{
			name: "ExitCodeWithoutReason",
			pod:  fxPod(v1.PodFailed, nil, app, nil, fxStatuses(fxTerminated("a", 2))),
			want: "ExitCode:2",
		},
		{
			name: "SignalWithoutReason",
			pod:  fxPod(v1.PodFailed, nil, app, nil, fxStatuses(fxSignaled("a", 15))),
			want: "Signal:15",
		},
		{
			name: "FirstContainerInSpecOrderWins",
			pod:  fxPod(v1.PodRunning, nil, apps, nil, fxStatuses(fxWaitingReason("a", "CrashLoopBackOff"), fxTerminatedReason("b", 1, "Error"))),
			want: "CrashLoopBackOff",
		},
		{
			name: "CompletedWithAnotherRunningReadyIsRunning",
			pod:  fxPod(v1.PodRunning, nil, apps, nil, fxStatuses(fxTerminatedReason("a", 0, "Completed"), fxReady(fxRunning("b"))), fxTrue(v1.PodReady)),
			want: "Running",
		},
		{
			name: "CompletedWithAnotherRunningButPodNotReadyIsNotReady",
			pod:  fxPod(v1.PodRunning, nil, apps, nil, fxStatuses(fxTerminatedReason("a", 0, "Completed"), fxReady(fxRunning("b")))),
			want: "NotReady",
		},
		{
			name: "CompletedWithAnotherRunningUnreadyStaysCompleted",
			pod:  fxPod(v1.PodRunning, nil, apps, nil, fxStatuses(fxTerminatedReason("a", 0, "Completed"), fxRunning("b"))),
			want: "Completed",
		},
		{
			name: "DeletionTimestampIsTerminating",
			pod:  fxDeleted(fxPod(v1.PodRunning, nil, app, nil, fxStatuses(fxReady(fxRunning("a"))), fxTrue(v1.PodReady))),
			want: "Terminating",
		},
		{
			name: "DeletionTimestampWhilePendingIsTerminating",
			pod:  fxDeleted(fxPod(v1.PodPending, twoInit, app, fxStatuses(fxRunning("i1")), nil)),
			want: "Terminating",
		},
		{
			name: "DeletionTimestampOnSucceededPodIsCompleted",
			pod:  fxDeleted(fxPod(v1.PodSucceeded, nil, app, nil, fxStatuses(fxTerminatedReason("a", 0, "Completed")))),
			want: "Completed",
		},
		{
			name: "DeletionTimestampOnFailedPodIsError",
			pod:  fxDeleted(fxPod(v1.PodFailed, nil, app, nil, fxStatuses(fxTerminatedReason("a", 1, "Error")))),
			want: "Error",
		},
		{
			name: "DeletionTimestampOnLostNodeIsUnknown",
			pod: func() *v1.Pod {
				p := fxDeleted(fxPod(v1.PodRunning, nil, app, nil, fxStatuses(fxReady(fxRunning("a")))))
				p.Status.Reason = "NodeLost"
				return p
			}(),
			want: "Unknown",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := podcolumns.Summarize(tt.pod).Status; got != tt.want {
				t.Errorf("STATUS = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadyColumn(t *testing.T) {
	sidecar := []v1.Container{fxSidecar("s")}
	init := []v1.Container{fxInit("i")}
	apps := []string{"a", "b"}

	tests := []struct {
		name string
		pod  *v1.Pod
		want string
	}{
		{
			name: "NoStatuses",
			pod:  fxPod(v1.PodPending, nil, apps, nil, nil),
			want: "0/2",
		},
		{
			name: "OneOfTwoReady",
			pod:  fxPod(v1.PodRunning, nil, apps, nil, fxStatuses(fxReady(fxRunning("a")), fxRunning("b"))),
			want: "1/2",
		},
		{
			name: "ReadyButNotRunningDoesNotCount",
			pod:  fxPod(v1.PodRunning, nil, apps, nil, fxStatuses(fxReady(fxRunning("a")), fxReady(fxTerminatedReason("b", 0, "Completed")))),
			want: "1/2",
		},
		{
			name: "RegularInitContainerIsNotCounted",
			pod:  fxPod(v1.PodRunning, init, apps, fxStatuses(fxReady(fxTerminatedReason("i", 0, "Completed"))), fxStatuses(fxReady(fxRunning("a")), fxReady(fxRunning("b")))),
			want: "2/2",
		},
		{
			name: "SidecarCountsAsContainer",
			pod:  fxPod(v1.PodRunning, sidecar, apps, fxStatuses(fxReady(fxStarted("s"))), fxStatuses(fxReady(fxRunning("a")), fxReady(fxRunning("b")))),
			want: "3/3",
		},
		{
			name: "StartedUnreadySidecar",
			pod:  fxPod(v1.PodRunning, sidecar, apps, fxStatuses(fxStarted("s")), fxStatuses(fxReady(fxRunning("a")), fxReady(fxRunning("b")))),
			want: "2/3",
		},
		{
			name: "AppsNotCountedWhileInitializing",
			pod:  fxPod(v1.PodPending, init, apps, fxStatuses(fxRunning("i")), fxStatuses(fxReady(fxRunning("a")), fxReady(fxRunning("b")))),
			want: "0/2",
		},
		{
			name: "AppsCountedWhileSidecarRestartsIfInitialized",
			pod: fxPod(v1.PodRunning, sidecar, apps, fxStatuses(fxWaitingReason("s", "CrashLoopBackOff")),
				fxStatuses(fxReady(fxRunning("a")), fxReady(fxRunning("b"))), fxTrue(v1.PodInitialized)),
			want: "2/3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := podcolumns.Summarize(tt.pod).ReadyCell(); got != tt.want {
				t.Errorf("READY = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRestartsColumn(t *testing.T) {
	sidecar := []v1.Container{fxSidecar("s")}
	init := []v1.Container{fxInit("i")}
	apps := []string{"a", "b"}

	tests := []struct {
		name string
		pod  *v1.Pod
		want string
	}{
		{
			name: "NoRestarts",
			pod:  fxPod(v1.PodRunning, nil, apps, nil, fxStatuses(fxRunning("a"), fxRunning("b"))),
			want: "0",
		},
		{
			name: "RestartsWithLastRestartAge",
			pod:  fxPod(v1.PodRunning, nil, apps, nil, fxStatuses(fxRestarted(fxRunning("a"), 3, 2*time.Minute), fxRunning("b"))),
			want: "3 (2m ago)",
		},
		{
			name: "SumsContainersAndShowsMostRecent",
			pod:  fxPod(v1.PodRunning, nil, apps, nil, fxStatuses(fxRestarted(fxRunning("a"), 3, 2*time.Minute), fxRestarted(fxRunning("b"), 2, 45*time.Second))),
			want: "5 (45s ago)",
		},
		{
			name: "RestartsWithoutKnownTime",
			pod: func() *v1.Pod {
				s := fxRunning("a")
				s.RestartCount = 4
				return fxPod(v1.PodRunning, nil, apps, nil, fxStatuses(s, fxRunning("b")))
			}(),
			want: "4",
		},
		{
			name: "WhileInitializingOnlyInitRestartsCount",
			pod: fxPod(v1.PodPending, init, apps, fxStatuses(fxRestarted(fxWaitingReason("i", "CrashLoopBackOff"), 4, 10*time.Second)),
				fxStatuses(fxRestarted(fxWaitingReason("a", "PodInitializing"), 7, time.Hour))),
			want: "4 (10s ago)",
		},
		{
			name: "AfterInitRegularInitRestartsDoNotCount",
			pod: fxPod(v1.PodRunning, init, apps, fxStatuses(fxRestarted(fxTerminatedReason("i", 0, "Completed"), 4, 10*time.Second)),
				fxStatuses(fxRestarted(fxRunning("a"), 1, time.Hour), fxRunning("b"))),
			want: "1 (60m ago)",
		},
		{
			name: "SidecarRestartsCountAfterInit",
			pod: fxPod(v1.PodRunning, sidecar, apps, fxStatuses(fxRestarted(fxReady(fxStarted("s")), 2, 30*time.Second)),
				fxStatuses(fxRestarted(fxRunning("a"), 1, time.Hour), fxRunning("b"))),
			want: "3 (30s ago)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := podcolumns.Summarize(tt.pod).RestartsCell(fxNow); got != tt.want {
				t.Errorf("RESTARTS = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		name    string
		created metav1.Time
		want    string
	}{
		{name: "ZeroIsUnknown", created: metav1.Time{}, want: "<unknown>"},
		{name: "Seconds", created: fxAgo(45 * time.Second), want: "45s"},
		{name: "SecondsUpToTwoMinutes", created: fxAgo(119 * time.Second), want: "119s"},
		{name: "MinutesAndSeconds", created: fxAgo(150 * time.Second), want: "2m30s"},
		{name: "WholeMinutes", created: fxAgo(5 * time.Minute), want: "5m"},
		{name: "Minutes", created: fxAgo(42 * time.Minute), want: "42m"},
		{name: "HoursAndMinutes", created: fxAgo(3*time.Hour + 10*time.Minute), want: "3h10m"},
		{name: "Hours", created: fxAgo(20 * time.Hour), want: "20h"},
		{name: "DaysAndHours", created: fxAgo(3*24*time.Hour + 4*time.Hour), want: "3d4h"},
		{name: "Days", created: fxAgo(40 * 24 * time.Hour), want: "40d"},
		{name: "ClockSkewWithinASecond", created: metav1.NewTime(fxNow.Add(500 * time.Millisecond)), want: "0s"},
		{name: "FutureIsInvalid", created: metav1.NewTime(fxNow.Add(time.Minute)), want: "<invalid>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Age(tt.created, fxNow); got != tt.want {
				t.Errorf("Age() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPrintPods(t *testing.T) {
	web := fxPod(v1.PodRunning, nil, []string{"a"}, nil, fxStatuses(fxReady(fxRunning("a"))), fxTrue(v1.PodReady))
	web.Name = "web-node1"
	web.Spec.NodeName = "node1"
	web.Status.PodIP = "10.88.0.5"
	web.Status.PodIPs = []v1.PodIP{{IP: "10.88.0.5"}}

	crash := fxPod(v1.PodRunning, []v1.Container{fxSidecar("proxy")}, []string{"a"},
		fxStatuses(fxReady(fxStarted("proxy"))),
		fxStatuses(fxRestarted(fxWaitingReason("a", "CrashLoopBackOff"), 12, 90*time.Second)))
	crash.Name = "batch-worker-node1"
	crash.Namespace = "jobs"
	crash.CreationTimestamp = fxAgo(26 * time.Hour)
	crash.Spec.NodeName = "node1"
	crash.Spec.ReadinessGates = []v1.PodReadinessGate{{ConditionType: "example.com/lb"}, {ConditionType: "example.com/db"}}
	crash.Status.Conditions = append(crash.Status.Conditions, v1.PodCondition{Type: "example.com/db", Status: v1.ConditionTrue})
	crash.Status.NominatedNodeName = "node2"

	pods := []v1.Pod{*web, *crash}

	tests := []struct {
		name          string
		pods          []v1.Pod
		wide          bool
		allNamespaces bool
		want          string
	}{
		{
			name: "Default",
			pods: pods,
			want: "" +
				"NAME                 READY   STATUS             RESTARTS       AGE\n" +
				"web-node1            1/1     Running            0              5m\n" +
				"batch-worker-node1   1/2     CrashLoopBackOff   12 (90s ago)   26h\n",
		},
		{
			name: "Wide",
			pods: pods,
			wide: true,
			want: "" +
				"NAME                 READY   STATUS             RESTARTS       AGE   IP          NODE    NOMINATED NODE   READINESS GATES\n" +
				"web-node1            1/1     Running            0              5m    10.88.0.5   node1   <none>           <none>\n" +
				"batch-worker-node1   1/2     CrashLoopBackOff   12 (90s ago)   26h   <none>      node1   node2            1/2\n",
		},
		{
			name:          "AllNamespaces",
			pods:          pods,
			allNamespaces: true,
			want: "" +
				"NAMESPACE   NAME                 READY   STATUS             RESTARTS       AGE\n" +
				"default     web-node1            1/1     Running            0              5m\n" +
				"jobs        batch-worker-node1   1/2     CrashLoopBackOff   12 (90s ago)   26h\n",
		},
		{
			name: "NoPodsPrintsOnlyTheHeader",
			want: "NAME   READY   STATUS   RESTARTS   AGE\n",
		},
		{
			name: "TerminalEscapesAreNeutralized",
			pods: func() []v1.Pod {
				p := fxPod(v1.PodFailed, nil, []string{"a"}, nil, nil)
				p.Name = "x"
				p.Status.Reason = "Bad\x1b[31mRed\rX"
				return []v1.Pod{*p}
			}(),
			want: "" +
				"NAME   READY   STATUS            RESTARTS   AGE\n" +
				"x      0/1     Bad^[[31mRed\\rX   0          5m\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := PrintPods(&buf, tt.pods, fxNow, tt.wide, tt.allNamespaces); err != nil {
				t.Fatalf("PrintPods() error = %v", err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("PrintPods() wrote\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
