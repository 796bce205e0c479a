package podworker

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/minikubelet/minikubelet/internal/status"
)

func TestTerminationMessage_EnrichesTheRuntimesMessage(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "termination-log")
	if err := os.WriteFile(file, []byte("wrote this"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "0.log")
	if err := os.WriteFile(log, []byte("2026-01-01T00:00:00.000000000Z stderr F boom\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := func(msgFile string, fallback bool, code int32, reason string) containerRecord {
		return containerRecord{ContainerRecord: status.ContainerRecord{ExitCode: code, Reason: reason}, LogPath: log, messageFile: msgFile, fallbackToLogs: fallback}
	}
	tests := []struct {
		name    string
		rec     containerRecord
		runtime string
		want    string
	}{
		{"the file's message alone", rec(file, false, 1, "Error"), "", "wrote this"},
		{"appended to the runtime's, as the kubelet", rec(file, false, 1, "Error"), "OOM", "OOM: wrote this"},
		{"no file message, no fallback: the runtime's", rec(empty, false, 1, "Error"), "OOM", "OOM"},
		{"fallback to the log on a failure", rec(empty, true, 1, "Error"), "", "boom"},
		{"the log appended to the runtime's", rec(empty, true, 137, "OOMKilled"), "OOM", "OOM: boom"},
		{"no fallback on success", rec(empty, true, 0, "Completed"), "", ""},
		{"no fallback for a container that could not run", rec(empty, true, 128, "ContainerCannotRun"), "exec failed", "exec failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := terminationMessage(tt.rec, tt.runtime); got != tt.want {
				t.Fatalf("message %q, want %q", got, tt.want)
			}
		})
	}
}
