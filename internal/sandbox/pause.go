package sandbox

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"

	"go.uber.org/zap"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// PauseImage is the name the project's pause image is imported under, and
// the sandbox_image of the containerd config the project ships.
const PauseImage = "localhost/minikubelet/pause:1.0"

// pauseArchive is the OCI archive of the pause image, made by
// `make pause-image` from cmd/pause.
//
//go:embed pause.tar
var pauseArchive []byte

// PauseArchive returns the embedded OCI archive of the pause image.
func PauseArchive() []byte { return pauseArchive }

type runtimeStatuser interface {
	Status(ctx context.Context, verbose bool) (*runtimeapi.StatusResponse, error)
}

type imageStatuser interface {
	ImageStatus(ctx context.Context, image *runtimeapi.ImageSpec, verbose bool) (*runtimeapi.ImageStatusResponse, error)
}

// Importer imports an OCI archive into the runtime under ref.
type Importer func(ctx context.Context, archive io.Reader, ref string) error

// EnsurePauseImage makes sure the image the runtime uses for sandboxes is
// present, so that pods start on a node with no registry: it reads the
// sandbox image from the runtime's verbose status (containerd reports its
// CRI config there) and, when that image is missing, imports the embedded
// pause image under that name. It returns the sandbox image's name.
func EnsurePauseImage(ctx context.Context, rt runtimeStatuser, images imageStatuser, importImage Importer, log *zap.Logger) (string, error) {
	ref := PauseImage
	st, err := rt.Status(ctx, true)
	if err != nil {
		return "", fmt.Errorf("read the container runtime's status: %w", err)
	}
	if configured := sandboxImageFromInfo(st.GetInfo()); configured != "" {
		ref = configured
	} else {
		log.Warn("the container runtime does not report its sandbox image; assuming ours", zap.String("image", ref))
	}
	img, err := images.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: ref}, false)
	if err != nil {
		return "", fmt.Errorf("look up sandbox image %s: %w", ref, err)
	}
	if img.GetImage() != nil {
		log.Debug("sandbox image present", zap.String("image", ref))
		return ref, nil
	}
	if err := importImage(ctx, bytes.NewReader(pauseArchive), ref); err != nil {
		return "", fmt.Errorf("import the embedded pause image as %s: %w", ref, err)
	}
	log.Info("imported the embedded pause image", zap.String("image", ref))
	return ref, nil
}

// sandboxImageFromInfo finds the sandbox image in the "config" entry of a
// verbose CRI status, where containerd puts its CRI plugin configuration.
func sandboxImageFromInfo(info map[string]string) string {
	raw, ok := info["config"]
	if !ok {
		return ""
	}
	var cfg struct {
		SandboxImage string `json:"sandboxImage"`
	}
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return ""
	}
	return cfg.SandboxImage
}
