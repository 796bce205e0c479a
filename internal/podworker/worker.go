package podworker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/sandbox"
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
	// orphan is true for a pod found in the runtime with no manifest: it is
	// only ever stopped, and never shown.
	orphan bool

	backoff    *backoff
	observer   *observer
	startTime  time.Time
	lastStatus *v1.PodStatus
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

func (w *worker) snapshot() (*v1.Pod, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod, w.terminate
}

func (w *worker) run(ctx context.Context) {
	defer close(w.done)
	timer := w.m.clock.NewTimer(w.m.cfg.ResyncInterval)
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
		if next <= 0 || next > w.m.cfg.ResyncInterval {
			next = w.m.cfg.ResyncInterval
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
	}
	acts := computeActions(decisionInput{Pod: pod, Observed: obs, Backoff: w.backoff, Now: now})
	acted, err := w.apply(ctx, pod, obs, &acts)
	if err != nil && ctx.Err() == nil {
		w.log.Warn("sync pod", zap.Error(err))
		if acts.Wake == 0 || acts.Wake > retryInterval {
			acts.Wake = retryInterval
		}
	}
	if acted {
		if fresh, err := w.observer.observe(ctx); err == nil {
			obs = fresh
		}
	}
	w.publish(pod, obs, acts.Waiting, false)
	return acts.Wake
}

// apply carries out the actions and reports whether it changed anything in
// the runtime. Errors of single containers become waiting reasons; the
// returned error is for what stops the whole sync.
func (w *worker) apply(ctx context.Context, pod *v1.Pod, obs observation, acts *podActions) (bool, error) {
	acted := false
	grace := podGracePeriod(pod)
	if acts.KillPod {
		acted = true
		if err := w.killPod(ctx, obs, grace); err != nil {
			return acted, err
		}
	}
	for _, k := range acts.Kills {
		acted = true
		w.log.Info("killing container", zap.String("container", k.Name), zap.String("containerID", k.ID), zap.String("reason", k.Message))
		if err := w.m.cfg.Runtime.StopContainer(ctx, k.ID, grace); err != nil && !runtime.IsNotFound(err) {
			return acted, fmt.Errorf("stop container %q: %w", k.Name, err)
		}
	}
	for _, id := range acts.Removes {
		acted = true
		if err := w.m.cfg.Runtime.RemoveContainer(ctx, id); err != nil && !runtime.IsNotFound(err) {
			w.log.Warn("remove dead container", zap.String("containerID", id), zap.Error(err))
		}
	}
	if len(acts.Starts) == 0 {
		return acted, nil
	}
	sandboxID := acts.SandboxID
	sandboxCfg := sandbox.Config(pod, acts.SandboxAttempt, w.m.cfg.Sandbox)
	podIPs := sandboxIPs(obs, sandboxID)
	if acts.CreateSandbox {
		acted = true
		id, ips, err := w.createSandbox(ctx, pod, sandboxCfg)
		if err != nil {
			for _, s := range acts.Starts {
				acts.Waiting[s.Container.Name] = status.Waiting{Reason: status.ReasonContainerCreating}
			}
			return acted, err
		}
		sandboxID, podIPs = id, ips
	}
	pc := podContext{Pod: pod, PodIPs: podIPs, HostIP: w.m.cfg.HostIP, Sandbox: sandboxCfg}
	for _, s := range acts.Starts {
		acted = true
		if s.Restart {
			w.backoff.next(s.Container.Name, w.m.clock.Now())
		}
		if waiting, err := w.startContainer(ctx, pc, sandboxID, s); err != nil {
			acts.Waiting[s.Container.Name] = waiting
			w.log.Warn("start container", zap.String("container", s.Container.Name), zap.String("reason", waiting.Reason), zap.Error(err))
			// Retry through the backoff, as the kubelet does.
			w.backoff.next(s.Container.Name, w.m.clock.Now())
			if acts.Wake == 0 || acts.Wake > retryInterval {
				acts.Wake = retryInterval
			}
		}
	}
	return acted, nil
}

