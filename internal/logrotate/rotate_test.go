package logrotate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minikubelet/minikubelet/internal/logs"
	"github.com/minikubelet/minikubelet/internal/runtime"
)

func TestPlan_AsTheKubeletsRotation(t *testing.T) {
	tests := []struct {
		name             string
		files            []string
		maxFiles         int
		remove, compress []string
	}{
		{name: "first rotation", maxFiles: 5},
		{
			name:     "the newest rotated file is compressed before the next rotation",
			files:    []string{"0.log.20260101-000001"},
			maxFiles: 5,
			compress: []string{"0.log.20260101-000001"},
		},
		{
			name:     "leftovers of failed rotations go",
			files:    []string{"0.log.20260101-000001.gz", "0.log.20260101-000001", "0.log.20260101-000002.tmp"},
			maxFiles: 5,
			remove:   []string{"0.log.20260101-000001", "0.log.20260101-000002.tmp"},
		},
		{
			name:     "at most maxFiles-2 stay, oldest removed first",
			files:    []string{"0.log.20260101-000004", "0.log.20260101-000002.gz", "0.log.20260101-000001.gz", "0.log.20260101-000003.gz"},
			maxFiles: 4,
			remove:   []string{"0.log.20260101-000001.gz", "0.log.20260101-000002.gz"},
			compress: []string{"0.log.20260101-000004"},
		},
		{
			name:     "maxFiles 2 keeps only the live log and the one rotated now",
			files:    []string{"0.log.20260101-000001.gz", "0.log.20260101-000002"},
			maxFiles: 2,
			remove:   []string{"0.log.20260101-000001.gz", "0.log.20260101-000002"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remove, compress := plan(tt.files, tt.maxFiles)
			sort.Strings(remove)
			if !reflect.DeepEqual(remove, tt.remove) || !reflect.DeepEqual(compress, tt.compress) {
				t.Fatalf("plan = remove %v, compress %v; want remove %v, compress %v", remove, compress, tt.remove, tt.compress)
			}
		})
	}
}

// fakeRuntime has one running container whose log is at path; a reopen
// makes a new empty file there, as containerd does.
type fakeRuntime struct {
	id, path  string
	reopenErr error
	reopens   int
	// appendOnReopen is written to the old file just before the reopen:
	// lines the runtime wrote between the rename and the reopen.
	appendOnReopen string
}

func (f *fakeRuntime) ListContainers(_ context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	if filter.LabelSelector[runtime.LabelNode] != "node-1" {
		return nil, nil
	}
	return []*runtimeapi.Container{{Id: f.id, State: runtimeapi.ContainerState_CONTAINER_RUNNING,
		Labels: map[string]string{runtime.LabelPodName: "p", runtime.LabelPodNamespace: "default", runtime.LabelContainerName: "c"}}}, nil
}

func (f *fakeRuntime) ContainerStatus(_ context.Context, id string, _ bool) (*runtimeapi.ContainerStatusResponse, error) {
	return &runtimeapi.ContainerStatusResponse{Status: &runtimeapi.ContainerStatus{Id: id, LogPath: f.path}}, nil
}

func (f *fakeRuntime) ReopenContainerLog(_ context.Context, id string) error {
	f.reopens++
	if f.reopenErr != nil {
		return f.reopenErr
	}
	if f.appendOnReopen != "" {
		files, _ := logs.Rotated(f.path)
		last := files[len(files)-1]
		o, err := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		o.WriteString(f.appendOnReopen)
		o.Close()
	}
	return os.WriteFile(f.path, nil, 0o640)
}

func (f *fakeRuntime) write(t *testing.T, content string) {
	t.Helper()
	o, err := os.OpenFile(f.path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if _, err := o.WriteString(content); err != nil {
		t.Fatal(err)
	}
}

func newTestManager(t *testing.T, maxFiles int) (*Manager, *fakeRuntime, *clocktesting.FakeClock) {
	t.Helper()
	rt := &fakeRuntime{id: "c1", path: filepath.Join(t.TempDir(), "0.log")}
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC))
	m := New(Config{Runtime: rt, NodeName: "node-1", MaxSize: 100, MaxFiles: maxFiles, Interval: 10 * time.Second, Clock: clk})
	return m, rt, clk
}

