package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServing_PortDefaultUnlessGiven(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		file string
		want int32
	}{
		{"absent takes the default", "staticPodPath: /m\n", DefaultPort},
		{"an explicit 0 turns HTTPS off", "port: 0\n", 0},
		{"a port is kept", "port: 12345\n", 12345},
		{"an explicit 0 in a KubeletConfiguration turns HTTPS off", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nport: 0\n", 0},
		{"absent from a KubeletConfiguration takes the default", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPods: 20\n", DefaultPort},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, string(rune('a'+i))+".yaml")
			if err := os.WriteFile(path, []byte(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			c, _, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.WithDefaults().Port; got != tt.want {
				t.Fatalf("port = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestServing_SetPortZeroIsOff(t *testing.T) {
	var c Config
	c.SetPort(0)
	if got := c.WithDefaults().Port; got != 0 {
		t.Fatalf("port = %d after SetPort(0), want 0", got)
	}
}

func TestServing_Validate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string
	}{
		{"defaults are valid", func(*Config) {}, ""},
		{"group may read", func(c *Config) { c.KubeconfigMode = "0640"; c.KubeconfigGroup = "0" }, ""},
		{"others may not", func(c *Config) { c.KubeconfigMode = "0644" }, "kubeconfigMode"},
		{"mode not octal", func(c *Config) { c.KubeconfigMode = "rw" }, "kubeconfigMode"},
		{"unknown group", func(c *Config) { c.KubeconfigGroup = "no-such-group-here" }, "kubeconfigGroup"},
		{"address not an IP", func(c *Config) { c.Address = "localhost" }, "address"},
		{"port out of range", func(c *Config) { c.Port = 70000 }, "port"},
		{"read-only port on the HTTPS port", func(c *Config) { c.ReadOnlyPort = c.Port }, "readOnlyPort"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{}.WithDefaults()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}

// The configuration the project ships decodes strictly and is valid, with
// the serving defaults it states.
func TestServing_DeployedConfig(t *testing.T) {
	c, _, err := Load("../../deploy/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Port != DefaultPort || c.Address != DefaultAddress || c.ReadOnlyPort != 0 || c.KubeconfigPath != DefaultKubeconfigPath || c.KubeconfigMode != DefaultKubeconfigMode {
		t.Fatalf("deploy/config.yaml: port %d, address %q, readOnlyPort %d, kubeconfig %s %s; want the defaults",
			c.Port, c.Address, c.ReadOnlyPort, c.KubeconfigPath, c.KubeconfigMode)
	}
}
