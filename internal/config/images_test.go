package config

import (
	"strings"
	"testing"
)

func TestValidate_ImagePulls(t *testing.T) {
	yes, no := true, false
	n := func(v int32) *int32 { return &v }
	tests := []struct {
		name      string
		serialize *bool
		max       *int32
		creds     string
		wantLimit int
		wantErr   []string
	}{
		{name: "unset serializes, as the kubelet", wantLimit: 1},
		{name: "serialized with a limit of 1", serialize: &yes, max: n(1), wantLimit: 1},
		{name: "parallel without a limit", serialize: &no, wantLimit: 0},
		{name: "parallel with a limit", serialize: &no, max: n(3), wantLimit: 3},
		{name: "a limit above 1 needs serializeImagePulls false", max: n(2), wantErr: []string{"maxParallelImagePulls", "2", "serializeImagePulls"}},
		{name: "zero limit", serialize: &no, max: n(0), wantErr: []string{"maxParallelImagePulls", "positive"}},
		{name: "negative limit", serialize: &no, max: n(-1), wantErr: []string{"maxParallelImagePulls", "-1"}},
		{name: "credentials file", creds: "/etc/minikubelet/config.json", wantLimit: 1},
		{name: "relative credentials file", creds: "config.json", wantErr: []string{"registryCredentialsFile", "absolute", `"config.json"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{SerializeImagePulls: tt.serialize, MaxParallelImagePulls: tt.max, RegistryCredentialsFile: tt.creds}.WithDefaults()
			err := c.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if got := c.ImagePullLimit(); got != tt.wantLimit {
					t.Fatalf("ImagePullLimit = %d, want %d", got, tt.wantLimit)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want an error naming %q", tt.wantErr)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestLoad_ImagePulls(t *testing.T) {
	c, _, err := Load(writeConfig(t, "serializeImagePulls: false\nmaxParallelImagePulls: 2\nregistryCredentialsFile: /etc/mk/config.json\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.SerializeImagePulls == nil || *c.SerializeImagePulls || c.MaxParallelImagePulls == nil || *c.MaxParallelImagePulls != 2 || c.RegistryCredentialsFile != "/etc/mk/config.json" {
		t.Fatalf("Load = %+v", c)
	}
}
