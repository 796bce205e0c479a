package ociimage

import (
	"archive/tar"
	"bytes"
	_ "crypto/sha256" // registers SHA-256 for go-digest
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// AnnotationImageName is the index annotation that containerd's importer
// reads first to name an image: the full, normalized reference. The OCI
// annotation org.opencontainers.image.ref.name only holds the tag, and
// containerd uses it only when this one is absent.
const AnnotationImageName = "io.containerd.image.name"

// epoch is the timestamp of every file and of the image itself, so that the
// archive depends only on its inputs.
var epoch = time.Unix(0, 0).UTC()

// File is one entry of an image's layer.
type File struct {
	// Path is the absolute path inside the image, e.g. /bin/busybox.
	Path string
	// Mode holds the permission bits, plus fs.ModeSetuid, fs.ModeSetgid and
	// fs.ModeSticky when wanted. Zero means 0644 for a file, 0755 for a
	// directory and 0777 for a symlink.
	Mode fs.FileMode
	// Data is the content of a regular file.
	Data []byte
	// Linkname, when set, makes the entry a symlink to it.
	Linkname string
	// Dir makes the entry a directory.
	Dir bool
}

// Image describes an image with a single uncompressed layer.
type Image struct {
	// Ref names the image, e.g. localhost/minikubelet/pause:1.0. It is
	// normalized as the CRI does (busybox:1.35 becomes
	// docker.io/library/busybox:1.35).
	Ref string
	// Files are the layer's entries. Parent directories that are not listed
	// are added with mode 0755.
	Files []File
	// Entrypoint, Cmd, Env, WorkingDir, User and StopSignal are the image
	// config fields of the same names.
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
	StopSignal string
}

// WriteArchive writes img as a tar of an OCI image layout to w.
func (img Image) WriteArchive(w io.Writer) error {
	name, err := NormalizeRef(img.Ref)
	if err != nil {
		return err
	}
	layer, err := img.layer()
	if err != nil {
		return fmt.Errorf("build layer of image %s: %w", name, err)
	}
	layerDesc := descriptor(ocispec.MediaTypeImageLayer, layer)

	created := epoch
	platform := ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	config, err := json.Marshal(ocispec.Image{
		Created:  &created,
		Platform: platform,
		Config: ocispec.ImageConfig{
			User:       img.User,
			Env:        img.Env,
			Entrypoint: img.Entrypoint,
			Cmd:        img.Cmd,
			WorkingDir: img.WorkingDir,
			StopSignal: img.StopSignal,
		},
		// The layer is not compressed, so its digest is also its diff ID.
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layerDesc.Digest}},
		History: []ocispec.History{{
			Created:   &created,
			CreatedBy: "minikubelet ociimage",
		}},
	})
	if err != nil {
		return fmt.Errorf("encode config of image %s: %w", name, err)
	}
	configDesc := descriptor(ocispec.MediaTypeImageConfig, config)

	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    []ocispec.Descriptor{layerDesc},
	})
	if err != nil {
		return fmt.Errorf("encode manifest of image %s: %w", name, err)
	}
	manifestDesc := descriptor(ocispec.MediaTypeImageManifest, manifest)
	manifestDesc.Platform = &platform
	manifestDesc.Annotations = map[string]string{
		AnnotationImageName:       name,
		ocispec.AnnotationRefName: refName(name),
	}

	index, err := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{manifestDesc},
	})
	if err != nil {
		return fmt.Errorf("encode index of image %s: %w", name, err)
	}
	layout, err := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err != nil {
		return fmt.Errorf("encode layout of image %s: %w", name, err)
	}

	tw := tar.NewWriter(w)
	entries := []struct {
		name string
		data []byte
	}{
		{ocispec.ImageLayoutFile, layout},
		{"blobs/", nil},
		{"blobs/sha256/", nil},
		{blobPath(layerDesc.Digest), layer},
		{blobPath(configDesc.Digest), config},
		{blobPath(manifestDesc.Digest), manifest},
		{ocispec.ImageIndexFile, index},
	}
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), ModTime: epoch, Typeflag: tar.TypeReg}
		if strings.HasSuffix(e.name, "/") {
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write archive of image %s: %w", name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return fmt.Errorf("write archive of image %s: %w", name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write archive of image %s: %w", name, err)
	}
	return nil
}

// Archive returns the archive WriteArchive writes.
func (img Image) Archive() ([]byte, error) {
	var buf bytes.Buffer
	if err := img.WriteArchive(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// NormalizeRef returns ref as the CRI and containerd name images: with its
// registry, repository path and tag (docker.io/library/busybox:latest for
// busybox).
func NormalizeRef(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w", ref, err)
	}
	return reference.TagNameOnly(named).String(), nil
}

// refName is what the OCI annotation org.opencontainers.image.ref.name holds:
// the tag, or the digest of a reference that has no tag (as containerd's
// export writes it).
func refName(name string) string {
	named, err := reference.ParseNamed(name)
	if err != nil {
		return name
	}
	if t, ok := named.(reference.Tagged); ok {
		return t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		return d.Digest().String()
	}
	return name
}

// layer returns the layer tar: the files sorted by path (so parents come
// before their children), owned by root, with the fixed timestamp.
func (img Image) layer() ([]byte, error) {
	byPath := make(map[string]File, len(img.Files))
	for _, f := range img.Files {
		p, err := cleanPath(f.Path)
		if err != nil {
			return nil, err
		}
		if _, dup := byPath[p]; dup {
			return nil, fmt.Errorf("file %s is listed twice", f.Path)
		}
		f.Path = p
		byPath[p] = f
	}
	for p := range byPath {
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if parent, ok := byPath[dir]; ok {
				if !parent.Dir {
					return nil, fmt.Errorf("%s is not a directory but holds %s", dir, p)
				}
				continue
			}
			byPath[dir] = File{Path: dir, Dir: true}
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		f := byPath[p]
		hdr := &tar.Header{Name: p, ModTime: epoch}
		switch {
		case f.Dir:
			hdr.Typeflag, hdr.Name = tar.TypeDir, p+"/"
			hdr.Mode = tarMode(f.Mode, 0o755)
		case f.Linkname != "":
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, f.Linkname
			hdr.Mode = tarMode(f.Mode, 0o777)
		default:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(f.Data))
			hdr.Mode = tarMode(f.Mode, 0o644)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("write %s: %w", p, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, fmt.Errorf("write %s: %w", p, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// cleanPath turns an absolute image path into a layer entry name (no leading
// slash) and refuses paths that would leave the root.
func cleanPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("file with an empty path")
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return "", fmt.Errorf("file %q: path leaves the image root", p)
		}
	}
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if c == "" {
		return "", fmt.Errorf("file %q: the root directory cannot be an entry", p)
	}
	return c, nil
}

// tarMode converts a file mode to the bits a tar header holds.
func tarMode(m fs.FileMode, def int64) int64 {
	if m == 0 {
		return def
	}
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

func descriptor(mediaType string, blob []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(blob), Size: int64(len(blob))}
}

func blobPath(d digest.Digest) string {
	return path.Join(ocispec.ImageBlobsDir, d.Algorithm().String(), d.Encoded())
}
