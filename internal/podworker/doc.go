// Package podworker runs pods: one worker goroutine per pod UID drives the
// pod's sandbox and containers toward its spec.
//
// Desired pods enter through Manager.SetDesired (from the static pod
// source). Each wake-up of a worker (the desired spec changed, a container
// changed state in the runtime, a backoff timer fired, the periodic resync)
// runs the same sync: observe what the runtime has for the pod, decide the
// next actions with the pure computeActions, apply them through CRI, and
// publish the pod's status to the status sink. A pod that is no longer
// desired is stopped gracefully (containers with their grace period, then
// the sandbox). On start, the manager adopts what the runtime already has
// for desired pods and stops what belongs to no desired pod.
package podworker
