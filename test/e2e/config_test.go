package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// configTimeout bounds each wait of the configuration tests.
const configTimeout = 60 * time.Second

// writeConfigFile writes a configuration file for the daemon in the test's
// temp dir.
func writeConfigFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// jsonLogLines are the daemon's JSON log lines with message msg.
func (n *testNode) jsonLogLines(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range n.logLinesSince(0, `"msg":"`+msg+`"`) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			n.t.Fatalf("a log line that is not JSON: %v\n%s", err, line)
		}
		out = append(out, m)
	}
	return out
}

func TestConfig_KubeletConfigurationFileTakesEffect(t *testing.T) {
	path := writeConfigFile(t, `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
maxPods: 1
enableServer: false
logging:
  format: json
---
apiVersion: minikubelet.io/v1alpha1
kind: MinikubeletConfiguration
logLevel: info
`)
	// startNode asks for text logs (and debug, over the file's logLevel);
	// the --log-format here comes later on the command line and wins.
	n := startNode(t, "--config", path, "--log-format", "json")

	n.writeManifest("a.yaml", envPod("a", "1"))
	p := n.waitPod("a", configTimeout, "running", podRunning)
	n.writeManifest("b.yaml", envPod("b", "1"))
	bPath := filepath.Join(n.dir, "b.yaml")
	items := n.waitManifests(configTimeout, "b.yaml refused for maxPods 1", func(items []manifestItem) bool {
		m := manifestOf(items, bPath)
		return m != nil && m.Error != ""
	})
	if m := manifestOf(items, bPath); !strings.Contains(m.Error, "OutOfpods: Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1") {
		t.Errorf("b.yaml refused with %q, want the kubelet's OutOfpods for a capacity of 1", m.Error)
	}
	if got := n.podsNamed("b"); got != 0 {
		t.Errorf("%d pods of b.yaml listed, want none", got)
	}

	warned := n.jsonLogLines("a KubeletConfiguration field minikubelet does not act on: ignored")
	if len(warned) != 1 || warned[0]["field"] != "enableServer" || warned[0]["file"] != path || warned[0]["level"] != "warn" {
		t.Errorf("warnings of the field not acted on: %v, want one for enableServer naming %s", warned, path)
	}
	started := n.jsonLogLines("container started")
	if len(started) == 0 {
		t.Fatalf("no JSON line \"container started\"; log tail:\n%s", n.logTail())
	}
	want := map[string]any{"pod": "default/" + p.Name, "namespace": "default", "uid": string(p.UID), "container": "c"}
	for k, v := range want {
		if started[0][k] != v {
			t.Errorf("\"container started\" line: %s = %v, want %v (line %v)", k, started[0][k], v, started[0])
		}
	}

	out, err := exec.Command(binary, "run", "--config", path, "--print-config", "--pod-manifest-path", n.dir).Output()
	if err != nil {
		t.Fatalf("run --print-config: %v", err)
	}
	for _, s := range []string{
		"apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n", "\nmaxPods: 1\n", "\nstaticPodPath: " + n.dir + "\n",
		"\nlogging:\n  format: json\n", "\n---\napiVersion: minikubelet.io/v1alpha1\nkind: MinikubeletConfiguration\n", "\nlogLevel: info\n",
	} {
		if !strings.Contains(string(out), s) {
			t.Errorf("run --print-config does not print %q:\n%s", s, out)
		}
	}
	if strings.Contains(string(out), "enableServer") {
		t.Errorf("run --print-config prints the field not acted on:\n%s", out)
	}
}

func TestConfig_BadConfigMakesRunFailNamingFileAndField(t *testing.T) {
	for name, tc := range map[string]struct{ content, want string }{
		"unknown field": {
			content: "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPodz: 3\n",
			want:    `unknown field "maxPodz"`,
		},
		"invalid value": {
			content: "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nimageGCHighThresholdPercent: 50\nimageGCLowThresholdPercent: 60\n",
			want:    "imageGCLowThresholdPercent (--image-gc-low-threshold) 60 must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) 50",
		},
	} {
		t.Run(name, func(t *testing.T) {
			path := writeConfigFile(t, tc.content)
			work := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// Should the configuration wrongly be taken, the daemon runs
			// on empty directories of its own.
			cmd := exec.CommandContext(ctx, binary, "run", "--config", path,
				"--pod-manifest-path", filepath.Join(work, "manifests"), "--root-dir", filepath.Join(work, "root"),
				"--api-socket", filepath.Join(work, "api.sock"), "--hostname-override", "e2e-badconfig", "--cgroup-root", "/minikubelet-e2e-badconfig")
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("run with a bad configuration kept running:\n%s", out)
			}
			if err == nil {
				t.Fatalf("run with a bad configuration exited 0:\n%s", out)
			}
			if !strings.Contains(string(out), path) || !strings.Contains(string(out), tc.want) {
				t.Fatalf("run's message does not name %s and say %q:\n%s", path, tc.want, out)
			}
		})
	}
}
