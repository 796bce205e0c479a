package podworker

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/clock"

	"github.com/minikubelet/minikubelet/internal/probes"
	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/sandbox"
)

const (
	// defaultResyncInterval is how often the manager relists the runtime to
	// notice changes no event told it about.
	defaultResyncInterval = time.Second
	// workerResync is how often a worker syncs with no wake-up at all: the
	// relist wakes workers whose pods changed, so this is only a safety
	// net, and it keeps a node of idle pods from costing two CRI calls per
	// pod per second.
	workerResync = 10 * time.Second
	// exitRecheckInterval paces relists after an exit event until the CRI
	// reports the container exited: containerd publishes the event before
	// its CRI plugin has recorded the exit.
	exitRecheckInterval = 3 * time.Millisecond
	// exitRecheckFor bounds that: past it, the periodic relist takes over.
	exitRecheckFor = time.Second
)

// Config wires a Manager.
type Config struct {
	Runtime runtimeService
	Images  imageService
	Status  statusSink
	// Volumes makes the pods' volumes and termination message files.
	Volumes volumeManager
	// Events records what happens to pods; nil records nothing.
	Events eventRecorder
	// Probes runs liveness, readiness and startup probes; nil runs none.
	Probes prober
	Logger *zap.Logger
	Clock  clock.WithTicker
	// NodeName is the node this daemon runs pods as; it only ever touches
	// sandboxes labelled with it.
	NodeName string
	// Sandbox shapes every pod's sandbox.
	Sandbox sandbox.Options
	// HostIP is the node's address, shown as hostIP and used as podIP of
	// host-network pods.
	HostIP string
	// ResyncInterval is the relist period (1 s when zero).
	ResyncInterval time.Duration
	// BackoffInitial and BackoffMax shape the restart backoff (10 s and
	// 300 s when zero).
	BackoffInitial, BackoffMax time.Duration
}

// Manager owns the pod workers: it starts one per desired pod, tells it to
// stop when its pod is no longer desired, holds a replacement back until
// the pod it replaces is gone, and stops what belongs to no desired pod.
type Manager struct {
	cfg   Config
	log   *zap.Logger
	clock clock.WithTicker
	hooks *hookRunner

	mu          sync.Mutex
	ctx         context.Context // set by Run; nil before
	desired     map[types.UID]*v1.Pod
	haveDesired bool
	// relisted is true once the runtime has been listed: no worker starts
	// before, so that a pod replacing one left from an earlier run of the
	// daemon waits for it to stop.
	relisted bool
	workers  map[types.UID]*worker
	wg       sync.WaitGroup
	// fingerprints of each pod's runtime objects at the last relist.
	fingerprints map[types.UID]string
	// relistNow asks Run for a relist ahead of the ticker.
	relistNow chan struct{}
	// pendingExits are containers an event said exited that the last
	// relist still saw running, with what the event said.
	pendingExits map[string]pendingExit
	// podOf maps container IDs to their pod's UID, as of the last relist.
	podOf map[string]types.UID
	// drained is set by Drain: no pod runs until the daemon restarts.
	drained bool
	// workersGone is signalled each time a worker finishes.
	workersGone chan struct{}
}

// NewManager returns a manager; nothing runs until Run.
func NewManager(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.ResyncInterval <= 0 {
		cfg.ResyncInterval = defaultResyncInterval
	}
	if cfg.Sandbox.PodLogsDir == "" {
		cfg.Sandbox.PodLogsDir = sandbox.DefaultPodLogsDir
	}
	return &Manager{
		cfg:          cfg,
		log:          cfg.Logger,
		clock:        cfg.Clock,
		hooks:        newHookRunner(cfg.Runtime, cfg.Clock),
		desired:      map[types.UID]*v1.Pod{},
		workers:      map[types.UID]*worker{},
		fingerprints: map[types.UID]string{},
		relistNow:    make(chan struct{}, 1),
		pendingExits: map[string]pendingExit{},
		podOf:        map[string]types.UID{},
		workersGone:  make(chan struct{}, 1),
	}
}

// SetDesired replaces the set of pods that should run.
func (m *Manager) SetDesired(pods []*v1.Pod) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.desired = make(map[types.UID]*v1.Pod, len(pods))
	for _, p := range pods {
		m.desired[p.UID] = p
	}
	m.haveDesired = true
	if !m.relisted {
		// Workers start after a relist that knows the desired set: ask
		// for it now rather than at the next tick.
		m.requestRelist()
	}
	m.reconcileLocked()
}

