package podworker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/sandbox"
	"github.com/minikubelet/minikubelet/internal/status"
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
	eventPulling                = "Pulling"
	eventInspectFailed          = "InspectFailed"
)

// reasonImageInspectError is the kubelet's waiting reason for an image the
// runtime could not look up.
const reasonImageInspectError = "ImageInspectError"

// apply carries out the plan and reports what the runtime refused. Events
// and logs say what happened; deciding what follows is settle's.
func (w *worker) apply(ctx context.Context, pod *v1.Pod, obs observation, acts *podActions) applyResult {
	var res applyResult
	podIPs := w.podAddresses(pod, sandboxIPs(obs, acts.SandboxID))
	if acts.KillPod {
		if acts.CreateSandbox && len(obs.Sandboxes) > 0 {
			w.event(pod, "", v1.EventTypeNormal, eventSandboxChanged, "Pod sandbox changed, it will be killed and re-created.")
		}
		if err := w.killPod(ctx, pod, obs, w.podAddresses(pod, firstSandboxIPs(obs)), acts.KillGrace); err != nil {
			res.Err = err
			return res
		}
	}
	if len(acts.Kills) > 0 {
		if err := w.killListed(ctx, pod, obs, acts.Kills, podIPs); err != nil {
			res.Err = err
			return res
		}
	}
	for _, id := range acts.Removes {
		if err := w.removeContainer(ctx, obs, id); err != nil {
			w.log.Warn("remove dead container", zap.String("containerID", id), zap.Error(err))
			res.RemoveFailed = true
		}
	}
	for _, id := range acts.RemoveSandboxes {
		if err := w.m.cfg.Runtime.RemovePodSandbox(ctx, id); err != nil && !runtime.IsNotFound(err) {
			w.log.Warn("remove old sandbox", zap.String("sandboxID", id), zap.Error(err))
			res.RemoveFailed = true
		}
	}
	if len(acts.Starts) == 0 {
		return res
	}
	sandboxID := acts.SandboxID
	sandboxCfg := sandbox.Config(pod, acts.SandboxAttempt, w.m.cfg.Sandbox)
	if cg := w.m.cfg.Cgroups; cg != nil {
		// As the kubelet's SyncPod: the pod cgroup, sized, before the
		// sandbox that is made in it.
		parent, err := cg.EnsurePod(pod)
		if err != nil {
			res.SandboxFailed = err.Error()
			w.log.Warn("create pod cgroup", zap.Error(err))
			return res
		}
		sandboxCfg.Linux.CgroupParent = parent
	}
	if acts.CreateSandbox {
		id, ips, err := w.createSandbox(ctx, pod, sandboxCfg)
		if err != nil {
			res.SandboxFailed = err.Error()
			w.log.Warn("create sandbox", zap.Error(err))
			return res
		}
		sandboxID, podIPs = id, w.podAddresses(pod, ips)
	}
	vols, err := w.m.cfg.Volumes.Setup(pod)
	if err != nil {
		res.VolumesFailed = err.Error()
		w.event(pod, "", v1.EventTypeWarning, "FailedMount", err.Error())
		w.log.Warn("set up volumes", zap.Error(err))
		return res
	}
	pc := podContext{Pod: pod, PodIPs: podIPs, HostIP: w.m.cfg.HostIP, Sandbox: sandboxCfg, Volumes: vols, Node: w.m.cfg.Node,
		SeccompRoot: filepath.Join(w.m.cfg.RootDir, seccompProfileDir)}
	for _, s := range acts.Starts {
		w.m.metrics.startedContainers.WithLabelValues(containerType(s)).Inc()
		r, err := w.startContainer(ctx, pc, sandboxID, s)
		if ctx.Err() != nil {
			res.Err = ctx.Err()
			return res
		}
		if err != nil {
			// As the kubelet, by the reason the container waits for.
			w.m.metrics.startErrors.WithLabelValues(containerType(s), r.Waiting.Reason).Inc()
			w.log.Warn("start container", zap.String("container", s.Container.Name), zap.String("reason", r.Waiting.Reason), zap.Error(err))
		}
		res.Starts = append(res.Starts, r)
	}
	return res
}

func (w *worker) createSandbox(ctx context.Context, pod *v1.Pod, cfg *runtimeapi.PodSandboxConfig) (string, []string, error) {
	if err := os.MkdirAll(cfg.LogDirectory, 0o755); err != nil {
		return "", nil, fmt.Errorf("create pod log directory: %w", err)
	}
	start := w.m.clock.Now()
	id, err := w.m.cfg.Runtime.RunPodSandbox(ctx, cfg, sandbox.RuntimeHandler(pod))
	if err != nil {
		w.event(pod, "", v1.EventTypeWarning, eventFailedCreatePodSandbox, "Failed to create pod sandbox: "+runtime.Message(err))
		return "", nil, fmt.Errorf("create pod sandbox: %w", err)
	}
	st, err := w.observer.sandboxStatus(ctx, id)
	if err != nil {
		return "", nil, err
	}
	ips := st.ips
	w.log.Info("sandbox started", zap.String("sandboxID", id), zap.Strings("ips", ips),
		zap.Uint32("attempt", cfg.Metadata.Attempt), zap.Duration("took", w.m.clock.Since(start)))
	return id, ips, nil
}

