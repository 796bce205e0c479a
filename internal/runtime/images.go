package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/images/archive"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

const (
	// CRINamespace is the containerd namespace where the CRI plugin keeps
	// its images, sandboxes and containers.
	CRINamespace = "k8s.io"
	// DefaultContainerdAddress is containerd's socket, which serves both its
	// own API and the CRI.
	DefaultContainerdAddress = "/run/containerd/containerd.sock"
	// DefaultSnapshotter is the snapshotter the CRI plugin uses unless its
	// configuration names another.
	DefaultSnapshotter = "overlayfs"

	// criImageLabel marks an image as managed by the CRI, as the CRI's own
	// PullImage does.
	criImageLabel      = "io.cri-containerd.image"
	criImageLabelValue = "managed"

	// containerdDialTimeout bounds connecting to containerd.
	containerdDialTimeout = 5 * time.Second
	// criImageSyncTimeout bounds the wait for the CRI plugin to see an
	// imported image. The CRI learns of images from containerd's event
	// stream, so it is usually a matter of milliseconds.
	criImageSyncTimeout = 10 * time.Second
	criImagePollPeriod  = 10 * time.Millisecond
)

// ImportImage imports the OCI image archive read from archive into the
// containerd listening at address (a socket path, or a unix:// address), in
// the CRI's namespace k8s.io, and names it ref, whatever names the archive
// itself carries. It unpacks the image for snapshotter (the CRI's,
// normally overlayfs) before naming it, and returns once the CRI's
// ImageStatus finds it by ref: from then on RunPodSandbox and
// CreateContainer can use it at once, with no registry.
//
// The archive may hold several images; the one named ref is taken, else the
// only one for this platform. Importing the same archive again is cheap and
// changes nothing.
func ImportImage(ctx context.Context, address string, archive io.Reader, ref, snapshotter string) error {
	name, err := normalizeImageRef(ref)
	if err != nil {
		return err
	}
	if snapshotter == "" {
		snapshotter = DefaultSnapshotter
	}
	address = strings.TrimPrefix(address, "unix://")
	client, err := containerd.New(address, containerd.WithTimeout(containerdDialTimeout))
	if err != nil {
		return fmt.Errorf("import image %s: connect to containerd at %s (is containerd running?): %w", name, address, err)
	}
	defer client.Close()

	ctx = namespaces.WithNamespace(ctx, CRINamespace)
	if err := importAndName(ctx, client, archive, name, snapshotter); err != nil {
		return fmt.Errorf("import image %s into containerd at %s: %w", name, address, err)
	}
	if err := waitForCRIImage(ctx, runtimeapi.NewImageServiceClient(client.Conn()), name); err != nil {
		return fmt.Errorf("import image %s into containerd at %s: %w", name, address, err)
	}
	return nil
}

// importAndName writes the archive's blobs, unpacks the chosen image and
// then names it. Until it is named, a lease keeps the new content and
// snapshots from containerd's garbage collector.
func importAndName(ctx context.Context, client *containerd.Client, r io.Reader, name, snapshotter string) (err error) {
	ctx, done, err := client.WithLease(ctx)
	if err != nil {
		return fmt.Errorf("take a lease: %w", err)
	}
	defer func() {
		// The lease must go even when ctx is over, or the content it holds
		// would stay until the lease expires.
		if derr := done(context.WithoutCancel(ctx)); derr != nil && err == nil {
			err = fmt.Errorf("release the lease: %w", derr)
		}
	}()

	cs := client.ContentStore()
	index, err := archive.ImportIndex(ctx, cs, r)
	if err != nil {
		return fmt.Errorf("read the archive: %w", err)
	}
	platform := platforms.Default()
	target, err := chooseManifest(ctx, cs, index, name, platform)
	if err != nil {
		return err
	}
	// Label the manifest with its children, so the garbage collector keeps
	// the config and layers as long as the image is named.
	if err := images.Walk(ctx, images.SetChildrenLabels(cs, images.ChildrenHandler(cs)), target); err != nil {
		return fmt.Errorf("label the image's content: %w", err)
	}

	img := images.Image{
		Name:   name,
		Target: target,
		Labels: map[string]string{criImageLabel: criImageLabelValue},
	}
	// Unpack before naming: the CRI caches an image as soon as it is named,
	// and creating a container from it needs the unpacked snapshot.
	if err := containerd.NewImageWithPlatform(client, img, platform).Unpack(ctx, snapshotter); err != nil {
		return fmt.Errorf("unpack for snapshotter %s: %w", snapshotter, err)
	}

	is := client.ImageService()
	existing, err := is.Get(ctx, name)
	switch {
	case err == nil:
		if existing.Target.Digest == target.Digest && existing.Labels[criImageLabel] == criImageLabelValue {
			return nil
		}
		if _, err := is.Update(ctx, img, "target", "labels."+criImageLabel); err != nil {
			return fmt.Errorf("update the image record: %w", err)
		}
		return nil
	case !errdefs.IsNotFound(err):
		return fmt.Errorf("look up the image record: %w", err)
	}
	if _, err := is.Create(ctx, img); err != nil {
		if !errdefs.IsAlreadyExists(err) {
			return fmt.Errorf("create the image record: %w", err)
		}
		// Another importer named it in the meantime.
		if _, err := is.Update(ctx, img, "target", "labels."+criImageLabel); err != nil {
			return fmt.Errorf("update the image record: %w", err)
		}
	}
	return nil
}

