// Package podworker runs pods: one worker goroutine per pod UID drives the
// pod's sandbox and containers toward its spec.
//
// Desired pods enter through Manager.SetDesired (from the static pod
// source); containerd's events through Manager.ContainerExited (a task
// exit), Manager.ContainerChanged (an OOM kill, a deletion) and
// Manager.Resync (the event stream started again);
// probe news through the callback the manager hands its prober
// (Config.NewProber); Manager.Drain stops every pod. Statuses leave through
// the status sink, events through the event recorder. Config.OnFirstSync
// hears of each pod's first start attempt, and Manager.LastRelist tells
// when the relister last finished a relist (the daemon's systemd
// readiness and watchdog).
//
// Manager.Run owns the workers' lifetimes and runs the relister, which
// lists the node's runtime objects, wakes the workers of pods that changed
// (not for a worker's own changes) and holds exits the CRI has not recorded
// yet. A worker's sync observes its pod (one view, with those exits),
// decides with the pure computeActions, publishes, applies the plan through
// the CRI, and settles what applying taught with the pure settle (waiting
// reasons, wake-ups, backoff moves). A pod no longer desired is stopped as
// the kubelet stops one: preStop hooks at once, stop signals in the
// termination order, then the sandbox. On start, the manager adopts what
// the runtime already has for desired pods and stops what belongs to no
// desired pod. A new version of a desired pod under the same UID (a
// manifest that gives its uid was edited) goes to the pod's worker, which
// restarts the containers whose definition changed, as the kubelet does.
// A pod with a local storage limit is measured every 10 s (emptyDirs on
// disk, the CRI's writable layers, the log files) and evicted, as the
// kubelet's eviction manager evicts, when it goes over.
package podworker
