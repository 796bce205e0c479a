package podworker

import (
	"reflect"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minikubelet/minikubelet/internal/probes"
	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/status"
)

var t0 = time.Unix(1_700_000_000, 0)

func testPod(policy v1.RestartPolicy, init []v1.Container, app ...string) *v1.Pod {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p-node", Namespace: "default", UID: "uid1"},
		Spec:       v1.PodSpec{RestartPolicy: policy, InitContainers: init},
	}
	for _, name := range app {
		p.Spec.Containers = append(p.Spec.Containers, v1.Container{Name: name, Image: "busybox:1.35"})
	}
	return p
}

func ready(id string, attempt uint32) sandboxRecord {
	return sandboxRecord{ID: id, Ready: true, Attempt: attempt, CreatedAt: t0}
}

func running(id, name string, restarts int32) containerRecord {
	return containerRecord{ContainerRecord: status.ContainerRecord{ID: id, Name: name, RestartCount: restarts, State: status.ContainerRunning, StartedAt: t0}}
}

func exited(id, name string, restarts, code int32, finished time.Time) containerRecord {
	return containerRecord{ContainerRecord: status.ContainerRecord{ID: id, Name: name, RestartCount: restarts, State: status.ContainerExited, ExitCode: code, FinishedAt: finished}}
}

func startNames(acts podActions) []string {
	var out []string
	for _, s := range acts.Starts {
		out = append(out, s.Container.Name)
	}
	return out
}

func TestComputeActions_NewPodCreatesSandboxAndStartsAllContainers(t *testing.T) {
	acts := computeActions(decisionInput{Pod: testPod(v1.RestartPolicyAlways, nil, "a", "b"), Now: t0})
	if !acts.CreateSandbox || acts.KillPod || acts.SandboxAttempt != 0 {
		t.Fatalf("got %+v, want a first sandbox and no kill", acts)
	}
	if got := startNames(acts); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("starts %v, want [a b]", got)
	}
}

func TestComputeActions_RunningPodNeedsNothing(t *testing.T) {
	acts := computeActions(decisionInput{
		Pod:          testPod(v1.RestartPolicyAlways, nil, "a"),
		Observed:     observation{Sandboxes: []sandboxRecord{ready("s1", 0)}, Containers: []containerRecord{running("c1", "a", 0)}},
		CrashBackoff: newBackoff(0, 0),
		Now:          t0,
	})
	if acts.CreateSandbox || acts.KillPod || len(acts.Starts) != 0 || len(acts.Kills) != 0 || len(acts.Waiting) != 0 {
		t.Fatalf("got %+v, want no action", acts)
	}
}

func TestComputeActions_DeadSandboxIsReplacedWithNextAttempt(t *testing.T) {
	acts := computeActions(decisionInput{
		Pod:          testPod(v1.RestartPolicyAlways, nil, "a"),
		Observed:     observation{Sandboxes: []sandboxRecord{{ID: "s1", Attempt: 2}}, Containers: []containerRecord{exited("c1", "a", 3, 137, t0)}},
		CrashBackoff: newBackoff(0, 0),
		Now:          t0,
	})
	if acts.KillPod || !acts.CreateSandbox || acts.SandboxAttempt != 3 {
		t.Fatalf("got %+v, want a sandbox with attempt 3 and nothing to kill", acts)
	}
	if len(acts.Starts) != 1 || acts.Starts[0].RestartCount != 4 {
		t.Fatalf("starts %+v, want a with restart count 4", acts.Starts)
	}
	// A container still running in a sandbox that is not ready is killed
	// first.
	acts = computeActions(decisionInput{
		Pod:      testPod(v1.RestartPolicyAlways, nil, "a"),
		Observed: observation{Sandboxes: []sandboxRecord{{ID: "s1", Attempt: 2}}, Containers: []containerRecord{running("c1", "a", 3)}},
		Now:      t0,
	})
	if !acts.KillPod || !acts.CreateSandbox {
		t.Fatalf("got %+v, want the old pod killed and a new sandbox", acts)
	}
}

