package staticpods

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	v1 "k8s.io/api/core/v1"
	testingclock "k8s.io/utils/clock/testing"
)

// newStateSource is a Source on dir that keeps last good versions in
// stateDir, as a daemon started at now would.
func newStateSource(t *testing.T, dir, stateDir string, now time.Time) *Source {
	return New(Config{Dir: dir, StateDir: stateDir, NodeName: testNode, Clock: testingclock.NewFakeClock(now), Logger: zaptest.NewLogger(t)})
}

func withStateDir(stateDir string) func(*Config) {
	return func(c *Config) { c.StateDir = stateDir }
}

// stateFiles lists the names in stateDir.
func stateFiles(t *testing.T, stateDir string) []string {
	t.Helper()
	entries, err := os.ReadDir(stateDir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// readSaved returns the state saved for the manifest at p, or nil.
func readSaved(t *testing.T, stateDir, p string) *savedManifest {
	t.Helper()
	name := stateFileName(p)
	data, err := os.ReadFile(filepath.Join(stateDir, name))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeSaved(name, data)
	if err != nil {
		t.Fatalf("state of %s: %v\n%s", p, err, data)
	}
	return m
}

func TestState_ValidManifestIsSaved(t *testing.T) {
	dir, stateDir := t.TempDir(), filepath.Join(t.TempDir(), "manifests")
	file := filepath.Join(dir, "web.yaml")
	writeFile(t, file, namedPod("web", "busybox:1"))
	snap := newStateSource(t, dir, stateDir, testStart).scan()
	if len(snap.Manifests) != 1 {
		t.Fatalf("want one pod:%s", describe(snap))
	}
	want := snap.Manifests[0].Pod

	names := stateFiles(t, stateDir)
	if len(names) != 1 || names[0] != stateFileName(file) {
		t.Fatalf("state files %v, want only %s", names, stateFileName(file))
	}
	info, err := os.Stat(filepath.Join(stateDir, names[0]))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("state file mode %v, want 0600", perm)
	}
	saved := readSaved(t, stateDir, file)
	if saved.Path != file || saved.Pod.UID != want.UID || saved.Pod.Name != want.Name {
		t.Errorf("saved %s pod %s uid %s, want %s pod %s uid %s", saved.Path, saved.Pod.Name, saved.Pod.UID, file, want.Name, want.UID)
	}
	for _, k := range []string{ConfigSourceAnnotationKey, ConfigHashAnnotationKey, ConfigFirstSeenAnnotationKey} {
		if saved.Pod.Annotations[k] != want.Annotations[k] {
			t.Errorf("saved annotation %s = %q, want %q", k, saved.Pod.Annotations[k], want.Annotations[k])
		}
	}
}

func TestState_InvalidAtStartKeepsTheSavedVersionUntilFixedOrRemoved(t *testing.T) {
	dir, stateDir := t.TempDir(), t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	writeFile(t, file, namedPod("web", "busybox:1"))
	before := newStateSource(t, dir, stateDir, testStart)
	first := before.scan()
	if len(first.Manifests) != 1 {
		t.Fatalf("first run:%s", describe(first))
	}
	good := first.Manifests[0].Pod
	writeFile(t, file, invalidPod)
	if snap := before.scan(); len(snap.Manifests) != 1 || snap.Manifests[0].Err == nil {
		t.Fatalf("first run, invalid edit:%s", describe(snap))
	}

	// The daemon restarts while the file is still invalid.
	h := startSource(t, dir, withStateDir(stateDir))
	snap := h.next("the first snapshot after the restart")
	if len(snap.Manifests) != 1 || len(snap.Errors) != 0 {
		t.Fatalf("want the saved pod and no file error:%s", describe(snap))
	}
	m := snap.Manifests[0]
	if m.Pod.UID != good.UID || m.Pod.Name != good.Name || m.Pod.Spec.Containers[0].Image != "busybox:1" {
		t.Errorf("want the saved pod %s (uid %s) to be adopted:%s", good.Name, good.UID, describe(snap))
	}
	if m.Err == nil || !strings.Contains(m.Err.Error(), file) || !strings.Contains(m.Err.Error(), "spec.containers[0].ports[0].containerPort: Required value") {
		t.Errorf("want the current error beside the saved pod:%s", describe(snap))
	}
	if got, want := m.Pod.Annotations[ConfigFirstSeenAnnotationKey], good.Annotations[ConfigFirstSeenAnnotationKey]; got != want {
		t.Errorf("config.seen = %q, want %q as before the restart", got, want)
	}
	if saved := readSaved(t, stateDir, file); saved == nil || saved.Pod.UID != good.UID {
		t.Errorf("the saved version must stay while the file is invalid: %+v", saved)
	}

	writeFile(t, file, namedPod("web", "busybox:2"))
	snap, _ = h.waitFor("the fixed file's pod", hasImage("web.yaml", "busybox:2"))
	m = snap.Manifests[0]
	if m.Pod.UID == good.UID || strings.Join(m.Changes, ",") != "spec.containers[0].image" {
		t.Errorf("the fixed file must replace the saved pod, with the changed field:%s", describe(snap))
	}
	if saved := readSaved(t, stateDir, file); saved == nil || saved.Pod.UID != m.Pod.UID {
		t.Errorf("the state must hold the fixed version %s: %+v", m.Pod.UID, saved)
	}

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the pod to go", func(s Snapshot) bool { return len(s.Manifests) == 0 })
	if names := stateFiles(t, stateDir); len(names) != 0 {
		t.Errorf("state files %v left after the manifest was removed", names)
	}
}

func TestState_UnreadableAtStartKeepsTheSavedVersion(t *testing.T) {
	dir, stateDir := t.TempDir(), t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	writeFile(t, file, namedPod("web", "busybox:1"))
	uid := newStateSource(t, dir, stateDir, testStart).scan().Manifests[0].Pod.UID

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(file, 0o644); err != nil {
		t.Fatal(err)
	}
	snap := newStateSource(t, dir, stateDir, testStart.Add(time.Hour)).scan()
	if len(snap.Manifests) != 1 || snap.Manifests[0].Pod.UID != uid || snap.Manifests[0].Err == nil || len(snap.Errors) != 0 {
		t.Errorf("want the saved pod %s with the read error beside it:%s", uid, describe(snap))
	}
}

func TestState_ValidFileAtStartWinsAndRefreshesTheState(t *testing.T) {
	dir, stateDir := t.TempDir(), t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	writeFile(t, file, namedPod("web", "busybox:1"))
	old := newStateSource(t, dir, stateDir, testStart).scan().Manifests[0].Pod.UID

	// Edited while the daemon was stopped.
	writeFile(t, file, namedPod("web", "busybox:2"))
	snap := newStateSource(t, dir, stateDir, testStart.Add(time.Hour)).scan()
	if len(snap.Manifests) != 1 || snap.Manifests[0].Err != nil || snap.Manifests[0].Pod.UID == old || snap.Manifests[0].Pod.Spec.Containers[0].Image != "busybox:2" {
		t.Fatalf("want the file's pod, not the saved one:%s", describe(snap))
	}
	if saved := readSaved(t, stateDir, file); saved == nil || saved.Pod.UID != snap.Manifests[0].Pod.UID {
		t.Errorf("the state must hold the file's version %s: %+v", snap.Manifests[0].Pod.UID, saved)
	}
}

func TestState_StaleStateIsRemovedAtStart(t *testing.T) {
	tests := []struct {
		name   string
		remove func(t *testing.T, dir, file string)
	}{
		{"manifest removed", func(t *testing.T, dir, file string) {
			if err := os.Remove(file); err != nil {
				t.Fatal(err)
			}
		}},
		{"manifest replaced by a directory", func(t *testing.T, dir, file string) {
			if err := os.Remove(file); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(file, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"manifest directory removed", func(t *testing.T, dir, file string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, stateDir := filepath.Join(t.TempDir(), "manifests"), t.TempDir()
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "web.yaml")
			writeFile(t, file, namedPod("web", "busybox:1"))
			newStateSource(t, dir, stateDir, testStart).scan()

			tt.remove(t, dir, file)
			src := newStateSource(t, dir, stateDir, testStart.Add(time.Hour))
			if snap := src.scan(); len(snap.Manifests) != 0 {
				t.Errorf("a saved version of a manifest that is gone must give no pod:%s", describe(snap))
			}
			if names := stateFiles(t, stateDir); len(names) != 0 {
				t.Errorf("state files %v left", names)
			}
			if src.saved != nil {
				t.Errorf("the saved versions are kept after the first scan")
			}
		})
	}
}

func TestState_CorruptOrForeignStateIsRemoved(t *testing.T) {
	dir, stateDir := t.TempDir(), t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	elsewhere := filepath.Join(t.TempDir(), "web.yaml")
	goodPod := func() *v1.Pod {
		pod, err := DecodeManifest(file, []byte(namedPod("web", "busybox:1")), testNode)
		if err != nil {
			t.Fatal(err)
		}
		return pod
	}
	encode := func(p string, pod *v1.Pod) string {
		data, err := encodeSaved(p, pod, nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	noUID := goodPod()
	noUID.UID = ""
	tests := []struct {
		name, stateFile, content string
	}{
		{"not JSON", stateFileName(file), "{\"path\": \"" + file},
		{"empty", stateFileName(file), ""},
		{"no path", stateFileName(file), encode("", goodPod())},
		{"path of another file", stateFileName(file), encode(filepath.Join(dir, "other.yaml"), goodPod())},
		{"no pod", stateFileName(file), encode(file, nil)},
		{"pod without UID", stateFileName(file), encode(file, noUID)},
		{"manifest in another directory", stateFileName(elsewhere), encode(elsewhere, goodPod())},
		{"leftover temporary file", stateTempPrefix + "123", encode(file, goodPod())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeFile(t, file, invalidPod)
			writeFile(t, filepath.Join(stateDir, tt.stateFile), tt.content)
			snap := newStateSource(t, dir, stateDir, testStart).scan()
			if len(snap.Manifests) != 0 || len(snap.Errors) != 1 || snap.Errors[0].Path != file {
				t.Errorf("want no pod and the file's error:%s", describe(snap))
			}
			if names := stateFiles(t, stateDir); len(names) != 0 {
				t.Errorf("state files %v left", names)
			}
		})
	}
}

func TestState_ForeignFilesInTheStateDirAreLeftAlone(t *testing.T) {
	dir, stateDir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(stateDir, "README"), "not ours")
	newStateSource(t, dir, stateDir, testStart).scan()
	if names := stateFiles(t, stateDir); strings.Join(names, ",") != "README" {
		t.Errorf("state files %v, want README kept", names)
	}
}

func TestState_UnlistableDirectoryAtStartKeepsTheSavedVersions(t *testing.T) {
	root, stateDir := t.TempDir(), t.TempDir()
	dir := filepath.Join(root, "manifests")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "web.yaml")
	writeFile(t, file, namedPod("web", "busybox:1"))
	uid := newStateSource(t, dir, stateDir, testStart).scan().Manifests[0].Pod.UID

	// A file where the directory was cannot be listed (ENOTDIR): not gone.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "not a directory")
	src := newStateSource(t, dir, stateDir, testStart.Add(time.Hour))
	snap := src.scan()
	if len(snap.Manifests) != 1 || snap.Manifests[0].Pod.UID != uid || snap.Manifests[0].Err == nil {
		t.Fatalf("want the saved pod %s with an error beside it:%s", uid, describe(snap))
	}
	if len(snap.Errors) != 1 || snap.Errors[0].Path != dir {
		t.Errorf("want an error for the directory:%s", describe(snap))
	}

	// Readable again, with the file as it was: the same pod, no error.
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, file, namedPod("web", "busybox:1"))
	snap = src.scan()
	if len(snap.Manifests) != 1 || snap.Manifests[0].Pod.UID != uid || snap.Manifests[0].Err != nil || len(snap.Errors) != 0 {
		t.Errorf("want the same pod without errors:%s", describe(snap))
	}
}

