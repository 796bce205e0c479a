package podworker

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/clock"

	"github.com/minikubelet/minikubelet/internal/machine"
	"github.com/minikubelet/minikubelet/internal/probes"
	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/sandbox"
)

// Config wires a Manager.
type Config struct {
	Runtime runtimeService
	Images  imageService
	// Puller pulls the images the pull policies ask for.
	Puller imagePuller
	Status statusSink
	// Volumes makes the pods' volumes and termination message files.
	Volumes volumeManager
	// Events records what happens to pods; nil records nothing.
	Events eventRecorder
	// NewProber makes the prober of the pods' liveness, readiness and
	// startup probes, handing it the manager's ProbeUpdate for its news;
	// nil runs no probes.
	NewProber func(onUpdate func(probes.Update)) Prober
	Logger    *zap.Logger
	Clock     clock.WithTicker
	// NodeName is the node this daemon runs pods as; it only ever touches
	// sandboxes labelled with it.
	NodeName string
	// Sandbox shapes every pod's sandbox.
	Sandbox sandbox.Options
	// RecursiveReadOnlyHandlers are the runtime handlers that make
	// read-only mounts recursively read-only (the default one under "").
	RecursiveReadOnlyHandlers map[string]bool
	// RootDir is the daemon's root directory (--root-dir); Localhost
	// seccomp profiles are read from its seccomp directory.
	RootDir string
	// Cgroups makes each pod's cgroup, its sandbox's cgroup parent; nil
	// leaves the choice to the runtime.
	Cgroups podCgroups
	// Node is what the node has (memory capacity, huge page sizes,
	// allocatable, the oom_score_adj floor) for containers' resources.
	Node machine.Info
	// HostIP is the node's address, shown as hostIP and used as podIP of
	// host-network pods.
	HostIP string
	// ResyncInterval is the relist period (1 s when zero).
	ResyncInterval time.Duration
	// BackoffInitial and BackoffMax shape the restart backoff (10 s and
	// 300 s when zero).
	BackoffInitial, BackoffMax time.Duration
	// OnFirstSync is called once per pod worker, from its goroutine, when
	// its pod had its first start attempt: its first sync ran (carried
	// out its plan, found nothing to do, or failed to reach the runtime),
	// or the node refused the pod and showed it Failed. A worker stopped before that never calls it. Nil
	// calls nothing.
	OnFirstSync func(uid types.UID)
	// Metrics is where the kubelet metrics of the pod workers and the
	// relister are registered; nil registers them nowhere.
	Metrics prometheus.Registerer
}

// Manager owns the pod workers' lifetimes: its Run starts one per desired
// pod, tells a worker to stop when its pod is no longer desired, holds a
// replacement back until the pod it replaces is gone, stops what belongs
// to no desired pod, and drains. What changed in the runtime comes from
// its relister; probe news and exit events only wake workers.
type Manager struct {
	cfg      Config
	log      *zap.Logger
	clock    clock.WithTicker
	hooks    *hookRunner
	relister *relister
	metrics  *metrics
	// probes is nil when the pods' probes are not run.
	probes Prober

	// desired holds the latest desired set until Run takes it; newDesired
	// tells Run there is one.
	desiredMu  sync.Mutex
	desired    []*v1.Pod
	newDesired chan struct{}
	drains     chan drainRequest
	shutdowns  chan shutdownRequest

	// workers is the registry other goroutines (probe news, exit events)
	// find workers in; only Run writes it.
	workersMu sync.Mutex
	workers   map[types.UID]*worker
}

// drainRequest asks Run to stop every pod; Run answers on reply with how
// many it stopped once none is left.
type drainRequest struct {
	reply chan int
}

// NewManager returns a manager; nothing runs until Run.
func NewManager(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Sandbox.PodLogsDir == "" {
		cfg.Sandbox.PodLogsDir = sandbox.DefaultPodLogsDir
	}
	met := newMetrics(cfg.Metrics)
	m := &Manager{
		cfg:        cfg,
		log:        cfg.Logger,
		clock:      cfg.Clock,
		hooks:      newHookRunner(cfg.Runtime, cfg.Clock),
		relister:   newRelister(cfg.Runtime, met, cfg.NodeName, cfg.Clock, cfg.ResyncInterval),
		metrics:    met,
		newDesired: make(chan struct{}, 1),
		drains:     make(chan drainRequest),
		shutdowns:  make(chan shutdownRequest),
		workers:    map[types.UID]*worker{},
	}
	if cfg.NewProber != nil {
		m.probes = cfg.NewProber(m.ProbeUpdate)
	}
	return m
}

