package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minikubelet/minikubelet/internal/sandbox"
)

// chattyLines is how many numbered lines the chatty container writes, in
// bursts of chattyBurst two seconds apart: about 350 KB of log, rotated
// two or three times at 100Ki, so that every line stays within
// containerLogMaxFiles (5) files.
const (
	chattyLines = 5000
	chattyBurst = 1000
)

const chattyPod = `apiVersion: v1
kind: Pod
metadata:
  name: chatty
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command:
    - sh
    - -c
    - |
      sleep 2
      i=0
      while [ $i -lt 5000 ]; do
        echo "line $i xxxxxxxxxxxxxxxxxxxx"
        i=$((i+1))
        if [ $((i % 1000)) -eq 0 ]; then sleep 2; fi
      done
      echo done
      sleep 600
`

// checkNumberedLines fails unless out holds "line 0" to "line N-1", each
// once and in order, then "done".
func checkNumberedLines(t *testing.T, what, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != chattyLines+1 || lines[chattyLines] != "done" {
		t.Fatalf("%s: %d lines, want %d numbered lines and done; last: %q", what, len(lines), chattyLines, lines[len(lines)-1])
	}
	for i := 0; i < chattyLines; i++ {
		if want := fmt.Sprintf("line %d xxxxxxxxxxxxxxxxxxxx", i); lines[i] != want {
			t.Fatalf("%s: line %d is %q, want %q", what, i, lines[i], want)
		}
	}
}

func TestLogRotation_ChattyContainerKeepsEveryLineInBoundedFiles(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("containerLogMaxSize: 100Ki\ncontainerLogMaxFiles: 5\ncontainerLogMonitorInterval: 3s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "--config", cfg)
	n.writeManifest("chatty.yaml", chattyPod)
	p := n.waitPod("chatty", 30*time.Second, "running", podRunning)

	// Followed from the start: the follow goes on into each reopened file.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	follow := exec.CommandContext(ctx, binary, "logs", "-f", n.podName("chatty"), "--api-socket", n.socket)
	var followed bytes.Buffer
	follow.Stdout = &followed
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	defer follow.Wait() //nolint:errcheck

	dir := filepath.Join(sandbox.LogDirectory("/var/log/pods", p), "c")
	var files []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, _ := execCommand(binary, "logs", n.podName("chatty"), "--tail", "1", "--api-socket", n.socket)
		files, _ = filepath.Glob(filepath.Join(dir, "0.log*"))
		if strings.TrimSpace(out) == "done" && len(files) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s: last line %q, log files %v; want done and the log rotated at least twice\n%s", out, files, n.logTail())
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Whatever a rotation still in progress adds, the bound holds.
	time.Sleep(3 * time.Second)
	files, _ = filepath.Glob(filepath.Join(dir, "0.log*"))
	compressed := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".gz") {
			compressed++
		}
	}
	t.Logf("log files: %v", files)
	if len(files) > 5 || compressed == 0 {
		t.Fatalf("log files %v: want at most containerLogMaxFiles (5), the older rotated ones compressed", files)
	}

	out, err := execCommand(binary, "logs", n.podName("chatty"), "--api-socket", n.socket)
	if err != nil {
		t.Fatalf("minikubelet logs: %v\n%s", err, out)
	}
	checkNumberedLines(t, "minikubelet logs", out)
	tail, err := execCommand(binary, "logs", n.podName("chatty"), "--tail", "3001", "--api-socket", n.socket)
	if err != nil {
		t.Fatalf("minikubelet logs --tail: %v\n%s", err, tail)
	}
	if got := strings.Split(tail, "\n")[0]; got != "line 2000 xxxxxxxxxxxxxxxxxxxx" {
		t.Fatalf("minikubelet logs --tail 3001 starts with %q, want line 2000 (across the rotated files)", got)
	}
	cancel()
	follow.Wait() //nolint:errcheck
	checkNumberedLines(t, "minikubelet logs -f", followed.String())
}