func (w *worker) createSandbox(ctx context.Context, pod *v1.Pod, cfg *runtimeapi.PodSandboxConfig) (string, []string, error) {
	if err := os.MkdirAll(cfg.LogDirectory, 0o755); err != nil {
		return "", nil, fmt.Errorf("create pod log directory: %w", err)
	}
	start := w.m.clock.Now()
	id, err := w.m.cfg.Runtime.RunPodSandbox(ctx, cfg, "")
	if err != nil {
		return "", nil, fmt.Errorf("%s: create pod sandbox: %w", reasonCreatePodSandboxErr, err)
	}
	ips, err := w.observer.sandboxAddresses(ctx, id)
	if err != nil {
		return "", nil, err
	}
	w.log.Info("sandbox started", zap.String("sandboxID", id), zap.Strings("ips", ips),
		zap.Uint32("attempt", cfg.Metadata.Attempt), zap.Duration("took", w.m.clock.Since(start)))
	return id, ips, nil
}

// startContainer makes and starts one container instance. On failure it
// returns the waiting reason the container shows.
func (w *worker) startContainer(ctx context.Context, pc podContext, sandboxID string, s containerStart) (status.Waiting, error) {
	c := s.Container
	log := w.log.With(zap.String("container", c.Name))
	image, waiting, err := w.ensureImage(ctx, c, pc.Sandbox)
	if err != nil {
		return waiting, err
	}
	if err := os.MkdirAll(logDirOf(pc.Sandbox, c.Name), 0o755); err != nil {
		return status.Waiting{Reason: reasonCreateContainerError, Message: err.Error()}, err
	}
	cfg, err := containerConfig(pc, c, s.Init, s.RestartCount, image)
	if err != nil {
		return status.Waiting{Reason: reasonCreateContainerError, Message: err.Error()}, err
	}
	id, err := w.m.cfg.Runtime.CreateContainer(ctx, sandboxID, cfg, pc.Sandbox)
	if err != nil {
		return status.Waiting{Reason: reasonCreateContainerError, Message: runtime.Message(err)}, fmt.Errorf("create container: %w", err)
	}
	if err := w.m.cfg.Runtime.StartContainer(ctx, id); err != nil {
		return status.Waiting{Reason: reasonRunContainerError, Message: runtime.Message(err)}, fmt.Errorf("start container %s: %w", id, err)
	}
	log.Info("container started", zap.String("containerID", id), zap.Int32("restartCount", s.RestartCount))
	return status.Waiting{}, nil
}

// ensureImage finds the container's image in the runtime, pulling it when
// the pull policy says so, and returns the image reference to create from.
func (w *worker) ensureImage(ctx context.Context, c *v1.Container, sandboxCfg *runtimeapi.PodSandboxConfig) (string, status.Waiting, error) {
	spec := &runtimeapi.ImageSpec{Image: c.Image, UserSpecifiedImage: c.Image}
	present := ""
	if c.ImagePullPolicy != v1.PullAlways {
		img, err := w.m.cfg.Images.ImageStatus(ctx, spec, false)
		if err != nil {
			return "", status.Waiting{Reason: reasonErrImagePull, Message: runtime.Message(err)}, fmt.Errorf("image status of %s: %w", c.Image, err)
		}
		if img.GetImage() != nil {
			present = img.GetImage().GetId()
		}
	}
	if present != "" {
		return present, status.Waiting{}, nil
	}
	if c.ImagePullPolicy == v1.PullNever {
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
		return "", status.Waiting{Reason: reasonErrImageNeverPull, Message: msg}, errors.New(msg)
	}
	ref, err := w.m.cfg.Images.PullImage(ctx, spec, nil, sandboxCfg)
	if err != nil {
		reason := reasonErrImagePull
		if w.backoff.period(c.Name) > 0 {
			reason = reasonImagePullBackOff
		}
		msg := fmt.Sprintf("Failed to pull image %q: %s", c.Image, runtime.Message(err))
		return "", status.Waiting{Reason: reason, Message: msg}, fmt.Errorf("pull image %s: %w", c.Image, err)
	}
	return ref, status.Waiting{}, nil
}

// killPod stops every running container of the pod (app containers in
// parallel first, then init containers and sidecars), then every sandbox.
func (w *worker) killPod(ctx context.Context, obs observation, grace int64) error {
	if err := w.killContainers(ctx, obs, grace); err != nil {
		return err
	}
	for _, s := range obs.Sandboxes {
		if !s.Ready {
			continue
		}
		if err := w.m.cfg.Runtime.StopPodSandbox(ctx, s.ID); err != nil && !runtime.IsNotFound(err) {
			return fmt.Errorf("stop sandbox %s: %w", s.ID, err)
		}
	}
	return nil
}