// startContainer makes (or takes the created instance) and starts one
// container, then runs its postStart hook. On failure the result says why
// the container waits, and the error why it failed (for the log).
func (w *worker) startContainer(ctx context.Context, pc podContext, sandboxID string, s containerStart) (startResult, error) {
	c := s.Container
	pod := pc.Pod
	id := s.ExistingID
	if id == "" {
		var r startResult
		var err error
		id, r, err = w.createContainer(ctx, pc, sandboxID, s)
		if err != nil {
			return r, err
		}
		w.m.relister.track(id, w.uid)
	}
	if err := w.m.cfg.Runtime.StartContainer(ctx, id); err != nil {
		msg := runtime.Message(err)
		w.event(pod, c.Name, v1.EventTypeWarning, eventFailed, "Error: "+msg)
		return startResult{Waiting: status.Waiting{Reason: reasonRunContainerError, Message: msg}}, fmt.Errorf("start container %s: %w", id, err)
	}
	w.event(pod, c.Name, v1.EventTypeNormal, eventStarted, "Started container "+c.Name)
	w.log.Info("container started", zap.String("container", c.Name), zap.String("containerID", id), zap.Int32("restartCount", s.RestartCount))
	if c.Lifecycle == nil || c.Lifecycle.PostStart == nil {
		return startResult{}, nil
	}
	if err := w.m.hooks.run(ctx, c.Lifecycle.PostStart, c, id, firstIP(pc.PodIPs)); err != nil {
		// As the kubelet: a failed postStart hook kills the container,
		// which then restarts under the restart policy.
		w.event(pod, c.Name, v1.EventTypeWarning, eventFailedPostStartHook, err.Error())
		rec := containerRecord{ContainerRecord: status.ContainerRecord{ID: id, Name: c.Name, State: status.ContainerRunning}}
		if kerr := w.killContainer(ctx, pod, rec, podGracePeriod(pod), pc.PodIPs, "FailedPostStartHook", nil); kerr != nil {
			err = errors.Join(err, fmt.Errorf("kill after the failed postStart hook: %w", kerr))
		}
		return startResult{Waiting: status.Waiting{Reason: reasonPostStartHookError, Message: err.Error()}}, fmt.Errorf("postStart hook of container %q: %w", c.Name, err)
	}
	return startResult{}, nil
}

func (w *worker) createContainer(ctx context.Context, pc podContext, sandboxID string, s containerStart) (string, startResult, error) {
	c := s.Container
	pod := pc.Pod
	image, r, err := w.ensureImage(ctx, pod, s, pc.Sandbox)
	if err != nil {
		return "", r, err
	}
	fail := func(reason, msg string, err error) (string, startResult, error) {
		w.event(pod, c.Name, v1.EventTypeWarning, eventFailed, "Error: "+msg)
		return "", startResult{Waiting: status.Waiting{Reason: reason, Message: msg}}, fmt.Errorf("create container %q: %w", c.Name, err)
	}
	// As the kubelet: what fails before the runtime is asked (the log
	// directory, env, mounts: generateContainerConfig) is a
	// CreateContainerConfigError; the runtime's refusal a
	// CreateContainerError.
	if err := os.MkdirAll(filepath.Join(pc.Sandbox.LogDirectory, c.Name), 0o755); err != nil {
		return fail(reasonCreateContainerConfigError, err.Error(), err)
	}
	// As the kubelet's generateContainerConfig: runAsNonRoot is checked
	// against the image's user before anything is created.
	var uid *int64
	var username string
	if needsImageUser(pod, c) {
		if uid, username, err = w.imageUser(ctx, image); err != nil {
			return fail(reasonCreateContainerConfigError, err.Error(), err)
		}
	}
	if err := verifyRunAsNonRoot(pod, c, uid, username); err != nil {
		return fail(reasonCreateContainerConfigError, err.Error(), err)
	}
	cfg, err := containerConfig(pc, c, s.Init, s.RestartCount, image)
	if err != nil {
		return fail(reasonCreateContainerConfigError, err.Error(), err)
	}
	env := make(map[string]string, len(cfg.Envs))
	for _, kv := range cfg.Envs {
		env[kv.Key] = string(kv.Value)
	}
	mounts, err := w.m.cfg.Volumes.Mounts(pod, c, pc.Volumes, env, w.m.cfg.RecursiveReadOnlyHandlers[sandbox.RuntimeHandler(pod)])
	if err != nil {
		// As the kubelet: makeMounts fails the container's config.
		return fail(reasonCreateContainerConfigError, err.Error(), err)
	}
	cfg.Mounts = mounts
	hosts, err := w.hostsMount(pc, c)
	if err != nil {
		return fail(reasonCreateContainerConfigError, err.Error(), err)
	}
	if hosts != nil {
		cfg.Mounts = append(cfg.Mounts, hosts)
	}
	if c.TerminationMessagePath != "" {
		path, err := w.m.cfg.Volumes.TerminationMessageFile(pod.UID, c.Name, s.RestartCount)
		if err != nil {
			err = fmt.Errorf("create termination message file: %w", err)
			return fail(reasonCreateContainerConfigError, err.Error(), err)
		}
		cfg.Mounts = append(cfg.Mounts, &runtimeapi.Mount{ContainerPath: c.TerminationMessagePath, HostPath: path})
	}
	id, err := w.m.cfg.Runtime.CreateContainer(ctx, sandboxID, cfg, pc.Sandbox)
	if err != nil {
		return fail(reasonCreateContainerError, runtime.Message(err), err)
	}
	w.event(pod, c.Name, v1.EventTypeNormal, eventCreated, "Created container: "+c.Name)
	return id, startResult{}, nil
}

