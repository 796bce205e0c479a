package podworker

import (
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
)

// refreshVolumes sets a running pod's volumes up again when a sync has
// nothing else to do, so that downwardAPI files follow the pod's labels and
// annotations (the config.seen annotation changes when the daemon
// restarts), as the kubelet's volume manager remounts such volumes on every
// pod sync. Unchanged files are not rewritten.
func (w *worker) refreshVolumes(pod *v1.Pod, acts *podActions) {
	if acts.KillPod || acts.Finished || acts.SandboxID == "" || !projectsPodFields(pod) {
		return
	}
	if _, err := w.m.cfg.Volumes.Setup(pod); err != nil {
		w.log.Warn("refresh volumes", zap.Error(err))
	}
}

// projectsPodFields reports whether the pod has a volume whose files come
// from the pod itself.
func projectsPodFields(pod *v1.Pod) bool {
	for i := range pod.Spec.Volumes {
		if pod.Spec.Volumes[i].DownwardAPI != nil || pod.Spec.Volumes[i].Projected != nil {
			return true
		}
	}
	return false
}
