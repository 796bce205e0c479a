package podworker

import (
	"reflect"
	"testing"

	v1 "k8s.io/api/core/v1"
)

// withHash is an instance made from spec.
func withHash(r containerRecord, spec *v1.Container) containerRecord {
	r.Hash = containerHash(spec)
	return r
}

func TestComputeActions_DefinitionChanged(t *testing.T) {
	base := testPod(v1.RestartPolicyAlways, nil, "a", "b")
	edited := func(policy v1.RestartPolicy) *v1.Pod {
		p := base.DeepCopy()
		p.Spec.RestartPolicy = policy
		p.Spec.Containers[0].Env = []v1.EnvVar{{Name: "GREETING", Value: "bye"}}
		return p
	}
	instances := func(a containerRecord) []containerRecord {
		return []containerRecord{a, withHash(running("c2", "b", 0), &base.Spec.Containers[1])}
	}
	tests := []struct {
		name       string
		pod        *v1.Pod
		containers []containerRecord
		wantKills  []containerKill
		wantStarts []string
		wantCount  int32
	}{
		{
			name:       "hash unchanged: nothing",
			pod:        base,
			containers: instances(withHash(running("c1", "a", 0), &base.Spec.Containers[0])),
		},
		{
			name:       "hash changed: kill and start with the kubelet's message",
			pod:        edited(v1.RestartPolicyAlways),
			containers: instances(withHash(running("c1", "a", 2), &base.Spec.Containers[0])),
			wantKills:  []containerKill{{ID: "c1", Name: "a", Message: "Container a definition changed, will be restarted"}},
			wantStarts: []string{"a"}, wantCount: 3,
		},
		{
			name:       "restarted whatever the policy",
			pod:        edited(v1.RestartPolicyNever),
			containers: instances(withHash(running("c1", "a", 0), &base.Spec.Containers[0])),
			wantKills:  []containerKill{{ID: "c1", Name: "a", Message: "Container a definition changed, will be restarted"}},
			wantStarts: []string{"a"}, wantCount: 1,
		},
		{
			name:       "an instance without a hash is taken as it is",
			pod:        edited(v1.RestartPolicyAlways),
			containers: instances(running("c1", "a", 0)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acts := computeActions(decisionInput{
				Pod:          tt.pod,
				Observed:     observation{Sandboxes: []sandboxRecord{ready("s1", 0)}, Containers: tt.containers},
				CrashBackoff: newBackoff(0, 0),
				Now:          t0,
			})
			if acts.KillPod || acts.CreateSandbox {
				t.Fatalf("got %+v, want the sandbox kept", acts)
			}
			if !reflect.DeepEqual(acts.Kills, tt.wantKills) {
				t.Errorf("kills %+v, want %+v", acts.Kills, tt.wantKills)
			}
			if got := startNames(acts); !reflect.DeepEqual(got, tt.wantStarts) {
				t.Fatalf("starts %v, want %v", got, tt.wantStarts)
			}
			if len(acts.Starts) == 1 && (acts.Starts[0].RestartCount != tt.wantCount || acts.Starts[0].Restart) {
				t.Errorf("start %+v, want restart count %d outside the crash backoff", acts.Starts[0], tt.wantCount)
			}
		})
	}
}

func TestComputeActions_NetworkNamespaceChangedReplacesTheSandbox(t *testing.T) {
	own, host := false, true
	pod := testPod(v1.RestartPolicyAlways, nil, "a")
	a := withHash(running("c1", "a", 0), &pod.Spec.Containers[0])
	tests := []struct {
		name        string
		hostNetwork bool
		sandbox     *bool
		wantReplace bool
	}{
		{name: "same", hostNetwork: false, sandbox: &own},
		{name: "status says nothing", hostNetwork: true, sandbox: nil},
		{name: "to host network", hostNetwork: true, sandbox: &own, wantReplace: true},
		{name: "to the pod's own", hostNetwork: false, sandbox: &host, wantReplace: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pod.DeepCopy()
			p.Spec.HostNetwork = tt.hostNetwork
			s := ready("s1", 0)
			s.HostNetwork = tt.sandbox
			acts := computeActions(decisionInput{Pod: p, Observed: observation{Sandboxes: []sandboxRecord{s}, Containers: []containerRecord{a}}, Now: t0})
			if got := acts.KillPod && acts.CreateSandbox && acts.SandboxAttempt == 1 && reflect.DeepEqual(startNames(acts), []string{"a"}); got != tt.wantReplace {
				t.Fatalf("got %+v, want sandbox replaced %v", acts, tt.wantReplace)
			}
		})
	}
}
