package sandbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/ociimage"
)

// fakeImages knows the images in present. (cri-api's FakeImageService would
// do, but its package pulls testify, which the module does not require.)
type fakeImages struct {
	present map[string]bool
	err     error
	asked   []string
}

func newFakeImages(present ...string) *fakeImages {
	f := &fakeImages{present: map[string]bool{}}
	for _, p := range present {
		f.present[p] = true
	}
	return f
}

func (f *fakeImages) ImageStatus(_ context.Context, image *runtimeapi.ImageSpec, _ bool) (*runtimeapi.ImageStatusResponse, error) {
	f.asked = append(f.asked, image.GetImage())
	if f.err != nil {
		return nil, f.err
	}
	if !f.present[image.GetImage()] {
		return &runtimeapi.ImageStatusResponse{}, nil
	}
	return &runtimeapi.ImageStatusResponse{Image: &runtimeapi.Image{Id: "sha256:1", RepoTags: []string{image.GetImage()}}}, nil
}

// fakeStatuser answers Status with info, as containerd's CRI plugin does
// with verbose set. cri-api's FakeRuntimeService has no Info to give.
type fakeStatuser struct {
	info map[string]string
	err  error
}

func (f fakeStatuser) Status(context.Context, bool) (*runtimeapi.StatusResponse, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &runtimeapi.StatusResponse{Status: &runtimeapi.RuntimeStatus{}, Info: f.info}, nil
}

// recordingImporter records what it was asked to import.
type recordingImporter struct {
	refs  []string
	sizes []int
	err   error
}

func (r *recordingImporter) importImage(_ context.Context, archive io.Reader, ref string) error {
	data, err := io.ReadAll(archive)
	if err != nil {
		return err
	}
	r.refs = append(r.refs, ref)
	r.sizes = append(r.sizes, len(data))
	return r.err
}

func TestEnsurePauseImage(t *testing.T) {
	const configured = "registry.k8s.io/pause:3.9"
	configInfo := map[string]string{"config": `{"containerd":{"snapshotter":"overlayfs"},"sandboxImage":"` + configured + `"}`}
	tests := []struct {
		name        string
		info        map[string]string
		present     []string
		importErr   error
		want        string
		wantLookup  string
		wantImports []string
		wantErr     []string
	}{
		{
			name:        "configured image missing is imported under its name",
			info:        configInfo,
			want:        configured,
			wantLookup:  configured,
			wantImports: []string{configured},
		},
		{
			name:       "configured image present is left alone",
			info:       configInfo,
			present:    []string{configured},
			want:       configured,
			wantLookup: configured,
		},
		{
			name:        "no info assumes our pause image",
			want:        PauseImage,
			wantLookup:  PauseImage,
			wantImports: []string{PauseImage},
		},
		{
			name:        "config without sandboxImage assumes ours",
			info:        map[string]string{"config": `{"containerd":{}}`},
			want:        PauseImage,
			wantLookup:  PauseImage,
			wantImports: []string{PauseImage},
		},
		{
			name:        "unreadable config assumes ours",
			info:        map[string]string{"config": `not json`},
			want:        PauseImage,
			wantLookup:  PauseImage,
			wantImports: []string{PauseImage},
		},
		{
			name:       "our pause image present is left alone",
			present:    []string{PauseImage},
			want:       PauseImage,
			wantLookup: PauseImage,
		},
		{
			name:        "import failure names the image",
			info:        configInfo,
			wantLookup:  configured,
			importErr:   errors.New("disk full"),
			wantImports: []string{configured},
			wantErr:     []string{configured, "disk full"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			images := newFakeImages(tt.present...)
			imp := &recordingImporter{err: tt.importErr}

			got, err := EnsurePauseImage(context.Background(), fakeStatuser{info: tt.info}, images, imp.importImage, zap.NewNop())

			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("EnsurePauseImage = %q, nil; want an error naming %q", got, tt.wantErr)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
			} else if err != nil {
				t.Fatalf("EnsurePauseImage: %v", err)
			}
			if got != tt.want {
				t.Errorf("image = %q, want %q", got, tt.want)
			}
			if len(images.asked) != 1 || images.asked[0] != tt.wantLookup {
				t.Errorf("looked up %q, want %q", images.asked, tt.wantLookup)
			}
			if strings.Join(imp.refs, ",") != strings.Join(tt.wantImports, ",") {
				t.Errorf("imported %q, want %q", imp.refs, tt.wantImports)
			}
			for _, n := range imp.sizes {
				if n != len(PauseArchive()) || n == 0 {
					t.Errorf("imported an archive of %d bytes, want the embedded pause archive (%d bytes)", n, len(PauseArchive()))
				}
			}
		})
	}
}

func TestEnsurePauseImage_RuntimeErrors(t *testing.T) {
	tests := []struct {
		name      string
		statusErr error
		imageErr  error
		wantErr   string
	}{
		{name: "status fails", statusErr: errors.New("connection refused"), wantErr: "connection refused"},
		{name: "image status fails names the image", imageErr: errors.New("rpc error"), wantErr: PauseImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			images := newFakeImages()
			images.err = tt.imageErr
			imp := &recordingImporter{}
			_, err := EnsurePauseImage(context.Background(), fakeStatuser{err: tt.statusErr}, images, imp.importImage, zap.NewNop())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one mentioning %q", err, tt.wantErr)
			}
			if len(imp.refs) != 0 {
				t.Fatalf("imported %q after an error, want nothing", imp.refs)
			}
		})
	}
}

func TestPauseArchive_IsATar(t *testing.T) {
	a := PauseArchive()
	// A POSIX tar header carries "ustar" at offset 257.
	if len(a) < 512 || !strings.HasPrefix(string(a[257:262]), "ustar") {
		t.Fatalf("embedded pause archive (%d bytes) is not a tar; run `make pause-image`", len(a))
	}
}

// TestPauseArchive_IsReproducibleFromSource rebuilds the checked-in pause
// archive from cmd/pause, as `make pause-image` does, and wants the same
// bytes: the archive in the repository (which plain `go build` and
// `go install` embed) is what the source makes.
func TestPauseArchive_IsReproducibleFromSource(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "pause")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "../../cmd/pause")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build cmd/pause: %v\n%s", err, out)
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := ociimage.Pause(binary, ociimage.PauseRef).Archive()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(archive, PauseArchive()) {
		t.Fatalf("cmd/pause builds an archive of %d bytes that differs from the checked-in internal/sandbox/pause.tar (%d bytes): run `make pause-image` and commit it",
			len(archive), len(PauseArchive()))
	}
}
