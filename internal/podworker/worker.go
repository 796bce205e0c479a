package podworker

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minikubelet/minikubelet/internal/probes"
	"github.com/minikubelet/minikubelet/internal/status"
	"github.com/minikubelet/minikubelet/internal/timers"
)

const (
	// minimumGracePeriod is the least time the runtime is given to stop a
	// container, as the kubelet's minimumGracePeriodInSeconds.
	minimumGracePeriod = int64(2)
	// workerResync is how often a worker syncs with no wake-up at all
	// when Config.SyncFrequency is zero, as the kubelet's syncFrequency
	// (1 min): events and the relist wake
	// workers whose pods changed, and each sync returns its own next
	// wake-up (a backoff's end, a deadline), so this is only a safety net;
	// an idle pod costs no CRI call per second.
	workerResync = time.Minute
)

// worker drives one pod. Its goroutine owns the fields below the first
// group; mu guards what other goroutines hand it, and pub what it
// publishes (which a probe's news republishes from another goroutine).
type worker struct {
	m      *Manager
	uid    types.UID
	podKey string
	log    *zap.Logger
	wakeCh chan struct{}

	mu        sync.Mutex
	pod       *v1.Pod
	terminate bool
	// shutdownReq is set when the pod is stopped for a node shutdown.
	shutdownReq *shutdownStop
	// specGen counts the changed specs update handed over.
	specGen uint64
	// eviction is a node pressure eviction Manager.Evict handed over,
	// until the worker's next sync takes it.
	eviction *evictionRequest

	// orphan is true for a pod found in the runtime with no manifest: it is
	// only ever stopped, and never shown.
	orphan bool
	// rejected is set for a pod the node refused at admission: it is only
	// shown, Failed, until it is told to terminate.
	rejected *rejection
	crash    *backoff
	images   *backoff
	observer *observer
	// startTime is when the pod was first acknowledged on the node.
	startTime time.Time
	// firstSeen is when this worker was made, the kubelet's firstSeenTime
	// of kubelet_pod_start_duration_seconds.
	firstSeen time.Time
	// deadlineReported latches once the DeadlineExceeded event was
	// recorded; the pod is Failed from then on.
	deadlineReported bool
	// evicted latches the eviction message once the pod went over a local
	// storage limit or was evicted for node pressure (and the Evicted
	// event was recorded); the pod is Failed from then on.
	evicted string
	// shutdown is the goroutine's copy of shutdownReq, taken when it
	// begins to stop the pod: the pod is Failed with its reason.
	shutdown *shutdownStop
	// reclaimed latches once an evicted pod's volumes were removed.
	reclaimed bool
	// storage is the pod's last local storage measurement, taken at
	// measuredAt; only pods with a limit are measured.
	storage    *storageUsage
	measuredAt time.Time
	// reasons is the kubelet's reason cache: why each container last could
	// not run, until it starts again.
	reasons map[string]status.Waiting
	// createFailures are the containers waiting out a failed create.
	createFailures map[string]createFailure
	// firstSynced latches once Config.OnFirstSync was called.
	firstSynced bool

	pub publication
}

func newWorker(m *Manager, pod *v1.Pod, orphan bool) *worker {
	key := types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name}.String()
	return &worker{
		m:         m,
		uid:       pod.UID,
		podKey:    key,
		log:       m.log.With(podFields(pod.Namespace, pod.Name, pod.UID)...),
		wakeCh:    make(chan struct{}, 1),
		pod:       pod,
		orphan:    orphan,
		crash:     newBackoff(m.cfg.BackoffInitial, m.cfg.BackoffMax),
		images:    newBackoff(defaultBackoffInitial, defaultBackoffMax),
		observer:  newObserver(m.cfg.Runtime, string(pod.UID), m.clock),
		firstSeen: m.clock.Now(),
	}
}

// evictionRequest is a node pressure eviction: the kubelet's signal and
// message.
type evictionRequest struct{ signal, message string }

// requestEviction hands the worker an eviction; false when one is
// pending already.
func (w *worker) requestEviction(signal, message string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.eviction != nil {
		return false
	}
	w.eviction = &evictionRequest{signal: signal, message: message}
	return true
}