// ensureImage finds the container's image in the runtime, pulling it when
// the pull policy says so and the image's pull backoff allows it, and
// returns the image reference to create from. Events and messages are the
// kubelet's image manager's.
func (w *worker) ensureImage(ctx context.Context, pod *v1.Pod, s containerStart, sandboxCfg *runtimeapi.PodSandboxConfig) (string, startResult, error) {
	c := s.Container
	spec := &runtimeapi.ImageSpec{Image: c.Image, UserSpecifiedImage: c.Image}
	waiting := func(reason, msg string) startResult {
		return startResult{Waiting: status.Waiting{Reason: reason, Message: msg}}
	}
	if c.ImagePullPolicy != v1.PullAlways {
		img, err := w.m.cfg.Images.ImageStatus(ctx, spec, false)
		if err != nil {
			msg := fmt.Sprintf("Failed to inspect image %q: %s", c.Image, runtime.Message(err))
			w.event(pod, c.Name, v1.EventTypeWarning, eventInspectFailed, msg)
			return "", waiting(reasonImageInspectError, msg), fmt.Errorf("image status of %s: %w", c.Image, err)
		}
		if id := img.GetImage().GetId(); id != "" {
			w.event(pod, c.Name, v1.EventTypeNormal, eventPulled, fmt.Sprintf("Container image %q already present on machine", c.Image))
			return id, startResult{}, nil
		}
	}
	if c.ImagePullPolicy == v1.PullNever {
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
		w.event(pod, c.Name, v1.EventTypeWarning, eventErrImageNeverPull, msg)
		return "", waiting(reasonErrImageNeverPull, msg), errors.New(msg)
	}
	if s.PullBackoff > 0 {
		msg := fmt.Sprintf("Back-off pulling image %q", c.Image)
		w.event(pod, c.Name, v1.EventTypeNormal, eventBackOff, msg)
		w.event(pod, c.Name, v1.EventTypeWarning, eventFailed, "Error: "+reasonImagePullBackOff)
		return "", waiting(reasonImagePullBackOff, msg), errors.New(msg)
	}
	w.event(pod, c.Name, v1.EventTypeNormal, eventPulling, fmt.Sprintf("Pulling image %q", c.Image))
	start := w.m.clock.Now()
	pulled, err := w.m.cfg.Puller.Pull(ctx, spec, sandboxCfg)
	if err != nil {
		msg := runtime.Message(err)
		w.event(pod, c.Name, v1.EventTypeWarning, eventFailed, fmt.Sprintf("Failed to pull image %q: %s", c.Image, msg))
		w.event(pod, c.Name, v1.EventTypeWarning, eventFailed, "Error: "+reasonErrImagePull)
		r := waiting(reasonErrImagePull, msg)
		r.PullFailed = true
		return "", r, fmt.Errorf("pull image %s: %w", c.Image, err)
	}
	// As the kubelet's image manager: the pull's own time, then the time
	// with the wait for a turn (pulls are serialized by default).
	w.event(pod, c.Name, v1.EventTypeNormal, eventPulled, fmt.Sprintf("Successfully pulled image %q in %s (%s including waiting). Image size: %d bytes.",
		c.Image, pulled.Took.Truncate(time.Millisecond), w.m.clock.Since(start).Truncate(time.Millisecond), pulled.Size))
	return pulled.Ref, startResult{}, nil
}
