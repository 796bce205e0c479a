package volumes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func downwardPod() *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-node1", Namespace: "default", UID: "u-1",
			Labels:      map[string]string{"b": "2", "a": `say "hi"`},
			Annotations: map[string]string{"kubernetes.io/config.source": "file"},
		},
		Spec: v1.PodSpec{
			Containers: []v1.Container{{Name: "app", Resources: v1.ResourceRequirements{
				Limits:   v1.ResourceList{v1.ResourceCPU: resource.MustParse("250m"), v1.ResourceMemory: resource.MustParse("64Mi")},
				Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m")},
			}}},
			InitContainers: []v1.Container{{Name: "init"}},
		},
	}
}

func TestDownwardAPIPayload(t *testing.T) {
	allocatable := v1.ResourceList{v1.ResourceCPU: resource.MustParse("2"), v1.ResourceMemory: resource.MustParse("1Gi")}
	field := func(path, fp string) v1.DownwardAPIVolumeFile {
		return v1.DownwardAPIVolumeFile{Path: path, FieldRef: &v1.ObjectFieldSelector{APIVersion: "v1", FieldPath: fp}}
	}
	res := func(path, container, r, divisor string) v1.DownwardAPIVolumeFile {
		f := v1.DownwardAPIVolumeFile{Path: path, ResourceFieldRef: &v1.ResourceFieldSelector{ContainerName: container, Resource: r}}
		if divisor != "" {
			f.ResourceFieldRef.Divisor = resource.MustParse(divisor)
		}
		return f
	}
	tests := []struct {
		name    string
		item    v1.DownwardAPIVolumeFile
		want    string
		wantErr string
	}{
		{name: "labels sorted and quoted", item: field("labels", "metadata.labels"), want: "a=\"say \\\"hi\\\"\"\nb=\"2\""},
		{name: "annotations", item: field("annotations", "metadata.annotations"), want: `kubernetes.io/config.source="file"`},
		{name: "one label", item: field("l", "metadata.labels['b']"), want: "2"},
		{name: "one annotation", item: field("a", "metadata.annotations['kubernetes.io/config.source']"), want: "file"},
		{name: "missing label is empty", item: field("l", "metadata.labels['zz']"), want: ""},
		{name: "name", item: field("name", "metadata.name"), want: "web-node1"},
		{name: "namespace", item: field("ns", "metadata.namespace"), want: "default"},
		{name: "uid", item: field("uid", "metadata.uid"), want: "u-1"},
		{name: "cpu limit rounds up to cores", item: res("c", "app", "limits.cpu", ""), want: "1"},
		{name: "cpu limit in millicores", item: res("c", "app", "limits.cpu", "1m"), want: "250"},
		{name: "cpu request", item: res("c", "app", "requests.cpu", "1m"), want: "100"},
		{name: "memory limit in Mi", item: res("m", "app", "limits.memory", "1Mi"), want: "64"},
		{name: "unset cpu limit is the node's", item: res("c", "init", "limits.cpu", ""), want: "2"},
		{name: "unset memory limit is the node's", item: res("m", "init", "limits.memory", "1Mi"), want: "1024"},
		{name: "unset request is zero", item: res("m", "init", "requests.memory", ""), want: "0"},
		{name: "unknown container", item: res("m", "nope", "limits.memory", ""), wantErr: `container "nope" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := downwardAPIPayload(downwardPod(), projectionSource{items: []v1.DownwardAPIVolumeFile{tt.item}}, allocatable)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f := got[tt.item.Path]
			if string(f.data) != tt.want || f.mode != defaultFileMode {
				t.Fatalf("file = %q mode %o, want %q mode 644", f.data, f.mode, tt.want)
			}
		})
	}
}

func TestDownwardAPIPayload_Modes(t *testing.T) {
	def, own := int32(0o400), int32(0o600)
	items := []v1.DownwardAPIVolumeFile{
		{Path: "a/name", FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.name"}},
		{Path: "uid", Mode: &own, FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.uid"}},
	}
	got, err := downwardAPIPayload(downwardPod(), projectionSource{items: items, defaultMode: &def}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got["a/name"].mode != def || got["uid"].mode != own {
		t.Fatalf("modes %o and %o, want the default mode 400 and the item's 600", got["a/name"].mode, got["uid"].mode)
	}
}

func TestDownwardAPISource_ProjectedCollectsDownwardAPISources(t *testing.T) {
	vol := &v1.Volume{Name: "p", VolumeSource: v1.VolumeSource{Projected: &v1.ProjectedVolumeSource{Sources: []v1.VolumeProjection{
		{DownwardAPI: &v1.DownwardAPIProjection{Items: []v1.DownwardAPIVolumeFile{{Path: "a"}}}},
		{DownwardAPI: &v1.DownwardAPIProjection{Items: []v1.DownwardAPIVolumeFile{{Path: "b"}}}},
	}}}}
	kind, src, ok := downwardAPISource(vol)
	if !ok || kind != projectedKind || len(src.items) != 2 {
		t.Fatalf("kind %q, %d items, ok %v; want the projected kind with both items", kind, len(src.items), ok)
	}
}

func readVisible(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestWriteAtomically(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	first := map[string]payloadFile{"labels": {data: []byte("a=\"1\""), mode: 0o644}, "sub/name": {data: []byte("web"), mode: 0o600}}
	wrote, err := writeAtomically(dir, first, now)
	if err != nil || !wrote {
		t.Fatalf("first write: wrote %v, %v", wrote, err)
	}
	data, _ := os.Readlink(filepath.Join(dir, dataDirName))
	if !strings.HasPrefix(data, "..2026_01_02_03_04_05.") {
		t.Fatalf("..data links to %q, want a timestamped directory", data)
	}
	if link, _ := os.Readlink(filepath.Join(dir, "labels")); link != "..data/labels" {
		t.Fatalf("labels links to %q, want ..data/labels", link)
	}
	if got := readVisible(t, dir, "sub/name"); got != "web" {
		t.Fatalf("sub/name = %q", got)
	}
	if st, _ := os.Stat(filepath.Join(dir, "sub/name")); st.Mode().Perm() != 0o600 {
		t.Fatalf("sub/name mode %o, want 600", st.Mode().Perm())
	}

	if wrote, err := writeAtomically(dir, first, now.Add(time.Second)); err != nil || wrote {
		t.Fatalf("unchanged payload: wrote %v, %v; want no write", wrote, err)
	}

	second := map[string]payloadFile{"labels": {data: []byte("a=\"2\""), mode: 0o644}}
	if wrote, err := writeAtomically(dir, second, now.Add(2*time.Second)); err != nil || !wrote {
		t.Fatalf("changed payload: wrote %v, %v", wrote, err)
	}
	if got := readVisible(t, dir, "labels"); got != "a=\"2\"" {
		t.Fatalf("labels = %q after the swap", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "sub")); !os.IsNotExist(err) {
		t.Fatalf("sub still visible after it left the payload: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, data)); !os.IsNotExist(err) {
		t.Fatalf("old data directory %s kept: %v", data, err)
	}
}

func TestMounts_ReadOnlyVolume(t *testing.T) {
	c := &v1.Container{VolumeMounts: []v1.VolumeMount{{Name: "info", MountPath: "/etc/podinfo"}}}
	m := NewManager(t.TempDir())
	mounts, err := m.Mounts(&v1.Pod{}, c, Volumes{"info": {Path: "/x", ReadOnly: true}}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !mounts[0].Readonly {
		t.Fatal("a downwardAPI volume was mounted read-write; the kubelet always mounts it read-only")
	}
}
