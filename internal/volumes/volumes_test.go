package volumes

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func hostPathPod(path string, typ v1.HostPathType) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{UID: "uid1"},
		Spec: v1.PodSpec{Volumes: []v1.Volume{{
			Name:         "h",
			VolumeSource: v1.VolumeSource{HostPath: &v1.HostPathVolumeSource{Path: path, Type: &typ}},
		}}},
	}
}

func TestSetup_HostPathTypeChecks(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name    string
		path    string
		typ     v1.HostPathType
		wantErr string
	}{
		{"unset accepts anything", missing, v1.HostPathUnset, ""},
		{"directory", dir, v1.HostPathDirectory, ""},
		{"directory missing", missing, v1.HostPathDirectory, "does not exist"},
		{"directory is a file", file, v1.HostPathDirectory, "is not a directory"},
		{"file", file, v1.HostPathFile, ""},
		{"file is a directory", dir, v1.HostPathFile, "is not a file"},
		{"socket", sock, v1.HostPathSocket, ""},
		{"socket is a file", file, v1.HostPathSocket, "is not a socket file"},
		{"char device", "/dev/null", v1.HostPathCharDev, ""},
		{"char device is a file", file, v1.HostPathCharDev, "is not a character device"},
		{"block device is a char device", "/dev/null", v1.HostPathBlockDev, "is not a block device"},
		{"directory or create makes it", filepath.Join(dir, "new", "sub"), v1.HostPathDirectoryOrCreate, ""},
		{"file or create makes it", filepath.Join(dir, "newfile"), v1.HostPathFileOrCreate, ""},
		{"file or create on a directory", dir, v1.HostPathFileOrCreate, "is not a file"},
	}
	m := NewManager(t.TempDir())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vols, err := m.Setup(hostPathPod(tt.path, tt.typ))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Setup: %v", err)
				}
				if vols["h"].Path != tt.path {
					t.Fatalf("volume path %q, want %q", vols["h"].Path, tt.path)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `volume "h"`) {
				t.Fatalf("Setup error %v, want one naming the volume and saying %q", err, tt.wantErr)
			}
		})
	}
	if st, err := os.Stat(filepath.Join(dir, "new", "sub")); err != nil || !st.IsDir() {
		t.Fatalf("DirectoryOrCreate did not make the directory: %v", err)
	}
	if st, err := os.Stat(filepath.Join(dir, "newfile")); err != nil || !st.Mode().IsRegular() {
		t.Fatalf("FileOrCreate did not make the file: %v", err)
	}
}

func TestSetup_EmptyDirSurvivesAndIsRemovedWithThePod(t *testing.T) {
	root := t.TempDir()
	m := NewManager(root)
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "uid2"}, Spec: v1.PodSpec{Volumes: []v1.Volume{
		{Name: "data", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}},
	}}}
	vols, err := m.Setup(pod)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, "pods", "uid2", "volumes", "kubernetes.io~empty-dir", "data")
	if vols["data"].Path != want {
		t.Fatalf("emptyDir at %q, want %q", vols["data"].Path, want)
	}
	if st, _ := os.Stat(want); st.Mode().Perm() != 0o777 {
		t.Fatalf("emptyDir mode %v, want 0777", st.Mode().Perm())
	}
	os.WriteFile(filepath.Join(want, "kept"), []byte("x"), 0o644)
	if _, err := m.Setup(pod); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(want, "kept")); err != nil {
		t.Fatalf("a second Setup (a container restart) lost the content: %v", err)
	}
	if err := m.Cleanup("uid2"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "pods", "uid2")); !os.IsNotExist(err) {
		t.Fatalf("pod directory still there after Cleanup: %v", err)
	}
}

func TestSetup_UnsupportedVolumeNamesIt(t *testing.T) {
	pod := &v1.Pod{Spec: v1.PodSpec{Volumes: []v1.Volume{
		{Name: "cfg", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{}}},
	}}}
	_, err := NewManager(t.TempDir()).Setup(pod)
	if err == nil || !strings.Contains(err.Error(), `volume "cfg"`) {
		t.Fatalf("error %v, want one naming volume cfg", err)
	}
}

func TestMounts(t *testing.T) {
	vol := t.TempDir()
	bidi := v1.MountPropagationBidirectional
	c := &v1.Container{VolumeMounts: []v1.VolumeMount{
		{Name: "v", MountPath: "/data"},
		{Name: "v", MountPath: "/ro", ReadOnly: true},
		{Name: "v", MountPath: "/sub", SubPath: "a/b"},
		{Name: "v", MountPath: "/shared", MountPropagation: &bidi},
	}}
	mounts, err := Mounts(c, Volumes{"v": {Path: vol}})
	if err != nil {
		t.Fatal(err)
	}
	want := []*runtimeapi.Mount{
		{ContainerPath: "/data", HostPath: vol, Propagation: runtimeapi.MountPropagation_PROPAGATION_PRIVATE},
		{ContainerPath: "/ro", HostPath: vol, Readonly: true, Propagation: runtimeapi.MountPropagation_PROPAGATION_PRIVATE},
		{ContainerPath: "/sub", HostPath: filepath.Join(vol, "a/b"), Propagation: runtimeapi.MountPropagation_PROPAGATION_PRIVATE},
		{ContainerPath: "/shared", HostPath: vol, Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL},
	}
	for i := range want {
		g, w := mounts[i], want[i]
		if g.ContainerPath != w.ContainerPath || g.HostPath != w.HostPath || g.Readonly != w.Readonly || g.Propagation != w.Propagation {
			t.Errorf("mount %d = %v, want %v", i, g, w)
		}
	}
	if st, err := os.Stat(filepath.Join(vol, "a/b")); err != nil || !st.IsDir() {
		t.Fatalf("subPath directory not made: %v", err)
	}
	for _, bad := range []string{"../escape", "/abs", ".."} {
		c := &v1.Container{VolumeMounts: []v1.VolumeMount{{Name: "v", MountPath: "/x", SubPath: bad}}}
		if _, err := Mounts(c, Volumes{"v": {Path: vol}}); err == nil {
			t.Errorf("subPath %q accepted, want an error", bad)
		}
	}
	if _, err := Mounts(&v1.Container{VolumeMounts: []v1.VolumeMount{{Name: "nope", MountPath: "/x"}}}, Volumes{}); err == nil {
		t.Error("a mount of an undeclared volume was accepted")
	}
}

func TestTerminationMessageFile(t *testing.T) {
	m := NewManager(t.TempDir())
	path, err := m.TerminationMessageFile("uid3", "c", 2)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o666 || st.Size() != 0 {
		t.Fatalf("message file %v size %d, want an empty 0666 file", st.Mode(), st.Size())
	}
	os.WriteFile(path, []byte(strings.Repeat("x", 5000)), 0o666)
	msg, err := ReadTerminationMessage(path)
	if err != nil || len(msg) != 4096 {
		t.Fatalf("read %d bytes (%v), want the kubelet's limit of 4096", len(msg), err)
	}
	if msg, err := ReadTerminationMessage(path + ".missing"); msg != "" || err != nil {
		t.Fatalf("a missing file gave %q, %v; want an empty message", msg, err)
	}
}
