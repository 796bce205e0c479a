package probes

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// Config configures a Manager.
type Config struct {
	// Exec runs exec probes; nil makes them error.
	Exec Execer
	// Clock times the probes; nil means the real clock.
	Clock clock.WithTicker
	// Logger logs result changes (Info) and probe runs (Debug); nil means none.
	Logger *zap.Logger
	// Registerer gets prober_probe_total and prober_probe_duration_seconds;
	// nil means no metrics.
	Registerer prometheus.Registerer
	// OnUpdate, when set, is called from the worker goroutines for every
	// run whose result changed, that failed, errored or warned (see Update).
	// It must not block long (the worker waits for it) and must not call
	// Stop (which waits for the worker); it may call the other methods. An
	// Update may still arrive for a container instance just removed by
	// Sync; compare ContainerID.
	OnUpdate func(Update)
	// Rand returns a number in [0, 1) for the jitter before a worker's first
	// probe; nil means math/rand.
	Rand func() float64
}

// Manager owns the probe workers of running containers: one goroutine per
// container instance and probe kind. Its methods are safe for concurrent
// use.
type Manager struct {
	clock    clock.WithTicker
	log      *zap.Logger
	onUpdate func(Update)
	rand     func() float64
	prober   *prober
	metrics  *metrics

	// ctx ends every worker; cancel is called by Stop.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	stopped    bool
	pods       map[types.UID]map[string]*container // by pod UID, then container ID
	containers map[string]*container               // by container ID

	// onArm, when set (tests), is called each time a worker starts waiting
	// for its next probe, with the time it is due; onExit when a worker
	// goroutine ends.
	onArm  func(w *worker, at time.Time)
	onExit func(w *worker)
}

