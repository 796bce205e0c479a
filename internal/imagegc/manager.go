package imagegc

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/clock"
)

// DefaultPeriod is how often images are collected, the kubelet's
// ImageGCPeriod.
const DefaultPeriod = 5 * time.Minute

// The kubelet's event reasons (pkg/kubelet/events).
const (
	eventFreeDiskSpaceFailed = "FreeDiskSpaceFailed"
	eventInvalidDiskCapacity = "InvalidDiskCapacity"
	eventImageGCFailed       = "ImageGCFailed"
)

// imageService is what collection needs of the CRI image service.
type imageService interface {
	ListImages(ctx context.Context, filter *runtimeapi.ImageFilter) ([]*runtimeapi.Image, error)
	RemoveImage(ctx context.Context, image *runtimeapi.ImageSpec) error
	ImageFsInfo(ctx context.Context) ([]*runtimeapi.FilesystemUsage, error)
}

// containerLister lists the runtime's containers, every daemon's.
type containerLister interface {
	ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
}

// nodeEvents records events about the node (status.Events).
type nodeEvents interface {
	RecordNode(eventType, reason, message string, now time.Time)
}

// StatFS returns the capacity and the bytes available to unprivileged
// users of the filesystem holding path.
type StatFS func(path string) (capacity, available int64, err error)

// Config shapes a Manager.
type Config struct {
	Images     imageService
	Containers containerLister
	Events     nodeEvents
	Policy     Policy
	// PauseImage is the sandbox image, never removed.
	PauseImage string
	// Period is how often images are collected (DefaultPeriod when zero).
	Period time.Duration
	// StatFS measures the image filesystem (statfs(2) when nil).
	StatFS  StatFS
	Clock   clock.WithTicker
	Logger  *zap.Logger
	Metrics prometheus.Registerer
}

// Manager collects unused images. Its records belong to the goroutine
// running Run.
type Manager struct {
	cfg       Config
	log       *zap.Logger
	records   map[string]*record
	collected *prometheus.CounterVec
}

// New returns a Manager; nothing runs until Run.
func New(cfg Config) *Manager {
	if cfg.Period <= 0 {
		cfg.Period = DefaultPeriod
	}
	if cfg.StatFS == nil {
		cfg.StatFS = statfs
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	reg := cfg.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	collected := prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: "kubelet", Name: "image_garbage_collected_total",
		Help: "Total number of images garbage collected by the kubelet, whether through disk usage or image age."}, []string{"reason"})
	if err := reg.Register(collected); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			panic(err) // a programming error: the name is fixed
		}
		collected = are.ExistingCollector.(*prometheus.CounterVec)
	}
	return &Manager{cfg: cfg, log: cfg.Logger, records: map[string]*record{}, collected: collected}
}

// Run collects at once and then every period until ctx ends, as the
// kubelet's garbage collection loop; it returns nil. A failure twice in a
// row is a node event (ImageGCFailed).
func (m *Manager) Run(ctx context.Context) error {
	ticker := m.cfg.Clock.NewTicker(m.cfg.Period)
	defer ticker.Stop()
	failedBefore := false
	for {
		err := m.GarbageCollect(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && failedBefore:
			m.log.Error("image garbage collection failed multiple times in a row", zap.Error(err))
			m.event(v1.EventTypeWarning, eventImageGCFailed, err.Error())
		case err != nil:
			m.log.Warn("image garbage collection failed once", zap.Error(err))
		}
		failedBefore = err != nil
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C():
		}
	}
}

// GarbageCollect looks at the image filesystem once and removes unused
// images when its usage is at the high threshold or over.
func (m *Manager) GarbageCollect(ctx context.Context) error {
	now := m.cfg.Clock.Now()
	inUse, err := m.detect(ctx, now)
	if err != nil {
		return err
	}
	if m.cfg.Policy.HighThresholdPercent >= 100 {
		return nil // as the kubelet: 100 disables image garbage collection
	}
	capacity, available, err := m.imageFs(ctx)
	if err != nil {
		return err
	}
	if capacity == 0 {
		err := errors.New("invalid capacity 0 on image filesystem")
		m.event(v1.EventTypeWarning, eventInvalidDiskCapacity, err.Error())
		return err
	}
	bytes, usage := amountToFree(capacity, available, m.cfg.Policy)
	if bytes <= 0 {
		return nil
	}
	m.log.Info("disk usage on image filesystem is over the high threshold, trying to free bytes down to the low threshold",
		zap.Int("usage", usage), zap.Int("highThreshold", m.cfg.Policy.HighThresholdPercent),
		zap.Int64("amountToFree", bytes), zap.Int("lowThreshold", m.cfg.Policy.LowThresholdPercent))
	freed, err := m.free(ctx, bytes, inUse, now)
	if err != nil {
		return err
	}
	if freed < bytes {
		//lint:ignore ST1005 the kubelet's words, shown in events
		err := fmt.Errorf("Failed to garbage collect required amount of images. Attempted to free %d bytes, but only found %d bytes eligible to free.", bytes, freed)
		m.event(v1.EventTypeWarning, eventFreeDiskSpaceFailed, err.Error())
		return err
	}
	return nil
}

