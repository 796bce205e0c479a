package podworker

import (
	"context"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	zapobserver "go.uber.org/zap/zaptest/observer"
	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/sandbox"
)

// TestLog_EveryLineAboutAPodNamesItsPodNamespaceUIDAndContainer runs a pod
// from start to stop beside an orphan and checks the fields of every log
// line the workers wrote.
func TestLog_EveryLineAboutAPodNamesItsPodNamespaceUIDAndContainer(t *testing.T) {
	h := newHarness(t, busybox)
	core, logs := zapobserver.New(zapcore.DebugLevel)
	h.m.log = zap.New(core)
	orphan := managedPod("gone", v1.RestartPolicyAlways, "a")
	cfg := sandbox.Config(orphan, 0, sandbox.Options{PodLogsDir: t.TempDir()})
	sid, _ := h.rt.RunPodSandbox(context.Background(), cfg, "")
	h.rt.CreateContainer(context.Background(), sid, &runtimeapi.ContainerConfig{ //nolint:errcheck
		Metadata: &runtimeapi.ContainerMetadata{Name: "a"}, Labels: cfg.Labels,
	}, cfg)
	h.run()
	pod := managedPod("u1", v1.RestartPolicyAlways, "a")
	h.m.SetDesired([]*v1.Pod{pod})
	h.runningOne("a")
	h.m.SetDesired(nil)
	h.waitFor("every pod removed", func() bool { s, c := h.rt.count(); return s == 0 && c == 0 })

	wantUID := map[string]string{"default/p-u1": "u1", "default/p-gone": "gone"}
	containerLines := map[string]bool{"container started": true, "stopping container": true}
	seen := map[string]bool{}
	for _, e := range logs.All() {
		f := e.ContextMap()
		pod, ok := f["pod"].(string)
		if !ok {
			continue
		}
		seen[e.Message] = true
		if f["namespace"] != "default" || f["uid"] != wantUID[pod] {
			t.Errorf("%q about pod %q: namespace %v, uid %v; want default, %s", e.Message, pod, f["namespace"], f["uid"], wantUID[pod])
		}
		if containerLines[e.Message] && f["container"] != "a" {
			t.Errorf("%q about pod %q has container %v, want a", e.Message, pod, f["container"])
		}
	}
	for _, m := range []string{"container started", "stopping container", "stopping a pod no manifest asks for", "stopping pod"} {
		if !seen[m] {
			t.Errorf("no %q line about a pod; saw %v", m, seen)
		}
	}
}
