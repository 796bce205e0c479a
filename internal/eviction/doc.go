// Package eviction watches the node's hard eviction thresholds
// (evictionHard) as the kubelet's eviction manager (pkg/kubelet/eviction)
// does: every 10 s it measures memory.available (MemTotal less the root
// memory cgroup's working set), nodefs.available and nodefs.inodesFree
// (the root directory's filesystem), imagefs.available and
// imagefs.inodesFree (the runtime's image filesystem); a threshold met
// sets MemoryPressure or DiskPressure, records the kubelet's
// EvictionThresholdMet node event, and evicts one pod per round in the
// kubelet's order (pods over their requests first, then lower priority,
// then larger usage over requests) with the kubelet's message.
//
// The kubelet never evicts a static pod (critical); every pod here is
// static, and a threshold that could never relieve the node would be
// silently ignored, so minikubelet evicts them, except the pods of a
// system-critical priority, which it keeps as the kubelet keeps critical
// pods. Node-level reclaim before eviction (the kubelet deletes unused
// images and dead containers) is left to image garbage collection and the
// pod workers' own collection.
//
// Parsing, the thresholds met, the conditions, the ranking and the
// message are pure (thresholds.go, decide.go); Manager measures
// (observe.go) and asks the pod workers to evict.
package eviction
