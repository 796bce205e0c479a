package fieldpath

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestExtractMetadata(t *testing.T) {
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: "web-node1", Namespace: "default", UID: "u-1",
		Labels:      map[string]string{"b": "2", "a": `say "hi"`},
		Annotations: map[string]string{"k8s.io/x": "y"},
	}}
	tests := []struct {
		path, want string
		ok         bool
	}{
		{"metadata.name", "web-node1", true},
		{"metadata.namespace", "default", true},
		{"metadata.uid", "u-1", true},
		{"metadata.labels", "a=\"say \\\"hi\\\"\"\nb=\"2\"", true},
		{"metadata.annotations", `k8s.io/x="y"`, true},
		{"metadata.labels['b']", "2", true},
		{"metadata.annotations['k8s.io/x']", "y", true},
		{"metadata.labels['absent']", "", true},
		{"spec.nodeName", "", false},
		{"metadata.name['x']", "", false},
	}
	for _, tt := range tests {
		if got, ok := ExtractMetadata(pod, tt.path); got != tt.want || ok != tt.ok {
			t.Errorf("ExtractMetadata(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}
