package podworker

import (
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minikubelet/minikubelet/internal/status"
)

// podStage is where a pod is in its life, for its status.
type podStage int

const (
	// podRunning: the pod should run.
	podRunning podStage = iota
	// podTerminating: the pod is being stopped (deletionTimestamp set).
	podTerminating
	// podTerminated: every container of the pod has stopped for good.
	podTerminated
)

// publication is what a worker last published, so that a probe's news can
// be shown at once, even while the worker is busy acting (a postStart
// hook, a grace period): the kubelet's prober updates the status manager
// directly.
type publication struct {
	mu         sync.Mutex
	pod        *v1.Pod
	obs        observation
	waiting    map[string]status.Waiting
	stage      podStage
	lastStatus *v1.PodStatus
	// lastIPs are the pod's addresses as last seen with a ready sandbox:
	// a finished pod keeps showing them.
	lastIPs []string
	// deletedAt is when termination began.
	deletedAt time.Time
	// startObserved latches once the pod's start was counted in
	// kubelet_pod_start_duration_seconds.
	startObserved bool
	// startTime is the worker's, as of the last publish; failReason and
	// failMessage say why the pod is Failed (deadline, eviction), if it is.
	startTime               time.Time
	failReason, failMessage string
	// deleted is set once the pod's status was deleted.
	deleted bool
}

// publish computes the pod's status from one observation and hands it to
// the status sink.
func (w *worker) publish(pod *v1.Pod, obs observation, waiting map[string]status.Waiting, stage podStage) {
	if w.orphan {
		return
	}
	p := &w.pub
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pod, p.obs, p.waiting = pod, obs, waiting
	if stage != podRunning && p.deletedAt.IsZero() {
		p.deletedAt = w.m.clock.Now()
	}
	p.stage = stage
	p.startTime = w.startTime
	switch {
	case w.shutdown != nil:
		p.failReason, p.failMessage = w.shutdown.reason, w.shutdown.message
	case w.evicted != "":
		p.failReason, p.failMessage = reasonEvicted, w.evicted
	case w.deadlineReported:
		p.failReason, p.failMessage = reasonDeadlineExceeded, messageDeadlineExceeded
	}
	if p.startTime.IsZero() {
		p.startTime = w.m.clock.Now()
	}
	w.publishLocked()
}

// republish publishes again what was last published, with the probes'
// latest results; nothing once the pod's status was deleted.
func (w *worker) republish() {
	p := &w.pub
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pod != nil && !p.deleted {
		w.publishLocked()
	}
}

// unpublish deletes the pod's status for good: a probe's late news must
// not bring it back.
func (w *worker) unpublish() {
	p := &w.pub
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deleted = true
	w.m.cfg.Status.Delete(w.uid)
}

func (w *worker) publishLocked() {
	p := &w.pub
	pod, obs := p.pod, p.obs
	now := w.m.clock.Now()
	if ips := w.podIPs(pod, obs); ips != nil {
		p.lastIPs = ips
	}
	records := make([]status.ContainerRecord, 0, len(obs.Containers))
	ready, started := map[string]bool{}, map[string]bool{}
	for _, c := range obs.Containers {
		records = append(records, c.ContainerRecord)
		if c.State == status.ContainerRunning && w.m.probes != nil {
			ready[c.Name] = w.m.probes.Ready(c.ID)
			started[c.Name] = w.m.probes.Started(c.ID)
		}
	}
	o := status.Observation{
		SandboxReady: len(obs.Sandboxes) > 0 && obs.Sandboxes[0].Ready,
		PodIPs:       p.lastIPs,
		HostIP:       w.m.cfg.HostIP,
		StartTime:    p.startTime,
		Containers:   records,
		Waiting:      p.waiting,
		Ready:        ready,
		Started:      started,
		Terminating:  p.stage != podRunning,
		Terminated:   p.stage == podTerminated,
	}
	if p.failReason != "" {
		o.Failed, o.Reason, o.Message = true, p.failReason, p.failMessage
	}
	st := status.Compute(pod, o, p.lastStatus, now)
	if st.Phase == v1.PodRunning && !p.startObserved {
		// As the kubelet's SyncPod: the time from first seeing the pod to
		// its running, once.
		p.startObserved = true
		w.m.metrics.startDuration.Observe(now.Sub(w.firstSeen).Seconds())
	}
	p.lastStatus = &st
	out := pod.DeepCopy()
	out.Status = st
	if out.CreationTimestamp.IsZero() {
		out.CreationTimestamp = metav1.NewTime(o.StartTime)
	}
	if !p.deletedAt.IsZero() {
		ts := metav1.NewTime(p.deletedAt)
		grace := podGracePeriod(pod)
		out.DeletionTimestamp = &ts
		out.DeletionGracePeriodSeconds = &grace
	}
	w.m.cfg.Status.Set(out)
}

// finished reports whether the pod's last status is Succeeded or Failed.
func (w *worker) finished() bool {
	p := &w.pub
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastStatus != nil && (p.lastStatus.Phase == v1.PodSucceeded || p.lastStatus.Phase == v1.PodFailed)
}
