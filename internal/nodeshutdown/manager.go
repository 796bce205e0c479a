package nodeshutdown

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

const (
	// reconnectPeriod is the wait before watching logind again after its
	// connection ended, as the kubelet's dbusReconnectPeriod.
	reconnectPeriod = time.Second
	// reloadPoll and reloadChecks bound the wait for logind to show the
	// raised InhibitDelayMaxSec: it reads its configuration on SIGHUP,
	// after the call that sent it returned.
	reloadPoll   = 50 * time.Millisecond
	reloadChecks = 40
)

// Logind is what the manager needs of systemd-logind.
type Logind interface {
	// InhibitDelayMax is logind's InhibitDelayMaxUSec.
	InhibitDelayMax() (time.Duration, error)
	// RaiseInhibitDelayMax makes logind's InhibitDelayMaxSec d (a
	// configuration drop-in and a reload).
	RaiseInhibitDelayMax(d time.Duration) error
	// InhibitShutdown takes a delay inhibitor lock on shutdown; closing it
	// releases it.
	InhibitShutdown() (io.Closer, error)
	// WatchShutdown sends PrepareForShutdown's argument at each signal;
	// the channel is closed when the connection ends.
	WatchShutdown() (<-chan bool, error)
	// Close ends the connection.
	Close()
}

// PodStopper is what the manager needs of the pod workers.
type PodStopper interface {
	// Pods are the pods the node runs or starts.
	Pods() []*v1.Pod
	// StopPods stops the pods of graces, each within its grace period in
	// seconds, shown Failed with reason and message; it returns once
	// they are gone or ctx ends.
	StopPods(ctx context.Context, graces map[types.UID]int64, reason, message string) error
}

// Config wires a Manager.
type Config struct {
	// Connect connects to logind (NewLogind on a real node).
	Connect func() (Logind, error)
	Pods    PodStopper
	// GracePeriod and CriticalGracePeriod are shutdownGracePeriod and
	// shutdownGracePeriodCriticalPods.
	GracePeriod, CriticalGracePeriod time.Duration
	Clock                            clock.Clock
	Logger                           *zap.Logger
}

// Manager delays the node's shutdown until its pods are stopped.
type Manager struct {
	cfg Config
	log *zap.Logger
}

// New returns a manager; nothing happens until Run.
func New(cfg Config) *Manager {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	return &Manager{cfg: cfg, log: cfg.Logger}
}

// Run watches for the node's shutdown until ctx ends. A first failure to
// reach logind is logged and ends Run (the node runs on without graceful
// shutdown, as the kubelet's); after that, a lost connection is made again
// every second.
func (m *Manager) Run(ctx context.Context) error {
	periodRequested := m.cfg.GracePeriod
	m.log.Info("graceful node shutdown", zap.Duration("shutdownGracePeriod", periodRequested),
		zap.Duration("shutdownGracePeriodCriticalPods", m.cfg.CriticalGracePeriod))
	started := false
	for {
		err := m.watch(ctx, &started)
		if ctx.Err() != nil {
			return nil
		}
		if !started {
			m.log.Error("cannot watch for node shutdown: pods will not be stopped before the node shuts down", zap.Error(err))
			return nil
		}
		m.log.Warn("watch for node shutdown ended; watching again", zap.Error(err))
		t := m.cfg.Clock.NewTimer(reconnectPeriod)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
	}
}

