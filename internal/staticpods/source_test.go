package staticpods

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
)

var testStart = time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)

// namedPod is a valid manifest for pod name running image.
func namedPod(name, image string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  containers:\n  - name: app\n    image: %s\n", name, image)
}

const invalidPod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: busybox\n    ports:\n    - containerPort: 0\n"

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newTestSource(t *testing.T, dir string) (*Source, *testingclock.FakeClock) {
	clk := testingclock.NewFakeClock(testStart)
	return New(Config{Dir: dir, NodeName: testNode, Clock: clk, Logger: zaptest.NewLogger(t)}), clk
}

// describe renders a snapshot for failure messages.
func describe(snap Snapshot) string {
	var b strings.Builder
	for _, m := range snap.Manifests {
		fmt.Fprintf(&b, "\n  manifest %s: pod %s uid %s image %s", filepath.Base(m.Path), m.Pod.Name, m.Pod.UID, m.Pod.Spec.Containers[0].Image)
		if m.Err != nil {
			fmt.Fprintf(&b, " (current error: %v)", m.Err)
		}
		if len(m.Changes) > 0 {
			fmt.Fprintf(&b, " changes %v", m.Changes)
		}
	}
	for _, e := range snap.Errors {
		fmt.Fprintf(&b, "\n  error %s: %v", filepath.Base(e.Path), e.Err)
	}
	if b.Len() == 0 {
		return "(empty)"
	}
	return b.String()
}

func manifestFiles(snap Snapshot) []string {
	var names []string
	for _, m := range snap.Manifests {
		names = append(names, filepath.Base(m.Path))
	}
	return names
}

func errorFiles(snap Snapshot) []string {
	var names []string
	for _, e := range snap.Errors {
		names = append(names, filepath.Base(e.Path))
	}
	return names
}

