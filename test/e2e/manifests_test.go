package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// These tests drive the manifest directory as users and their editors do,
// and check what a user sees: GET /pods, GET /manifests, `get manifests`,
// GET /events, the daemon's log, and what containerd runs.

// manifestItem is one entry of GET /manifests, decoded as a client would.
type manifestItem struct {
	File    string   `json:"file"`
	Pod     string   `json:"pod"`
	UID     string   `json:"uid"`
	Error   string   `json:"error"`
	Changes []string `json:"changes"`
}

// envPod is a pod whose only container has X=value in its environment and
// stops at once on SIGTERM.
func envPod(name, value string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    env:
    - name: X
      value: "%s"
`, name, value)
}

func (n *testNode) manifests() ([]manifestItem, error) {
	body, err := n.get("/manifests")
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []manifestItem `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("decode /manifests: %w: %s", err, body)
	}
	if list.Items == nil {
		return nil, fmt.Errorf("GET /manifests has no items list: %s", body)
	}
	return list.Items, nil
}

// manifestOf is the entry of GET /manifests for file, or nil.
func manifestOf(items []manifestItem, path string) *manifestItem {
	for i := range items {
		if items[i].File == path {
			return &items[i]
		}
	}
	return nil
}

// waitManifests polls GET /manifests until cond holds, and fails the test
// with the last list seen and the daemon's log when timeout passes.
func (n *testNode) waitManifests(timeout time.Duration, what string, cond func([]manifestItem) bool) []manifestItem {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	var last []manifestItem
	var lastErr error
	for {
		items, err := n.manifests()
		if err == nil && cond(items) {
			return items
		}
		last, lastErr = items, err
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(pollInterval)
	}
	dump, _ := json.MarshalIndent(last, "", "  ")
	n.t.Fatalf("GET /manifests: not %s within %s (last error: %v); last list:\n%s\ndaemon log tail:\n%s",
		what, timeout, lastErr, dump, n.logTail())
	return nil
}

func (n *testNode) events() []v1.Event {
	n.t.Helper()
	body, err := n.get("/events")
	if err != nil {
		n.t.Fatalf("GET /events: %v", err)
	}
	var list v1.EventList
	if err := json.Unmarshal(body, &list); err != nil {
		n.t.Fatalf("decode /events: %v: %s", err, body)
	}
	return list.Items
}

// podsNamed counts the pods of manifest name in GET /pods.
func (n *testNode) podsNamed(name string) int {
	n.t.Helper()
	pods, err := n.pods()
	if err != nil {
		n.t.Fatalf("GET /pods: %v", err)
	}
	count := 0
	for _, p := range pods {
		if p.Name == n.podName(name) {
			count++
		}
	}
	return count
}

// envX is the value of X in the pod's container, as the process sees it.
func (n *testNode) envX(p *v1.Pod) string {
	n.t.Helper()
	out, err := n.exec(p, "c", "sh", "-c", "echo $X")
	if err != nil {
		n.t.Fatalf("exec echo $X in pod %s: %v (%s)", p.Name, err, out)
	}
	return out
}

// waitRunningWith waits for the pod of manifest name to run a container
// whose X is value; uid, when set, is a UID the pod must no longer have.
func (n *testNode) waitRunningWith(name, value, notUID string, timeout time.Duration) *v1.Pod {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	var seen string
	for {
		p := n.waitPod(name, time.Until(deadline), "Running", func(p *v1.Pod) bool {
			return podRunning(p) && string(p.UID) != notUID
		})
		out, err := n.exec(p, "c", "sh", "-c", "echo $X")
		if err == nil && out == value {
			return p
		}
		seen = fmt.Sprintf("pod %s (uid %s) has X=%q (exec error %v)", p.Name, p.UID, out, err)
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(pollInterval)
	}
	n.t.Fatalf("pod %s: not running with X=%q within %s; last seen: %s\ndaemon log tail:\n%s",
		n.podName(name), value, timeout, seen, n.logTail())
	return nil
}

