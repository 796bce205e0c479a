package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minikubelet/minikubelet/internal/config"
)

func TestLogEncoding(t *testing.T) {
	tests := []struct {
		format   string
		terminal bool
		want     string
	}{
		{"", true, "console"},
		{"", false, "json"},
		{"text", false, "console"},
		{"text", true, "console"},
		{"json", true, "json"},
		{"json", false, "json"},
	}
	for _, tt := range tests {
		if got := logEncoding(tt.format, tt.terminal); got != tt.want {
			t.Errorf("logEncoding(%q, terminal %v) = %q, want %q", tt.format, tt.terminal, got, tt.want)
		}
	}
}

// printConfig runs `run --print-config` with args and returns what it
// printed, loaded back.
func printConfig(t *testing.T, args ...string) (config.Config, string) {
	t.Helper()
	cmd := newRunCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append(args, "--print-config"))
	if err := cmd.Execute(); err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	path := filepath.Join(t.TempDir(), "printed.yaml")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	c, warnings, err := config.Load(path)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("load the printed config: %v, %v\n%s", warnings, err, out.String())
	}
	return c.WithDefaults(), errOut.String()
}

func TestRun_FlagsOverrideTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	err := os.WriteFile(path, []byte(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
staticPodPath: /from/file
maxPods: 5
podLogsDir: /logs/file
logging:
  format: json
---
apiVersion: minikubelet.io/v1alpha1
kind: MinikubeletConfiguration
rootDir: /root/file
logLevel: warn
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := printConfig(t, "--config", path, "--max-pods", "9", "--root-dir", "/root/flag", "--log-format", "text")
	if c.MaxPods != 9 || c.RootDir != "/root/flag" || c.Logging.Format != "text" {
		t.Errorf("flags did not win: maxPods %d, rootDir %s, logging.format %s", c.MaxPods, c.RootDir, c.Logging.Format)
	}
	if c.StaticPodPath != "/from/file" || c.PodLogsDir != "/logs/file" || c.LogLevel != "warn" {
		t.Errorf("the file's values were lost: staticPodPath %s, podLogsDir %s, logLevel %s", c.StaticPodPath, c.PodLogsDir, c.LogLevel)
	}
	if c, _ := printConfig(t, "--config", path, "-v", "4"); c.LogLevel != "debug" || c.Logging.Verbosity != 4 {
		t.Errorf("-v 4 over the file's logLevel: logLevel %s, verbosity %d", c.LogLevel, c.Logging.Verbosity)
	}
	if c, _ := printConfig(t, "--config", path, "-v", "4", "--log-level", "error"); c.LogLevel != "error" {
		t.Errorf("--log-level beside -v: logLevel %s, want error", c.LogLevel)
	}
}

func TestRun_PrintConfigWarnsOnStderr(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("staticPodPath: /m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, stderr := printConfig(t, "--config", path)
	if c.StaticPodPath != "/m" {
		t.Errorf("staticPodPath %s", c.StaticPodPath)
	}
	if !strings.Contains(stderr, "warning: config "+path) || !strings.Contains(stderr, "deprecated") {
		t.Errorf("stderr %q, want the deprecation warning naming %s", stderr, path)
	}
}

func TestRun_InvalidConfigNamesTheFileAndField(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncontainerLogMaxFiles: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := newRunCommand()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs([]string{"--config", path, "--print-config"})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "containerLogMaxFiles must be greater than 1") {
		t.Fatalf("error %v, want one naming %s and containerLogMaxFiles", err, path)
	}
}