// SetDesired replaces the set of pods that should run.
func (m *Manager) SetDesired(pods []*v1.Pod) {
	m.desiredMu.Lock()
	m.desired = append([]*v1.Pod{}, pods...)
	m.desiredMu.Unlock()
	select {
	case m.newDesired <- struct{}{}:
	default:
	}
}

func (m *Manager) takeDesired() map[types.UID]*v1.Pod {
	m.desiredMu.Lock()
	defer m.desiredMu.Unlock()
	out := make(map[types.UID]*v1.Pod, len(m.desired))
	for _, p := range m.desired {
		out[p.UID] = p
	}
	return out
}

// ContainerExited tells the manager that a container's process exited (a
// containerd event): the pod's worker syncs at once, deciding from the
// event while the CRI catches up.
func (m *Manager) ContainerExited(exit runtime.Exit) {
	if uid := m.relister.exited(exit); uid != "" {
		m.wake(uid)
	}
}

// ProbeUpdate takes a probe's news (probes.Config.OnUpdate): it records the
// kubelet's event for a failed run, and, when a result changed or a
// liveness or startup probe reached its failure threshold, shows the news
// at once and wakes the pod's worker, which pulls the results it decides
// on.
func (m *Manager) ProbeUpdate(u probes.Update) {
	w := m.lookup(u.PodUID)
	if w == nil {
		return
	}
	if reason, msg := u.Event(); reason != "" {
		pod, _ := w.snapshot()
		w.event(pod, u.ContainerName, v1.EventTypeWarning, reason, msg)
	}
	if u.Changed || u.FailureThresholdReached {
		w.republish()
		w.wake()
	}
}

// Evict evicts a pod for node pressure (the eviction manager's signal and
// message): its worker kills it at once and shows it Failed, reason
// Evicted, as a local storage eviction. It reports false when no worker
// runs the pod, or the pod is finished or evicted already.
func (m *Manager) Evict(uid types.UID, signal, message string) bool {
	w := m.lookup(uid)
	if w == nil || w.orphan || w.finished() {
		return false
	}
	if !w.requestEviction(signal, message) {
		return false
	}
	w.wake()
	return true
}