func TestScan_ReadsRegularFilesAndSymlinksWithManifestExtensions(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "manifests")
	outside := filepath.Join(root, "elsewhere")
	for _, d := range []string{dir, outside, filepath.Join(dir, "sub.yaml"), filepath.Join(dir, "conf.d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "a.yaml"), namedPod("a", "busybox:1"))
	writeFile(t, filepath.Join(dir, "b.yml"), namedPod("b", "busybox:1"))
	writeFile(t, filepath.Join(dir, "c.JSON"), `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"c"},"spec":{"containers":[{"name":"app","image":"busybox:1"}]}}`)
	writeFile(t, filepath.Join(dir, ".hidden.yaml"), namedPod("hidden", "busybox:1"))
	writeFile(t, filepath.Join(dir, ".a.yaml.swp"), "binary junk")
	writeFile(t, filepath.Join(dir, "a.yaml~"), namedPod("backup", "busybox:1"))
	writeFile(t, filepath.Join(dir, "README.md"), "# not a pod")
	writeFile(t, filepath.Join(dir, "sub.yaml", "nested.yaml"), namedPod("nested", "busybox:1"))
	writeFile(t, filepath.Join(outside, "linked.yaml"), namedPod("linked", "busybox:1"))
	if err := os.Symlink(filepath.Join(outside, "linked.yaml"), filepath.Join(dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "missing.yaml"), filepath.Join(dir, "dangling.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}

	src, _ := newTestSource(t, dir)
	snap := src.scan()
	if got, want := strings.Join(manifestFiles(snap), ","), "a.yaml,b.yml,c.JSON,link.yaml"; got != want {
		t.Errorf("manifests from %s, want %s:%s", got, want, describe(snap))
	}
	if got, want := strings.Join(errorFiles(snap), ","), "dangling.yaml,fifo.yaml"; got != want {
		t.Errorf("errors for %s, want %s:%s", got, want, describe(snap))
	}
	for _, e := range snap.Errors {
		if !strings.HasPrefix(e.Error(), e.Path+": ") {
			t.Errorf("error %q does not start with its file", e.Error())
		}
	}
	if snap.Manifests[3].Pod.Name != "linked-node-1" {
		t.Errorf("symlinked manifest gave pod %q", snap.Manifests[3].Pod.Name)
	}
}

func TestScan_InvalidEditKeepsLastGoodVersion(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	src, clk := newTestSource(t, dir)

	writeFile(t, file, namedPod("web", "busybox:1"))
	first := src.scan()
	if len(first.Manifests) != 1 || first.Manifests[0].Err != nil {
		t.Fatalf("first scan:%s", describe(first))
	}
	uid := first.Manifests[0].Pod.UID

	clk.Step(time.Minute)
	writeFile(t, file, invalidPod)
	snap := src.scan()
	if len(snap.Manifests) != 1 || len(snap.Errors) != 0 {
		t.Fatalf("after an invalid edit, want the last good pod and no file error:%s", describe(snap))
	}
	m := snap.Manifests[0]
	if m.Pod.UID != uid || m.Err == nil || !strings.Contains(m.Err.Error(), "spec.containers[0].ports[0].containerPort: Required value") {
		t.Errorf("want the last good pod %s with the error beside it:%s", uid, describe(snap))
	}
	if m.Pod.Annotations[ConfigFirstSeenAnnotationKey] != testStart.Format(time.RFC3339Nano) {
		t.Errorf("config.seen = %q, want the first sight of the good version", m.Pod.Annotations[ConfigFirstSeenAnnotationKey])
	}

	writeFile(t, file, namedPod("web", "busybox:2"))
	snap = src.scan()
	m = snap.Manifests[0]
	if m.Err != nil || m.Pod.UID == uid || m.Pod.Spec.Containers[0].Image != "busybox:2" {
		t.Fatalf("after a valid edit, want the new pod:%s", describe(snap))
	}
	if strings.Join(m.Changes, ",") != "spec.containers[0].image" {
		t.Errorf("Changes = %v, want [spec.containers[0].image]", m.Changes)
	}
	if m.Pod.Annotations[ConfigFirstSeenAnnotationKey] != testStart.Add(time.Minute).Format(time.RFC3339Nano) {
		t.Errorf("config.seen = %q, want the time of this version's first sight", m.Pod.Annotations[ConfigFirstSeenAnnotationKey])
	}

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if snap := src.scan(); len(snap.Manifests)+len(snap.Errors) != 0 {
		t.Errorf("after removal:%s", describe(snap))
	}
}

func TestScan_InvalidNewFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "web.yaml"), invalidPod)
	src, _ := newTestSource(t, dir)
	snap := src.scan()
	if len(snap.Manifests) != 0 || len(snap.Errors) != 1 || !strings.Contains(snap.Errors[0].Error(), "containerPort") {
		t.Errorf("want one file error:%s", describe(snap))
	}
}

func TestScan_RewriteThatChangesNothingKeepsPodAndSeen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	src, clk := newTestSource(t, dir)
	writeFile(t, file, namedPod("web", "busybox:1"))
	before := src.scan()

	clk.Step(time.Hour)
	writeFile(t, file, "# reformatted\n"+strings.ReplaceAll(namedPod("web", "busybox:1"), "image: busybox:1", "image: \"busybox:1\"\n    imagePullPolicy: IfNotPresent"))
	after := src.scan()
	if before.signature() != after.signature() {
		t.Errorf("a rewrite with the same meaning changed the snapshot:%s\nto:%s", describe(before), describe(after))
	}
	if got := after.Manifests[0].Pod.Annotations[ConfigFirstSeenAnnotationKey]; got != testStart.Format(time.RFC3339Nano) {
		t.Errorf("config.seen moved to %q", got)
	}
}

