package podworker

import (
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/status"
)

// Found by the chaos suite: the daemon SIGKILLed between killing a
// container for a definition change and starting its successor came back
// and held the new definition in a 10 s crash backoff.
func TestBackoffSeeds_OnlyInstancesOfTheCurrentDefinition(t *testing.T) {
	pod := &v1.Pod{Spec: v1.PodSpec{
		InitContainers: []v1.Container{{Name: "init", Image: "busybox"}},
		Containers:     []v1.Container{{Name: "app", Image: "busybox", Env: []v1.EnvVar{{Name: "GEN", Value: "2"}}}},
	}}
	older := pod.Spec.Containers[0].DeepCopy()
	older.Env[0].Value = "1"
	t0 := time.Unix(100_000, 0)
	rec := func(id, name string, restarts int32, hash string, created time.Time) containerRecord {
		return containerRecord{
			ContainerRecord: status.ContainerRecord{ID: id, Name: name, RestartCount: restarts, State: status.ContainerExited, CreatedAt: created},
			Hash:            hash,
		}
	}
	current, old := containerHash(&pod.Spec.Containers[0]), containerHash(older)
	tests := []struct {
		name       string
		containers []containerRecord
		want       map[string]int32 // restart count seeded, by name
	}{
		{name: "crash loop of the current definition", containers: []containerRecord{
			rec("a1", "app", 1, current, t0), rec("a2", "app", 2, current, t0.Add(time.Second)),
		}, want: map[string]int32{"app": 2}},
		{name: "killed for the definition change", containers: []containerRecord{
			rec("a1", "app", 1, old, t0),
		}, want: map[string]int32{}},
		{name: "never restarted", containers: []containerRecord{
			rec("a0", "app", 0, current, t0),
		}, want: map[string]int32{}},
		{name: "init container", containers: []containerRecord{
			rec("i1", "init", 3, containerHash(&pod.Spec.InitContainers[0]), t0),
		}, want: map[string]int32{"init": 3}},
		{name: "no longer in the spec", containers: []containerRecord{
			rec("g1", "gone", 3, current, t0),
		}, want: map[string]int32{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := backoffSeeds(pod, tt.containers)
			if len(got) != len(tt.want) {
				t.Fatalf("seeds %v, want %v", got, tt.want)
			}
			for name, rc := range tt.want {
				if got[name].RestartCount != rc {
					t.Errorf("%s seeded with %d restarts, want %d", name, got[name].RestartCount, rc)
				}
			}
		})
	}
}