// NewManager returns a Manager with no workers.
func NewManager(cfg Config) *Manager {
	m := &Manager{
		clock:      cfg.Clock,
		log:        cfg.Logger,
		onUpdate:   cfg.OnUpdate,
		rand:       cfg.Rand,
		prober:     newProber(cfg.Exec, userAgent),
		metrics:    newMetrics(cfg.Registerer),
		pods:       map[types.UID]map[string]*container{},
		containers: map[string]*container{},
	}
	if m.clock == nil {
		m.clock = clock.RealClock{}
	}
	if m.log == nil {
		m.log = zap.NewNop()
	}
	if m.rand == nil {
		m.rand = rand.Float64
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// container is one running container instance with at least one probe.
type container struct {
	podUID      types.UID
	podName     string
	namespace   string
	name        string
	id          string
	hostNetwork bool
	startedAt   time.Time
	podIP       atomic.Pointer[string]

	// ctx ends the container's workers.
	ctx    context.Context
	cancel context.CancelFunc

	// workers by Kind; nil for a kind the container has no probe of.
	workers [numKinds]*worker
}

// Sync sets the running container instances of a pod. Workers start for
// each (container ID, kind) with a probe that has none yet, and stop for the
// container IDs not in targets: a restarted container (a new ID) gets fresh
// workers and fresh results. Targets without a container ID or without
// probes are skipped. For a container ID already synced only the pod IP is
// taken from targets.
func (m *Manager) Sync(podUID types.UID, targets []Target) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	now := m.clock.Now()
	old := m.pods[podUID]
	next := make(map[string]*container, len(targets))
	var starts []*worker
	for i := range targets {
		t := &targets[i]
		if t.ContainerID == "" || t.Container == nil || !hasProbes(t.Container) {
			continue
		}
		if _, dup := next[t.ContainerID]; dup {
			continue
		}
		if c, ok := old[t.ContainerID]; ok {
			podIP := t.PodIP
			c.podIP.Store(&podIP)
			next[t.ContainerID] = c
			continue
		}
		if c, ok := m.containers[t.ContainerID]; ok && c.podUID != podUID {
			m.log.Warn("Container already synced for another pod",
				zap.String("pod", c.podKey()), zap.String("namespace", c.namespace), zap.String("uid", string(c.podUID)),
				zap.String("container", c.name), zap.String("containerID", t.ContainerID), zap.String("otherUID", string(podUID)))
			continue
		}
		c := m.newContainer(podUID, t, now)
		next[t.ContainerID] = c
		m.containers[t.ContainerID] = c
		for _, w := range c.workers {
			if w != nil {
				starts = append(starts, w)
			}
		}
	}
	var gone []*container
	for id, c := range old {
		if _, ok := next[id]; !ok {
			gone = append(gone, c)
		}
	}
	m.drop(gone, next)
	if len(next) == 0 {
		delete(m.pods, podUID)
	} else {
		m.pods[podUID] = next
	}
	for _, w := range starts {
		m.wg.Add(1)
		go w.run()
	}
}

// RemovePod stops every worker of the pod and forgets its results and
// metric series.
func (m *Manager) RemovePod(podUID types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	gone := make([]*container, 0, len(m.pods[podUID]))
	for _, c := range m.pods[podUID] {
		gone = append(gone, c)
	}
	m.drop(gone, nil)
	delete(m.pods, podUID)
}

// StopLivenessAndStartup stops the liveness and startup workers of the
// pod's containers and keeps their readiness workers, as the kubelet does
// when a pod starts terminating: readiness is still probed (and shown)
// until the containers are gone. Started then holds the startup probe's
// last result.
func (m *Manager) StopLivenessAndStartup(podUID types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.pods[podUID] {
		for _, k := range []Kind{Liveness, Startup} {
			if w := c.workers[k]; w != nil {
				w.cancel()
			}
		}
	}
}

// drop stops the workers of gone, which are no longer among their pod's
// containers, and deletes the metric series of the probes no container in
// kept has any more. m.mu is held.
func (m *Manager) drop(gone []*container, kept map[string]*container) {
	for _, c := range gone {
		c.cancel()
		delete(m.containers, c.id)
	}
	for _, c := range gone {
		for k, w := range c.workers {
			if w == nil || hasWorker(kept, c.name, Kind(k)) {
				continue
			}
			m.metrics.forget(c.podUID, c.podName, c.namespace, c.name, Kind(k))
		}
	}
}

// hasWorker reports whether a container named name in cs has a probe of
// kind k.
func hasWorker(cs map[string]*container, name string, k Kind) bool {
	for _, c := range cs {
		if c.name == name && c.workers[k] != nil {
			return true
		}
	}
	return false
}

// Result returns the current result of the probe of kind k of a container
// instance, and whether the container has such a probe (a worker, running
// or finished, holds its state).
func (m *Manager) Result(containerID string, k Kind) (Result, bool) {
	c := m.lookup(containerID)
	if c == nil || k < 0 || k >= numKinds || c.workers[k] == nil {
		return Unknown, false
	}
	return c.workers[k].get(), true
}

// Started reports whether a container instance has started: its startup
// probe succeeded, or it has none. A container ID that Sync did not get (or
// that has no probes) has none.
func (m *Manager) Started(containerID string) bool {
	c := m.lookup(containerID)
	return c == nil || c.started()
}

// Ready reports whether a running container instance is ready, as far as
// its probes tell: it has started and its readiness probe succeeded (or it
// has none). A container ID that Sync did not get (or that has no probes) is
// ready: ask only about running containers, after syncing them.
func (m *Manager) Ready(containerID string) bool {
	c := m.lookup(containerID)
	return c == nil || c.ready()
}

// Stop stops every worker and waits for them to end. The Manager does
// nothing after it.
func (m *Manager) Stop() {
	m.mu.Lock()
	m.stopped = true
	m.pods = map[types.UID]map[string]*container{}
	m.containers = map[string]*container{}
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	m.prober.transport.CloseIdleConnections()
}

func (m *Manager) lookup(containerID string) *container {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.containers[containerID]
}

// newContainer makes a container and its workers, with their initial
// results and first probe times. m.mu is held.
func (m *Manager) newContainer(podUID types.UID, t *Target, now time.Time) *container {
	c := &container{
		podUID:      podUID,
		podName:     t.PodName,
		namespace:   t.Namespace,
		name:        t.Container.Name,
		id:          t.ContainerID,
		hostNetwork: t.HostNetwork,
		startedAt:   t.StartedAt,
	}
	if c.startedAt.IsZero() {
		c.startedAt = now
	}
	podIP := t.PodIP
	c.podIP.Store(&podIP)
	c.ctx, c.cancel = context.WithCancel(m.ctx)
	for k := range Kind(numKinds) {
		p := k.probe(t.Container)
		if p == nil {
			continue
		}
		w := &worker{
			m:      m,
			c:      c,
			kind:   k,
			timing: timingOf(p),
			action: newAction(p, t.Container),
		}
		w.ctx, w.cancel = context.WithCancel(c.ctx)
		w.result.Store(int32(k.initialResult()))
		w.first = firstProbeAt(c.startedAt, now, w.timing.initialDelay, jitterFor(w.timing.period, m.rand()))
		c.workers[k] = w
	}
	if r := c.workers[Readiness]; r != nil && c.workers[Startup] != nil {
		r.nudge = make(chan struct{}, 1)
	}
	return c
}

func hasProbes(c *v1.Container) bool {
	return c.LivenessProbe != nil || c.ReadinessProbe != nil || c.StartupProbe != nil
}

// started reports whether the container's startup probe succeeded, or it
// has none.
func (c *container) started() bool {
	s := c.workers[Startup]
	return s == nil || s.get() == Success
}

// ready reports whether the container started and its readiness probe
// succeeded, or it has none.
func (c *container) ready() bool {
	if !c.started() {
		return false
	}
	r := c.workers[Readiness]
	return r == nil || r.get() == Success
}

// podKey is namespace/name of the container's pod.
func (c *container) podKey() string {
	return types.NamespacedName{Namespace: c.namespace, Name: c.podName}.String()
}