func TestScan_DuplicatesFirstByFileNameWinsThenHandsOver(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	writeFile(t, a, namedPod("web", "busybox:1"))
	writeFile(t, b, namedPod("web", "busybox:2"))
	writeFile(t, filepath.Join(dir, "c.yaml"), namedPod("other", "busybox:1"))
	src, _ := newTestSource(t, dir)

	snap := src.scan()
	if got := strings.Join(manifestFiles(snap), ","); got != "a.yaml,c.yaml" {
		t.Fatalf("manifests = %s, want a.yaml,c.yaml:%s", got, describe(snap))
	}
	if len(snap.Errors) != 1 || snap.Errors[0].Path != b {
		t.Fatalf("want an error for b.yaml:%s", describe(snap))
	}
	if msg := snap.Errors[0].Error(); !strings.Contains(msg, b) || !strings.Contains(msg, a) || !strings.Contains(msg, "default/web-node-1") {
		t.Errorf("duplicate error %q should name both files and the pod", msg)
	}

	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	snap = src.scan()
	if got := strings.Join(manifestFiles(snap), ","); got != "b.yaml,c.yaml" || len(snap.Errors) != 0 {
		t.Errorf("after removing a.yaml, b.yaml should take over:%s", describe(snap))
	}
}

func TestScan_UIDsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "web.yaml"), namedPod("web", "busybox:1"))
	first, _ := newTestSource(t, dir)
	second, _ := newTestSource(t, dir)
	if a, b := first.scan().Manifests[0].Pod.UID, second.scan().Manifests[0].Pod.UID; a != b {
		t.Errorf("UID %s after restart, was %s", b, a)
	}
}

func TestScan_MissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "manifests")
	src, _ := newTestSource(t, dir)
	snap := src.scan()
	if len(snap.Manifests) != 0 || len(snap.Errors) != 1 || snap.Errors[0].Path != dir || !strings.Contains(snap.Errors[0].Error(), "does not exist") {
		t.Errorf("want one error for the missing directory:%s", describe(snap))
	}
}

func TestScan_UnlistableDirectoryKeepsPods(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "manifests")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "web.yaml"), namedPod("web", "busybox:1"))
	src, _ := newTestSource(t, dir)
	src.scan()
	// A file where the directory was cannot be listed (ENOTDIR): not the
	// same as "gone", so the pods stay.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "not a directory")
	snap := src.scan()
	if len(snap.Manifests) != 1 || len(snap.Errors) != 1 || snap.Errors[0].Path != dir {
		t.Errorf("want the pod kept and an error for the directory:%s", describe(snap))
	}
}

func TestSnapshot_IsACopy(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "web.yaml"), namedPod("web", "busybox:1"))
	src, _ := newTestSource(t, dir)
	snap := src.scan()
	snap.Manifests[0].Pod.Spec.Containers[0].Image = "changed"
	if again := src.scan(); again.Manifests[0].Pod.Spec.Containers[0].Image != "busybox:1" {
		t.Errorf("a receiver's change leaked into the source")
	}
}

// harness runs a Source on a real directory with inotify and a fake clock.
type harness struct {
	t       *testing.T
	dir     string
	clk     *testingclock.FakeClock
	src     *Source
	out     chan Snapshot
	armed   chan struct{}
	changes chan handledChange
}

type handledChange struct {
	name   string
	change fileChange
}

