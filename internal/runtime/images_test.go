package runtime

import (
	"context"
	"strings"
	"testing"

	"github.com/containerd/containerd/images"
	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestNormalizeImageRef(t *testing.T) {
	tests := []struct{ in, want string }{
		{"busybox", "docker.io/library/busybox:latest"},
		{"busybox:1.35", "docker.io/library/busybox:1.35"},
		{"localhost/minikubelet/pause:1.0", "localhost/minikubelet/pause:1.0"},
		{"registry.k8s.io/pause:3.6", "registry.k8s.io/pause:3.6"},
	}
	for _, tt := range tests {
		got, err := normalizeImageRef(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("normalizeImageRef(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "Upper/Case", "a b"} {
		if _, err := normalizeImageRef(bad); err == nil {
			t.Errorf("normalizeImageRef(%q) succeeded, want an error", bad)
		}
	}
}

func TestPickManifest(t *testing.T) {
	amd64 := &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm64 := &ocispec.Platform{OS: "linux", Architecture: "arm64"}
	entry := func(dgst string, p *ocispec.Platform, annotations map[string]string) ocispec.Descriptor {
		return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.Digest("sha256:" + dgst), Platform: p, Annotations: annotations}
	}
	named := func(n string) map[string]string { return map[string]string{images.AnnotationImageName: n} }
	matcher := platforms.Only(*amd64)

	tests := []struct {
		name    string
		entries []ocispec.Descriptor
		ref     string
		want    string
		wantErr string
	}{
		{
			name:    "the only image, named otherwise, is taken under the new name",
			entries: []ocispec.Descriptor{entry("a", amd64, named("localhost/minikubelet/pause:1.0"))},
			ref:     "registry.k8s.io/pause:3.6",
			want:    "sha256:a",
		},
		{
			name:    "an entry without platform fits",
			entries: []ocispec.Descriptor{entry("a", nil, nil)},
			ref:     "docker.io/library/busybox:1.35",
			want:    "sha256:a",
		},
		{
			name: "the entry named ref wins among several",
			entries: []ocispec.Descriptor{
				entry("a", amd64, named("docker.io/library/other:1")),
				entry("b", amd64, named("busybox:1.35")),
			},
			ref:  "docker.io/library/busybox:1.35",
			want: "sha256:b",
		},
		{
			name: "a full OCI ref name counts, a bare tag does not",
			entries: []ocispec.Descriptor{
				entry("a", amd64, map[string]string{ocispec.AnnotationRefName: "1.35"}),
				entry("b", amd64, map[string]string{ocispec.AnnotationRefName: "docker.io/library/busybox:1.35"}),
			},
			ref:  "docker.io/library/busybox:1.35",
			want: "sha256:b",
		},
		{
			name:    "other platforms are left out",
			entries: []ocispec.Descriptor{entry("a", arm64, nil), entry("b", amd64, nil)},
			ref:     "docker.io/library/busybox:1.35",
			want:    "sha256:b",
		},
		{
			name:    "nothing for this platform",
			entries: []ocispec.Descriptor{entry("a", arm64, nil)},
			ref:     "docker.io/library/busybox:1.35",
			wantErr: "no image for",
		},
		{
			name:    "several images and none named ref",
			entries: []ocispec.Descriptor{entry("a", amd64, named("x:1")), entry("b", amd64, named("y:1"))},
			ref:     "docker.io/library/busybox:1.35",
			wantErr: "none is named docker.io/library/busybox:1.35",
		},
		{
			name:    "blobs other than manifests are not images",
			entries: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageConfig, Digest: "sha256:c"}},
			ref:     "docker.io/library/busybox:1.35",
			wantErr: "no image for",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pickManifest(tt.entries, tt.ref, matcher)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("pickManifest: %v", err)
			}
			if string(got.Digest) != tt.want {
				t.Fatalf("picked %s, want %s", got.Digest, tt.want)
			}
		})
	}
}

// fakeImageService answers ImageStatus from a script of results, one per
// call; the last one repeats.
type fakeImageService struct {
	runtimeapi.ImageServiceClient
	script []error // nil means found
	calls  int
}

var errNotYet = grpcstatus.Error(codes.Unknown, "not yet")

func (f *fakeImageService) ImageStatus(ctx context.Context, req *runtimeapi.ImageStatusRequest, _ ...grpc.CallOption) (*runtimeapi.ImageStatusResponse, error) {
	i := min(f.calls, len(f.script)-1)
	f.calls++
	switch err := f.script[i]; {
	case err == errNotYet:
		return &runtimeapi.ImageStatusResponse{}, nil
	case err != nil:
		return nil, err
	}
	return &runtimeapi.ImageStatusResponse{Image: &runtimeapi.Image{Id: "sha256:x", RepoTags: []string{req.GetImage().GetImage()}}}, nil
}

func TestWaitForCRIImage(t *testing.T) {
	unavailable := grpcstatus.Error(codes.Unavailable, "connection refused")
	tests := []struct {
		name      string
		script    []error
		cancelled bool
		wantCalls int
		wantErr   string
	}{
		{name: "found at once", script: []error{nil}, wantCalls: 1},
		{name: "found once the CRI caught up", script: []error{errNotYet, unavailable, nil}, wantCalls: 3},
		{name: "no CRI plugin: nothing to wait for", script: []error{grpcstatus.Error(codes.Unimplemented, "unknown service")}, wantCalls: 1},
		{name: "gives up with the last error", script: []error{unavailable}, cancelled: true, wantCalls: 1, wantErr: "connection refused"},
		{name: "gives up when never found", script: []error{errNotYet}, cancelled: true, wantCalls: 1, wantErr: "does not see the image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelled {
				cancel()
			}
			fake := &fakeImageService{script: tt.script}
			err := waitForCRIImage(ctx, fake, "docker.io/library/busybox:1.35")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("waitForCRIImage: %v", err)
			}
			if fake.calls != tt.wantCalls {
				t.Fatalf("%d ImageStatus calls, want %d", fake.calls, tt.wantCalls)
			}
		})
	}
}