func TestComputeActions_CreatedButNeverStartedIsStartedNotRecreated(t *testing.T) {
	created := containerRecord{ContainerRecord: status.ContainerRecord{ID: "c1", Name: "a", State: status.ContainerCreated}}
	acts := computeActions(decisionInput{
		Pod:      testPod(v1.RestartPolicyNever, nil, "a"),
		Observed: observation{Sandboxes: []sandboxRecord{ready("s1", 0)}, Containers: []containerRecord{created}},
		Now:      t0,
	})
	if len(acts.Starts) != 1 || acts.Starts[0].ExistingID != "c1" || acts.Starts[0].RestartCount != 0 {
		t.Fatalf("starts %+v, want the created instance c1 started as is", acts.Starts)
	}
}

func TestComputeActions_ActiveDeadlineKillsAndStartsNothing(t *testing.T) {
	pod := testPod(v1.RestartPolicyAlways, nil, "a")
	deadline := int64(5)
	pod.Spec.ActiveDeadlineSeconds = &deadline
	obs := observation{Sandboxes: []sandboxRecord{ready("s1", 0)}, Containers: []containerRecord{running("c1", "a", 0)}}
	acts := computeActions(decisionInput{Pod: pod, Observed: obs, StartTime: t0, Now: t0.Add(4 * time.Second)})
	if acts.DeadlineExceeded || len(acts.Kills) != 0 {
		t.Fatalf("before the deadline: %+v", acts)
	}
	acts = computeActions(decisionInput{Pod: pod, Observed: obs, StartTime: t0, Now: t0.Add(5 * time.Second)})
	if !acts.DeadlineExceeded || !acts.KillPod || !acts.Finished || len(acts.Starts) != 0 {
		t.Fatalf("at the deadline: %+v, want the pod killed and nothing started", acts)
	}
	if len(acts.Events) != 1 || acts.Events[0].Reason != "DeadlineExceeded" {
		t.Fatalf("events %+v, want one DeadlineExceeded", acts.Events)
	}
	acts = computeActions(decisionInput{Pod: pod, Observed: obs, StartTime: t0, Now: t0.Add(6 * time.Second), DeadlineReported: true})
	if len(acts.Events) != 0 {
		t.Fatalf("events %+v, want the DeadlineExceeded event recorded once", acts.Events)
	}
}

func TestComputeActions_UnhealthyContainerIsKilledWithProbeGrace(t *testing.T) {
	grace := int64(1)
	pod := testPod(v1.RestartPolicyAlways, nil, "a")
	pod.Spec.Containers[0].LivenessProbe = &v1.Probe{TerminationGracePeriodSeconds: &grace}
	acts := computeActions(decisionInput{
		Pod:      pod,
		Observed: observation{Sandboxes: []sandboxRecord{ready("s1", 0)}, Containers: []containerRecord{running("c1", "a", 0)}},
		Probes:   map[string]probeVerdict{"c1": {Started: true, Failed: true, FailedKind: probes.Liveness}},
		Now:      t0,
	})
	if len(acts.Kills) != 1 || acts.Kills[0].ID != "c1" || *acts.Kills[0].GracePeriod != 1 {
		t.Fatalf("kills %+v, want c1 killed with grace 1", acts.Kills)
	}
	if msg := acts.Kills[0].Message; msg != "Container a failed liveness probe, will be restarted" {
		t.Fatalf("kill message %q", msg)
	}
}

func TestComputeActions_DeadSandboxOfNeverPodIsNotReplaced(t *testing.T) {
	acts := computeActions(decisionInput{
		Pod:      testPod(v1.RestartPolicyNever, nil, "a"),
		Observed: observation{Sandboxes: []sandboxRecord{{ID: "s1"}}, Containers: []containerRecord{exited("c1", "a", 0, 0, t0)}},
		Now:      t0,
	})
	if acts.CreateSandbox || len(acts.Starts) != 0 {
		t.Fatalf("got %+v, want no new sandbox", acts)
	}
}

