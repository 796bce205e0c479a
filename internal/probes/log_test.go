package probes

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestWorkerFields_NamePodNamespaceUIDAndContainer(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	w := &worker{c: &container{podUID: "u1", podName: "p", namespace: "ns", name: "c", id: "cid"}, kind: Liveness}
	zap.New(core).Info("Probe result changed", w.fields()...)
	got := logs.All()[0].ContextMap()
	want := map[string]any{"pod": "ns/p", "namespace": "ns", "uid": "u1", "container": "c", "containerID": "cid", "probe": "Liveness"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}
