package logs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// criLog is a CRI log file's content: lines of "<time> <stream> <tag> <content>".
const criLog = "2026-11-23T11:00:00.000000001Z stdout F one\n" +
	"2026-11-23T11:00:00.000000002Z stderr F two\n" +
	"2026-11-23T11:00:00.000000003Z stdout P thr\n" +
	"2026-11-23T11:00:00.000000004Z stdout F ee\n" +
	"garbage\n" +
	"2026-11-23T11:00:00.000000005Z stdout F four\n" +
	"2026-11-23T11:00:00.000000006Z stdout F half-writ" // no newline yet

func writeLog(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "0.log")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFileCopy_AsKubectlLogsShowsIt(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{name: "everything", opts: Options{TailLines: -1}, want: "one\ntwo\nthree\nfour\n"},
		{name: "tail counts CRI lines", opts: Options{TailLines: 3}, want: "ee\nfour\n"},
		{name: "tail 0", opts: Options{TailLines: 0}, want: ""},
		{name: "tail longer than the file", opts: Options{TailLines: 100}, want: "one\ntwo\nthree\nfour\n"},
		{name: "timestamps", opts: Options{TailLines: 3, Timestamps: true},
			want: "2026-11-23T11:00:00.000000004Z ee\n2026-11-23T11:00:00.000000005Z four\n"},
		{name: "since leaves out older lines", opts: Options{TailLines: -1, Since: time.Date(2026, 11, 23, 11, 0, 0, 3, time.UTC)},
			want: "three\nfour\n"},
		{name: "tail counts before since", opts: Options{TailLines: 4, Since: time.Date(2026, 11, 23, 11, 0, 0, 5, time.UTC)},
			want: "four\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Open(writeLog(t, criLog))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var b strings.Builder
			if err := f.Copy(&b, tt.opts); err != nil {
				t.Fatalf("Copy: %v", err)
			}
			if b.String() != tt.want {
				t.Fatalf("Copy wrote %q, want %q", b.String(), tt.want)
			}
		})
	}
}

func TestFileCopy_TimestampsAsTheKubeletWritesThem(t *testing.T) {
	f, err := Open(writeLog(t, "2026-11-23T11:00:00.120000000Z stdout F one\n2026-11-23T12:00:00.000000000+01:00 stdout F two\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	if err := f.Copy(&b, Options{TailLines: -1, Timestamps: true}); err != nil {
		t.Fatal(err)
	}
	want := "2026-11-23T11:00:00.12Z one\n2026-11-23T12:00:00+01:00 two\n"
	if b.String() != want {
		t.Fatalf("Copy wrote %q, want %q (RFC 3339, trailing zeros trimmed)", b.String(), want)
	}
}

func TestOpen_MissingFile(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing.log")); !os.IsNotExist(err) {
		t.Fatalf("Open of a missing file = %v, want a not-exist error", err)
	}
}

// flushWriter is an io.Writer with Flush, as an http.ResponseWriter is.
type flushWriter struct {
	mu      sync.Mutex
	b       bytes.Buffer
	flushes int
}

func (w *flushWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *flushWriter) Flush() {
	w.mu.Lock()
	w.flushes++
	w.mu.Unlock()
}

func TestFileFollow_WritesWhatIsAppendedUntilTheContainerStops(t *testing.T) {
	path := writeLog(t, criLog)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.poll = time.Millisecond
	var w flushWriter
	if err := f.Copy(&w, Options{TailLines: 0}); err != nil {
		t.Fatal(err)
	}
	app, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	// The rest of the half-written line, a new line, and the start of one
	// more that Follow must hold back.
	if _, err := app.WriteString("ten\n2026-11-23T11:00:01Z stdout F five\n2026-11-23T11:00:02Z stdout F si"); err != nil {
		t.Fatal(err)
	}
	looks := 0
	running := func() bool {
		looks++
		return looks < 2
	}
	if err := f.Follow(context.Background(), &w, Options{Timestamps: true}, running); err != nil {
		t.Fatalf("Follow: %v", err)
	}
	want := "2026-11-23T11:00:00.000000006Z half-written\n2026-11-23T11:00:01Z five\n"
	if got := w.b.String(); got != want {
		t.Fatalf("Follow wrote %q, want %q", got, want)
	}
	if w.flushes == 0 {
		t.Errorf("Follow never flushed the writer")
	}
}

func TestFileFollow_EndsWithTheContext(t *testing.T) {
	f, err := Open(writeLog(t, criLog))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var b strings.Builder
	if err := f.Follow(ctx, &b, Options{}, func() bool { return true }); err != nil || b.Len() != 0 {
		t.Fatalf("Follow with an ended context = %v, wrote %q; want nil and nothing", err, b.String())
	}
}
