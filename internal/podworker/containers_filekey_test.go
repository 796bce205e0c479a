package podworker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/volumes"
)

func TestContainerEnv_FileKeyRef(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.env"), []byte("DB_ADDRESS='db.local'\n"), 0o644)
	pc := podContext{Pod: &v1.Pod{}, Volumes: volumes.Volumes{"data": {Path: dir}}}
	yes := true
	ref := func(key string, optional *bool) v1.EnvVar {
		return v1.EnvVar{Name: "V", ValueFrom: &v1.EnvVarSource{FileKeyRef: &v1.FileKeySelector{VolumeName: "data", Path: "config.env", Key: key, Optional: optional}}}
	}
	tests := []struct {
		name    string
		env     []v1.EnvVar
		want    []string
		wantErr string
	}{
		{name: "read before start", env: []v1.EnvVar{ref("DB_ADDRESS", nil), {Name: "W", Value: "$(V)/x"}}, want: []string{"V=db.local", "W=db.local/x"}},
		{name: "optional and missing is not set", env: []v1.EnvVar{ref("NOPE", &yes), {Name: "W", Value: "$(V)"}}, want: []string{"W=$(V)"}},
		{name: "missing fails the config", env: []v1.EnvVar{ref("NOPE", nil)}, wantErr: `env V: key "NOPE" not found in env file "config.env" of volume "data"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kvs, err := containerEnv(pc, &v1.Container{Env: tt.env})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, kv := range kvs {
				got = append(got, kv.Key+"="+string(kv.Value))
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("env %v, want %v", got, tt.want)
			}
		})
	}
}