func TestComputeActions_RestartPolicy(t *testing.T) {
	cases := []struct {
		policy  v1.RestartPolicy
		code    int32
		restart bool
	}{
		{v1.RestartPolicyAlways, 0, true},
		{v1.RestartPolicyAlways, 1, true},
		{v1.RestartPolicyOnFailure, 0, false},
		{v1.RestartPolicyOnFailure, 2, true},
		{v1.RestartPolicyNever, 0, false},
		{v1.RestartPolicyNever, 1, false},
	}
	for _, tc := range cases {
		acts := computeActions(decisionInput{
			Pod:          testPod(tc.policy, nil, "a"),
			Observed:     observation{Sandboxes: []sandboxRecord{ready("s1", 0)}, Containers: []containerRecord{exited("c1", "a", 0, tc.code, t0)}},
			CrashBackoff: newBackoff(0, 0),
			Now:          t0.Add(time.Second),
		})
		if got := len(acts.Starts) == 1; got != tc.restart {
			t.Errorf("policy %s exit %d: restart=%v, want %v", tc.policy, tc.code, got, tc.restart)
		}
		if tc.restart && (acts.Starts[0].RestartCount != 1 || !acts.Starts[0].Restart) {
			t.Errorf("policy %s exit %d: start %+v, want restart count 1 through the backoff", tc.policy, tc.code, acts.Starts[0])
		}
	}
}

func TestComputeActions_CrashLoopBackOffWaitsWithKubeletMessage(t *testing.T) {
	b := newBackoff(10*time.Second, 300*time.Second)
	b.next("a", t0) // the first restart happened
	finished := t0.Add(time.Second)
	acts := computeActions(decisionInput{
		Pod:          testPod(v1.RestartPolicyAlways, nil, "a"),
		Observed:     observation{Sandboxes: []sandboxRecord{ready("s1", 0)}, Containers: []containerRecord{exited("c2", "a", 1, 1, finished)}},
		CrashBackoff: b,
		Now:          finished.Add(3 * time.Second),
	})
	if len(acts.Starts) != 0 {
		t.Fatalf("started %v during backoff", startNames(acts))
	}
	w := acts.Waiting["a"]
	want := "back-off 10s restarting failed container=a pod=p-node_default(uid1); last run ended with exit code 1; next restart at " + finished.Add(10*time.Second).UTC().Format(time.RFC3339)
	if w.Reason != "CrashLoopBackOff" || w.Message != want {
		t.Fatalf("waiting %+v, want CrashLoopBackOff %q", w, want)
	}
	if acts.Wake != 7*time.Second {
		t.Fatalf("wake in %s, want 7s", acts.Wake)
	}
}