// watch follows logind's inhibitor pattern: take a delay lock, and on
// PrepareForShutdown(true) stop the pods and release it; on
// PrepareForShutdown(false) (a cancelled shutdown) take it again.
func (m *Manager) watch(ctx context.Context, started *bool) error {
	ld, err := m.cfg.Connect()
	if err != nil {
		return fmt.Errorf("connect to logind: %w", err)
	}
	defer ld.Close()
	if err := m.ensureInhibitDelay(ctx, ld); err != nil {
		return err
	}
	lock, err := ld.InhibitShutdown()
	if err != nil {
		return fmt.Errorf("take the shutdown inhibitor lock: %w", err)
	}
	release := func() {
		if lock != nil {
			lock.Close()
			lock = nil
		}
	}
	defer release()
	events, err := ld.WatchShutdown()
	if err != nil {
		return fmt.Errorf("watch logind's PrepareForShutdown: %w", err)
	}
	*started = true
	m.log.Info("holding a shutdown delay inhibitor lock")
	for {
		select {
		case <-ctx.Done():
			return nil
		case shuttingDown, ok := <-events:
			if !ok {
				return errors.New("the connection to logind ended")
			}
			if !shuttingDown {
				m.log.Info("node shutdown cancelled")
				if lock == nil {
					if lock, err = ld.InhibitShutdown(); err != nil {
						return fmt.Errorf("take the shutdown inhibitor lock again: %w", err)
					}
				}
				continue
			}
			m.log.Info("node shutting down: stopping pods")
			m.stopPods(ctx)
			release()
			m.log.Info("pods stopped; released the shutdown inhibitor lock")
		}
	}
}

// ensureInhibitDelay raises logind's InhibitDelayMaxSec to the grace
// period when it is smaller, as the kubelet does: logind ends the delay
// at its maximum whatever the lock holder does.
func (m *Manager) ensureInhibitDelay(ctx context.Context, ld Logind) error {
	current, err := ld.InhibitDelayMax()
	if err != nil {
		return fmt.Errorf("read logind's InhibitDelayMaxUSec: %w", err)
	}
	if m.cfg.GracePeriod <= current {
		return nil
	}
	if err := ld.RaiseInhibitDelayMax(m.cfg.GracePeriod); err != nil {
		return fmt.Errorf("raise logind's InhibitDelayMaxSec to shutdownGracePeriod %s: %w", m.cfg.GracePeriod, err)
	}
	var updated time.Duration
	for i := 0; ; i++ {
		if updated, err = ld.InhibitDelayMax(); err != nil {
			return fmt.Errorf("read logind's InhibitDelayMaxUSec: %w", err)
		}
		if updated >= m.cfg.GracePeriod || i == reloadChecks {
			break
		}
		t := m.cfg.Clock.NewTimer(reloadPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
	if updated < m.cfg.GracePeriod {
		return fmt.Errorf("logind's InhibitDelayMaxSec is %s after raising it, less than shutdownGracePeriod %s", updated, m.cfg.GracePeriod)
	}
	m.log.Info("raised logind's InhibitDelayMaxSec", zap.Duration("from", current), zap.Duration("to", updated))
	return nil
}

// stopPods stops the regular pods, then the critical ones, each group
// waited for at most its grace period.
func (m *Manager) stopPods(ctx context.Context) {
	for _, g := range shutdownGroups(m.cfg.Pods.Pods(), m.cfg.GracePeriod, m.cfg.CriticalGracePeriod) {
		if len(g.pods) == 0 {
			continue
		}
		graces := make(map[types.UID]int64, len(g.pods))
		for _, pod := range g.pods {
			graces[pod.UID] = podGracePeriod(pod, g)
			m.log.Info("stopping pod for node shutdown", zap.String("pod", pod.Name), zap.String("namespace", pod.Namespace),
				zap.String("uid", string(pod.UID)), zap.Int64("gracePeriod", graces[pod.UID]), zap.Bool("critical", g.critical))
		}
		gctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- m.cfg.Pods.StopPods(gctx, graces, ShutdownReason, ShutdownMessage) }()
		t := m.cfg.Clock.NewTimer(g.gracePeriod)
		select {
		case err := <-done:
			if err != nil && ctx.Err() == nil {
				m.log.Warn("stop pods for node shutdown", zap.Error(err))
			}
		case <-t.C():
			m.log.Warn("pods not stopped within their shutdown grace period", zap.Duration("gracePeriod", g.gracePeriod),
				zap.Bool("critical", g.critical), zap.Int("pods", len(g.pods)))
			cancel()
			<-done
		}
		t.Stop()
		cancel()
	}
}