// Drain stops every pod gracefully, as a node drain evicts them, and
// returns once none is left; the manifests are then ignored until the
// daemon restarts. It returns how many pods it stopped.
func (m *Manager) Drain(ctx context.Context) (int, error) {
	req := drainRequest{reply: make(chan int, 1)}
	select {
	case m.drains <- req:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	select {
	case n := <-req.reply:
		return n, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// LastRelist is when the relister last finished a relist, whether the
// runtime answered or not. It stops moving when the sync machinery hangs:
// a relist that never returns, or a manager loop that no longer takes the
// relister's results (it blocks handing over the next). Zero before the
// first relist.
func (m *Manager) LastRelist() time.Time { return m.relister.lastDone() }

func (m *Manager) lookup(uid types.UID) *worker {
	m.workersMu.Lock()
	defer m.workersMu.Unlock()
	return m.workers[uid]
}

func (m *Manager) wake(uid types.UID) {
	if w := m.lookup(uid); w != nil {
		w.wake()
	}
}

// Run relists the runtime and keeps one worker per desired pod until ctx
// ends, then waits for the workers to return. Pods keep running in the
// runtime: a daemon that stops leaves them to the next one to adopt.
func (m *Manager) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	relists := make(chan relistResult, 1)
	done := make(chan *worker)
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.relister.run(ctx, func(res relistResult) {
			select {
			case relists <- res:
			case <-ctx.Done():
			}
		}, func(err error) { m.log.Warn("relist the runtime", zap.Error(err)) })
	}()
	l := &lifetimes{m: m, ctx: ctx, wg: &wg, done: done}
	defer func() {
		wg.Wait()
		if m.probes != nil {
			m.probes.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.newDesired:
			l.desired, l.haveDesired = m.takeDesired(), true
			if !l.relisted {
				// Workers start after a relist that knows the desired set.
				m.relister.requestRelist()
			}
		case res := <-relists:
			l.relisted = l.relisted || l.haveDesired
			l.present, l.presentGen = res.Present, res.Gen
			for _, uid := range res.Changed {
				m.wake(uid)
			}
		case w := <-done:
			l.remove(w)
		case req := <-m.drains:
			l.drain(req)
			m.relister.requestRelist()
		case req := <-m.shutdowns:
			l.shutdown(req)
		}
		l.reconcile()
	}
}

// lifetimes is the state of Run's loop: which workers run, what should.
type lifetimes struct {
	m    *Manager
	ctx  context.Context
	wg   *sync.WaitGroup
	done chan *worker

	desired     map[types.UID]*v1.Pod
	haveDesired bool
	// relisted is true once the runtime was listed after the desired set
	// was known: no worker starts before, so that a pod replacing one left
	// from an earlier run of the daemon waits for it to stop.
	relisted bool
	// present is what the last relist (number presentGen) found, by pod
	// UID; it tells of pods no worker has only if it began after the last
	// worker finished (when removedGen relists had begun).
	present    map[types.UID]*runtimeapi.PodSandbox
	presentGen uint64
	removedGen uint64
	workers    map[types.UID]*worker
	// recreated are the pods whose manifest came back while their worker
	// stopped them: the next worker for them counts a restarted pod.
	recreated map[types.UID]bool
	// drained is set by a drain: no pod runs until the daemon restarts;
	// stopped counts the pods it stopped, and waiting the drains to answer.
	drained bool
	stopped int
	waiting []drainRequest
	// shuttingDown is set by a node shutdown's first StopPods: no pod
	// starts until the daemon restarts; shutdownWaits are the StopPods
	// calls waiting for their pods to be gone.
	shuttingDown  bool
	shutdownWaits []shutdownRequest
}

func (l *lifetimes) drain(req drainRequest) {
	if !l.drained {
		l.drained = true
		l.stopped = len(l.workers)
	}
	l.waiting = append(l.waiting, req)
	l.removedGen = l.m.relister.generation()
}

func (l *lifetimes) remove(w *worker) {
	if l.workers[w.uid] == w {
		delete(l.workers, w.uid)
		l.m.workersMu.Lock()
		delete(l.m.workers, w.uid)
		l.m.workersMu.Unlock()
	}
	l.m.relister.forget(w.uid)
	l.removedGen = l.m.relister.generation()
	// A fresh listing tells what is left: a drain waits for it, and so
	// does a pod that replaces the one just stopped.
	l.m.relister.requestRelist()
}

// presentFresh reports whether the last relist began after the last worker
// finished, so that what it found no worker for is really left over.
func (l *lifetimes) presentFresh() bool {
	return l.present != nil && l.presentGen > l.removedGen
}

// reconcile starts and stops workers to match the desired set, stops pods
// no manifest asks for, and answers drains once nothing is left.
func (l *lifetimes) reconcile() {
	if !l.relisted || l.ctx.Err() != nil {
		return
	}
	if l.workers == nil {
		l.workers = map[types.UID]*worker{}
	}
	for uid, w := range l.workers {
		pod, ok := l.desired[uid]
		if _, terminating := w.snapshot(); ok && terminating && !w.orphan && !l.drained {
			if l.recreated == nil {
				l.recreated = map[types.UID]bool{}
			}
			l.recreated[uid] = true
		}
		switch {
		case !ok || l.drained:
			w.requestTerminate()
		case w.orphan:
			// Stopping; the desired pod starts when it is gone.
		case w.rejected != nil || podKey(pod) != w.podKey:
			// A refused pod is admitted again; a pod renamed under the
			// same uid is a new pod: both start anew once this is gone.
			if w.differs(pod) {
				w.requestTerminate()
			} else {
				w.update(pod)
			}
		default:
			// The same UID with a new spec (a manifest that gives its
			// uid was edited): the worker takes it over, as the kubelet's
			// pod worker takes an UPDATE.
			w.update(pod)
		}
	}
	for uid := range l.recreated {
		if _, ok := l.desired[uid]; !ok {
			delete(l.recreated, uid) // removed again before it was back
		}
	}
	l.startDesired()
	l.answerShutdowns()
	if !l.presentFresh() {
		return
	}
	l.stopOrphans()
	if l.drained && len(l.workers) == 0 && len(l.present) == 0 {
		for _, req := range l.waiting {
			req.reply <- l.stopped
		}
		l.waiting = nil
	}
}

func (l *lifetimes) startDesired() {
	if l.drained || l.shuttingDown {
		return
	}
	uids := make([]types.UID, 0, len(l.desired))
	for uid := range l.desired {
		uids = append(uids, uid)
	}
	admissionOrder(uids, l.desired, func(uid types.UID) bool { _, ok := l.present[uid]; return ok })
	for _, uid := range uids {
		if _, ok := l.workers[uid]; ok {
			continue
		}
		pod := l.desired[uid]
		if l.replacing(pod) {
			// The pod it replaces stops first; this one starts when that
			// worker is done.
			continue
		}
		if l.recreated[uid] {
			// As the kubelet's pod workers: a pod deleted and recreated
			// with the same UID while it was watched; every pod here is
			// static.
			l.m.metrics.restartedPods.WithLabelValues("true").Inc()
		}
		delete(l.recreated, uid)
		w := newWorker(l.m, pod, false)
		w.rejected = admit(pod, l.admitted())
		l.start(w)
	}
}

// admitted are the pods of the workers that run (or stop) a pod the node
// admitted: what holds the node's host ports.
func (l *lifetimes) admitted() []*v1.Pod {
	var out []*v1.Pod
	for _, w := range l.workers {
		if w.orphan || w.rejected != nil || w.finished() {
			// As the kubelet's filterOutInactivePods: a finished pod
			// holds nothing.
			continue
		}
		pod, _ := w.snapshot()
		out = append(out, pod)
	}
	return out
}

// replacing reports whether another worker still runs a pod of the same
// namespace and name.
func (l *lifetimes) replacing(pod *v1.Pod) bool {
	key := podKey(pod)
	for uid, w := range l.workers {
		if uid != pod.UID && w.podKey == key {
			return true
		}
	}
	// A pod of the same name the runtime still has (left by an earlier run
	// of the daemon, and not yet given a worker to stop it) counts too.
	for uid, s := range l.present {
		if _, desired := l.desired[uid]; uid != pod.UID && !desired && sandboxPodKey(s) == key {
			return true
		}
	}
	return false
}

// stopOrphans stops pods the runtime has that no manifest asks for (left
// by an earlier run of the daemon, or by a manifest removed while it was
// down).
func (l *lifetimes) stopOrphans() {
	for uid, s := range l.present {
		if _, ok := l.workers[uid]; ok {
			continue
		}
		if _, desired := l.desired[uid]; desired && !l.drained {
			continue
		}
		l.m.log.Info("stopping a pod no manifest asks for",
			podFields(s.Labels[runtime.LabelPodNamespace], s.Labels[runtime.LabelPodName], uid)...)
		w := newWorker(l.m, orphanPod(s), true)
		w.terminate = true
		if l.drained {
			l.stopped++
		}
		l.start(w)
	}
}

func (l *lifetimes) start(w *worker) {
	l.workers[w.uid] = w
	l.m.workersMu.Lock()
	l.m.workers[w.uid] = w
	l.m.workersMu.Unlock()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		w.run(l.ctx, func(w *worker) {
			select {
			case l.done <- w:
			case <-l.ctx.Done():
			}
		})
	}()
}

// podKey is a pod's namespace/name.
func podKey(pod *v1.Pod) string {
	return types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name}.String()
}

// sandboxPodKey is namespace/name of the pod a sandbox belongs to.
func sandboxPodKey(s *runtimeapi.PodSandbox) string {
	return types.NamespacedName{Namespace: s.Labels[runtime.LabelPodNamespace], Name: s.Labels[runtime.LabelPodName]}.String()
}

// orphanPod rebuilds what a worker needs to stop a pod from its sandbox's
// labels and annotations.
func orphanPod(s *runtimeapi.PodSandbox) *v1.Pod {
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name:      s.Labels[runtime.LabelPodName],
		Namespace: s.Labels[runtime.LabelPodNamespace],
		UID:       types.UID(s.Labels[runtime.LabelPodUID]),
	}}
	if g, err := strconv.ParseInt(s.Annotations[runtime.AnnotationPodTerminationGracePeriod], 10, 64); err == nil {
		pod.Spec.TerminationGracePeriodSeconds = &g
	}
	return pod
}