// takeEviction latches a pending node pressure eviction: the pod is
// Failed, Evicted, from then on, and the event is recorded once.
func (w *worker) takeEviction(pod *v1.Pod) {
	w.mu.Lock()
	req := w.eviction
	w.mu.Unlock()
	if req == nil || w.evicted != "" {
		return
	}
	w.evicted = req.message
	w.m.metrics.evictions.WithLabelValues(req.signal).Inc()
	w.event(pod, "", v1.EventTypeWarning, reasonEvicted, req.message)
	w.log.Info("pod evicted", zap.String("reason", reasonEvicted), zap.String("signal", req.signal), zap.String("message", req.message))
}

// reclaimEvicted removes the volumes of an evicted pod once nothing of it
// runs, as the kubelet tears down a terminated pod's volumes: the space
// an eviction was for is freed, and the next eviction round does not
// evict another pod for it.
func (w *worker) reclaimEvicted(obs observation) {
	if w.evicted == "" || w.reclaimed || w.orphan {
		return
	}
	for _, c := range obs.Containers {
		if c.State == status.ContainerRunning {
			return
		}
	}
	if len(obs.Sandboxes) > 0 && obs.Sandboxes[0].Ready {
		return
	}
	if err := w.m.cfg.Volumes.Cleanup(w.uid); err != nil {
		w.log.Warn("remove the volumes of the evicted pod", zap.Error(err))
		return
	}
	w.reclaimed = true
	w.log.Info("volumes of the evicted pod removed")
}

// wake asks the worker to sync soon; it never blocks.
func (w *worker) wake() {
	select {
	case w.wakeCh <- struct{}{}:
	default:
	}
}

// requestTerminate asks the worker to stop the pod and exit.
func (w *worker) requestTerminate() {
	w.mu.Lock()
	w.terminate = true
	w.mu.Unlock()
	w.wake()
}

// differs reports whether pod is another version than the worker's.
func (w *worker) differs(pod *v1.Pod) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod != pod && !equality.Semantic.DeepEqual(w.pod, pod)
}

// update hands the worker a new version of its pod (same UID); it syncs
// it at once. An equal version only replaces the pointer, so that the
// next comparison is cheap.
func (w *worker) update(pod *v1.Pod) {
	changed := w.differs(pod)
	w.mu.Lock()
	w.pod = pod
	if changed {
		w.specGen++
	}
	w.mu.Unlock()
	if changed {
		w.wake()
	}
}

func (w *worker) snapshot() (*v1.Pod, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod, w.terminate
}

// interrupted reports whether, since the spec generation gen, the worker
// was told to stop or handed a changed spec.
func (w *worker) interrupted(gen uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.terminate || w.specGen != gen
}

func (w *worker) generation() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.specGen
}

// run syncs the pod at each wake-up until it is told to terminate (then it
// stops the pod and reports to the manager) or ctx ends.
func (w *worker) run(ctx context.Context, done func(*worker)) {
	timer := w.m.clock.NewTimer(w.m.resync())
	defer timer.Stop()
	if w.rejected != nil {
		pod, _ := w.snapshot()
		w.log.Info("pod rejected", zap.String("reason", w.rejected.Reason), zap.String("message", w.rejected.Message))
		w.event(pod, "", v1.EventTypeWarning, w.rejected.Reason, w.rejected.Message)
		w.publishRejected(pod, w.rejected)
		w.firstSyncDone()
	}
	synced, _ := w.snapshot()
	// op is the kubelet's operation_type of the next sync.
	op, syncedGen := operationCreate, w.generation()
	for {
		pod, terminate := w.snapshot()
		if pod != synced {
			w.specChanged(synced, pod)
			synced = pod
		}
		if gen := w.generation(); gen != syncedGen {
			op, syncedGen = operationUpdate, gen
		}
		if terminate {
			began := w.m.clock.Now()
			stopped := w.terminatePod(ctx, pod)
			w.m.metrics.workerDuration.WithLabelValues(operationKill).Observe(w.m.clock.Since(began).Seconds())
			if stopped {
				done(w)
			}
			return
		}
		resync := w.m.resync()
		next := resync
		if w.rejected == nil {
			began := w.m.clock.Now()
			next = w.sync(ctx, pod)
			w.m.metrics.workerDuration.WithLabelValues(op).Observe(w.m.clock.Since(began).Seconds())
			op = operationSync
			if ctx.Err() == nil {
				w.firstSyncDone()
			}
		}
		if next <= 0 || next > resync {
			next = resync
		}
		if d := w.nextMeasurement(pod); d > 0 && d < next {
			next = d
		}
		timers.Reset(timer, next)
		select {
		case <-ctx.Done():
			return
		case <-w.wakeCh:
		case <-timer.C():
		}
	}
}

