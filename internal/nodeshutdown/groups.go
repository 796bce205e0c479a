package nodeshutdown

import (
	"time"

	v1 "k8s.io/api/core/v1"
)

// The kubelet's numbers and strings (nodeshutdown_manager_linux.go and
// pkg/apis/scheduling).
const (
	// ShutdownReason and ShutdownMessage are the status of a pod stopped
	// for a node shutdown.
	ShutdownReason  = "Terminated"
	ShutdownMessage = "Pod was terminated in response to imminent node shutdown."
	// systemCriticalPriority is the lowest priority of a critical pod:
	// they are stopped last.
	systemCriticalPriority = int32(2000000000)
	// The priorities of the two system priority classes, for a pod that
	// names one and has no spec.priority (no admission controller filled
	// it in: static pods).
	systemClusterCriticalPriority = systemCriticalPriority
	systemNodeCriticalPriority    = systemCriticalPriority + 1000
)

// group is the pods stopped together, within gracePeriod, before the next
// group.
type group struct {
	critical    bool
	gracePeriod time.Duration
	pods        []*v1.Pod
}

// shutdownGroups splits pods into the kubelet's two groups (its migrated
// configuration: priority 0 gets period - criticalPeriod, system critical
// priority gets criticalPeriod), regular pods first. A pod below
// systemCriticalPriority is regular. Nil when the period is not positive
// or shorter than the critical period, as the kubelet's migrateConfig.
func shutdownGroups(pods []*v1.Pod, period, criticalPeriod time.Duration) []group {
	if period <= 0 || criticalPeriod < 0 || criticalPeriod > period {
		return nil
	}
	groups := []group{{gracePeriod: period - criticalPeriod}, {critical: true, gracePeriod: criticalPeriod}}
	for _, pod := range pods {
		i := 0
		if podPriority(pod) >= systemCriticalPriority {
			i = 1
		}
		groups[i].pods = append(groups[i].pods, pod)
	}
	return groups
}

// podPriority is spec.priority, else the priority of the system class the
// pod names, else 0.
func podPriority(pod *v1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	switch pod.Spec.PriorityClassName {
	case "system-node-critical":
		return systemNodeCriticalPriority
	case "system-cluster-critical":
		return systemClusterCriticalPriority
	}
	return 0
}

// podGracePeriod is the grace a pod of g is stopped with: the group's,
// or the pod's terminationGracePeriodSeconds when that is shorter, as the
// kubelet's processShutdownEvent.
func podGracePeriod(pod *v1.Pod, g group) int64 {
	grace := int64(g.gracePeriod / time.Second)
	if s := pod.Spec.TerminationGracePeriodSeconds; s != nil && *s <= grace {
		grace = *s
	}
	return grace
}
