package runtime

import (
	"reflect"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestFeaturesFromStatus(t *testing.T) {
	// What containerd 1.6.20 reports (trimmed): no RuntimeHandlers, the
	// runtimes in its configuration.
	containerd16 := `{"containerd":{"defaultRuntimeName":"runc","runtimes":{"runc":{"runtimeType":"io.containerd.runc.v2"},"kata":{}}},"enableSelinux":false,"disableApparmor":false}`
	tests := []struct {
		name    string
		status  *runtimeapi.StatusResponse
		want    Features
		wantErr bool
	}{
		{name: "containerd 1.6: handlers from the configuration, none with recursive read-only mounts",
			status: &runtimeapi.StatusResponse{Info: map[string]string{"config": containerd16}},
			want:   Features{Handlers: map[string]Handler{"": {}, "runc": {}, "kata": {}}, AppArmor: true}},
		{name: "a runtime that lists its handlers",
			status: &runtimeapi.StatusResponse{
				Info: map[string]string{"config": `{"containerd":{"defaultRuntimeName":"runc"},"enableSelinux":true,"disableApparmor":true}`},
				RuntimeHandlers: []*runtimeapi.RuntimeHandler{
					{Name: "", Features: &runtimeapi.RuntimeHandlerFeatures{RecursiveReadOnlyMounts: true}},
					{Name: "crun"},
				}},
			want: Features{Handlers: map[string]Handler{"": {RecursiveReadOnlyMounts: true}, "runc": {RecursiveReadOnlyMounts: true}, "crun": {}}, SELinux: true}},
		{name: "no handlers anywhere", status: &runtimeapi.StatusResponse{}, wantErr: true},
		{name: "unreadable configuration", status: &runtimeapi.StatusResponse{Info: map[string]string{"config": "{"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := featuresFromStatus(tt.status)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("features %+v, want %+v", got, tt.want)
			}
		})
	}
}