// firstSyncDone tells Config.OnFirstSync, once, that the pod had its
// first start attempt.
func (w *worker) firstSyncDone() {
	if w.firstSynced || w.orphan {
		return
	}
	w.firstSynced = true
	if f := w.m.cfg.OnFirstSync; f != nil {
		f(w.uid)
	}
}

// specChanged forgets what the worker holds against containers whose spec
// changed: as the kubelet, whose restart backoff is keyed by the
// container's hash, a fixed spec starts at once, and a container that
// could not be created is tried again at once.
func (w *worker) specChanged(old, pod *v1.Pod) {
	var changed []string
	for _, list := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			c := &list[i]
			if before := containerSpec(old, c.Name); before != nil && containerHash(before) == containerHash(c) {
				continue
			}
			changed = append(changed, c.Name)
			w.crash.forget(c.Name)
			delete(w.createFailures, c.Name)
		}
	}
	if len(changed) > 0 {
		w.log.Info("pod spec updated", zap.Strings("changedContainers", changed))
	}
}

// observe reads the pod's runtime objects as one view with the exits the
// CRI has not recorded yet, and tells the relister what it saw.
func (w *worker) observe(ctx context.Context) (observation, error) {
	obs, err := w.observer.observe(ctx, w.m.relister.pendingExits())
	if err == nil {
		w.m.relister.observed(w.uid, obs)
	}
	return obs, err
}

// maxRounds bounds the rounds of one sync: a plan that went through is
// followed at once by the next one (the next init container after the one
// just started), without waiting for the relist to report the worker's own
// changes.
const maxRounds = 8

// sync observes, decides, publishes what is known before acting, acts and
// settles, and repeats while each plan went through, then publishes the
// last view. It returns when it wants to run again.
func (w *worker) sync(ctx context.Context, pod *v1.Pod) time.Duration {
	obs, err := w.observe(ctx)
	if err != nil {
		w.log.Warn("observe pod", zap.Error(err))
		return retryInterval
	}
	if w.startTime.IsZero() {
		w.startTime = podStartTime(obs, w.m.clock.Now())
		w.seedBackoff(pod, obs)
	}
	w.takeEviction(pod)
	w.measureStorageIfDue(ctx, pod, obs)
	gen := w.generation()
	for round := 1; ; round++ {
		if w.interrupted(gen) {
			// Told to stop, or handed a new spec, while acting: the run
			// loop takes it at once (the wake-up is pending).
			return 0
		}
		w.syncProbes(pod, obs)
		now := w.m.clock.Now()
		acts := computeActions(decisionInput{
			Pod:              pod,
			Observed:         obs,
			CrashBackoff:     w.crash,
			ImageBackoff:     w.images,
			Now:              now,
			StartTime:        w.startTime,
			Probes:           w.probeVerdicts(obs),
			DeadlineReported: w.deadlineReported,
			CreateFailures:   w.createFailures,
			Storage:          w.storage,
			Evicted:          w.evicted,
		})
		for _, e := range acts.Events {
			w.event(pod, e.Container, e.Type, e.Reason, e.Message)
		}
		w.publish(pod, obs, withReasons(acts.Waiting, w.reasons, obs), podRunning)
		w.reasons = nextReasons(w.reasons, &acts, applyResult{}, outcome{Waiting: acts.Waiting})
		if !acts.acts() {
			w.deadlineReported = w.deadlineReported || acts.DeadlineExceeded
			w.latchEviction(&acts)
			w.refreshVolumes(pod, &acts)
			w.reclaimEvicted(obs)
			return acts.Wake
		}
		res := w.apply(ctx, pod, obs, &acts)
		if res.Err != nil && ctx.Err() == nil {
			w.log.Warn("sync pod", zap.Error(res.Err))
		}
		// The pod shows Failed once its containers were stopped.
		w.deadlineReported = w.deadlineReported || acts.DeadlineExceeded
		w.latchEviction(&acts)
		out := settle(&acts, res, w.images, w.m.clock.Now())
		w.reasons = nextReasons(w.reasons, &acts, res, out)
		w.createFailures = nextCreateFailures(w.createFailures, &acts, out, w.m.clock.Now())
		for _, name := range out.Restarted {
			w.crash.next(name, now)
		}
		for _, image := range out.FailedPulls {
			w.images.next(image, w.m.clock.Now())
		}
		fresh, err := w.observe(ctx)
		if err != nil {
			w.log.Warn("observe pod", zap.Error(err))
			return retryInterval
		}
		obs = fresh
		if round == maxRounds && out.clean() {
			w.wake() // more to do: go on after the others had a turn
		}
		if ctx.Err() != nil || !out.clean() || round == maxRounds {
			w.syncProbes(pod, obs)
			w.publish(pod, obs, withReasons(out.Waiting, w.reasons, obs), podRunning)
			return out.Wake
		}
	}
}

