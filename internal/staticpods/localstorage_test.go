package staticpods

import (
	"strings"
	"testing"
)

func TestDecodeManifest_LocalStorageLimitsRefused(t *testing.T) {
	tests := []struct {
		name, volume, limits, wantField string
	}{
		{name: "ephemeral-storage limit", limits: "{ephemeral-storage: 1Gi}", wantField: "spec.containers[0].resources.limits[ephemeral-storage]"},
		{name: "disk emptyDir sizeLimit", volume: "{sizeLimit: 1Gi}", wantField: "spec.volumes[0].emptyDir.sizeLimit"},
		{name: "memory emptyDir sizeLimit is its tmpfs size", volume: "{medium: Memory, sizeLimit: 16Mi}"},
		{name: "ephemeral-storage request is admitted", limits: "{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vol, lim := tt.volume, tt.limits
			if vol == "" {
				vol = "{}"
			}
			if lim == "" {
				lim = "{}"
			}
			doc := `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  volumes: [{name: v, emptyDir: ` + vol + `}]
  containers:
  - name: c
    image: busybox
    volumeMounts: [{name: v, mountPath: /v}]
    resources: {requests: {ephemeral-storage: 1Mi}, limits: ` + lim + `}
`
			_, err := DecodeManifest("/m/p.yaml", []byte(doc), "n1")
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantField) || !strings.Contains(err.Error(), "eviction") {
				t.Fatalf("error %v, want one on %s saying why", err, tt.wantField)
			}
		})
	}
}