func (m *Manager) requestRelist() {
	select {
	case m.relistNow <- struct{}{}:
	default:
	}
}

// Wake asks the worker of the pod with uid to sync now.
func (m *Manager) Wake(uid types.UID) {
	m.mu.Lock()
	w := m.workers[uid]
	m.mu.Unlock()
	if w != nil {
		w.wake()
	}
}

// ContainerExited tells the manager that a container's process exited (a
// containerd event): the relist that follows wakes the pod's worker at once
// instead of at the next tick.
func (m *Manager) ContainerExited(exit runtime.Exit) {
	m.mu.Lock()
	m.pendingExits[exit.ContainerID] = pendingExit{exit: exit, seen: m.clock.Now()}
	w := m.workers[m.podOf[exit.ContainerID]]
	m.mu.Unlock()
	if w != nil {
		// The worker acts on the event at once; the CRI catches up later.
		w.wake()
	}
	m.requestRelist()
}

// pendingExit is an exit containerd reported that its CRI plugin has not
// recorded yet (it takes tens of milliseconds).
type pendingExit struct {
	exit runtime.Exit
	seen time.Time
}

// exitsNotYetInCRI returns the exits the CRI has not recorded yet.
func (m *Manager) exitsNotYetInCRI() map[string]runtime.Exit {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.pendingExits) == 0 {
		return nil
	}
	out := make(map[string]runtime.Exit, len(m.pendingExits))
	for id, p := range m.pendingExits {
		out[id] = p.exit
	}
	return out
}

// Run relists the runtime every resync interval until ctx ends, then waits
// for the workers to return. Pods keep running in the runtime: a daemon
// that stops leaves them to the next one to adopt.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	m.ctx = ctx
	m.mu.Unlock()
	ticker := m.clock.NewTicker(m.cfg.ResyncInterval)
	defer ticker.Stop()
	recheckTimer := m.clock.NewTimer(exitRecheckInterval)
	defer recheckTimer.Stop()
	for {
		recheck, err := m.relist(ctx)
		if err != nil && ctx.Err() == nil {
			m.log.Warn("relist the runtime", zap.Error(err))
		}
		var recheckC <-chan time.Time
		if recheck {
			recheckTimer.Stop()
			recheckTimer.Reset(exitRecheckInterval)
			recheckC = recheckTimer.C()
		}
		select {
		case <-ctx.Done():
			m.wg.Wait()
			return nil
		case <-ticker.C():
		case <-m.relistNow:
		case <-recheckC:
		}
	}
}

// reconcileLocked starts and stops workers to match the desired set.
func (m *Manager) reconcileLocked() {
	if m.ctx == nil || m.ctx.Err() != nil || !m.relisted {
		return
	}
	for uid, w := range m.workers {
		if _, ok := m.desired[uid]; !ok || m.drained {
			w.requestTerminate()
		}
	}
	if m.drained {
		return
	}
	uids := make([]types.UID, 0, len(m.desired))
	for uid := range m.desired {
		uids = append(uids, uid)
	}
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	for _, uid := range uids {
		if _, ok := m.workers[uid]; ok {
			continue
		}
		pod := m.desired[uid]
		key := pod.Namespace + "/" + pod.Name
		if m.hasOtherWorkerLocked(key, uid) {
			// The pod it replaces stops first; this one starts when that
			// worker is done.
			continue
		}
		m.startWorkerLocked(newWorker(m, pod, false))
	}
}

func (m *Manager) hasOtherWorkerLocked(key string, uid types.UID) bool {
	for other, w := range m.workers {
		if other != uid && w.podKey == key {
			return true
		}
	}
	return false
}

func (m *Manager) startWorkerLocked(w *worker) {
	m.workers[w.uid] = w
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		w.run(m.ctx)
	}()
}

// workerDone is called by a worker that has stopped its pod for good.
func (m *Manager) workerDone(w *worker) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.workers[w.uid] == w {
		delete(m.workers, w.uid)
	}
	delete(m.fingerprints, w.uid)
	m.reconcileLocked()
	select {
	case m.workersGone <- struct{}{}:
	default:
	}
}

