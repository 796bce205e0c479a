package volumes

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
	m := NewManager(t.TempDir())
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "uid1"}}
	t.Cleanup(func() { m.Cleanup(pod.UID) })
	vol := t.TempDir()
	bidi := v1.MountPropagationBidirectional
	enabled, ifPossible := v1.RecursiveReadOnlyEnabled, v1.RecursiveReadOnlyIfPossible
	c := &v1.Container{Name: "app", VolumeMounts: []v1.VolumeMount{
		{Name: "v", MountPath: "/data"},
		{Name: "v", MountPath: "/ro", ReadOnly: true},
		{Name: "v", MountPath: "/sub", SubPath: "a/b"},
		{Name: "v", MountPath: "/shared", MountPropagation: &bidi},
		{Name: "v", MountPath: "/rro", ReadOnly: true, RecursiveReadOnly: &enabled},
		{Name: "v", MountPath: "/maybe", ReadOnly: true, RecursiveReadOnly: &ifPossible},
	}}
	mounts, err := m.Mounts(pod, c, Volumes{"v": {Path: vol}}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(m.PodDir(pod.UID), "volume-subpaths", "v", "app", "2")
	want := []*runtimeapi.Mount{
		{ContainerPath: "/data", HostPath: vol, Propagation: runtimeapi.MountPropagation_PROPAGATION_PRIVATE},
		{ContainerPath: "/ro", HostPath: vol, Readonly: true, Propagation: runtimeapi.MountPropagation_PROPAGATION_PRIVATE},
		{ContainerPath: "/sub", HostPath: sub, Propagation: runtimeapi.MountPropagation_PROPAGATION_PRIVATE},
		{ContainerPath: "/shared", HostPath: vol, Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL},
		{ContainerPath: "/rro", HostPath: vol, Readonly: true, RecursiveReadOnly: true, Propagation: runtimeapi.MountPropagation_PROPAGATION_PRIVATE},
		{ContainerPath: "/maybe", HostPath: vol, Readonly: true, Propagation: runtimeapi.MountPropagation_PROPAGATION_PRIVATE},
	}
	for i := range want {
		g, w := mounts[i], want[i]
		if g.ContainerPath != w.ContainerPath || g.HostPath != w.HostPath || g.Readonly != w.Readonly || g.Propagation != w.Propagation || g.RecursiveReadOnly != w.RecursiveReadOnly {
			t.Errorf("mount %d = %v, want %v", i, g, w)
		}
	}
	if st, err := os.Stat(filepath.Join(vol, "a/b")); err != nil || !st.IsDir() {
		t.Fatalf("subPath directory not made: %v", err)
	}
	// The bind mount shows the subPath's content.
	os.WriteFile(filepath.Join(vol, "a/b/f"), []byte("x"), 0o644)
	if data, err := os.ReadFile(filepath.Join(sub, "f")); err != nil || string(data) != "x" {
		t.Fatalf("the subPath mount shows %q (%v), want the subPath's file", data, err)
	}
	if maybe, _ := m.Mounts(pod, &v1.Container{Name: "b", VolumeMounts: c.VolumeMounts[5:]}, Volumes{"v": {Path: vol}}, nil, true); !maybe[0].RecursiveReadOnly {
		t.Error("IfPossible is not recursive where the handler supports it")
	}
	if _, err := m.Mounts(pod, &v1.Container{VolumeMounts: []v1.VolumeMount{{Name: "nope", MountPath: "/x"}}}, Volumes{}, nil, false); err == nil {
		t.Error("a mount of an undeclared volume was accepted")
	}
	if err := m.Cleanup(pod.UID); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	if _, err := os.Stat(filepath.Join(vol, "a/b/f")); err != nil {
		t.Fatalf("cleanup removed the volume's content through the subPath mount: %v", err)
	}
}