func TestState_DirectoryRemovedWhileRunningRemovesTheState(t *testing.T) {
	dir, stateDir := filepath.Join(t.TempDir(), "manifests"), t.TempDir()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "web.yaml"), namedPod("web", "busybox:1"))
	src := newStateSource(t, dir, stateDir, testStart)
	src.scan()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	src.scan()
	if names := stateFiles(t, stateDir); len(names) != 0 {
		t.Errorf("state files %v left after the directory went", names)
	}
}

func TestState_UnwritableStateDirIsNotFatal(t *testing.T) {
	dir := t.TempDir()
	stateDir := filepath.Join(t.TempDir(), "state")
	writeFile(t, stateDir, "a file where the directory should be")
	writeFile(t, filepath.Join(dir, "web.yaml"), namedPod("web", "busybox:1"))
	snap := newStateSource(t, dir, stateDir, testStart).scan()
	if len(snap.Manifests) != 1 || snap.Manifests[0].Err != nil || len(snap.Errors) != 0 {
		t.Errorf("a state dir that cannot be written must not change the snapshot:%s", describe(snap))
	}
}

func TestState_NoStateDirSavesNothing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	writeFile(t, file, namedPod("web", "busybox:1"))
	newStateSource(t, dir, "", testStart).scan()
	writeFile(t, file, invalidPod)
	snap := newStateSource(t, dir, "", testStart).scan()
	if len(snap.Manifests) != 0 || len(snap.Errors) != 1 {
		t.Errorf("without a state dir an invalid file at start gives no pod:%s", describe(snap))
	}
	if names := stateFiles(t, dir); len(names) != 1 {
		t.Errorf("files %v in the manifest directory, want only web.yaml", names)
	}
}

func TestState_StateDirThatIsTheManifestDirIsNotUsed(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "web.yaml"), namedPod("web", "busybox:1"))
	snap := newStateSource(t, dir, dir+"/", testStart).scan()
	if len(snap.Manifests) != 1 || len(snap.Errors) != 0 {
		t.Errorf("want the pod alone:%s", describe(snap))
	}
	if names := stateFiles(t, dir); strings.Join(names, ",") != "web.yaml" {
		t.Errorf("files %v in the manifest directory, want only web.yaml", names)
	}
}
