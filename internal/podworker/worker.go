package podworker

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minikubelet/minikubelet/internal/probes"
	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/status"
)

const (
	// minimumGracePeriod is the least time the runtime is given to stop a
	// container, as the kubelet's minimumGracePeriodInSeconds.
	minimumGracePeriod = int64(2)
	// retryInterval paces a sync that failed on a runtime error.
	retryInterval = time.Second
)

// worker drives one pod. Its goroutine owns every field below mu; mu
// guards what other goroutines hand it.
type worker struct {
	m      *Manager
	uid    types.UID
	podKey string
	log    *zap.Logger
	wakeCh chan struct{}
	done   chan struct{}

	mu        sync.Mutex
	pod       *v1.Pod
	terminate bool
	// unhealthy holds containers a probe wants restarted, by container ID.
	unhealthy map[string]unhealthy
	// orphan is true for a pod found in the runtime with no manifest: it is
	// only ever stopped, and never shown.
	orphan bool

	backoff    *backoff
	observer   *observer
	startTime  time.Time
	lastStatus *v1.PodStatus
	lastIPs    []string
	// deadlineExceeded latches once activeDeadlineSeconds passed.
	deadlineExceeded bool
}

func newWorker(m *Manager, pod *v1.Pod, orphan bool) *worker {
	key := pod.Namespace + "/" + pod.Name
	return &worker{
		m:        m,
		uid:      pod.UID,
		podKey:   key,
		log:      m.log.With(zap.String("pod", key), zap.String("uid", string(pod.UID))),
		wakeCh:   make(chan struct{}, 1),
		done:     make(chan struct{}),
		pod:      pod,
		orphan:   orphan,
		backoff:  newBackoff(m.cfg.BackoffInitial, m.cfg.BackoffMax),
		observer: newObserver(m.cfg.Runtime, string(pod.UID)),
	}
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

func (w *worker) markUnhealthy(containerID string, u unhealthy) {
	w.mu.Lock()
	if w.unhealthy == nil {
		w.unhealthy = map[string]unhealthy{}
	}
	w.unhealthy[containerID] = u
	w.mu.Unlock()
}

// takeUnhealthy returns the containers to restart for their probes, and
// forgets those no longer running.
func (w *worker) takeUnhealthy(obs observation) map[string]unhealthy {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]unhealthy{}
	for id, u := range w.unhealthy {
		if rec, ok := findRecord(obs, id); ok && rec.State == status.ContainerRunning {
			out[id] = u
		} else {
			delete(w.unhealthy, id)
		}
	}
	return out
}

func (w *worker) snapshot() (*v1.Pod, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod, w.terminate
}

func (w *worker) run(ctx context.Context) {
	defer close(w.done)
	timer := w.m.clock.NewTimer(workerResync)
	defer timer.Stop()
	for {
		pod, terminate := w.snapshot()
		if terminate {
			if w.terminatePod(ctx, pod) {
				w.m.workerDone(w)
			}
			return
		}
		next := w.sync(ctx, pod)
		if next <= 0 || next > workerResync {
			next = workerResync
		}
		if !timer.Stop() {
			select {
			case <-timer.C():
			default:
			}
		}
		timer.Reset(next)
		select {
		case <-ctx.Done():
			return
		case <-w.wakeCh:
		case <-timer.C():
		}
	}
}

// sync runs one round of observe, decide, act, publish, and returns when it
// wants to run again.
func (w *worker) sync(ctx context.Context, pod *v1.Pod) time.Duration {
	obs, err := w.observer.observe(ctx)
	if err != nil {
		w.log.Warn("observe pod", zap.Error(err))
		return retryInterval
	}
	now := w.m.clock.Now()
	if w.startTime.IsZero() {
		w.startTime = podStartTime(obs, now)
		w.seedBackoff(obs)
	}
	// Decisions take exits containerd reported before its CRI plugin
	// recorded them (a restart need not wait); the status shows the CRI's
	// record, with the exit code and termination message, once it has it.
	decided := withExits(obs, w.m.exitsNotYetInCRI())
	w.syncProbes(pod, obs)
	acts := computeActions(decisionInput{
		Pod:       pod,
		Observed:  decided,
		Backoff:   w.backoff,
		Now:       now,
		StartTime: w.startTime,
		Unhealthy: w.takeUnhealthy(decided),
		Started:   w.startedContainers(decided),
	})
	if acts.DeadlineExceeded && !w.deadlineExceeded {
		w.deadlineExceeded = true
		w.event(pod, "", v1.EventTypeWarning, reasonDeadlineExceeded, messageDeadlineExceeded)
	}
	acted, err := w.apply(ctx, pod, decided, &acts)
	if err != nil && ctx.Err() == nil {
		w.log.Warn("sync pod", zap.Error(err))
		if acts.Wake == 0 || acts.Wake > retryInterval {
			acts.Wake = retryInterval
		}
	}
	if acted {
		if fresh, err := w.observer.observe(ctx); err == nil {
			obs = fresh
			w.syncProbes(pod, obs)
		}
	}
	st := w.publish(pod, obs, acts.Waiting, false)
	if isTerminal(st.Phase) && anyReady(obs.Sandboxes) && !anyRunning(obs.Containers) {
		// As the kubelet: a pod that has finished gives back its sandbox
		// (and IP); its containers stay for their logs.
		w.stopSandboxes(ctx, obs)
	}
	if acts.DeadlineExceeded {
		return 0
	}
	if d := pod.Spec.ActiveDeadlineSeconds; d != nil {
		// Wake when the deadline passes.
		until := w.startTime.Add(time.Duration(*d) * time.Second).Sub(now)
		if until > 0 && (acts.Wake == 0 || until < acts.Wake) {
			acts.Wake = until
		}
	}
	return acts.Wake
}