// Drain stops every pod gracefully, as a node drain evicts them, and
// returns once none is left; the manifests are then ignored until the
// daemon restarts. It returns how many pods it stopped.
func (m *Manager) Drain(ctx context.Context) (int, error) {
	m.mu.Lock()
	m.drained = true
	stopped := len(m.workers)
	m.reconcileLocked()
	m.mu.Unlock()
	for {
		m.mu.Lock()
		left := len(m.workers)
		m.mu.Unlock()
		if left == 0 {
			// A last look for pods no worker knows of (left by an earlier
			// run); relist starts stopping them.
			if _, err := m.relist(ctx); err != nil {
				return stopped, err
			}
			m.mu.Lock()
			left = len(m.workers)
			stopped += left
			m.mu.Unlock()
			if left == 0 {
				return stopped, nil
			}
		}
		select {
		case <-ctx.Done():
			return stopped, ctx.Err()
		case <-m.workersGone:
		}
	}
}

// relist lists everything this daemon made in the runtime, wakes the
// workers of pods whose objects changed, and, once the desired set is
// known, starts stopping pods that no manifest asks for. It reports
// whether a container an event said exited still shows running.
func (m *Manager) relist(ctx context.Context) (bool, error) {
	selector := map[string]string{runtime.LabelManaged: "true", runtime.LabelNode: m.cfg.NodeName}
	sandboxes, err := m.cfg.Runtime.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: selector})
	if err != nil {
		return false, fmt.Errorf("list sandboxes: %w", err)
	}
	containers, err := m.cfg.Runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: selector})
	if err != nil {
		return false, fmt.Errorf("list containers: %w", err)
	}
	prints := map[types.UID][]string{}
	orphans := map[types.UID]*runtimeapi.PodSandbox{}
	for _, s := range sandboxes {
		uid := types.UID(s.Labels[runtime.LabelPodUID])
		prints[uid] = append(prints[uid], "s"+s.Id+":"+s.State.String())
		orphans[uid] = s
	}
	running := map[string]bool{}
	podOf := make(map[string]types.UID, len(containers))
	for _, c := range containers {
		uid := types.UID(c.Labels[runtime.LabelPodUID])
		prints[uid] = append(prints[uid], "c"+c.Id+":"+c.State.String())
		running[c.Id] = c.State == runtimeapi.ContainerState_CONTAINER_RUNNING
		podOf[c.Id] = uid
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.podOf = podOf
	recheck := false
	now := m.clock.Now()
	for id, p := range m.pendingExits {
		if !running[id] || now.Sub(p.seen) > exitRecheckFor {
			delete(m.pendingExits, id)
			continue
		}
		recheck = true
	}
	for uid, parts := range prints {
		sort.Strings(parts)
		print := strings.Join(parts, ",")
		if w, ok := m.workers[uid]; ok {
			if m.fingerprints[uid] != print {
				w.wake()
			}
			m.fingerprints[uid] = print
			continue
		}
		if _, desired := m.desired[uid]; (desired && !m.drained) || !m.haveDesired || ctx.Err() != nil {
			continue
		}
		if s, ok := orphans[uid]; ok {
			m.log.Info("stopping a pod no manifest asks for", zap.String("pod", s.Labels[runtime.LabelPodNamespace]+"/"+s.Labels[runtime.LabelPodName]), zap.String("uid", string(uid)))
			w := newWorker(m, orphanPod(s), true)
			w.terminate = true
			m.startWorkerLocked(w)
			m.fingerprints[uid] = print
		}
	}
	if !m.relisted && m.haveDesired {
		m.relisted = true
		m.reconcileLocked()
	}
	return recheck, nil
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

// ProbeUpdate takes a probe's news (probes.Config.OnUpdate): it records the
// kubelet's event for a failed run, marks a container whose liveness or
// startup probe reached its failure threshold for a restart, and wakes the
// pod's worker when a result changed.
func (m *Manager) ProbeUpdate(u probes.Update) {
	m.mu.Lock()
	w := m.workers[u.PodUID]
	m.mu.Unlock()
	if w == nil {
		return
	}
	pod, _ := w.snapshot()
	if reason, msg := u.Event(); reason != "" {
		w.event(pod, u.ContainerName, v1.EventTypeWarning, reason, msg)
	}
	if u.FailureThresholdReached {
		spec := containerSpec(pod, u.ContainerName)
		grace := probes.TerminationGracePeriod(u.Kind, spec, podGracePeriod(pod))
		w.markUnhealthy(u.ContainerID, unhealthy{
			Message:     fmt.Sprintf("Container %s failed %s probe, will be restarted", u.ContainerName, strings.ToLower(u.Kind.String())),
			GracePeriod: &grace,
		})
	}
	if u.Changed || u.FailureThresholdReached {
		w.wake()
	}
}
