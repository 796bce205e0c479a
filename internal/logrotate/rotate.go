package logrotate

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/clock"

	"github.com/minikubelet/minikubelet/internal/logs"
	"github.com/minikubelet/minikubelet/internal/runtime"
)

// runtimeService is what rotation needs of the CRI runtime service.
type runtimeService interface {
	ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
	ContainerStatus(ctx context.Context, containerID string, verbose bool) (*runtimeapi.ContainerStatusResponse, error)
	ReopenContainerLog(ctx context.Context, containerID string) error
}

// Config shapes a Manager.
type Config struct {
	Runtime runtimeService
	// NodeName limits rotation to the containers this node's daemon made.
	NodeName string
	// MaxSize is the size in bytes a log reaches before it is rotated.
	MaxSize int64
	// MaxFiles is how many files of one log there may be, the live one
	// included (at least 2).
	MaxFiles int
	// Interval is how often the logs are looked at.
	Interval time.Duration
	Clock    clock.WithTicker
	Logger   *zap.Logger
}

// Manager rotates the logs of running containers.
type Manager struct {
	cfg Config
	log *zap.Logger
}

// New returns a Manager; nothing runs until Run.
func New(cfg Config) *Manager {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	return &Manager{cfg: cfg, log: cfg.Logger}
}

// Run looks at the logs every interval until ctx ends; it returns nil.
func (m *Manager) Run(ctx context.Context) error {
	m.log.Info("rotating container logs", zap.Int64("maxSize", m.cfg.MaxSize), zap.Int("maxFiles", m.cfg.MaxFiles), zap.Duration("monitorInterval", m.cfg.Interval))
	ticker := m.cfg.Clock.NewTicker(m.cfg.Interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C():
		}
		m.RotateLogs(ctx)
	}
}

// RotateLogs rotates the log of each running container of the node that
// reached the maximum size. Failures are logged; the next round tries
// again.
func (m *Manager) RotateLogs(ctx context.Context) {
	containers, err := m.cfg.Runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{
		State:         &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING},
		LabelSelector: map[string]string{runtime.LabelManaged: "true", runtime.LabelNode: m.cfg.NodeName},
	})
	if err != nil {
		m.log.Warn("list containers to rotate their logs", zap.Error(err))
		return
	}
	for _, c := range containers {
		if c.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
			continue // only a running container writes more
		}
		log := m.log.With(zap.String("pod", c.Labels[runtime.LabelPodNamespace]+"/"+c.Labels[runtime.LabelPodName]),
			zap.String("namespace", c.Labels[runtime.LabelPodNamespace]), zap.String("uid", c.Labels[runtime.LabelPodUID]),
			zap.String("container", c.Labels[runtime.LabelContainerName]), zap.String("containerID", c.Id))
		if err := m.rotateIfFull(ctx, c.Id, log); err != nil && ctx.Err() == nil {
			log.Warn("rotate container log", zap.Error(err))
		}
	}
}

func (m *Manager) rotateIfFull(ctx context.Context, id string, log *zap.Logger) error {
	resp, err := m.cfg.Runtime.ContainerStatus(ctx, id, false)
	if err != nil {
		return fmt.Errorf("container status: %w", err)
	}
	path := resp.GetStatus().GetLogPath()
	if path == "" {
		return nil
	}
	st, err := os.Stat(path)
	if os.IsNotExist(err) {
		// As the kubelet: a log that is gone (renamed, the reopen failed)
		// is reopened.
		if err := m.cfg.Runtime.ReopenContainerLog(ctx, id); err != nil {
			return fmt.Errorf("reopen the missing log %s: %w", path, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat log: %w", err)
	}
	if st.Size() < m.cfg.MaxSize {
		return nil
	}
	if err := m.rotate(ctx, id, path); err != nil {
		return err
	}
	log.Debug("container log rotated", zap.String("path", path), zap.Int64("size", st.Size()))
	return nil
}

// rotate removes and compresses the older rotated files as plan says,
// then renames the live log and has the runtime reopen it.
func (m *Manager) rotate(ctx context.Context, id, path string) error {
	files, err := logs.RotationFiles(path)
	if err != nil {
		return err
	}
	remove, compress := plan(files, m.cfg.MaxFiles)
	for _, f := range remove {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("remove old log: %w", err)
		}
	}
	for _, f := range compress {
		if err := compressLog(f); err != nil {
			return err
		}
	}
	rotated := path + "." + m.cfg.Clock.Now().Format(logs.RotatedTimestampFormat)
	if _, err := os.Lstat(rotated); err == nil {
		// Rotated already within this second: renaming again would
		// overwrite it; the next round rotates.
		return nil
	}
	if err := os.Rename(path, rotated); err != nil {
		return fmt.Errorf("rotate log %s: %w", path, err)
	}
	if err := m.cfg.Runtime.ReopenContainerLog(ctx, id); err != nil {
		// As the kubelet: renamed back, to be rotated again next round.
		if rerr := os.Rename(rotated, path); rerr != nil {
			m.log.Error("rename the rotated log back: its lines stay in the rotated file", zap.String("path", path), zap.Error(rerr))
		}
		return fmt.Errorf("reopen container log: %w", err)
	}
	return nil
}

// plan decides, from the files a log was rotated to (any order), which to
// remove and which to compress before the live log is rotated, as the
// kubelet: what failed rotations left is removed, then the oldest files
// beyond maxFiles-2 (the live log and the one about to be rotated make
// up the rest), and what remains uncompressed is compressed.
func plan(files []string, maxFiles int) (remove, compress []string) {
	inUse, unused := logs.SplitUnused(files)
	remove = append(remove, unused...)
	sort.Strings(inUse)
	keep := maxFiles - 2
	if keep < 0 {
		keep = 0
	}
	if excess := len(inUse) - keep; excess > 0 {
		remove = append(remove, inUse[:excess]...)
		inUse = inUse[excess:]
	}
	for _, f := range inUse {
		if !strings.HasSuffix(f, logs.CompressedSuffix) {
			compress = append(compress, f)
		}
	}
	return remove, compress
}

// compressLog replaces a rotated log with its gzip copy, written to a
// temporary file first so that a crash leaves no half copy in use.
func compressLog(path string) error {
	in, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("compress log: %w", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("compress log: %w", err)
	}
	tmp := path + logs.TempSuffix
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return fmt.Errorf("compress log %s: %w", path, err)
	}
	defer os.Remove(tmp)
	zw := gzip.NewWriter(out)
	_, err = io.Copy(zw, in)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("compress log %s: %w", path, err)
	}
	if err := os.Rename(tmp, path+logs.CompressedSuffix); err != nil {
		return fmt.Errorf("compress log %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove log %s after compressing it: %w", path, err)
	}
	return nil
}
