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

	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/sandbox"
	"github.com/minikubelet/minikubelet/internal/status"
)

// killPod stops every running container of the pod (app containers in
// parallel, then sidecars and other init containers, the last started
// first), then every ready sandbox.
func (w *worker) killPod(ctx context.Context, pod *v1.Pod, obs observation, podIPs []string) error {
	grace := podGracePeriod(pod)
	var app, init []containerRecord
	for _, c := range obs.Containers {
		if c.State != status.ContainerRunning && c.State != status.ContainerUnknown {
			continue
		}
		if c.Init {
			init = append(init, c)
		} else {
			app = append(app, c)
		}
	}
	if err := w.killParallel(ctx, pod, app, grace, podIPs); err != nil {
		return err
	}
	sortByStartDesc(init)
	for _, c := range init {
		if err := w.killContainer(ctx, pod, c, grace, podIPs, "Stopping"); err != nil {
			return err
		}
	}
	return w.stopSandboxes(ctx, obs)
}

// killListed stops the containers the decision named.
func (w *worker) killListed(ctx context.Context, pod *v1.Pod, obs observation, kills []containerKill, podIPs []string) error {
	var errs []error
	for _, k := range kills {
		rec, ok := findRecord(obs, k.ID)
		if !ok {
			continue
		}
		grace := podGracePeriod(pod)
		if k.GracePeriod != nil {
			grace = *k.GracePeriod
		}
		w.log.Info("killing container", zap.String("container", k.Name), zap.String("containerID", k.ID), zap.String("why", k.Message))
		if err := w.killContainer(ctx, pod, rec, grace, podIPs, k.Message); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (w *worker) killParallel(ctx context.Context, pod *v1.Pod, containers []containerRecord, grace int64, podIPs []string) error {
	errs := make([]error, len(containers))
	var wg sync.WaitGroup
	for i, c := range containers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.killContainer(ctx, pod, c, grace, podIPs, "Stopping")
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// killContainer stops one container as the kubelet does: the preStop hook
// first, bounded by the grace period; then the stop signal, with what is
// left of the grace period (never less than 2 s) before SIGKILL.
func (w *worker) killContainer(ctx context.Context, pod *v1.Pod, c containerRecord, grace int64, podIPs []string, why string) error {
	log := w.log.With(zap.String("container", c.Name), zap.String("containerID", c.ID))
	killing := "Stopping container " + c.Name
	if why != "Stopping" && why != "" {
		killing = why
	}
	w.event(pod, c.Name, v1.EventTypeNormal, eventKilling, killing)
	spec := containerSpec(pod, c.Name)
	if spec == nil {
		spec = specFromAnnotations(c)
	}
	if spec != nil && spec.Lifecycle != nil && spec.Lifecycle.PreStop != nil && c.State == status.ContainerRunning {
		start := w.m.clock.Now()
		hookCtx, cancel := context.WithTimeout(ctx, secondsDuration(grace))
		err := w.m.hooks.run(hookCtx, spec.Lifecycle.PreStop, spec, c.ID, firstIP(podIPs))
		cancel()
		if err != nil {
			w.event(pod, c.Name, v1.EventTypeWarning, eventFailedPreStopHook, err.Error())
			log.Warn("preStop hook failed", zap.Error(err))
		}
		grace -= int64(w.m.clock.Since(start).Seconds())
	}
	grace = max(grace, minimumGracePeriod)
	log.Info("stopping container", zap.Int64("gracePeriod", grace), zap.String("why", why))
	if err := w.m.cfg.Runtime.StopContainer(ctx, c.ID, grace); err != nil && !runtime.IsNotFound(err) {
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
func (w *worker) removeContainer(ctx context.Context, obs observation, id string) {
	rec, _ := findRecord(obs, id)
	if err := w.m.cfg.Runtime.RemoveContainer(ctx, id); err != nil && !runtime.IsNotFound(err) {
		w.log.Warn("remove dead container", zap.String("containerID", id), zap.Error(err))
		return
	}
	if rec.LogPath != "" {
		os.Remove(rec.LogPath)
	}
}

// terminatePod stops and removes everything the pod has, retrying until it
// succeeds or ctx ends. It reports whether the pod is gone.
func (w *worker) terminatePod(ctx context.Context, pod *v1.Pod) bool {
	w.log.Info("stopping pod", zap.Int64("gracePeriod", podGracePeriod(pod)))
	if w.m.cfg.Probes != nil {
		w.m.cfg.Probes.RemovePod(w.uid)
	}
	for {
		obs, err := w.observer.observe(ctx)
		if err == nil {
			w.publish(pod, obs, nil, true)
			err = w.removePod(ctx, pod, obs)
		}
		if err == nil {
			w.m.cfg.Status.Delete(w.uid)
			if w.m.cfg.Events != nil {
				w.m.cfg.Events.Forget(w.uid)
			}
			w.log.Info("pod stopped")
			return true
		}
		if ctx.Err() != nil {
			return false
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

func (w *worker) removePod(ctx context.Context, pod *v1.Pod, obs observation) error {
	var ips []string
	if len(obs.Sandboxes) > 0 {
		ips = obs.Sandboxes[0].IPs
	}
	if err := w.killPod(ctx, pod, obs, ips); err != nil {
		return err
	}
	for _, s := range obs.Sandboxes {
		if err := w.m.cfg.Runtime.RemovePodSandbox(ctx, s.ID); err != nil && !runtime.IsNotFound(err) {
			return fmt.Errorf("remove sandbox %s: %w", s.ID, err)
		}
	}
	if err := w.m.cfg.Volumes.Cleanup(w.uid); err != nil {
		return err
	}
	if pod.Name != "" {
		dir := sandbox.LogDirectory(w.m.cfg.Sandbox.PodLogsDir, pod)
		if err := os.RemoveAll(dir); err != nil {
			w.log.Warn("remove pod logs", zap.String("dir", dir), zap.Error(err))
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

func sortByStartDesc(cs []containerRecord) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].StartedAt.After(cs[j-1].StartedAt); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

func secondsDuration(s int64) time.Duration { return time.Duration(s) * time.Second }