func (w *worker) killContainers(ctx context.Context, obs observation, grace int64) error {
	var app, init []containerRecord
	for _, c := range obs.Containers {
		if c.State != status.ContainerRunning && c.State != status.ContainerUnknown && c.State != status.ContainerCreated {
			continue
		}
		if c.Init {
			init = append(init, c)
		} else {
			app = append(app, c)
		}
	}
	if err := w.stopParallel(ctx, app, grace); err != nil {
		return err
	}
	// Sidecars stop after the app containers, the last started first.
	for i := len(init) - 1; i >= 0; i-- {
		if err := w.stopParallel(ctx, init[i:i+1], grace); err != nil {
			return err
		}
	}
	return nil
}

func (w *worker) stopParallel(ctx context.Context, containers []containerRecord, grace int64) error {
	errs := make([]error, len(containers))
	var wg sync.WaitGroup
	for i, c := range containers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.log.Info("stopping container", zap.String("container", c.Name), zap.String("containerID", c.ID), zap.Int64("gracePeriod", grace))
			if err := w.m.cfg.Runtime.StopContainer(ctx, c.ID, grace); err != nil && !runtime.IsNotFound(err) {
				errs[i] = fmt.Errorf("stop container %q: %w", c.Name, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// terminatePod stops and removes everything the pod has, retrying until it
// succeeds or ctx ends. It reports whether the pod is gone.
func (w *worker) terminatePod(ctx context.Context, pod *v1.Pod) bool {
	grace := podGracePeriod(pod)
	w.log.Info("stopping pod", zap.Int64("gracePeriod", grace))
	for {
		obs, err := w.observer.observe(ctx)
		if err == nil {
			if !w.orphan {
				w.publish(pod, obs, nil, true)
			}
			err = w.removePod(ctx, pod, obs, grace)
		}
		if err == nil {
			w.m.cfg.Status.Delete(w.uid)
			w.log.Info("pod stopped")
			return true
		}
		w.log.Warn("stop pod", zap.Error(err))
		t := w.m.clock.NewTimer(retryInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C():
		}
	}
}

func (w *worker) removePod(ctx context.Context, pod *v1.Pod, obs observation, grace int64) error {
	if err := w.killPod(ctx, obs, grace); err != nil {
		return err
	}
	for _, s := range obs.Sandboxes {
		if err := w.m.cfg.Runtime.RemovePodSandbox(ctx, s.ID); err != nil && !runtime.IsNotFound(err) {
			return fmt.Errorf("remove sandbox %s: %w", s.ID, err)
		}
	}
	if pod.Name != "" {
		dir := sandbox.LogDirectory(w.m.cfg.Sandbox.PodLogsDir, pod)
		if err := os.RemoveAll(dir); err != nil {
			w.log.Warn("remove pod logs", zap.String("dir", dir), zap.Error(err))
		}
	}
	return nil
}

// publish computes the pod's status and hands it to the status sink.
func (w *worker) publish(pod *v1.Pod, obs observation, waiting map[string]status.Waiting, terminating bool) {
	if w.orphan {
		return
	}
	now := w.m.clock.Now()
	sandboxReady := len(obs.Sandboxes) > 0 && obs.Sandboxes[0].Ready
	var ips []string
	if sandboxReady {
		ips = obs.Sandboxes[0].IPs
		if pod.Spec.HostNetwork {
			ips = []string{w.m.cfg.HostIP}
		}
	}
	records := make([]status.ContainerRecord, 0, len(obs.Containers))
	for _, c := range obs.Containers {
		records = append(records, c.ContainerRecord)
	}
	st := status.Compute(pod, status.Observation{
		SandboxReady: sandboxReady,
		PodIPs:       ips,
		HostIP:       w.m.cfg.HostIP,
		StartTime:    w.startTime,
		Containers:   records,
		Waiting:      waiting,
		Terminating:  terminating,
	}, w.lastStatus, now)
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

// podGracePeriod is the pod's termination grace period in seconds, never
// less than the kubelet's minimum.
func podGracePeriod(pod *v1.Pod) int64 {
	if pod.Spec.TerminationGracePeriodSeconds == nil {
		return v1.DefaultTerminationGracePeriodSeconds
	}
	return max(*pod.Spec.TerminationGracePeriodSeconds, minimumGracePeriod)
}

func sandboxIPs(obs observation, id string) []string {
	for _, s := range obs.Sandboxes {
		if s.ID == id {
			return s.IPs
		}
	}
	return nil
}

func logDirOf(cfg *runtimeapi.PodSandboxConfig, container string) string {
	return cfg.LogDirectory + "/" + container
}
