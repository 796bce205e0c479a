package podworker

import (
	"context"
	"fmt"
	"os"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/sandbox"
)

// terminatePod stops and removes everything the pod has, retrying until it
// succeeds or ctx ends, and reports whether the pod is gone. As the
// kubelet's SyncTerminatingPod: liveness and startup probes stop first,
// readiness keeps being probed (and shown) until the containers are gone;
// the pod stays listed, terminating, until then.
func (w *worker) terminatePod(ctx context.Context, pod *v1.Pod) bool {
	grace := podGracePeriod(pod)
	if w.shutdown = w.shutdownRequested(); w.shutdown != nil {
		grace = w.shutdown.gracePeriod
	}
	w.log.Info("stopping pod", zap.Int64("gracePeriod", grace), zap.Bool("nodeShutdown", w.shutdown != nil))
	if w.m.probes != nil {
		w.m.probes.StopLivenessAndStartup(w.uid)
	}
	for {
		err := w.terminateOnce(ctx, pod)
		if err == nil {
			if w.shutdown == nil {
				// A pod stopped for a node shutdown stays shown, Failed,
				// as the kubelet's.
				w.unpublish()
			}
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

func (w *worker) terminateOnce(ctx context.Context, pod *v1.Pod) error {
	obs, err := w.observe(ctx)
	if err != nil {
		return err
	}
	w.publish(pod, obs, nil, podTerminating)
	var graceOverride *int64
	if w.shutdown != nil {
		graceOverride = &w.shutdown.gracePeriod
	}
	if err := w.killPod(ctx, pod, obs, w.podAddresses(pod, firstSandboxIPs(obs)), graceOverride); err != nil {
		return err
	}
	if w.m.probes != nil {
		w.m.probes.RemovePod(w.uid)
	}
	if fresh, err := w.observe(ctx); err == nil {
		obs = fresh
	}
	// As the kubelet, the last status of a stopped pod is computed as
	// terminal: Succeeded when every container exited 0, else Failed.
	w.publish(pod, obs, nil, podTerminated)
	return w.removePod(ctx, pod, obs)
}

// removePod removes the stopped pod's sandboxes, volumes and logs.
func (w *worker) removePod(ctx context.Context, pod *v1.Pod, obs observation) error {
	for _, s := range obs.Sandboxes {
		if err := w.m.cfg.Runtime.RemovePodSandbox(ctx, s.ID); err != nil && !runtime.IsNotFound(err) {
			return fmt.Errorf("remove sandbox %s: %w", s.ID, err)
		}
	}
	if err := w.m.cfg.Volumes.Cleanup(w.uid); err != nil {
		return err
	}
	if cg := w.m.cfg.Cgroups; cg != nil {
		// The kubelet removes orphaned pod cgroups in its housekeeping and
		// tries again there; a leftover never holds the pod's removal.
		if err := cg.RemovePod(pod); err != nil {
			w.log.Warn("remove pod cgroup", zap.Error(err))
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