func TestComputeActions_InitContainersRunOneAtATime(t *testing.T) {
	init := []v1.Container{{Name: "i1", Image: "x"}, {Name: "i2", Image: "x"}}
	pod := testPod(v1.RestartPolicyAlways, init, "a")
	sb := []sandboxRecord{ready("s1", 0)}
	cases := []struct {
		name       string
		containers []containerRecord
		want       []string
	}{
		{"first init runs", []containerRecord{running("c1", "i1", 0)}, nil},
		{"first done, second starts", []containerRecord{exited("c1", "i1", 0, 0, t0)}, []string{"i2"}},
		{"both done, app starts", []containerRecord{exited("c1", "i1", 0, 0, t0), exited("c2", "i2", 0, 0, t0)}, []string{"a"}},
		{"failed init restarts", []containerRecord{exited("c1", "i1", 0, 1, t0)}, []string{"i1"}},
		{"app started: init not rerun", []containerRecord{running("c3", "a", 0)}, nil},
	}
	for _, tc := range cases {
		acts := computeActions(decisionInput{Pod: pod, Observed: observation{Sandboxes: sb, Containers: tc.containers}, CrashBackoff: newBackoff(0, 0), Now: t0.Add(time.Second)})
		if got := startNames(acts); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: starts %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestComputeActions_FailedInitUnderNeverKillsSidecars(t *testing.T) {
	always := v1.ContainerRestartPolicyAlways
	init := []v1.Container{{Name: "side", Image: "x", RestartPolicy: &always}, {Name: "i1", Image: "x"}}
	acts := computeActions(decisionInput{
		Pod: testPod(v1.RestartPolicyNever, init, "a"),
		Observed: observation{Sandboxes: []sandboxRecord{ready("s1", 0)}, Containers: []containerRecord{
			running("c1", "side", 0), exited("c2", "i1", 0, 1, t0),
		}},
		Now: t0,
	})
	if len(acts.Starts) != 0 || !acts.KillPod || !acts.Finished {
		t.Fatalf("got starts %v, %+v; want the pod (its sidecar) killed and nothing started", startNames(acts), acts)
	}
}

func TestComputeActions_SidecarStartsBeforeNextInitAndKeepsRunning(t *testing.T) {
	always := v1.ContainerRestartPolicyAlways
	init := []v1.Container{{Name: "side", Image: "x", RestartPolicy: &always}, {Name: "i1", Image: "x"}}
	pod := testPod(v1.RestartPolicyAlways, init, "a")
	sb := []sandboxRecord{ready("s1", 0)}
	acts := computeActions(decisionInput{Pod: pod, Observed: observation{Sandboxes: sb}, Now: t0})
	if got := startNames(acts); !reflect.DeepEqual(got, []string{"side"}) {
		t.Fatalf("starts %v, want [side] alone", got)
	}
	acts = computeActions(decisionInput{Pod: pod, Observed: observation{Sandboxes: sb, Containers: []containerRecord{running("c1", "side", 0)}}, Now: t0})
	if got := startNames(acts); !reflect.DeepEqual(got, []string{"i1"}) {
		t.Fatalf("starts %v, want [i1] once the sidecar runs", got)
	}
	// After the app started, an exited sidecar restarts beside it.
	acts = computeActions(decisionInput{Pod: pod, Observed: observation{Sandboxes: sb, Containers: []containerRecord{
		exited("c1", "side", 0, 1, t0), exited("c2", "i1", 0, 0, t0), running("c3", "a", 0),
	}}, CrashBackoff: newBackoff(0, 0), Now: t0.Add(time.Second)})
	if got := startNames(acts); !reflect.DeepEqual(got, []string{"side"}) {
		t.Fatalf("starts %v, want the sidecar restarted", got)
	}
}

func TestComputeActions_OldDeadInstancesAreRemoved(t *testing.T) {
	acts := computeActions(decisionInput{
		Pod: testPod(v1.RestartPolicyAlways, nil, "a"),
		Observed: observation{Sandboxes: []sandboxRecord{ready("s1", 0)}, Containers: []containerRecord{
			running("c4", "a", 3), exited("c3", "a", 2, 1, t0), exited("c2", "a", 1, 1, t0), exited("c1", "a", 0, 1, t0),
		}},
		Now: t0,
	})
	if !reflect.DeepEqual(acts.Removes, []string{"c1", "c2"}) {
		t.Fatalf("removes %v, want [c1 c2]: the newest dead instance stays for lastState", acts.Removes)
	}
}

func TestExitedByEvent_AnExitContainerdReportedRestartsBeforeTheCRIRecordsIt(t *testing.T) {
	finished := t0.Add(time.Second)
	c := exitedByEvent(running("c1", "a", 0), runtime.Exit{ContainerID: "c1", ExitCode: 1, ExitedAt: finished})
	if c.State != status.ContainerExited || c.ExitCode != 1 || !c.FinishedAt.Equal(finished) || c.Reason != "Error" {
		t.Fatalf("marked %+v, want exited with code 1 at the event's time", c.ContainerRecord)
	}
	obs := observation{Sandboxes: []sandboxRecord{ready("s1", 0)}, Containers: []containerRecord{c}}
	acts := computeActions(decisionInput{Pod: testPod(v1.RestartPolicyAlways, nil, "a"), Observed: obs, CrashBackoff: newBackoff(0, 0), Now: finished})
	if len(acts.Starts) != 1 || !acts.Starts[0].Restart || acts.Starts[0].RestartCount != 1 {
		t.Fatalf("starts %+v, want the first restart at once", acts.Starts)
	}
}

func TestComputeActions_OldSandboxesGoOnceNothingKeptLivesInThem(t *testing.T) {
	old := exited("c1", "a", 1, 1, t0)
	old.SandboxID = "s1"
	older := exited("c0", "a", 0, 1, t0)
	older.SandboxID = "s0"
	cur := running("c2", "a", 2)
	cur.SandboxID = "s2"
	acts := computeActions(decisionInput{
		Pod: testPod(v1.RestartPolicyAlways, nil, "a"),
		Observed: observation{
			Sandboxes:  []sandboxRecord{ready("s2", 2), {ID: "s1", Attempt: 1}, {ID: "s0", Attempt: 0}},
			Containers: []containerRecord{cur, old, older},
		},
		Now: t0,
	})
	// c1 is the newest dead instance (lastState): s1 stays; s0 goes with c0.
	if !reflect.DeepEqual(acts.Removes, []string{"c0"}) || !reflect.DeepEqual(acts.RemoveSandboxes, []string{"s0"}) {
		t.Fatalf("removes %v, sandboxes %v; want c0 and s0", acts.Removes, acts.RemoveSandboxes)
	}
}

// As the kubelet's computeInitContainerActions: after the sandbox was
// replaced, what ran in the old one does not count; the init containers
// run again, one at a time, before the app.
func TestComputeActions_NewSandboxRunsTheInitContainersAgain(t *testing.T) {
	init := []v1.Container{{Name: "i0", Image: "x"}, {Name: "i1", Image: "x"}}
	pod := testPod(v1.RestartPolicyAlways, init, "a")
	old := func(r containerRecord) containerRecord { r.SandboxID = "s1"; return r }
	cur := func(r containerRecord) containerRecord { r.SandboxID = "s2"; return r }
	sb := []sandboxRecord{ready("s2", 1), {ID: "s1"}}
	cases := []struct {
		name       string
		containers []containerRecord
		want       []string
	}{
		{"the first init runs in the new sandbox", []containerRecord{
			cur(running("c4", "i0", 1)), old(exited("c1", "i0", 0, 0, t0)), old(exited("c2", "i1", 0, 0, t0)), old(exited("c3", "a", 0, 137, t0)),
		}, nil},
		{"then the second, not the app", []containerRecord{
			cur(exited("c4", "i0", 1, 0, t0)), old(exited("c2", "i1", 0, 0, t0)), old(exited("c3", "a", 0, 137, t0)),
		}, []string{"i1"}},
		{"then the app", []containerRecord{
			cur(exited("c4", "i0", 1, 0, t0)), cur(exited("c5", "i1", 1, 0, t0)), old(exited("c3", "a", 0, 137, t0)),
		}, []string{"a"}},
	}
	for _, tc := range cases {
		acts := computeActions(decisionInput{Pod: pod, Observed: observation{Sandboxes: sb, Containers: tc.containers}, CrashBackoff: newBackoff(0, 0), Now: t0.Add(time.Second)})
		if got := startNames(acts); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: starts %v, want %v", tc.name, got, tc.want)
		}
	}
}
