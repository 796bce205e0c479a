package ociimage

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"runtime"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// layout is an archive read back: its files by name, and the decoded
// documents it chains from index.json to the layer.
type layout struct {
	files    map[string][]byte
	order    []string
	index    ocispec.Index
	manifest ocispec.Manifest
	config   ocispec.Image
	layer    map[string]*tar.Header
	layerSeq []string
	contents map[string][]byte
}

func readLayout(t *testing.T, archive []byte) layout {
	t.Helper()
	l := layout{files: map[string][]byte{}, layer: map[string]*tar.Header{}, contents: map[string][]byte{}}
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read archive: %v", err)
		}
		l.order = append(l.order, hdr.Name)
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", hdr.Name, err)
		}
		l.files[hdr.Name] = data
	}

	var lay ocispec.ImageLayout
	decodeFile(t, l.files, ocispec.ImageLayoutFile, &lay)
	if lay.Version != ocispec.ImageLayoutVersion {
		t.Fatalf("oci-layout version %q, want %q", lay.Version, ocispec.ImageLayoutVersion)
	}
	decodeFile(t, l.files, ocispec.ImageIndexFile, &l.index)
	if len(l.index.Manifests) != 1 {
		t.Fatalf("index has %d manifests, want 1", len(l.index.Manifests))
	}
	decodeBlob(t, l.files, l.index.Manifests[0], &l.manifest)
	decodeBlob(t, l.files, l.manifest.Config, &l.config)
	if len(l.manifest.Layers) != 1 {
		t.Fatalf("manifest has %d layers, want 1", len(l.manifest.Layers))
	}
	layerBlob := blob(t, l.files, l.manifest.Layers[0])
	lr := tar.NewReader(bytes.NewReader(layerBlob))
	for {
		hdr, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read layer: %v", err)
		}
		data, err := io.ReadAll(lr)
		if err != nil {
			t.Fatalf("read layer entry %s: %v", hdr.Name, err)
		}
		l.layer[hdr.Name] = hdr
		l.layerSeq = append(l.layerSeq, hdr.Name)
		l.contents[hdr.Name] = data
	}
	return l
}

