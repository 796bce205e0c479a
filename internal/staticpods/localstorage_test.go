package staticpods

import (
	"strings"
	"testing"
)

// Local storage limits are enforced by the pod worker's eviction, so the
// manifest is admitted with them; a pod-level one is no pod-level resource.
func TestDecodeManifest_LocalStorageLimitsAdmitted(t *testing.T) {
	tests := []struct {
		name, volume, limits, podLimits, wantField string
	}{
		{name: "pod-level ephemeral-storage limit is not a pod-level resource", podLimits: "{ephemeral-storage: 1Gi}", wantField: "spec.resources.limits[ephemeral-storage]"},
		{name: "ephemeral-storage limit", limits: "{ephemeral-storage: 1Gi}"},
		{name: "disk emptyDir sizeLimit", volume: "{sizeLimit: 1Gi}"},
		{name: "memory emptyDir sizeLimit is its tmpfs size", volume: "{medium: Memory, sizeLimit: 16Mi}"},
		{name: "ephemeral-storage request alone"},
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
			podResources := ""
			if tt.podLimits != "" {
				podResources = "  resources: {limits: " + tt.podLimits + "}\n"
			}
			doc := `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
` + podResources + `  volumes: [{name: v, emptyDir: ` + vol + `}]
  containers:
  - name: c
    image: busybox
    volumeMounts: [{name: v, mountPath: /v}]
    resources: {requests: {ephemeral-storage: 1Mi}, limits: ` + lim + `}
`
			_, err := DecodeManifest("/m/p.yaml", []byte(doc), "n1")
			if tt.wantField != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantField) {
					t.Fatalf("error %v, want one on %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}