// withExits marks containers as exited that containerd said exited but
// its CRI plugin still shows running, so a restart does not wait for the
// CRI to catch up. The CRI's own record replaces this at the next observe.
func withExits(obs observation, exits map[string]runtime.Exit) observation {
	if len(exits) == 0 {
		return obs
	}
	containers := make([]containerRecord, len(obs.Containers))
	copy(containers, obs.Containers)
	for i, c := range containers {
		e, ok := exits[c.ID]
		if !ok || c.State != status.ContainerRunning {
			continue
		}
		c.State = status.ContainerExited
		c.ExitCode = e.ExitCode
		c.FinishedAt = e.ExitedAt
		c.Reason = status.ReasonError
		if e.ExitCode == 0 {
			c.Reason = status.ReasonCompleted
		}
		containers[i] = c
	}
	obs.Containers = containers
	return obs
}

// syncProbes hands the pod's running containers to the probes: new
// instances get fresh probe workers, gone ones lose theirs.
func (w *worker) syncProbes(pod *v1.Pod, obs observation) {
	if w.m.cfg.Probes == nil || w.orphan {
		return
	}
	var targets []probes.Target
	var podIP string
	if len(obs.Sandboxes) > 0 && obs.Sandboxes[0].Ready {
		podIP = firstIP(obs.Sandboxes[0].IPs)
		if pod.Spec.HostNetwork {
			podIP = w.m.cfg.HostIP
		}
	}
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
	w.m.cfg.Probes.Sync(pod.UID, targets)
}

// startedContainers says, for each running container, whether its startup
// probe (if any) has succeeded.
func (w *worker) startedContainers(obs observation) map[string]bool {
	out := map[string]bool{}
	for _, c := range obs.Containers {
		if c.State == status.ContainerRunning {
			out[c.ID] = w.m.cfg.Probes == nil || w.m.cfg.Probes.Started(c.ID)
		}
	}
	return out
}

// seedBackoff rebuilds the restart backoff of containers that already
// restarted, from what containerd recorded, so a restart of the daemon
// does not reset a crash loop (the kubelet forgets it).
func (w *worker) seedBackoff(obs observation) {
	for name, instances := range latestByName(obs.Containers) {
		latest := instances[0]
		if latest.RestartCount > 0 {
			w.backoff.seed(name, int(latest.RestartCount), latest.CreatedAt)
		}
	}
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

// publish computes the pod's status, hands it to the status sink and
// returns it.
func (w *worker) publish(pod *v1.Pod, obs observation, waiting map[string]status.Waiting, terminating bool) v1.PodStatus {
	if w.orphan {
		return v1.PodStatus{}
	}
	now := w.m.clock.Now()
	sandboxReady := len(obs.Sandboxes) > 0 && obs.Sandboxes[0].Ready
	ips := w.lastIPs
	if sandboxReady {
		ips = obs.Sandboxes[0].IPs
		if pod.Spec.HostNetwork {
			ips = []string{w.m.cfg.HostIP}
		}
		w.lastIPs = ips
	}
	records := make([]status.ContainerRecord, 0, len(obs.Containers))
	ready, started := map[string]bool{}, map[string]bool{}
	for _, c := range obs.Containers {
		records = append(records, c.ContainerRecord)
		if c.State == status.ContainerRunning && w.m.cfg.Probes != nil {
			ready[c.Name] = w.m.cfg.Probes.Ready(c.ID)
			started[c.Name] = w.m.cfg.Probes.Started(c.ID)
		}
	}
	o := status.Observation{
		SandboxReady: sandboxReady,
		PodIPs:       ips,
		HostIP:       w.m.cfg.HostIP,
		StartTime:    w.startTime,
		Containers:   records,
		Waiting:      waiting,
		Ready:        ready,
		Started:      started,
		Terminating:  terminating,
	}
	if w.deadlineExceeded {
		o.Failed, o.Reason, o.Message = true, reasonDeadlineExceeded, messageDeadlineExceeded
	}
	st := status.Compute(pod, o, w.lastStatus, now)
	w.lastStatus = &st
	out := pod.DeepCopy()
	out.Status = st
	if out.CreationTimestamp.IsZero() {
		out.CreationTimestamp = metav1.NewTime(w.startTime)
	}
	if terminating {
		ts := metav1.NewTime(now)
		grace := podGracePeriod(pod)
		out.DeletionTimestamp = &ts
		out.DeletionGracePeriodSeconds = &grace
	}
	w.m.cfg.Status.Set(out)
	return st
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

func isTerminal(p v1.PodPhase) bool {
	return p == v1.PodSucceeded || p == v1.PodFailed
}

func sandboxIPs(obs observation, id string) []string {
	for _, s := range obs.Sandboxes {
		if s.ID == id {
			return s.IPs
		}
	}
	return nil
}
