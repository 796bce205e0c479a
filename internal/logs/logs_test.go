package logs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0.log")
	var b strings.Builder
	for i := range 100 {
		b.WriteString("2026-11-23T11:00:00.000000000Z stdout F line")
		b.WriteString(strings.Repeat("x", i%3))
		b.WriteString("\n")
	}
	b.WriteString("2026-11-23T11:00:01.000000000Z stderr P part-")
	b.WriteString("\n2026-11-23T11:00:01.000000001Z stderr F end\n")
	os.WriteFile(path, []byte(b.String()), 0o644)

	got := Tail(path, 3, 2048)
	lines := strings.Split(got, "\n")
	if len(lines) != 3 || lines[2] != "part-end" || !strings.HasPrefix(lines[0], "line") {
		t.Fatalf("Tail(3 lines) = %q, want two lines then the joined partial line", got)
	}
	if got := Tail(path, 80, 10); len(got) != 10 || !strings.HasSuffix(got, "part-end") {
		t.Fatalf("Tail(10 bytes) = %q, want the last 10 bytes", got)
	}
	if got := Tail(filepath.Join(dir, "missing"), 3, 100); got != "" {
		t.Fatalf("Tail of a missing file = %q", got)
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		line        string
		content     string
		full, valid bool
	}{
		{"2026-11-23T11:00:00Z stdout F hello world", "hello world", true, true},
		{"2026-11-23T11:00:00Z stdout P hel", "hel", false, true},
		{"2026-11-23T11:00:00Z stdout F", "", true, true},
		{"garbage", "", false, false},
	}
	for _, tt := range tests {
		content, full, ok := parseLine(tt.line)
		if content != tt.content || full != tt.full || ok != tt.valid {
			t.Errorf("parseLine(%q) = %q, %v, %v; want %q, %v, %v", tt.line, content, full, ok, tt.content, tt.full, tt.valid)
		}
	}
}
