// Package nodeshutdown stops the node's pods before the machine shuts
// down, as the kubelet's graceful node shutdown (pkg/kubelet/nodeshutdown):
// with shutdownGracePeriod set it holds a logind delay inhibitor lock,
// raises logind's InhibitDelayMaxSec when it is smaller than the period,
// and on PrepareForShutdown(true) stops the regular pods within
// shutdownGracePeriod - shutdownGracePeriodCriticalPods, then the critical
// ones within shutdownGracePeriodCriticalPods, each Failed with the
// kubelet's reason and message, and releases the lock. A daemon stopped or
// restarted on its own leaves its pods running: only logind's signal stops
// them.
//
// Data enters through logind (the Logind type, over D-Bus, or a fake in
// tests) and leaves through the pod stopper the daemon hands it (the pod
// worker manager).
package nodeshutdown