// chooseManifest picks the image to name from an archive's index: the
// entry named name (containerd's or the OCI name annotation) that fits the
// platform, else the only entry that fits it.
func chooseManifest(ctx context.Context, cs content.Provider, index ocispec.Descriptor, name string, platform platforms.MatchComparer) (ocispec.Descriptor, error) {
	data, err := content.ReadBlob(ctx, cs, index)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("read the archive's index: %w", err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("decode the archive's index: %w", err)
	}
	return pickManifest(idx.Manifests, name, platform)
}

// pickManifest is chooseManifest's decision, on the index's entries.
func pickManifest(entries []ocispec.Descriptor, name string, platform platforms.MatchComparer) (ocispec.Descriptor, error) {
	var fit []ocispec.Descriptor
	for _, d := range entries {
		if !images.IsManifestType(d.MediaType) && !images.IsIndexType(d.MediaType) {
			continue
		}
		if d.Platform != nil && !platform.Match(*d.Platform) {
			continue
		}
		fit = append(fit, d)
	}
	for _, d := range fit {
		if annotatedName(d.Annotations) == name {
			return d, nil
		}
	}
	switch len(fit) {
	case 0:
		return ocispec.Descriptor{}, fmt.Errorf("the archive holds no image for %s", platforms.DefaultString())
	case 1:
		return fit[0], nil
	default:
		var names []string
		for _, d := range fit {
			names = append(names, annotatedName(d.Annotations))
		}
		return ocispec.Descriptor{}, fmt.Errorf("the archive holds %d images (%s) and none is named %s", len(fit), strings.Join(names, ", "), name)
	}
}

// annotatedName is the normalized name an index entry gives its image, or
// "" when it gives none. The OCI annotation usually holds only a tag, so it
// counts only when it is a full name, as some tools write it.
func annotatedName(annotations map[string]string) string {
	n := annotations[images.AnnotationImageName]
	if n == "" && strings.Contains(annotations[ocispec.AnnotationRefName], "/") {
		n = annotations[ocispec.AnnotationRefName]
	}
	if n == "" {
		return ""
	}
	normalized, err := normalizeImageRef(n)
	if err != nil {
		return ""
	}
	return normalized
}

// waitForCRIImage polls the CRI's ImageStatus until it finds name. A
// containerd without the CRI plugin has nothing to wait for.
func waitForCRIImage(ctx context.Context, cri runtimeapi.ImageServiceClient, name string) error {
	ctx, cancel := context.WithTimeout(ctx, criImageSyncTimeout)
	defer cancel()
	ticker := time.NewTicker(criImagePollPeriod)
	defer ticker.Stop()
	var lastErr error
	for {
		resp, err := cri.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: name}}, grpc.WaitForReady(true))
		switch {
		case err == nil && resp.GetImage() != nil:
			return nil
		case grpcstatus.Code(err) == codes.Unimplemented:
			return nil
		case err != nil:
			lastErr = err
		}
		if ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-ticker.C:
				continue
			}
		}
		if lastErr == nil {
			lastErr = ctx.Err()
		}
		return fmt.Errorf("the CRI does not see the image (waited up to %s): %w", criImageSyncTimeout, lastErr)
	}
}

// normalizeImageRef names an image as the CRI does:
// docker.io/library/busybox:latest for busybox.
func normalizeImageRef(ref string) (string, error) {
	if ref == "" {
		return "", errors.New("empty image reference")
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w", ref, err)
	}
	return reference.TagNameOnly(named).String(), nil
}