// measureStorageIfDue measures the pod's local storage when it has a
// limit to enforce and the last measurement is evictionMonitoringPeriod
// old: a pod without one costs nothing.
func (w *worker) measureStorageIfDue(ctx context.Context, pod *v1.Pod, obs observation) {
	if w.orphan || w.evicted != "" || !hasLocalStorageLimit(pod) {
		w.storage, w.measuredAt = nil, time.Time{}
		return
	}
	now := w.m.clock.Now()
	if !w.measuredAt.IsZero() && now.Sub(w.measuredAt) < evictionMonitoringPeriod {
		return
	}
	w.storage, w.measuredAt = w.measureStorage(ctx, pod, obs), now
}

// nextMeasurement is how long until the pod's local storage is due to be
// measured again; zero when it is not measured.
func (w *worker) nextMeasurement(pod *v1.Pod) time.Duration {
	if w.measuredAt.IsZero() || w.evicted != "" || !hasLocalStorageLimit(pod) {
		return 0
	}
	return w.measuredAt.Add(evictionMonitoringPeriod).Sub(w.m.clock.Now())
}

// latchEviction keeps the plan's eviction: the pod stays Failed and its
// Evicted event is not recorded again.
func (w *worker) latchEviction(acts *podActions) {
	if acts.Evicted != "" && w.evicted == "" {
		w.evicted = acts.Evicted
		w.m.metrics.evictions.WithLabelValues(acts.EvictionSignal).Inc()
		w.log.Info("pod evicted", zap.String("reason", reasonEvicted), zap.String("message", acts.Evicted))
	}
}

// syncProbes hands the pod's running containers to the probes: new
// instances get fresh probe workers, gone ones lose theirs.
func (w *worker) syncProbes(pod *v1.Pod, obs observation) {
	if w.m.probes == nil || w.orphan {
		return
	}
	var targets []probes.Target
	podIP := firstIP(w.podIPs(pod, obs))
	for _, c := range obs.Containers {
		if c.State != status.ContainerRunning {
			continue
		}
		spec := containerSpec(pod, c.Name)
		if spec == nil {
			continue
		}
		targets = append(targets, probes.Target{
			PodUID:      pod.UID,
			PodName:     pod.Name,
			Namespace:   pod.Namespace,
			PodIP:       podIP,
			HostNetwork: pod.Spec.HostNetwork,
			Container:   spec,
			ContainerID: c.ID,
			StartedAt:   c.StartedAt,
		})
	}
	w.m.probes.Sync(pod.UID, targets)
}

// probeVerdicts pulls what the probes say of each running container, as
// the kubelet's pod sync reads its liveness and startup managers.
func (w *worker) probeVerdicts(obs observation) map[string]probeVerdict {
	if w.m.probes == nil {
		return nil
	}
	out := map[string]probeVerdict{}
	for _, c := range obs.Containers {
		if c.State != status.ContainerRunning {
			continue
		}
		v := probeVerdict{Started: true}
		if r, ok := w.m.probes.Result(c.ID, probes.Startup); ok {
			v.Started = r == probes.Success
			if r == probes.Failure {
				v.Failed, v.FailedKind = true, probes.Startup
			}
		}
		if r, ok := w.m.probes.Result(c.ID, probes.Liveness); ok && r == probes.Failure {
			v.Failed, v.FailedKind = true, probes.Liveness
		}
		out[c.ID] = v
	}
	return out
}