func TestMounts_SubPathsStayInsideTheVolume(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("host"), 0o600)
	tests := []struct {
		name    string
		setup   func(vol string)
		vm      v1.VolumeMount
		env     map[string]string
		want    string // the file "f" seen through the mount; empty with wantErr
		wantErr string
	}{
		{name: "absolute symlink out of the volume",
			setup:   func(vol string) { os.Symlink(outside, filepath.Join(vol, "link")) },
			vm:      v1.VolumeMount{SubPath: "link"},
			wantErr: "not within volume path"},
		{name: "relative symlink out of the volume",
			setup:   func(vol string) { os.Symlink("../../../../../../..", filepath.Join(vol, "link")) },
			vm:      v1.VolumeMount{SubPath: "link/etc"},
			wantErr: "not within volume path"},
		{name: "symlink to a file out of the volume",
			setup:   func(vol string) { os.Symlink(filepath.Join(outside, "secret"), filepath.Join(vol, "f")) },
			vm:      v1.VolumeMount{SubPath: "f"},
			wantErr: "not within volume path"},
		{name: "symlink inside the volume is followed",
			setup: func(vol string) {
				os.MkdirAll(filepath.Join(vol, "real"), 0o755)
				os.WriteFile(filepath.Join(vol, "real", "f"), []byte("in"), 0o644)
				os.Symlink("real", filepath.Join(vol, "link"))
			},
			vm: v1.VolumeMount{SubPath: "link"}, want: "in"},
		{name: "subPathExpr from the environment",
			setup: func(vol string) {
				os.MkdirAll(filepath.Join(vol, "pod-a"), 0o755)
				os.WriteFile(filepath.Join(vol, "pod-a", "f"), []byte("a"), 0o644)
			},
			vm: v1.VolumeMount{SubPathExpr: "$(POD)"}, env: map[string]string{"POD": "pod-a"}, want: "a"},
		{name: "subPathExpr with a missing variable",
			vm: v1.VolumeMount{SubPathExpr: "$(POD)/$(EMPTY)"}, env: map[string]string{"EMPTY": ""}, wantErr: "missing value for EMPTY, POD"},
		{name: "subPathExpr expanding to ..",
			vm: v1.VolumeMount{SubPathExpr: "$(UP)"}, env: map[string]string{"UP": "../x"}, wantErr: "unable to provision SubPath `../x`: must not contain '..'"},
		{name: "subPathExpr expanding to an absolute path",
			vm: v1.VolumeMount{SubPathExpr: "$(P)"}, env: map[string]string{"P": "/etc"}, wantErr: "error SubPath `/etc` must not be an absolute path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewManager(t.TempDir())
			pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "uid1"}}
			t.Cleanup(func() { m.Cleanup(pod.UID) })
			vol := t.TempDir()
			if tt.setup != nil {
				tt.setup(vol)
			}
			tt.vm.Name, tt.vm.MountPath = "v", "/x"
			mounts, err := m.Mounts(pod, &v1.Container{Name: "app", VolumeMounts: []v1.VolumeMount{tt.vm}}, Volumes{"v": {Path: vol}}, tt.env, false)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if data, err := os.ReadFile(filepath.Join(mounts[0].HostPath, "f")); err != nil || string(data) != tt.want {
				t.Fatalf("the mount shows %q (%v), want %q", data, err, tt.want)
			}
		})
	}
}

func TestMounts_MissingSubPathGetsTheVolumesMode(t *testing.T) {
	m := NewManager(t.TempDir())
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "uid1"}}
	t.Cleanup(func() { m.Cleanup(pod.UID) })
	vol := t.TempDir()
	os.Chmod(vol, 0o777)
	c := &v1.Container{Name: "app", VolumeMounts: []v1.VolumeMount{{Name: "v", MountPath: "/x", SubPath: "a/b"}}}
	if _, err := m.Mounts(pod, c, Volumes{"v": {Path: vol}}, nil, false); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"a", "a/b"} {
		if st, err := os.Stat(filepath.Join(vol, d)); err != nil || st.Mode().Perm() != 0o777 {
			t.Errorf("%s: mode %v (%v), want the volume's 0777", d, st.Mode().Perm(), err)
		}
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

func TestSetup_EmptyDirIsGivenToTheFSGroup(t *testing.T) {
	m := NewManager(t.TempDir())
	group := int64(2345)
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "u1"}, Spec: v1.PodSpec{
		SecurityContext: &v1.PodSecurityContext{FSGroup: &group},
		Volumes:         []v1.Volume{{Name: "data", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}},
	}}
	vols, err := m.Setup(pod)
	if err != nil {
		t.Fatal(err)
	}
	dir := vols["data"].Path
	// A file a container wrote before it restarted is given to the group
	// at the next setup, as the kubelet's SetVolumeOwnership at each mount.
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Setup(pod); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o777 | os.ModeDir | os.ModeSetgid, file: 0o660} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
		}
		if gid := fi.Sys().(*syscall.Stat_t).Gid; gid != uint32(group) {
			t.Errorf("%s: group %d, want the fsGroup %d", path, gid, group)
		}
	}
}