func line(n int) string {
	return "2026-11-23T11:00:00Z stdout F " + strings.Repeat("x", 60) + string(rune('a'+n%26)) + "\n"
}

func TestRotateLogs_RotatesCompressesAndBoundsTheFiles(t *testing.T) {
	m, rt, clk := newTestManager(t, 3)
	var written []string
	for round := 0; round < 5; round++ {
		for i := 0; i < 2; i++ {
			l := line(round*2 + i)
			written = append(written, l)
			rt.write(t, l)
		}
		m.RotateLogs(context.Background())
		clk.Step(10 * time.Second)
	}
	if rt.reopens != 5 {
		t.Fatalf("%d reopens, want one per full log (5)", rt.reopens)
	}
	rotated, err := logs.Rotated(rt.path)
	if err != nil {
		t.Fatal(err)
	}
	// maxFiles 3: the live log, the newest rotated (plain), one compressed.
	want := []string{rt.path + ".20261123-110030.gz", rt.path + ".20261123-110040"}
	if !reflect.DeepEqual(rotated, want) {
		t.Fatalf("rotated files %v, want %v", rotated, want)
	}
	all, _ := filepath.Glob(rt.path + "*")
	if len(all) != 3 {
		t.Fatalf("files %v, want 3 (containerLogMaxFiles)", all)
	}
	f, err := logs.Open(rt.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	if err := f.Copy(&b, logs.Options{TailLines: -1}); err != nil {
		t.Fatal(err)
	}
	var contents []string
	for _, l := range written[6:] { // the two oldest rotations were removed
		contents = append(contents, strings.SplitN(l, " ", 4)[3])
	}
	if got := b.String(); got != strings.Join(contents, "") {
		t.Fatalf("the log reads %q, want %q", got, strings.Join(contents, ""))
	}
}

func TestRotateLogs_KeepsWhatTheRuntimeWroteBeforeItReopened(t *testing.T) {
	m, rt, clk := newTestManager(t, 5)
	rt.write(t, line(0)+line(1))
	rt.appendOnReopen = line(2)
	m.RotateLogs(context.Background())
	clk.Step(10 * time.Second)
	rt.appendOnReopen = ""
	rt.write(t, line(3))
	f, err := logs.Open(rt.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	if err := f.Copy(&b, logs.Options{TailLines: -1}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n"); n != 4 {
		t.Fatalf("the log has %d lines after the rotation, want 4:\n%s", n, b.String())
	}
}

func TestRotateLogs_SmallLogIsLeftAlone(t *testing.T) {
	m, rt, _ := newTestManager(t, 5)
	rt.write(t, "2026-11-23T11:00:00Z stdout F short\n")
	m.RotateLogs(context.Background())
	if rt.reopens != 0 {
		t.Fatalf("%d reopens of a log under the maximum size", rt.reopens)
	}
	if rotated, _ := logs.Rotated(rt.path); len(rotated) != 0 {
		t.Fatalf("rotated files %v, want none", rotated)
	}
}

func TestRotateLogs_FailedReopenRenamesTheLogBack(t *testing.T) {
	m, rt, _ := newTestManager(t, 5)
	rt.write(t, line(0)+line(1))
	rt.reopenErr = errors.New("reopen refused")
	m.RotateLogs(context.Background())
	if rotated, _ := logs.Rotated(rt.path); len(rotated) != 0 {
		t.Fatalf("rotated files %v after a failed reopen, want none", rotated)
	}
	if st, err := os.Stat(rt.path); err != nil || st.Size() != int64(2*len(line(0))) {
		t.Fatalf("live log %v, %v: want the two lines back at its path", st, err)
	}
}