// seedBackoff rebuilds the restart backoff of containers that already
// restarted, from what containerd recorded, so a restart of the daemon
// does not reset a crash loop (the kubelet forgets it).
func (w *worker) seedBackoff(pod *v1.Pod, obs observation) {
	for name, latest := range backoffSeeds(pod, obs.Containers) {
		w.crash.seed(name, int(latest.RestartCount), latest.CreatedAt)
	}
}

// backoffSeeds returns, per container name, the latest instance to seed
// the crash backoff from: one that restarted before and ran the spec's
// current definition. An instance of an older definition was killed for
// the change (the daemon may have died between the kill and the start):
// the kubelet keys the backoff by the definition's hash, so the new
// definition starts at once.
func backoffSeeds(pod *v1.Pod, containers []containerRecord) map[string]containerRecord {
	hashes := map[string]string{}
	for _, list := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			hashes[list[i].Name] = containerHash(&list[i])
		}
	}
	out := map[string]containerRecord{}
	for name, instances := range latestByName(containers) {
		latest := instances[0]
		if latest.RestartCount > 0 && latest.Hash == hashes[name] {
			out[name] = latest
		}
	}
	return out
}

func (w *worker) event(pod *v1.Pod, container, eventType, reason, message string) {
	if w.m.cfg.Events == nil || w.orphan {
		return
	}
	fieldPath := ""
	if container != "" {
		fieldPath = status.ContainerFieldPath(pod, container)
	}
	w.m.cfg.Events.Record(pod, fieldPath, eventType, reason, message, w.m.clock.Now())
}

// podIPs are the addresses the pod shows: its sandbox's, or the node's for
// a host-network pod; nil without a ready sandbox.
func (w *worker) podIPs(pod *v1.Pod, obs observation) []string {
	if len(obs.Sandboxes) == 0 || !obs.Sandboxes[0].Ready {
		return nil
	}
	return w.podAddresses(pod, obs.Sandboxes[0].IPs)
}

// podAddresses are the addresses of a pod whose sandbox has sandboxIPs, as
// its status, env fieldRefs, hooks and hosts file see them: the node's for
// a host-network pod, whose sandbox the runtime gives no address. As the
// kubelet's SyncPod (pkg/kubelet/kubelet.go), which puts the host IPs
// generateAPIPodStatus reports into the pod status it hands the runtime
// manager (kubernetes issue 24576).
func (w *worker) podAddresses(pod *v1.Pod, sandboxIPs []string) []string {
	if pod.Spec.HostNetwork {
		return []string{w.m.cfg.HostIP}
	}
	return sandboxIPs
}

// podStartTime is when the pod first started: its oldest sandbox's creation,
// so that it survives a restart of the daemon.
func podStartTime(obs observation, now time.Time) time.Time {
	start := now
	for _, s := range obs.Sandboxes {
		if !s.CreatedAt.IsZero() && s.CreatedAt.Before(start) {
			start = s.CreatedAt
		}
	}
	return start
}

// podGracePeriod is the pod's termination grace period in seconds.
func podGracePeriod(pod *v1.Pod) int64 {
	if pod.Spec.TerminationGracePeriodSeconds == nil {
		return v1.DefaultTerminationGracePeriodSeconds
	}
	return *pod.Spec.TerminationGracePeriodSeconds
}

func sandboxIPs(obs observation, id string) []string {
	for _, s := range obs.Sandboxes {
		if s.ID == id {
			return s.IPs
		}
	}
	return nil
}

// firstSandboxIPs are the addresses of the pod's newest sandbox.
func firstSandboxIPs(obs observation) []string {
	if len(obs.Sandboxes) > 0 {
		return obs.Sandboxes[0].IPs
	}
	return nil
}

func firstIP(ips []string) string {
	if len(ips) > 0 {
		return ips[0]
	}
	return ""
}