// detect updates the records from the runtime's images and containers,
// and returns the IDs of the images in use.
func (m *Manager) detect(ctx context.Context, now time.Time) (map[string]bool, error) {
	images, err := m.cfg.Images.ListImages(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	containers, err := m.cfg.Containers.ListContainers(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	refs := map[string]bool{}
	for _, c := range containers {
		refs[c.ImageRef] = true
		refs[c.GetImage().GetImage()] = true
	}
	inUse := map[string]bool{}
	present := map[string]bool{}
	for _, img := range images {
		present[img.Id] = true
		r, ok := m.records[img.Id]
		if !ok {
			r = &record{id: img.Id, firstDetected: now}
			m.records[img.Id] = r
		}
		r.size = int64(img.GetSize())
		r.pinned = img.Pinned || m.isPause(img)
		if used(img, refs) {
			inUse[img.Id] = true
			r.lastUsed = now
		}
	}
	for id := range m.records {
		if !present[id] {
			delete(m.records, id)
		}
	}
	return inUse, nil
}

func (m *Manager) isPause(img *runtimeapi.Image) bool {
	for _, t := range img.RepoTags {
		if t == m.cfg.PauseImage {
			return true
		}
	}
	return false
}

func used(img *runtimeapi.Image, refs map[string]bool) bool {
	if refs[img.Id] {
		return true
	}
	for _, names := range [][]string{img.RepoTags, img.RepoDigests} {
		for _, n := range names {
			if refs[n] {
				return true
			}
		}
	}
	return false
}

// free removes the images pick chooses and returns the bytes freed; a
// removal that fails is skipped, and reported with the others.
func (m *Manager) free(ctx context.Context, bytes int64, inUse map[string]bool, now time.Time) (int64, error) {
	records := make([]record, 0, len(m.records))
	for _, r := range m.records {
		records = append(records, *r)
	}
	var freed int64
	var errs []error
	for _, r := range pick(records, inUse, bytes, now, m.cfg.Policy.MinAge) {
		m.log.Info("removing image to free bytes", zap.String("imageID", r.id), zap.Int64("size", r.size))
		if err := m.cfg.Images.RemoveImage(ctx, &runtimeapi.ImageSpec{Image: r.id}); err != nil {
			errs = append(errs, fmt.Errorf("remove image %s: %w", r.id, err))
			continue
		}
		delete(m.records, r.id)
		m.collected.WithLabelValues("space").Inc()
		freed += r.size
	}
	if len(errs) > 0 {
		return freed, fmt.Errorf("wanted to free %d bytes, but freed %d bytes space with errors in image deletion: %w", bytes, freed, errors.Join(errs...))
	}
	return freed, nil
}

// imageFs measures the filesystem the runtime keeps images on.
func (m *Manager) imageFs(ctx context.Context) (capacity, available int64, err error) {
	fss, err := m.cfg.Images.ImageFsInfo(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("image filesystem info: %w", err)
	}
	if len(fss) == 0 || fss[0].GetFsId().GetMountpoint() == "" {
		return 0, 0, errors.New("image filesystem info: the runtime named no image filesystem")
	}
	mount := fss[0].GetFsId().GetMountpoint()
	capacity, available, err = m.cfg.StatFS(mount)
	if err != nil {
		return 0, 0, fmt.Errorf("measure the image filesystem at %s: %w", mount, err)
	}
	return capacity, available, nil
}

func (m *Manager) event(eventType, reason, message string) {
	if m.cfg.Events != nil {
		m.cfg.Events.RecordNode(eventType, reason, message, m.cfg.Clock.Now())
	}
}

func statfs(path string) (capacity, available int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, err
	}
	return int64(st.Blocks) * st.Bsize, int64(st.Bavail) * st.Bsize, nil
}
