package logs

import (
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func criLines(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "2026-11-23T11:00:%02dZ stdout F line %d\n", i, i)
	}
	return b.String()
}

func writeGzip(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// rotatedLog makes a log rotated twice, as the kubelet leaves it: the
// oldest rotated file compressed, the newest plain, a temporary file and
// a plain copy of a compressed one left by failed rotations.
func rotatedLog(t *testing.T) string {
	t.Helper()
	path := writeLog(t, criLines(7, 9))
	writeGzip(t, path+".20261123-110001.gz", criLines(1, 3))
	if err := os.WriteFile(path+".20261123-110001", []byte("stale copy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".20261123-110002", []byte(criLines(4, 6)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".20261123-110002.gz.tmp", []byte("half compressed"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRotated_OldestFirstWithoutLeftovers(t *testing.T) {
	path := rotatedLog(t)
	got, err := Rotated(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{path + ".20261123-110001.gz", path + ".20261123-110002"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Rotated = %v, want %v", got, want)
	}
}

func TestFileCopy_ReadsAcrossRotatedFiles(t *testing.T) {
	path := rotatedLog(t)
	for _, tt := range []struct {
		tail int
		want string
	}{
		{-1, "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9\n"},
		{5, "line 5\nline 6\nline 7\nline 8\nline 9\n"},
	} {
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := f.Copy(&b, Options{TailLines: tt.tail}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if b.String() != tt.want {
			t.Errorf("Copy(tail %d) = %q, want %q", tt.tail, b.String(), tt.want)
		}
	}
}

func TestFileFollow_ContinuesIntoTheReopenedFile(t *testing.T) {
	path := writeLog(t, criLines(1, 2))
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.poll = time.Millisecond
	var w flushWriter
	if err := f.Copy(&w, Options{TailLines: -1}); err != nil {
		t.Fatal(err)
	}
	old, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The rotation renames the file; the runtime writes to it until it
	// reopens the path, then to the new file.
	if err := os.Rename(path, path+".20261123-110003"); err != nil {
		t.Fatal(err)
	}
	looks := 0
	running := func() bool {
		looks++
		switch looks {
		case 1:
			old.WriteString(criLines(3, 3))
		case 2:
			old.Close()
			if err := os.WriteFile(path, []byte(criLines(4, 5)), 0o644); err != nil {
				t.Error(err)
			}
		}
		return looks < 5
	}
	if err := f.Follow(context.Background(), &w, Options{}, running); err != nil {
		t.Fatalf("Follow: %v", err)
	}
	want := "line 1\nline 2\nline 3\nline 4\nline 5\n"
	if got := w.b.String(); got != want {
		t.Fatalf("Copy and Follow wrote %q, want %q", got, want)
	}
}
