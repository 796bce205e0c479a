package podworker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/logs"
	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/status"
)

// killPod stops every running container of the pod and then every ready
// sandbox, as the kubelet's killPodWithSyncResult: all containers at once
// (each runs its preStop hook at once), but a sidecar's stop signal waits
// until the regular containers and the sidecars started after it have
// exited, within the grace period.
func (w *worker) killPod(ctx context.Context, pod *v1.Pod, obs observation, podIPs []string, graceOverride *int64) error {
	grace := podGracePeriod(pod)
	if graceOverride != nil {
		grace = *graceOverride
	}
	var live []containerRecord
	for _, c := range obs.Containers {
		if c.State == status.ContainerRunning || c.State == status.ContainerUnknown {
			live = append(live, c)
		}
	}
	order := newTerminationOrder(pod, live, w.m.clock)
	errs := make([]error, len(live))
	var wg sync.WaitGroup
	for i, c := range live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.killContainer(ctx, pod, c, grace, podIPs, "", order)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return w.stopSandboxes(ctx, obs)
}

// killListed stops the containers the decision named, in parallel.
func (w *worker) killListed(ctx context.Context, pod *v1.Pod, obs observation, kills []containerKill, podIPs []string) error {
	errs := make([]error, len(kills))
	var wg sync.WaitGroup
	for i, k := range kills {
		rec, ok := findRecord(obs, k.ID)
		if !ok {
			continue
		}
		grace := podGracePeriod(pod)
		if k.GracePeriod != nil {
			grace = *k.GracePeriod
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.killContainer(ctx, pod, rec, grace, podIPs, k.Message, nil)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// killContainer stops one container as the kubelet does: the preStop hook
// first, bounded by the grace period; then, in a pod's termination, its
// turn; then the stop signal, with what is left of the grace period (never
// less than 2 s) before SIGKILL. message is the Killing event's; empty
// means "Stopping container NAME".
func (w *worker) killContainer(ctx context.Context, pod *v1.Pod, c containerRecord, grace int64, podIPs []string, message string, order *terminationOrder) error {
	log := w.log.With(zap.String("container", c.Name), zap.String("containerID", c.ID))
	if message == "" {
		message = "Stopping container " + c.Name
	}
	w.event(pod, c.Name, v1.EventTypeNormal, eventKilling, message)
	spec := containerSpec(pod, c.Name)
	if spec == nil {
		spec = specFromAnnotations(c)
	}
	start := w.m.clock.Now()
	if spec != nil && spec.Lifecycle != nil && spec.Lifecycle.PreStop != nil && c.State == status.ContainerRunning && grace > 0 {
		hookCtx, cancel := context.WithTimeout(ctx, secondsDuration(grace))
		err := w.m.hooks.run(hookCtx, spec.Lifecycle.PreStop, spec, c.ID, firstIP(podIPs))
		cancel()
		if err != nil {
			w.event(pod, c.Name, v1.EventTypeWarning, eventFailedPreStopHook, err.Error())
			log.Warn("preStop hook failed", zap.Error(err))
		}
		grace -= int64(w.m.clock.Since(start).Seconds())
	}
	if order != nil && grace > 0 {
		waited := order.waitForTurn(ctx, c.Name, secondsDuration(grace))
		grace -= int64(waited.Seconds())
	}
	grace = max(grace, minimumGracePeriod)
	log.Info("stopping container", zap.Int64("gracePeriod", grace), zap.String("why", message))
	err := w.m.cfg.Runtime.StopContainer(ctx, c.ID, grace)
	if order != nil {
		order.terminated(c.Name)
	}
	if err != nil && !runtime.IsNotFound(err) {
		return fmt.Errorf("stop container %q: %w", c.Name, err)
	}
	return nil
}

func (w *worker) stopSandboxes(ctx context.Context, obs observation) error {
	for _, s := range obs.Sandboxes {
		if !s.Ready {
			continue
		}
		if err := w.m.cfg.Runtime.StopPodSandbox(ctx, s.ID); err != nil && !runtime.IsNotFound(err) {
			return fmt.Errorf("stop sandbox %s: %w", s.ID, err)
		}
		w.log.Info("sandbox stopped", zap.String("sandboxID", s.ID))
	}
	return nil
}

// removeContainer removes a dead container instance and its log file.
func (w *worker) removeContainer(ctx context.Context, obs observation, id string) error {
	rec, _ := findRecord(obs, id)
	if err := w.m.cfg.Runtime.RemoveContainer(ctx, id); err != nil && !runtime.IsNotFound(err) {
		return fmt.Errorf("remove dead container %s: %w", id, err)
	}
	if rec.LogPath != "" {
		// The log and the files it was rotated to, as the kubelet's
		// container log manager cleans them.
		rotated, _ := logs.RotationFiles(rec.LogPath)
		for _, f := range append(rotated, rec.LogPath) {
			os.Remove(f)
		}
	}
	return nil
}

func findRecord(obs observation, id string) (containerRecord, bool) {
	for _, c := range obs.Containers {
		if c.ID == id {
			return c, true
		}
	}
	return containerRecord{}, false
}

// containerSpec finds a container of the pod's spec by name.
func containerSpec(pod *v1.Pod, name string) *v1.Container {
	for _, list := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// specFromAnnotations rebuilds what stopping a container needs (its
// preStop hook and ports) from its annotations, for a pod whose manifest is
// gone.
func specFromAnnotations(c containerRecord) *v1.Container {
	spec := &v1.Container{Name: c.Name}
	if raw := c.PreStop; raw != "" {
		var h v1.LifecycleHandler
		if err := json.Unmarshal([]byte(raw), &h); err == nil {
			spec.Lifecycle = &v1.Lifecycle{PreStop: &h}
		}
	}
	if raw := c.Ports; raw != "" {
		json.Unmarshal([]byte(raw), &spec.Ports) //nolint:errcheck
	}
	return spec
}

func secondsDuration(s int64) time.Duration { return time.Duration(s) * time.Second }
