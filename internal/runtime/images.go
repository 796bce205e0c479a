package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	contentapi "github.com/containerd/containerd/api/services/content/v1"
	diffapi "github.com/containerd/containerd/api/services/diff/v1"
	imagesapi "github.com/containerd/containerd/api/services/images/v1"
	leasesapi "github.com/containerd/containerd/api/services/leases/v1"
	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/content"
	contentproxy "github.com/containerd/containerd/content/proxy"
	"github.com/containerd/containerd/diff"
	diffproxy "github.com/containerd/containerd/diff/proxy"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/images/archive"
	"github.com/containerd/containerd/labels"
	"github.com/containerd/containerd/leases"
	leasesproxy "github.com/containerd/containerd/leases/proxy"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/rootfs"
	"github.com/containerd/containerd/snapshots"
	snapshotsproxy "github.com/containerd/containerd/snapshots/proxy"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
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
	conn, err := dialContainerd(ctx, address)
	if err != nil {
		return fmt.Errorf("import image %s: %w", name, err)
	}
	defer conn.Close()

	ctx = namespaces.WithNamespace(ctx, CRINamespace)
	if err := importAndName(ctx, newImportServices(conn, snapshotter), archive, name); err != nil {
		return fmt.Errorf("import image %s into containerd at %s: %w", name, address, err)
	}
	if err := waitForCRIImage(ctx, runtimeapi.NewImageServiceClient(conn), name); err != nil {
		return fmt.Errorf("import image %s into containerd at %s: %w", name, address, err)
	}
	return nil
}

// importServices are the containerd services an import writes to.
type importServices struct {
	leases      leases.Manager
	content     content.Store
	images      imagesapi.ImagesClient
	snapshots   snapshots.Snapshotter
	applier     diff.Applier
	snapshotter string
}

func newImportServices(conn *grpc.ClientConn, snapshotter string) importServices {
	return importServices{
		leases:    leasesproxy.NewLeaseManager(leasesapi.NewLeasesClient(conn)),
		content:   contentproxy.NewContentStore(contentapi.NewContentClient(conn)),
		images:    imagesapi.NewImagesClient(conn),
		snapshots: snapshotsproxy.NewSnapshotter(snapshotsapi.NewSnapshotsClient(conn), snapshotter),
		// The proxy returns its applier untyped, to keep diff out of its
		// imports; it is always a diff.Applier.
		applier:     diffproxy.NewDiffApplier(diffapi.NewDiffClient(conn)).(diff.Applier),
		snapshotter: snapshotter,
	}
}

// importLeaseExpiry bounds how long an import's lease outlives a crashed
// importer, as containerd's own client's leases do.
const importLeaseExpiry = 24 * time.Hour

// importAndName writes the archive's blobs, unpacks the chosen image and
// then names it. Until it is named, a lease keeps the new content and
// snapshots from containerd's garbage collector.
func importAndName(ctx context.Context, svc importServices, r io.Reader, name string) (err error) {
	lease, err := svc.leases.Create(ctx, leases.WithRandomID(), leases.WithExpiration(importLeaseExpiry))
	if err != nil {
		return fmt.Errorf("take a lease: %w", err)
	}
	ctx = leases.WithLease(ctx, lease.ID)
	defer func() {
		// The lease must go even when ctx is over, or the content it holds
		// would stay until the lease expires.
		if derr := svc.leases.Delete(context.WithoutCancel(ctx), lease); derr != nil && err == nil {
			err = fmt.Errorf("release the lease: %w", derr)
		}
	}()

	cs := svc.content
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
	if err := unpack(ctx, svc, img, platform); err != nil {
		return fmt.Errorf("unpack for snapshotter %s: %w", svc.snapshotter, err)
	}
	return nameImage(ctx, svc.images, img)
}

// unpack applies the image's layers as a chain of snapshots and labels the
// image's config with the chain's top, so the garbage collector keeps the
// snapshots as long as the image: what containerd's own Unpack does.
func unpack(ctx context.Context, svc importServices, img images.Image, platform platforms.MatchComparer) error {
	cs := svc.content
	manifest, err := images.Manifest(ctx, cs, img.Target, platform)
	if err != nil {
		return err
	}
	diffIDs, err := img.RootFS(ctx, cs, platform)
	if err != nil {
		return fmt.Errorf("read the image's rootfs: %w", err)
	}
	var blobs []ocispec.Descriptor
	for _, l := range manifest.Layers {
		if images.IsLayerType(l.MediaType) {
			blobs = append(blobs, l)
		}
	}
	if len(diffIDs) != len(blobs) {
		return fmt.Errorf("the image's config lists %d layers and its manifest %d", len(diffIDs), len(blobs))
	}
	var chain []digest.Digest
	for i, blob := range blobs {
		layer := rootfs.Layer{Diff: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: diffIDs[i]}, Blob: blob}
		applied, err := rootfs.ApplyLayerWithOpts(ctx, layer, chain, svc.snapshots, svc.applier, nil, nil)
		if err != nil {
			return fmt.Errorf("apply layer %s: %w", blob.Digest, err)
		}
		if applied {
			// The layer's uncompressed digest is now verified.
			info := content.Info{Digest: blob.Digest, Labels: map[string]string{labels.LabelUncompressed: diffIDs[i].String()}}
			if _, err := cs.Update(ctx, info, "labels."+labels.LabelUncompressed); err != nil {
				return fmt.Errorf("label layer %s: %w", blob.Digest, err)
			}
		}
		chain = append(chain, diffIDs[i])
	}
	config, err := img.Config(ctx, cs, platform)
	if err != nil {
		return err
	}
	gcLabel := "containerd.io/gc.ref.snapshot." + svc.snapshotter
	info := content.Info{Digest: config.Digest, Labels: map[string]string{gcLabel: identity.ChainID(chain).String()}}
	if _, err := cs.Update(ctx, info, "labels."+gcLabel); err != nil {
		return fmt.Errorf("label the image's config: %w", err)
	}
	return nil
}

// nameImage creates or updates the image record, so the CRI finds the
// image by name.
func nameImage(ctx context.Context, is imagesapi.ImagesClient, img images.Image) error {
	record := &imagesapi.Image{
		Name:   img.Name,
		Labels: img.Labels,
		Target: &types.Descriptor{MediaType: img.Target.MediaType, Digest: img.Target.Digest.String(), Size: img.Target.Size, Annotations: img.Target.Annotations},
	}
	update := func() error {
		mask := &fieldmaskpb.FieldMask{Paths: []string{"target", "labels." + criImageLabel}}
		if _, err := is.Update(ctx, &imagesapi.UpdateImageRequest{Image: record, UpdateMask: mask}); err != nil {
			return fmt.Errorf("update the image record: %w", errdefs.FromGRPC(err))
		}
		return nil
	}
	existing, err := is.Get(ctx, &imagesapi.GetImageRequest{Name: img.Name})
	switch err = errdefs.FromGRPC(err); {
	case err == nil:
		if existing.GetImage().GetTarget().GetDigest() == record.Target.Digest && existing.GetImage().GetLabels()[criImageLabel] == criImageLabelValue {
			return nil
		}
		return update()
	case !errdefs.IsNotFound(err):
		return fmt.Errorf("look up the image record: %w", err)
	}
	if _, err := is.Create(ctx, &imagesapi.CreateImageRequest{Image: record}); err != nil {
		if err := errdefs.FromGRPC(err); !errdefs.IsAlreadyExists(err) {
			return fmt.Errorf("create the image record: %w", err)
		}
		// Another importer named it in the meantime.
		return update()
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