func decodeFile(t *testing.T, files map[string][]byte, name string, v any) {
	t.Helper()
	data, ok := files[name]
	if !ok {
		t.Fatalf("archive has no %s", name)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
}

func blob(t *testing.T, files map[string][]byte, d ocispec.Descriptor) []byte {
	t.Helper()
	name := blobPath(d.Digest)
	data, ok := files[name]
	if !ok {
		t.Fatalf("archive has no blob %s (%s)", name, d.MediaType)
	}
	if got := digest.FromBytes(data); got != d.Digest {
		t.Fatalf("blob %s has digest %s", d.Digest, got)
	}
	if int64(len(data)) != d.Size {
		t.Fatalf("blob %s has size %d, descriptor says %d", d.Digest, len(data), d.Size)
	}
	return data
}

func decodeBlob(t *testing.T, files map[string][]byte, d ocispec.Descriptor, v any) {
	t.Helper()
	if err := json.Unmarshal(blob(t, files, d), v); err != nil {
		t.Fatalf("decode blob %s: %v", d.Digest, err)
	}
}

func mustArchive(t *testing.T, img Image) []byte {
	t.Helper()
	data, err := img.Archive()
	if err != nil {
		t.Fatalf("build archive: %v", err)
	}
	return data
}

func TestWriteArchive_SameInputsSameBytes(t *testing.T) {
	img := Busybox([]byte("busybox binary"), BusyboxRef)
	first := mustArchive(t, img)
	// The same files in another order give the same image.
	reversed := img
	reversed.Files = make([]File, len(img.Files))
	for i, f := range img.Files {
		reversed.Files[len(img.Files)-1-i] = f
	}
	second := mustArchive(t, reversed)
	if !bytes.Equal(first, second) {
		t.Fatal("two archives of the same image differ")
	}
	a, b := readLayout(t, first), readLayout(t, second)
	if a.index.Manifests[0].Digest != b.index.Manifests[0].Digest {
		t.Fatalf("manifest digests differ: %s and %s", a.index.Manifests[0].Digest, b.index.Manifests[0].Digest)
	}

	other := mustArchive(t, Busybox([]byte("another busybox binary"), BusyboxRef))
	if readLayout(t, other).index.Manifests[0].Digest == a.index.Manifests[0].Digest {
		t.Fatal("a different binary gave the same manifest digest")
	}
}

func TestWriteArchive_Layout(t *testing.T) {
	l := readLayout(t, mustArchive(t, Pause([]byte("pause binary"), PauseRef)))

	wantOrder := []string{
		"oci-layout", "blobs/", "blobs/sha256/",
		blobPath(l.manifest.Layers[0].Digest),
		blobPath(l.manifest.Config.Digest),
		blobPath(l.index.Manifests[0].Digest),
		"index.json",
	}
	if strings.Join(l.order, " ") != strings.Join(wantOrder, " ") {
		t.Errorf("archive entries %v, want %v", l.order, wantOrder)
	}

	m := l.index.Manifests[0]
	if m.MediaType != ocispec.MediaTypeImageManifest {
		t.Errorf("index entry media type %q", m.MediaType)
	}
	if m.Annotations[AnnotationImageName] != PauseRef {
		t.Errorf("annotation %s = %q, want %q", AnnotationImageName, m.Annotations[AnnotationImageName], PauseRef)
	}
	if m.Annotations[ocispec.AnnotationRefName] != "1.0" {
		t.Errorf("annotation %s = %q, want the tag 1.0", ocispec.AnnotationRefName, m.Annotations[ocispec.AnnotationRefName])
	}
	if m.Platform == nil || m.Platform.OS != "linux" || m.Platform.Architecture != runtime.GOARCH {
		t.Errorf("index entry platform %+v, want linux/%s", m.Platform, runtime.GOARCH)
	}
	if l.manifest.Config.MediaType != ocispec.MediaTypeImageConfig {
		t.Errorf("config media type %q", l.manifest.Config.MediaType)
	}
	if l.manifest.Layers[0].MediaType != ocispec.MediaTypeImageLayer {
		t.Errorf("layer media type %q, want the uncompressed %q", l.manifest.Layers[0].MediaType, ocispec.MediaTypeImageLayer)
	}
}

func TestWriteArchive_PauseConfig(t *testing.T) {
	l := readLayout(t, mustArchive(t, Pause([]byte("pause binary"), PauseRef)))

	c := l.config
	if c.OS != "linux" || c.Architecture != runtime.GOARCH {
		t.Errorf("config platform %s/%s, want linux/%s", c.OS, c.Architecture, runtime.GOARCH)
	}
	if c.Created == nil || !c.Created.Equal(epoch) {
		t.Errorf("config created %v, want %v", c.Created, epoch)
	}
	if strings.Join(c.Config.Entrypoint, " ") != "/pause" {
		t.Errorf("entrypoint %q, want [/pause]", c.Config.Entrypoint)
	}
	if c.Config.User != pauseUser {
		t.Errorf("user %q, want %q", c.Config.User, pauseUser)
	}
	if c.RootFS.Type != "layers" || len(c.RootFS.DiffIDs) != 1 || c.RootFS.DiffIDs[0] != l.manifest.Layers[0].Digest {
		t.Errorf("rootfs %+v, want the one uncompressed layer %s", c.RootFS, l.manifest.Layers[0].Digest)
	}
	hdr, ok := l.layer["pause"]
	if !ok {
		t.Fatalf("layer has no pause: %v", l.layerSeq)
	}
	if hdr.Mode != 0o755 || hdr.Uid != 0 || hdr.Gid != 0 || !hdr.ModTime.Equal(epoch) {
		t.Errorf("pause header mode %o uid %d gid %d mtime %v", hdr.Mode, hdr.Uid, hdr.Gid, hdr.ModTime)
	}
	if string(l.contents["pause"]) != "pause binary" {
		t.Errorf("pause content %q", l.contents["pause"])
	}
}

func TestWriteArchive_BusyboxImage(t *testing.T) {
	l := readLayout(t, mustArchive(t, Busybox([]byte("busybox binary"), "busybox:1.35")))

	if got := l.index.Manifests[0].Annotations[AnnotationImageName]; got != BusyboxRef {
		t.Errorf("short reference named %q, want the normalized %q", got, BusyboxRef)
	}
	c := l.config.Config
	if strings.Join(c.Cmd, " ") != "sh" || len(c.Entrypoint) != 0 {
		t.Errorf("entrypoint %q cmd %q, want cmd [sh]", c.Entrypoint, c.Cmd)
	}
	if len(c.Env) != 1 || c.Env[0] != busyboxPath {
		t.Errorf("env %q, want [%s]", c.Env, busyboxPath)
	}

	for _, applet := range []string{"sh", "sleep", "httpd", "nc", "wget", "[", "timeout", "usleep"} {
		hdr, ok := l.layer["bin/"+applet]
		if !ok {
			t.Errorf("layer has no bin/%s", applet)
			continue
		}
		if hdr.Typeflag != tar.TypeSymlink || hdr.Linkname != "busybox" {
			t.Errorf("bin/%s is type %c to %q, want a symlink to busybox", applet, hdr.Typeflag, hdr.Linkname)
		}
	}
	dirs := map[string]int64{"tmp/": 0o1777, "root/": 0o700, "var/": 0o755, "var/www/": 0o755, "bin/": 0o755}
	for name, mode := range dirs {
		hdr, ok := l.layer[name]
		if !ok {
			t.Errorf("layer has no %s", name)
			continue
		}
		if hdr.Typeflag != tar.TypeDir || hdr.Mode != mode {
			t.Errorf("%s is type %c mode %o, want a directory with mode %o", name, hdr.Typeflag, hdr.Mode, mode)
		}
	}
	if !strings.Contains(string(l.contents["etc/passwd"]), "nobody:x:65534:65534:") {
		t.Errorf("etc/passwd has no nobody: %q", l.contents["etc/passwd"])
	}
	// Parents come before their children, so any extractor can apply it.
	seen := map[string]bool{}
	for _, name := range l.layerSeq {
		trimmed := strings.TrimSuffix(name, "/")
		if i := strings.LastIndex(trimmed, "/"); i > 0 && !seen[trimmed[:i+1]] {
			t.Errorf("%s comes before its directory", name)
		}
		seen[name] = true
	}
}

func TestWriteArchive_Errors(t *testing.T) {
	tests := []struct {
		name string
		img  Image
		want string
	}{
		{"bad reference", Image{Ref: "Not A Ref", Files: []File{{Path: "/a"}}}, "image reference"},
		{"duplicate path", Image{Ref: "x:1", Files: []File{{Path: "/a"}, {Path: "a"}}}, "listed twice"},
		{"path leaving the root", Image{Ref: "x:1", Files: []File{{Path: "/../etc/passwd"}}}, "leaves the image root"},
		{"root as an entry", Image{Ref: "x:1", Files: []File{{Path: "/", Dir: true}}}, "root directory"},
		{"file as a parent", Image{Ref: "x:1", Files: []File{{Path: "/a"}, {Path: "/a/b"}}}, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.img.WriteArchive(io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestTarMode(t *testing.T) {
	tests := []struct {
		mode fs.FileMode
		def  int64
		want int64
	}{
		{0, 0o644, 0o644},
		{0o600, 0o644, 0o600},
		{0o777 | fs.ModeSticky, 0o755, 0o1777},
		{0o755 | fs.ModeSetuid | fs.ModeSetgid, 0o644, 0o6755},
	}
	for _, tt := range tests {
		if got := tarMode(tt.mode, tt.def); got != tt.want {
			t.Errorf("tarMode(%v, %o) = %o, want %o", tt.mode, tt.def, got, tt.want)
		}
	}
}
