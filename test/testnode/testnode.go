// Package testnode holds what the end-to-end and chaos suites both need of
// a test daemon and its containerd: the busybox test image, the unix-socket
// API, manifest files written whole, the tail of a daemon's log. Each
// suite keeps its own node type; this package keeps them from drifting.
package testnode

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/ociimage"
	"github.com/minikubelet/minikubelet/internal/runtime"
)

// BusyboxImage is the image the tests' pods run, built from Debian's
// static busybox.
const BusyboxImage = "docker.io/library/busybox:1.35"

// EnsureBusybox imports BusyboxImage into the containerd at endpoint when
// it lacks it.
func EnsureBusybox(ctx context.Context, cri *runtime.Client, endpoint string) error {
	st, err := cri.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: BusyboxImage}, false)
	if err != nil {
		return fmt.Errorf("image status %s: %w", BusyboxImage, err)
	}
	if st.GetImage() != nil {
		return nil
	}
	data, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return fmt.Errorf("read /bin/busybox (apt-get install busybox-static): %w", err)
	}
	var archive bytes.Buffer
	if err := ociimage.Busybox(data, BusyboxImage).WriteArchive(&archive); err != nil {
		return fmt.Errorf("build the busybox image: %w", err)
	}
	return runtime.ImportImage(ctx, runtime.SocketPath(endpoint), &archive, BusyboxImage, "")
}

// LogTail is the last n lines of the file at path, or why it cannot be
// read.
func LogTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WriteManifest writes a manifest file in dir whole: a hidden temporary
// file renamed into place, so the daemon never reads half of it.
func WriteManifest(dir, file, content string) error {
	tmp := filepath.Join(dir, "."+file+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, file))
}

// Get is GET path on the daemon's unix-socket API through client: the
// body, and an error naming the status unless it is 200 OK (with the
// body, which holds the daemon's reason).
func Get(client *http.Client, path string) ([]byte, error) {
	resp, err := client.Get("http://minikubelet" + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	return body, nil
}