// waitOneSandbox waits until containerd holds exactly one sandbox for the
// pod of manifest name (the replaced pod's sandbox is gone), and fails when
// there is not exactly one pod of that name in GET /pods.
func (n *testNode) waitOneSandbox(name string, timeout time.Duration) {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	var got int
	for {
		if got = len(n.sandboxesOf(name)); got == 1 {
			break
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("pod %s: %d sandboxes in containerd after %s, want exactly 1\ndaemon log tail:\n%s",
				n.podName(name), got, timeout, n.logTail())
		}
		time.Sleep(pollInterval)
	}
	if c := n.podsNamed(name); c != 1 {
		n.t.Fatalf("GET /pods lists %d pods named %s, want exactly 1", c, n.podName(name))
	}
}

// logSize is where the daemon's log ends now, for logLinesSince.
func (n *testNode) logSize() int64 {
	info, err := os.Stat(n.logPath)
	if err != nil {
		return 0
	}
	return info.Size()
}

// logLinesSince returns the daemon log lines written after offset that
// contain every one of substrs.
func (n *testNode) logLinesSince(offset int64, substrs ...string) []string {
	data, err := os.ReadFile(n.logPath)
	if err != nil || int64(len(data)) < offset {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data[offset:]), "\n") {
		match := true
		for _, s := range substrs {
			if !strings.Contains(line, s) {
				match = false
				break
			}
		}
		if match && line != "" {
			out = append(out, line)
		}
	}
	return out
}

// sandboxStarts are the daemon's log lines saying it started a sandbox for
// the pod of manifest name, since offset.
func (n *testNode) sandboxStarts(name string, offset int64) []string {
	return n.logLinesSince(offset, "sandbox started", `"pod": "default/`+n.podName(name)+`"`)
}

// watchManifestErrors polls GET /manifests until stop is called and
// returns every distinct error it saw for file: a user running
// `get manifests` at that moment would have seen it.
func (n *testNode) watchManifestErrors(file string) (stop func() []string) {
	path := filepath.Join(n.dir, file)
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]bool{}
	var errs []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if items, err := n.manifests(); err == nil {
				if m := manifestOf(items, path); m != nil && m.Error != "" {
					mu.Lock()
					if !seen[m.Error] {
						seen[m.Error] = true
						errs = append(errs, m.Error)
					}
					mu.Unlock()
				}
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() []string {
		close(done)
		wg.Wait()
		return errs
	}
}