// startSource runs a Source on dir; opts change its Config.
func startSource(t *testing.T, dir string, opts ...func(*Config)) *harness {
	t.Helper()
	clk := testingclock.NewFakeClock(testStart)
	cfg := Config{Dir: dir, NodeName: testNode, Clock: clk, Logger: zaptest.NewLogger(t)}
	for _, o := range opts {
		o(&cfg)
	}
	src := New(cfg)
	h := &harness{t: t, dir: dir, clk: clk, src: src, out: make(chan Snapshot), armed: make(chan struct{}, 1), changes: make(chan handledChange, 1024)}
	src.onArm = func() {
		select {
		case h.armed <- struct{}{}:
		default:
		}
	}
	src.onChange = func(name string, change fileChange) {
		select {
		case h.changes <- handledChange{name, change}:
		default: // a test that floods the directory does not wait for changes
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, h.out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return h
}

// next returns the next snapshot, ending quiet periods on the fake clock
// whenever the source has seen file system events.
func (h *harness) next(what string) Snapshot {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-h.armed:
			h.clk.Step(h.src.cfg.Debounce)
		case snap := <-h.out:
			return snap
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitFor returns the first snapshot that satisfies ok, and all snapshots
// received, in order.
func (h *harness) waitFor(what string, ok func(Snapshot) bool) (Snapshot, []Snapshot) {
	h.t.Helper()
	var seen []Snapshot
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-h.armed:
			h.clk.Step(h.src.cfg.Debounce)
		case snap := <-h.out:
			seen = append(seen, snap)
			if ok(snap) {
				return snap, seen
			}
		case <-deadline:
			last := "none"
			if len(seen) > 0 {
				last = describe(seen[len(seen)-1])
			}
			h.t.Fatalf("timed out waiting for %s; last snapshot: %s", what, last)
		}
	}
}

// waitChange returns once the source has handled an event of kind change
// for the file name, ending quiet periods meanwhile.
func (h *harness) waitChange(name string, change fileChange) {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-h.armed:
			h.clk.Step(h.src.cfg.Debounce)
		case c := <-h.changes:
			if c.name == name && c.change == change {
				return
			}
		case <-deadline:
			h.t.Fatalf("timed out waiting for the source to handle change %d of %s", change, name)
		}
	}
}

func hasImage(file, image string) func(Snapshot) bool {
	return func(s Snapshot) bool {
		for _, m := range s.Manifests {
			if filepath.Base(m.Path) == file && m.Pod.Spec.Containers[0].Image == image && m.Err == nil {
				return true
			}
		}
		return false
	}
}

func TestSource_NewEditedAndRemovedFiles(t *testing.T) {
	dir := t.TempDir()
	h := startSource(t, dir)
	if snap := h.next("the first snapshot"); len(snap.Manifests)+len(snap.Errors) != 0 {
		t.Fatalf("first snapshot of an empty directory:%s", describe(snap))
	}

	file := filepath.Join(dir, "web.yaml")
	writeFile(t, file, namedPod("web", "busybox:1"))
	snap, _ := h.waitFor("the new pod", hasImage("web.yaml", "busybox:1"))
	uid := snap.Manifests[0].Pod.UID

	writeFile(t, file, namedPod("web", "busybox:2"))
	snap, _ = h.waitFor("the edited pod", hasImage("web.yaml", "busybox:2"))
	if m := snap.Manifests[0]; m.Pod.UID == uid || strings.Join(m.Changes, ",") != "spec.containers[0].image" {
		t.Errorf("edit: want a new UID and the changed field:%s", describe(snap))
	}

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the pod to go", func(s Snapshot) bool { return len(s.Manifests) == 0 })
}

func TestSource_InvalidEditKeepsTheRunningPod(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	writeFile(t, file, namedPod("web", "busybox:1"))
	h := startSource(t, dir)
	first := h.next("the first snapshot")
	if len(first.Manifests) != 1 {
		t.Fatalf("first snapshot:%s", describe(first))
	}

	writeFile(t, file, invalidPod)
	snap, _ := h.waitFor("the error beside the last good pod", func(s Snapshot) bool {
		return len(s.Manifests) == 1 && s.Manifests[0].Err != nil
	})
	if snap.Manifests[0].Pod.UID != first.Manifests[0].Pod.UID || len(snap.Errors) != 0 {
		t.Errorf("the running pod must stay as it was:%s", describe(snap))
	}

	writeFile(t, file, namedPod("web", "busybox:1"))
	snap, _ = h.waitFor("the file valid again", hasImage("web.yaml", "busybox:1"))
	if snap.Manifests[0].Pod.UID != first.Manifests[0].Pod.UID {
		t.Errorf("restoring the content must restore the same pod (UID):%s", describe(snap))
	}
}

