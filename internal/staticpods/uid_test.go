package staticpods

import (
	"path/filepath"
	"strings"
	"testing"
)

// uidPod is a valid manifest for pod name with metadata.uid, whose
// container has env GREETING=greeting.
func uidPod(name, uid, greeting string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  uid: " + uid +
		"\nspec:\n  containers:\n  - name: app\n    image: busybox:1\n    env:\n    - name: GREETING\n      value: " + greeting + "\n"
}

func TestDecodeManifest_GivenUIDIsKept(t *testing.T) {
	pod, err := DecodeManifest(testPath, []byte(uidPod("web", "0f6c1a2e-7d3b-4c5e-9a1f-2b3c4d5e6f70", "hi")), testNode)
	if err != nil {
		t.Fatal(err)
	}
	if pod.UID != "0f6c1a2e-7d3b-4c5e-9a1f-2b3c4d5e6f70" || pod.Annotations[ConfigHashAnnotationKey] != string(pod.UID) {
		t.Errorf("UID %q, config.hash %q: want the manifest's uid in both, as the kubelet", pod.UID, pod.Annotations[ConfigHashAnnotationKey])
	}
}

func TestDecodeManifest_UIDMustBeAFileName(t *testing.T) {
	for _, uid := range []string{"../../etc", "a/b", ".hidden", strings.Repeat("a", maxUIDLength+1)} {
		_, err := DecodeManifest(testPath, []byte(uidPod("web", `"`+uid+`"`, "hi")), testNode)
		if err == nil || !strings.Contains(err.Error(), "metadata.uid") {
			t.Errorf("uid %q: error %v, want one on metadata.uid", uid, err)
		}
	}
}

// An edit to a manifest with a uid keeps the UID and hands on the new
// spec, with a new config.seen so that the snapshot is sent again.
func TestScan_EditWithFixedUIDKeepsItAndChangesTheSpec(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	writeFile(t, file, uidPod("web", "fixed-1", "hello"))
	src, clk := newTestSource(t, dir)
	first := src.scan()
	if len(first.Manifests) != 1 || first.Manifests[0].Pod.UID != "fixed-1" {
		t.Fatalf("want the manifest's uid:%s", describe(first))
	}

	clk.Step(1)
	writeFile(t, file, uidPod("web", "fixed-1", "bye"))
	snap := src.scan()
	if len(snap.Manifests) != 1 {
		t.Fatalf("after the edit:%s", describe(snap))
	}
	m := snap.Manifests[0]
	if m.Pod.UID != "fixed-1" || m.Pod.Spec.Containers[0].Env[0].Value != "bye" || strings.Join(m.Changes, ",") != "spec.containers[0].env[0].value" {
		t.Errorf("edit: want uid fixed-1 with the new env and its change:%s", describe(snap))
	}
	if first.signature() == snap.signature() {
		t.Error("the new version must give a new signature, or it is never sent")
	}

	// A rewrite that changes nothing is no new version.
	clk.Step(1)
	writeFile(t, file, uidPod("web", "fixed-1", "bye")+"# a comment\n")
	if again := src.scan(); again.signature() != snap.signature() {
		t.Errorf("a rewrite without changes made a new version:%s", describe(again))
	}
}

func TestScan_TwoFilesWithTheSameUIDSecondRefused(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.yaml"), uidPod("one", "same", "x"))
	writeFile(t, filepath.Join(dir, "b.yaml"), uidPod("two", "same", "x"))
	src, _ := newTestSource(t, dir)
	snap := src.scan()
	if got := strings.Join(manifestFiles(snap), ","); got != "a.yaml" || len(snap.Errors) != 1 {
		t.Fatalf("want a.yaml running and b.yaml refused:%s", describe(snap))
	}
	msg := snap.Errors[0].Err.Error()
	if !strings.Contains(msg, "a.yaml") || !strings.Contains(msg, "b.yaml") || !strings.Contains(msg, "metadata.uid same") {
		t.Errorf("error %q should name both files and the uid", msg)
	}
}
