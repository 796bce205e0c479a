package podworker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/sandbox"
	"github.com/minikubelet/minikubelet/internal/status"
	"github.com/minikubelet/minikubelet/internal/volumes"
)

// Event reasons, as the kubelet records them.
const (
	eventPulled                 = "Pulled"
	eventCreated                = "Created"
	eventStarted                = "Started"
	eventFailed                 = "Failed"
	eventBackOff                = "BackOff"
	eventKilling                = "Killing"
	eventFailedCreatePodSandbox = "FailedCreatePodSandBox"
	eventSandboxChanged         = "SandboxChanged"
	eventFailedPostStartHook    = "FailedPostStartHook"
	eventFailedPreStopHook      = "FailedPreStopHook"
	eventErrImageNeverPull      = "ErrImageNeverPull"
)

// apply carries out the actions and reports whether it changed anything in
// the runtime. Errors of single containers become waiting reasons; the
// returned error is for what stops the whole sync.
func (w *worker) apply(ctx context.Context, pod *v1.Pod, obs observation, acts *podActions) (bool, error) {
	acted := false
	podIPs := sandboxIPs(obs, acts.SandboxID)
	if acts.KillPod {
		acted = true
		if len(obs.Sandboxes) > 0 {
			w.event(pod, "", v1.EventTypeNormal, eventSandboxChanged, "Pod sandbox changed, it will be killed and re-created.")
		}
		if err := w.killPod(ctx, pod, obs, podIPs); err != nil {
			return acted, err
		}
	}
	if len(acts.Kills) > 0 {
		acted = true
		if err := w.killListed(ctx, pod, obs, acts.Kills, podIPs); err != nil {
			return acted, err
		}
	}
	for _, id := range acts.Removes {
		acted = true
		w.removeContainer(ctx, obs, id)
	}
	for _, id := range acts.RemoveSandboxes {
		acted = true
		if err := w.m.cfg.Runtime.RemovePodSandbox(ctx, id); err != nil && !runtime.IsNotFound(err) {
			w.log.Warn("remove old sandbox", zap.String("sandboxID", id), zap.Error(err))
		}
	}
	for name, wt := range acts.Waiting {
		if wt.Reason == reasonCrashLoopBackOff {
			w.event(pod, name, v1.EventTypeWarning, eventBackOff, fmt.Sprintf("Back-off restarting failed container %s in pod %s", name, podDescription(pod)))
		}
	}
	if len(acts.Starts) == 0 {
		return acted, nil
	}
	sandboxID := acts.SandboxID
	sandboxCfg := sandbox.Config(pod, acts.SandboxAttempt, w.m.cfg.Sandbox)
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
	vols, err := w.m.cfg.Volumes.Setup(pod)
	if err != nil {
		for _, s := range acts.Starts {
			acts.Waiting[s.Container.Name] = status.Waiting{Reason: reasonCreateContainerError, Message: err.Error()}
		}
		w.event(pod, "", v1.EventTypeWarning, "FailedMount", err.Error())
		return acted, fmt.Errorf("set up volumes: %w", err)
	}
	pc := podContext{Pod: pod, PodIPs: podIPs, HostIP: w.m.cfg.HostIP, Sandbox: sandboxCfg, Volumes: vols}
	for _, s := range acts.Starts {
		acted = true
		if s.Restart {
			w.backoff.next(s.Container.Name, w.m.clock.Now())
		}
		if waiting, err := w.startContainer(ctx, pc, sandboxID, s); err != nil {
			if ctx.Err() != nil {
				return acted, ctx.Err()
			}
			acts.Waiting[s.Container.Name] = waiting
			w.log.Warn("start container", zap.String("container", s.Container.Name), zap.String("reason", waiting.Reason), zap.Error(err))
			// Retry through the backoff, as the kubelet does. A container
			// killed for its postStart hook has run: its restart goes
			// through the backoff like any exit.
			if !s.Restart && waiting.Reason != reasonPostStartHookError {
				w.backoff.next(s.Container.Name, w.m.clock.Now())
			}
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
		msg := fmt.Sprintf("Failed to create pod sandbox: %s", runtime.Message(err))
		w.event(pod, "", v1.EventTypeWarning, eventFailedCreatePodSandbox, msg)
		return "", nil, errors.New(msg)
	}
	ips, err := w.observer.sandboxAddresses(ctx, id)
	if err != nil {
		return "", nil, err
	}
	w.log.Info("sandbox started", zap.String("sandboxID", id), zap.Strings("ips", ips),
		zap.Uint32("attempt", cfg.Metadata.Attempt), zap.Duration("took", w.m.clock.Since(start)))
	return id, ips, nil
}

// startContainer makes (or takes the created instance) and starts one
// container, then runs its postStart hook. On failure it returns the
// waiting reason the container shows.
func (w *worker) startContainer(ctx context.Context, pc podContext, sandboxID string, s containerStart) (status.Waiting, error) {
	c := s.Container
	pod := pc.Pod
	log := w.log.With(zap.String("container", c.Name))
	id := s.ExistingID
	if id == "" {
		var waiting status.Waiting
		var err error
		id, waiting, err = w.createContainer(ctx, pc, sandboxID, s)
		if err != nil {
			return waiting, err
		}
	}
	if err := w.m.cfg.Runtime.StartContainer(ctx, id); err != nil {
		msg := runtime.Message(err)
		w.event(pod, c.Name, v1.EventTypeWarning, eventFailed, "Error: "+msg)
		return status.Waiting{Reason: reasonRunContainerError, Message: msg}, fmt.Errorf("start container %s: %w", id, err)
	}
	w.event(pod, c.Name, v1.EventTypeNormal, eventStarted, "Started container "+c.Name)
	log.Info("container started", zap.String("containerID", id), zap.Int32("restartCount", s.RestartCount))
	if c.Lifecycle != nil && c.Lifecycle.PostStart != nil {
		if err := w.m.hooks.run(ctx, c.Lifecycle.PostStart, c, id, firstIP(pc.PodIPs)); err != nil {
			// As the kubelet: a failed postStart hook kills the container,
			// which then restarts under the restart policy.
			w.event(pod, c.Name, v1.EventTypeWarning, eventFailedPostStartHook, err.Error())
			log.Warn("postStart hook failed; killing the container", zap.Error(err))
			rec := containerRecord{ContainerRecord: status.ContainerRecord{ID: id, Name: c.Name, State: status.ContainerRunning}}
			if kerr := w.killContainer(ctx, pod, rec, podGracePeriod(pod), pc.PodIPs, "FailedPostStartHook"); kerr != nil {
				log.Warn("kill after failed postStart hook", zap.Error(kerr))
			}
			return status.Waiting{Reason: reasonPostStartHookError, Message: err.Error()}, err
		}
	}
	return status.Waiting{}, nil
}

func (w *worker) createContainer(ctx context.Context, pc podContext, sandboxID string, s containerStart) (string, status.Waiting, error) {
	c := s.Container
	pod := pc.Pod
	image, waiting, err := w.ensureImage(ctx, pod, c, pc.Sandbox)
	if err != nil {
		return "", waiting, err
	}
	fail := func(err error) (string, status.Waiting, error) {
		w.event(pod, c.Name, v1.EventTypeWarning, eventFailed, "Error: "+err.Error())
		return "", status.Waiting{Reason: reasonCreateContainerError, Message: err.Error()}, err
	}
	if err := os.MkdirAll(filepath.Join(pc.Sandbox.LogDirectory, c.Name), 0o755); err != nil {
		return fail(err)
	}
	cfg, err := containerConfig(pc, c, s.Init, s.RestartCount, image)
	if err != nil {
		return fail(err)
	}
	mounts, err := volumes.Mounts(c, pc.Volumes)
	if err != nil {
		return fail(err)
	}
	cfg.Mounts = mounts
	if c.TerminationMessagePath != "" {
		path, err := w.m.cfg.Volumes.TerminationMessageFile(pod.UID, c.Name, s.RestartCount)
		if err != nil {
			return fail(fmt.Errorf("create termination message file: %w", err))
		}
		cfg.Mounts = append(cfg.Mounts, &runtimeapi.Mount{ContainerPath: c.TerminationMessagePath, HostPath: path})
	}
	id, err := w.m.cfg.Runtime.CreateContainer(ctx, sandboxID, cfg, pc.Sandbox)
	if err != nil {
		return fail(errors.New(runtime.Message(err)))
	}
	w.event(pod, c.Name, v1.EventTypeNormal, eventCreated, "Created container: "+c.Name)
	return id, status.Waiting{}, nil
}

// ensureImage finds the container's image in the runtime, pulling it when
// the pull policy says so, and returns the image reference to create from.
func (w *worker) ensureImage(ctx context.Context, pod *v1.Pod, c *v1.Container, sandboxCfg *runtimeapi.PodSandboxConfig) (string, status.Waiting, error) {
	spec := &runtimeapi.ImageSpec{Image: c.Image, UserSpecifiedImage: c.Image}
	if c.ImagePullPolicy != v1.PullAlways {
		img, err := w.m.cfg.Images.ImageStatus(ctx, spec, false)
		if err != nil {
			return "", status.Waiting{Reason: reasonErrImagePull, Message: runtime.Message(err)}, fmt.Errorf("image status of %s: %w", c.Image, err)
		}
		if id := img.GetImage().GetId(); id != "" {
			w.event(pod, c.Name, v1.EventTypeNormal, eventPulled, fmt.Sprintf("Container image %q already present on machine", c.Image))
			return id, status.Waiting{}, nil
		}
	}
	if c.ImagePullPolicy == v1.PullNever {
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
		w.event(pod, c.Name, v1.EventTypeWarning, eventErrImageNeverPull, msg)
		return "", status.Waiting{Reason: reasonErrImageNeverPull, Message: msg}, errors.New(msg)
	}
	ref, err := w.m.cfg.Images.PullImage(ctx, spec, nil, sandboxCfg)
	if err != nil {
		reason := reasonErrImagePull
		if w.backoff.period(c.Name) > 0 {
			reason = reasonImagePullBackOff
		}
		msg := fmt.Sprintf("Failed to pull image %q: %s", c.Image, runtime.Message(err))
		w.event(pod, c.Name, v1.EventTypeWarning, eventFailed, msg)
		return "", status.Waiting{Reason: reason, Message: msg}, fmt.Errorf("pull image %s: %w", c.Image, err)
	}
	return ref, status.Waiting{}, nil
}

func firstIP(ips []string) string {
	if len(ips) > 0 {
		return ips[0]
	}
	return ""
}