func TestSource_DuplicateHandOver(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.yaml"), namedPod("web", "busybox:1"))
	h := startSource(t, dir)
	h.next("the first snapshot")

	writeFile(t, filepath.Join(dir, "b.yaml"), namedPod("web", "busybox:2"))
	snap, _ := h.waitFor("the duplicate error", func(s Snapshot) bool { return len(s.Errors) == 1 })
	if got := strings.Join(manifestFiles(snap), ","); got != "a.yaml" {
		t.Errorf("a.yaml must keep the pod:%s", describe(snap))
	}

	if err := os.Remove(filepath.Join(dir, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	snap, _ = h.waitFor("b.yaml to take over", hasImage("b.yaml", "busybox:2"))
	if len(snap.Errors) != 0 || len(snap.Manifests) != 1 {
		t.Errorf("after the hand-over:%s", describe(snap))
	}
}

func TestSource_TempFileThenRename(t *testing.T) {
	dir := t.TempDir()
	h := startSource(t, dir)
	h.next("the first snapshot")

	tmp := filepath.Join(dir, ".web.yaml.tmp")
	writeFile(t, tmp, namedPod("web", "busybox:1"))
	if err := os.Rename(tmp, filepath.Join(dir, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	_, seen := h.waitFor("the renamed file's pod", hasImage("web.yaml", "busybox:1"))
	for _, s := range seen {
		if len(s.Errors) > 0 {
			t.Errorf("a temp file must never show up:%s", describe(s))
		}
	}
}

func TestSource_BurstOfRewritesIsReadOnceItEnds(t *testing.T) {
	dir := t.TempDir()
	h := startSource(t, dir)
	h.next("the first snapshot")

	file := filepath.Join(dir, "web.yaml")
	// Write in pieces and close, then many quick rewrites: the first close
	// may be read at once, but the fake clock does not move, so every
	// later close is part of the burst, read once after it.
	full := namedPod("web", "busybox:0")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []string{full[:20], full[20:50], full[50:]} {
		if _, err := f.WriteString(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		writeFile(t, file, namedPod("web", fmt.Sprintf("busybox:%d", i)))
	}

	_, seen := h.waitFor("the final content", hasImage("web.yaml", "busybox:50"))
	if len(seen) > 2 {
		t.Errorf("%d snapshots for one close and one burst, want at most 2", len(seen))
	}
	for i, snap := range seen {
		if len(snap.Errors) != 0 || len(snap.Manifests) != 1 || snap.Manifests[0].Err != nil {
			t.Errorf("snapshot %d of %d shows a half-written file:%s", i+1, len(seen), describe(snap))
		}
	}
}

func TestSource_DirectoryCreatedLater(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "manifests")
	h := startSource(t, dir)
	if snap := h.next("the first snapshot"); len(snap.Errors) != 1 || snap.Errors[0].Path != dir {
		t.Fatalf("want the missing directory reported:%s", describe(snap))
	}

	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "web.yaml"), namedPod("web", "busybox:1"))
	snap, _ := h.waitFor("the pod in the new directory", hasImage("web.yaml", "busybox:1"))
	if len(snap.Errors) != 0 {
		t.Errorf("the directory error should be gone:%s", describe(snap))
	}
}

func TestSource_DirectoryRemovedAndRecreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "manifests")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "web.yaml"), namedPod("web", "busybox:1"))
	h := startSource(t, dir)
	first := h.next("the first snapshot")

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the directory to be reported missing", func(s Snapshot) bool {
		return len(s.Manifests) == 0 && len(s.Errors) == 1 && s.Errors[0].Path == dir
	})

	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "web.yaml"), namedPod("web", "busybox:1"))
	snap, _ := h.waitFor("the pod back", hasImage("web.yaml", "busybox:1"))
	if snap.Manifests[0].Pod.UID != first.Manifests[0].Pod.UID || len(snap.Errors) != 0 {
		t.Errorf("the same file must give the same pod:%s", describe(snap))
	}
}