func TestManifests_RenameOverTheManifestRunsTheNewContentOnce(t *testing.T) {
	n := startNode(t)
	n.writeManifest("web.yaml", envPod("web", "one"))
	old := n.waitRunningWith("web", "one", "", 10*time.Second)

	// As editors that save to a temp file and rename it over the original.
	tmp := filepath.Join(n.dir, "web.yaml.tmp")
	if err := os.WriteFile(tmp, []byte(envPod("web", "two")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(n.dir, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	p := n.waitRunningWith("web", "two", string(old.UID), 10*time.Second)
	n.waitOneSandbox("web", 10*time.Second)
	if got := n.envX(p); got != "two" {
		t.Fatalf("pod %s runs X=%q, want two", p.Name, got)
	}
}

// slowChunks splits the manifest of a pod named name with X=two into three
// chunks: chunk 1 ends inside a flow sequence (not YAML yet); chunks 1+2
// are a valid pod with X=tw; all three are the final pod with X=two. A
// daemon that reads the file in a pause of the writer either reports an
// error or accepts a half-written pod.
func slowChunks(t *testing.T, name string) []string {
	t.Helper()
	// Unquoted, so that a prefix ending in "value: tw" is valid YAML.
	final := strings.Replace(envPod(name, "two"), `value: "two"`, `value: two`, 1)
	cut1 := strings.Index(final, `"-c",`) + len(`"-c",`)
	cut2 := strings.LastIndex(final, `tw`) + len(`tw`)
	chunks := []string{final[:cut1], final[cut1:cut2], final[cut2:]}
	if strings.Join(chunks, "") != final {
		t.Fatal("the chunks do not make up the manifest")
	}
	return chunks
}

// slowWrite opens path with flag and writes chunks through one file
// descriptor, syncing each and pausing 30 ms between them, as a slow
// editor or a tool streaming its output does.
func slowWrite(t *testing.T, path string, flag int, chunks []string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|flag, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range chunks {
		if i > 0 {
			time.Sleep(30 * time.Millisecond) // the writer's pause, not an assertion
		}
		if _, err := f.Write([]byte(c)); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// checkOnlyFinalVersion fails the test when, since offset, the daemon
// accepted more than one version of the manifest file (log "Manifest
// loaded" / "Manifest changed"), started more than one sandbox for its pod,
// or reported the file invalid (errs seen in GET /manifests, or its log).
func (n *testNode) checkOnlyFinalVersion(name, file string, offset int64, errs []string) {
	n.t.Helper()
	path := filepath.Join(n.dir, file)
	starts := n.sandboxStarts(name, offset)
	accepted := append(n.logLinesSince(offset, "Manifest loaded", path), n.logLinesSince(offset, "Manifest changed", path)...)
	invalid := n.logLinesSince(offset, "Manifest is invalid", path)
	n.t.Logf("%s: %d versions accepted, %d sandboxes started, %d invalid reads", file, len(accepted), len(starts), len(invalid))
	if len(starts) != 1 {
		n.t.Errorf("the slow write of %s started %d sandboxes for %s, want 1 (the final content only):\n%s",
			file, len(starts), n.podName(name), strings.Join(starts, "\n"))
	}
	if len(accepted) != 1 {
		n.t.Errorf("the daemon accepted %d versions of %s while it was written slowly, want 1 (the final content only):\n%s",
			len(accepted), file, strings.Join(accepted, "\n"))
	}
	if len(errs) > 0 || len(invalid) > 0 {
		n.t.Errorf("while %s was being written the daemon reported it invalid: GET /manifests showed %q; log:\n%s",
			file, errs, strings.Join(invalid, "\n"))
	}
}

func TestManifests_SlowTruncatingWriteNeverStartsAHalfWrittenPod(t *testing.T) {
	n := startNode(t)
	n.writeManifest("slow.yaml", envPod("slow", "one"))
	old := n.waitRunningWith("slow", "one", "", 10*time.Second)

	offset := n.logSize()
	stopWatch := n.watchManifestErrors("slow.yaml")
	slowWrite(t, filepath.Join(n.dir, "slow.yaml"), os.O_TRUNC, slowChunks(t, "slow"))
	p := n.waitRunningWith("slow", "two", string(old.UID), 10*time.Second)
	n.waitOneSandbox("slow", 10*time.Second)
	n.checkOnlyFinalVersion("slow", "slow.yaml", offset, stopWatch())
	if got := n.envX(p); got != "two" {
		t.Fatalf("pod %s runs X=%q, want two", p.Name, got)
	}
}

func TestManifests_SlowWriteOfANewFileNeverStartsAHalfWrittenPod(t *testing.T) {
	n := startNode(t)
	offset := n.logSize()
	stopWatch := n.watchManifestErrors("fresh.yaml")
	slowWrite(t, filepath.Join(n.dir, "fresh.yaml"), os.O_CREATE|os.O_EXCL, slowChunks(t, "fresh"))
	p := n.waitRunningWith("fresh", "two", "", 10*time.Second)
	n.waitOneSandbox("fresh", 10*time.Second)
	n.checkOnlyFinalVersion("fresh", "fresh.yaml", offset, stopWatch())
	if got := n.envX(p); got != "two" {
		t.Fatalf("pod %s runs X=%q, want two", p.Name, got)
	}
}

func TestManifests_FiftyQuickRewritesEndWithTheLastOne(t *testing.T) {
	n := startNode(t)
	path := filepath.Join(n.dir, "busy.yaml")
	n.writeManifest("busy.yaml", envPod("busy", "start"))
	old := n.waitRunningWith("busy", "start", "", 10*time.Second)

	offset := n.logSize()
	for i := range 50 {
		// In place, as `echo > file` does: truncate, then write.
		if err := os.WriteFile(path, []byte(envPod("busy", fmt.Sprint(i))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := n.waitRunningWith("busy", "49", string(old.UID), 15*time.Second)
	n.waitOneSandbox("busy", 15*time.Second)
	if got := n.envX(p); got != "49" {
		t.Fatalf("pod %s runs X=%q, want 49", p.Name, got)
	}
	n.waitManifests(5*time.Second, "listing busy.yaml with the running pod", func(items []manifestItem) bool {
		m := manifestOf(items, path)
		return m != nil && m.UID == string(p.UID) && m.Error == ""
	})
	t.Logf("50 rewrites: %d sandbox starts, %d versions accepted", len(n.sandboxStarts("busy", offset)),
		len(n.logLinesSince(offset, "Manifest changed", path)))
}

func TestManifests_InvalidFileBesideAValidOneLeavesItUntouched(t *testing.T) {
	n := startNode(t)
	n.writeManifest("web.yaml", envPod("web", "one"))
	before := n.waitRunningWith("web", "one", "", 10*time.Second)
	beforeID := before.Status.ContainerStatuses[0].ContainerID

	n.writeManifest("bad-field.yaml", strings.Replace(envPod("badfield", "x"), "    image:", "    imagez:", 1))
	n.writeManifest("bad-name.yaml", envPod("Bad_Name", "x"))
	badField := filepath.Join(n.dir, "bad-field.yaml")
	badName := filepath.Join(n.dir, "bad-name.yaml")
	webPath := filepath.Join(n.dir, "web.yaml")

	items := n.waitManifests(5*time.Second, "listing both invalid files with their errors", func(items []manifestItem) bool {
		f, m := manifestOf(items, badField), manifestOf(items, badName)
		return f != nil && f.Error != "" && m != nil && m.Error != ""
	})
	if m := manifestOf(items, badField); m.Pod != "" || !strings.Contains(m.Error, badField) || !strings.Contains(m.Error, "spec.containers[0].imagez") {
		t.Errorf("GET /manifests for %s: pod %q error %q; want no pod and an error naming the file and spec.containers[0].imagez", badField, m.Pod, m.Error)
	}
	if m := manifestOf(items, badName); m.Pod != "" || !strings.Contains(m.Error, badName) || !strings.Contains(m.Error, "metadata.name") {
		t.Errorf("GET /manifests for %s: pod %q error %q; want no pod and an error naming the file and metadata.name", badName, m.Pod, m.Error)
	}
	if m := manifestOf(items, webPath); m == nil || m.Error != "" || m.UID != string(before.UID) || m.Pod != "default/"+n.podName("web") {
		t.Errorf("GET /manifests for %s: %+v; want pod default/%s uid %s and no error", webPath, m, n.podName("web"), before.UID)
	}

	out := n.cli("get", "manifests")
	for _, want := range []struct{ file, fragment string }{
		{badField, "spec.containers[0].imagez"},
		{badName, "metadata.name"},
	} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, want.file+" ") && strings.Contains(line, "Error:") && strings.Contains(line, want.fragment) {
				found = true
			}
		}
		if !found {
			t.Errorf("minikubelet get manifests has no error line for %s naming %s:\n%s", want.file, want.fragment, out)
		}
	}

	after := n.waitPod("web", time.Second, "Running", podRunning)
	cs := after.Status.ContainerStatuses[0]
	if after.UID != before.UID || cs.ContainerID != beforeID || cs.RestartCount != 0 {
		t.Errorf("the valid pod was touched: uid %s container %s restarts %d; want uid %s container %s restarts 0",
			after.UID, cs.ContainerID, cs.RestartCount, before.UID, beforeID)
	}
	for _, name := range []string{"badfield", "Bad_Name", "bad-name"} {
		if s := n.sandboxesOf(name); len(s) != 0 {
			t.Errorf("an invalid manifest started %d sandboxes for %s", len(s), n.podName(name))
		}
	}
	if got := len(n.sandboxes()); got != 1 {
		t.Errorf("containerd holds %d sandboxes for the node, want 1 (the valid pod)", got)
	}
}

func TestManifests_HiddenAndEditorFilesStartNothing(t *testing.T) {
	n := startNode(t)
	ignored := map[string]string{
		".hidden.yaml":  "hidden",
		".web.yaml.swp": "swp",
		"web.yaml~":     "tilde",
		"#web.yaml#":    "emacs",
	}
	for file, name := range ignored {
		if err := os.WriteFile(filepath.Join(n.dir, file), []byte(envPod(name, "x")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A valid manifest written after them: once its pod runs, the daemon
	// has read the directory with the ignored files in it.
	n.writeManifest("sentinel.yaml", envPod("sentinel", "x"))
	n.waitRunningWith("sentinel", "x", "", 10*time.Second)

	pods, err := n.pods()
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 1 || pods[0].Name != n.podName("sentinel") {
		var names []string
		for _, p := range pods {
			names = append(names, p.Name)
		}
		t.Errorf("GET /pods lists %v, want only %s", names, n.podName("sentinel"))
	}
	if got := len(n.sandboxes()); got != 1 {
		t.Errorf("containerd holds %d sandboxes for the node, want 1 (the sentinel)", got)
	}
	items, err := n.manifests()
	if err != nil {
		t.Fatal(err)
	}
	for file := range ignored {
		if m := manifestOf(items, filepath.Join(n.dir, file)); m != nil && (m.Pod != "" || m.Error != "") {
			t.Errorf("GET /manifests lists the ignored file %s as %+v", file, *m)
		}
	}
}

func TestManifests_DuplicateNameFirstFileWinsThenSecondTakesOver(t *testing.T) {
	n := startNode(t)
	aPath, bPath := filepath.Join(n.dir, "a.yaml"), filepath.Join(n.dir, "b.yaml")
	n.writeManifest("a.yaml", envPod("dup", "a"))
	n.writeManifest("b.yaml", envPod("dup", "b"))

	a := n.waitRunningWith("dup", "a", "", 10*time.Second)
	items := n.waitManifests(5*time.Second, "listing b.yaml with an error", func(items []manifestItem) bool {
		m := manifestOf(items, bPath)
		return m != nil && m.Error != ""
	})
	if m := manifestOf(items, bPath); m.Pod != "" || !strings.Contains(m.Error, aPath) || !strings.Contains(m.Error, bPath) {
		t.Errorf("GET /manifests for b.yaml: pod %q error %q; want no pod and an error naming %s and %s", m.Pod, m.Error, aPath, bPath)
	}
	if m := manifestOf(items, aPath); m == nil || m.Error != "" || m.UID != string(a.UID) {
		t.Errorf("GET /manifests for a.yaml: %+v; want uid %s and no error", m, a.UID)
	}
	if c := n.podsNamed("dup"); c != 1 {
		t.Errorf("GET /pods lists %d pods named %s, want 1", c, n.podName("dup"))
	}
	out := n.cli("get", "manifests")
	shown := false
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, bPath+" ") && strings.Contains(line, "Error:") && strings.Contains(line, aPath) {
			shown = true
		}
	}
	if !shown {
		t.Errorf("minikubelet get manifests has no error line for %s naming %s:\n%s", bPath, aPath, out)
	}

	n.removeManifest("a.yaml")
	b := n.waitRunningWith("dup", "b", string(a.UID), 10*time.Second)
	n.waitOneSandbox("dup", 10*time.Second)
	n.waitManifests(5*time.Second, "listing b.yaml with its pod and no error", func(items []manifestItem) bool {
		m := manifestOf(items, bPath)
		return m != nil && m.Error == "" && m.UID == string(b.UID) && manifestOf(items, aPath) == nil
	})
}

func TestManifests_EditThatChangesNothingRestartsNothing(t *testing.T) {
	n := startNode(t)
	path := filepath.Join(n.dir, "web.yaml")
	n.writeManifest("web.yaml", envPod("web", "one"))
	before := n.waitRunningWith("web", "one", "", 10*time.Second)
	beforeID := before.Status.ContainerStatuses[0].ContainerID

	offset := n.logSize()
	// The same pod: keys reordered, a comment, flow style, other quoting,
	// and written in place.
	same := `# the web pod, reformatted
kind: Pod
apiVersion: v1
spec:
  containers:
  - image: "busybox:1.35"
    env: [{value: one, name: X}]
    name: c
    command:
    - sh
    - -c
    - trap 'exit 0' TERM; sleep 3600 & wait
  terminationGracePeriodSeconds: 1
metadata: {name: web}
`
	if err := os.WriteFile(path, []byte(same), 0o644); err != nil {
		t.Fatal(err)
	}
	// Written after the edit: once its pod runs, the edit has been read.
	n.writeManifest("sentinel.yaml", envPod("sentinel", "x"))
	n.waitRunningWith("sentinel", "x", "", 10*time.Second)

	after := n.waitPod("web", time.Second, "Running", podRunning)
	cs := after.Status.ContainerStatuses[0]
	if after.UID != before.UID || cs.ContainerID != beforeID || cs.RestartCount != 0 {
		t.Errorf("an edit that changes nothing restarted the pod: uid %s container %s restarts %d; want uid %s container %s restarts 0",
			after.UID, cs.ContainerID, cs.RestartCount, before.UID, beforeID)
	}
	if got := len(n.sandboxesOf("web")); got != 1 {
		t.Errorf("pod %s has %d sandboxes, want 1", after.Name, got)
	}
	items, err := n.manifests()
	if err != nil {
		t.Fatal(err)
	}
	if m := manifestOf(items, path); m == nil || m.UID != string(before.UID) || m.Error != "" || len(m.Changes) != 0 {
		t.Errorf("GET /manifests for web.yaml: %+v; want uid %s, no error, no changes", m, before.UID)
	}
	if lines := n.sandboxStarts("web", offset); len(lines) != 0 {
		t.Errorf("the daemon started a sandbox for %s after the no-op edit:\n%s", after.Name, strings.Join(lines, "\n"))
	}
}

func TestManifests_FileTurnedInvalidKeepsThePodUntilFixed(t *testing.T) {
	n := startNode(t)
	path := filepath.Join(n.dir, "web.yaml")
	n.writeManifest("web.yaml", envPod("web", "one"))
	before := n.waitRunningWith("web", "one", "", 10*time.Second)
	beforeID := before.Status.ContainerStatuses[0].ContainerID

	n.writeManifest("web.yaml", strings.Replace(envPod("web", "one"), "    env:", "    envz:", 1))
	items := n.waitManifests(5*time.Second, "listing web.yaml with an error", func(items []manifestItem) bool {
		m := manifestOf(items, path)
		return m != nil && m.Error != ""
	})
	m := manifestOf(items, path)
	if m.Pod != "default/"+n.podName("web") || m.UID != string(before.UID) || !strings.Contains(m.Error, path) || !strings.Contains(m.Error, "spec.containers[0].envz") {
		t.Errorf("GET /manifests for web.yaml: %+v; want pod default/%s uid %s and an error naming the file and spec.containers[0].envz",
			*m, n.podName("web"), before.UID)
	}
	out := n.cli("get", "manifests")
	found := false
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, path+" ") && strings.Contains(line, n.podName("web")) && strings.Contains(line, "spec.containers[0].envz") {
			found = true
		}
	}
	if !found {
		t.Errorf("minikubelet get manifests has no line for %s with its pod and the error:\n%s", path, out)
	}
	still := n.waitPod("web", time.Second, "Running", podRunning)
	cs := still.Status.ContainerStatuses[0]
	if still.UID != before.UID || cs.ContainerID != beforeID || cs.RestartCount != 0 {
		t.Fatalf("the pod of a file turned invalid was touched: uid %s container %s restarts %d; want uid %s container %s restarts 0",
			still.UID, cs.ContainerID, cs.RestartCount, before.UID, beforeID)
	}

	// Valid again with the content it had: the pod goes on untouched.
	n.writeManifest("web.yaml", envPod("web", "one"))
	n.waitManifests(5*time.Second, "listing web.yaml without an error", func(items []manifestItem) bool {
		m := manifestOf(items, path)
		return m != nil && m.Error == "" && m.UID == string(before.UID)
	})
	still = n.waitPod("web", time.Second, "Running", podRunning)
	cs = still.Status.ContainerStatuses[0]
	if still.UID != before.UID || cs.ContainerID != beforeID || cs.RestartCount != 0 {
		t.Fatalf("restoring the last good content restarted the pod: uid %s container %s restarts %d; want uid %s container %s restarts 0",
			still.UID, cs.ContainerID, cs.RestartCount, before.UID, beforeID)
	}

	n.writeManifest("web.yaml", envPod("web", "two"))
	after := n.waitRunningWith("web", "two", string(before.UID), 10*time.Second)
	n.waitOneSandbox("web", 10*time.Second)
	const changed = "spec.containers[0].env[0].value"
	items = n.waitManifests(5*time.Second, "listing web.yaml with the new pod", func(items []manifestItem) bool {
		m := manifestOf(items, path)
		return m != nil && m.UID == string(after.UID)
	})
	if m := manifestOf(items, path); m.Error != "" || strings.Join(m.Changes, ",") != changed {
		t.Errorf("GET /manifests for web.yaml after the fix: %+v; want no error and changes [%s]", *m, changed)
	}
	var reasons []string
	found = false
	for _, ev := range n.events() {
		if ev.InvolvedObject.Name != after.Name {
			continue
		}
		reasons = append(reasons, ev.Reason+": "+ev.Message)
		if ev.Reason == "ManifestChanged" && ev.InvolvedObject.UID == after.UID && strings.Contains(ev.Message, changed) {
			found = true
		}
	}
	if !found {
		t.Errorf("no ManifestChanged event for pod %s (uid %s) naming %s; events of the pod:\n%s",
			after.Name, after.UID, changed, strings.Join(reasons, "\n"))
	}
	if out := n.cli("get", "manifests"); !strings.Contains(out, changed) {
		t.Errorf("minikubelet get manifests does not show the change %s:\n%s", changed, out)
	}

	// Invalid again, then removed: the pod it kept running goes.
	n.writeManifest("web.yaml", "kind: Pod\n")
	n.waitManifests(5*time.Second, "listing web.yaml with an error", func(items []manifestItem) bool {
		m := manifestOf(items, path)
		return m != nil && m.Error != "" && m.UID == string(after.UID)
	})
	n.removeManifest("web.yaml")
	n.waitGone("web", 10*time.Second)
	n.waitManifests(5*time.Second, "no longer listing web.yaml", func(items []manifestItem) bool {
		return manifestOf(items, path) == nil
	})
}

func TestManifests_DirectoryRemovedAndRecreated(t *testing.T) {
	n := startNode(t)
	// The node's cleanup lists this directory: it must exist at the end.
	t.Cleanup(func() { os.MkdirAll(n.dir, 0o755) })
	n.writeManifest("one.yaml", envPod("one", "x"))
	n.writeManifest("two.yaml", envPod("two", "x"))
	n.waitRunningWith("one", "x", "", 10*time.Second)
	n.waitRunningWith("two", "x", "", 10*time.Second)

	if err := os.RemoveAll(n.dir); err != nil {
		t.Fatal(err)
	}
	n.waitGone("one", 10*time.Second)
	n.waitGone("two", 10*time.Second)
	n.waitManifests(5*time.Second, "reporting the missing directory", func(items []manifestItem) bool {
		return len(items) == 1 && items[0].File == n.dir && strings.Contains(items[0].Error, "does not exist")
	})
	if body, err := n.get("/healthz"); err != nil || string(body) != "ok" {
		t.Fatalf("the daemon is unhealthy without its manifest directory: %q, %v\n%s", body, err, n.logTail())
	}

	if err := os.Mkdir(n.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	n.writeManifest("one.yaml", envPod("one", "back"))
	n.waitRunningWith("one", "back", "", 10*time.Second)

	// Moved away rather than removed, and a new directory made in its
	// place with a manifest already in it.
	moved := n.dir + ".old"
	if err := os.Rename(n.dir, moved); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(moved) })
	n.waitGone("one", 10*time.Second)
	fresh := n.dir + ".new"
	if err := os.Mkdir(fresh, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fresh, "two.yaml"), []byte(envPod("two", "again")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(fresh, n.dir); err != nil {
		t.Fatal(err)
	}
	n.waitRunningWith("two", "again", "", 10*time.Second)
	if p, err := n.pod("one"); err != nil || p != nil {
		t.Errorf("pod %s is back although its manifest is not: %v %v", n.podName("one"), p, err)
	}
	select {
	case <-n.exited:
		t.Fatalf("the daemon exited:\n%s", n.logTail())
	default:
	}
}