// The path swapped between a symlink to another directory and a real
// directory: the watch on whatever the path named sees nothing of the
// swap, the parent's watch does, and no rescan is needed to follow it.
func TestSource_PathSwappedBetweenSymlinkAndDirectory(t *testing.T) {
	root := t.TempDir()
	dir, other, aside := filepath.Join(root, "manifests"), filepath.Join(root, "other"), filepath.Join(root, "aside")
	for _, d := range []string{dir, other} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "web.yaml"), namedPod("web", "busybox:1"))
	writeFile(t, filepath.Join(other, "web.yaml"), namedPod("web", "busybox:2"))
	h := startSource(t, dir)
	h.next("the first snapshot")

	if err := os.Rename(dir, aside); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, dir); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the symlinked directory's pod", hasImage("web.yaml", "busybox:2"))

	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(aside, dir); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the directory's pod again, with no rescan", hasImage("web.yaml", "busybox:1"))
}

func TestSource_PeriodicRescanSeesChangesWithoutEvents(t *testing.T) {
	root := t.TempDir()
	dir, outside := filepath.Join(root, "manifests"), filepath.Join(root, "elsewhere")
	for _, d := range []string{dir, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(outside, "web.yaml")
	writeFile(t, target, namedPod("web", "busybox:1"))
	if err := os.Symlink(target, filepath.Join(dir, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	h := startSource(t, dir)
	h.next("the first snapshot")

	// The symlink's target is outside the watched directory: no event.
	writeFile(t, target, namedPod("web", "busybox:2"))
	h.clk.Step(defaultCheckFrequency)
	h.waitFor("the periodic rescan", hasImage("web.yaml", "busybox:2"))
}

func TestSource_SendGivesUpWhenTheContextEnds(t *testing.T) {
	src, _ := newTestSource(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, make(chan Snapshot)) }() // nobody receives
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run blocked on a send after its context ended")
	}
}

func TestSnapshot_ManifestsAreJSONFriendly(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "web.yaml"), namedPod("web", "busybox:1"))
	src, _ := newTestSource(t, dir)
	pod := src.scan().Manifests[0].Pod
	b, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"kubernetes.io/config.seen":"`+testStart.Format(time.RFC3339Nano)+`"`) {
		t.Errorf("pod JSON lacks config.seen: %s", b)
	}
	if pod.UID == types.UID("") {
		t.Errorf("no UID")
	}
}

func TestSource_ManyFilesAtOnceArePickedUpByOneRescan(t *testing.T) {
	dir := t.TempDir()
	h := startSource(t, dir)
	h.next("the first snapshot")

	const n = 200
	for i := range n {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("pod-%03d.yaml", i)), namedPod(fmt.Sprintf("pod-%03d", i), "busybox:1"))
	}
	// The first close may be read at once; the rest are one burst.
	snap, seen := h.waitFor("the pods", func(s Snapshot) bool { return len(s.Manifests) == n })
	if len(seen) > 2 || len(snap.Errors) != 0 {
		t.Errorf("want all %d pods picked up by one rescan after at most one read at the first close; got %d snapshots, the last with %d errors", n, len(seen), len(snap.Errors))
	}
}

// webOnly checks that no snapshot shows web.yaml with anything but one of
// the pods in uids, nor an error for it.
func webOnly(t *testing.T, seen []Snapshot, uids ...types.UID) {
	t.Helper()
	for _, s := range seen {
		for _, m := range s.Manifests {
			if filepath.Base(m.Path) == "web.yaml" && (!slices.Contains(uids, m.Pod.UID) || m.Err != nil) {
				t.Errorf("web.yaml was read while it was being written:%s", describe(s))
			}
		}
		for _, e := range s.Errors {
			if filepath.Base(e.Path) == "web.yaml" {
				t.Errorf("web.yaml was reported while it was being written:%s", describe(s))
			}
		}
	}
}

// completeOther writes another manifest in one go and waits for the
// snapshot that has it: proof that the directory was read.
func (h *harness) completeOther(name string) []Snapshot {
	h.t.Helper()
	writeFile(h.t, filepath.Join(h.dir, name+".yaml"), namedPod(name, "busybox:1"))
	_, seen := h.waitFor(name+".yaml to be read", hasImage(name+".yaml", "busybox:1"))
	return seen
}

func TestSource_SlowChunkedWriteIsReadOnceAfterClose(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	writeFile(t, file, namedPod("web", "busybox:1"))
	h := startSource(t, dir, func(c *Config) { c.CheckFrequency = time.Second })
	first := h.next("the first snapshot")
	uid := first.Manifests[0].Pod.UID

	// Chunk 1 is not a pod; chunks 1+2 are a valid pod running "busybox"
	// (a half-written "busybox:2"); all three are the final pod.
	full := namedPod("web", "busybox:2")
	cut := strings.Index(full, ":2")
	chunks := []string{full[:20], full[20:cut], full[cut:]}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var seen []Snapshot
	for i, c := range chunks {
		if _, err := f.WriteString(c); err != nil {
			t.Fatal(err)
		}
		h.waitChange("web.yaml", changeWritten)
		// The writer pauses: past the debounce and the periodic rescan
		// (the first time), short of openWriteQuiet. Another file is
		// completed meanwhile, so the directory is read.
		if i == 0 {
			h.clk.Step(time.Second)
		} else {
			h.clk.Step(100 * time.Millisecond)
		}
		seen = append(seen, h.completeOther(fmt.Sprintf("other-%d", i))...)
	}
	webOnly(t, seen, uid)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	snap, seen := h.waitFor("the final content", hasImage("web.yaml", "busybox:2"))
	webOnly(t, seen[:len(seen)-1], uid)
	if m := snap.Manifests[len(snap.Manifests)-1]; m.Pod.UID == uid || strings.Join(m.Changes, ",") != "spec.containers[0].image" {
		t.Errorf("want a new pod whose only change is the image:%s", describe(snap))
	}
	if elapsed := h.clk.Since(testStart); elapsed >= openWriteQuiet {
		t.Errorf("the file was read %v after the writes began; want it read at its close, before openWriteQuiet", elapsed)
	}
}

func TestSource_FileCompletedInOneStepIsReadAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		put  func(t *testing.T, staged, file string)
	}{
		{"rename into the directory", func(t *testing.T, staged, file string) {
			if err := os.Rename(staged, file); err != nil {
				t.Fatal(err)
			}
		}},
		{"symlink", func(t *testing.T, staged, file string) {
			if err := os.Symlink(staged, file); err != nil {
				t.Fatal(err)
			}
		}},
		{"hard link", func(t *testing.T, staged, file string) {
			if err := os.Link(staged, file); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir, staging := filepath.Join(root, "manifests"), filepath.Join(root, "staging")
			for _, d := range []string{dir, staging} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			h := startSource(t, dir)
			h.next("the first snapshot")

			staged := filepath.Join(staging, "web.yaml")
			writeFile(t, staged, namedPod("web", "busybox:1"))
			tc.put(t, staged, filepath.Join(dir, "web.yaml"))
			h.waitFor("the pod", hasImage("web.yaml", "busybox:1"))
			if elapsed := h.clk.Since(testStart); elapsed >= openWriteQuiet {
				t.Errorf("the file was read after %v, want it read after the debounce", elapsed)
			}
		})
	}
}

func TestSource_RenameOverAFileBeingWrittenIsReadAtOnce(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	writeFile(t, file, namedPod("web", "busybox:1"))
	h := startSource(t, dir)
	uid := h.next("the first snapshot").Manifests[0].Pod.UID

	f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("apiVersion: v1\n"); err != nil {
		t.Fatal(err)
	}
	h.waitChange("web.yaml", changeWritten)

	tmp := filepath.Join(dir, ".web.yaml.tmp")
	writeFile(t, tmp, namedPod("web", "busybox:2"))
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	_, seen := h.waitFor("the renamed content", hasImage("web.yaml", "busybox:2"))
	webOnly(t, seen[:len(seen)-1], uid)
	if elapsed := h.clk.Since(testStart); elapsed >= openWriteQuiet {
		t.Errorf("the file was read after %v, want it read after the debounce", elapsed)
	}
}

func TestSource_WriterThatNeverClosesIsReadAfterTheCap(t *testing.T) {
	dir := t.TempDir()
	h := startSource(t, dir)
	h.next("the first snapshot")

	f, err := os.OpenFile(filepath.Join(dir, "web.yaml"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(namedPod("web", "busybox:1")); err != nil {
		t.Fatal(err)
	}
	h.waitChange("web.yaml", changeWritten)

	h.clk.Step(openWriteQuiet - 100*time.Millisecond)
	webOnly(t, h.completeOther("other"))

	h.clk.Step(100 * time.Millisecond)
	snap := h.next("the file read after the cap")
	if !hasImage("web.yaml", "busybox:1")(snap) || len(snap.Errors) != 0 {
		t.Errorf("want the pod from the file still open:%s", describe(snap))
	}
}

// BenchmarkScan_200Manifests measures a full rescan of 200 new manifests
// (every file decoded) and of the same 200 unchanged (the periodic rescan).
func BenchmarkScan_200Manifests(b *testing.B) {
	dir := b.TempDir()
	for i := range 200 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("pod-%03d.yaml", i)), []byte(namedPod(fmt.Sprintf("pod-%03d", i), "busybox:1")), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("new", func(b *testing.B) {
		for b.Loop() {
			src := New(Config{Dir: dir, NodeName: testNode})
			if snap := src.scan(); len(snap.Manifests) != 200 {
				b.Fatalf("%d manifests", len(snap.Manifests))
			}
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		src := New(Config{Dir: dir, NodeName: testNode})
		src.scan()
		for b.Loop() {
			src.scan()
		}
	})
}

func TestSource_FileClosedAfterWritingIsReadWithoutADebounce(t *testing.T) {
	dir := t.TempDir()
	h := startSource(t, dir)
	h.next("the first snapshot")
	select {
	case <-h.armed: // the first scan's own events, if any
	default:
	}

	writeFile(t, filepath.Join(dir, "web.yaml"), namedPod("web", "busybox:1"))
	// The fake clock never moves: only a read at the close finds the pod.
	deadline := time.After(10 * time.Second)
	for {
		select {
		case snap := <-h.out:
			if hasImage("web.yaml", "busybox:1")(snap) {
				return
			}
		case <-h.armed:
			t.Fatal("a file closed after writing waited for a debounce")
		case <-deadline:
			t.Fatal("timed out waiting for web.yaml to be read at its close")
		}
	}
}

func TestSource_CloseRightAfterAReadWaitsForTheBurstToEnd(t *testing.T) {
	dir := t.TempDir()
	h := startSource(t, dir)
	h.next("the first snapshot")
	writeFile(t, filepath.Join(dir, "a.yaml"), namedPod("a", "busybox:1"))
	h.waitFor("a.yaml read at its close", hasImage("a.yaml", "busybox:1"))

	// Within Debounce of that read (the clock has not moved), the next
	// close is part of a burst: it waits for the directory to go quiet.
	writeFile(t, filepath.Join(dir, "b.yaml"), namedPod("b", "busybox:1"))
	select {
	case <-h.armed:
	case snap := <-h.out:
		t.Fatalf("b.yaml read within the debounce of the last read:%s", describe(snap))
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for the close of b.yaml to arm the debounce")
	}
	h.clk.Step(h.src.cfg.Debounce)
	h.waitFor("b.yaml after the quiet period", hasImage("b.yaml", "busybox:1"))
}
