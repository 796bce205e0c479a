package podworker

import (
	"fmt"
	"sort"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/probes"
	"github.com/minikubelet/minikubelet/internal/status"
)

// Reasons a container waits, as the kubelet reports them.
const (
	reasonCrashLoopBackOff     = status.ReasonCrashLoopBackOff
	reasonCreateContainerError = "CreateContainerError"
	// reasonCreateContainerConfigError: the container's config could not
	// be made (env, mounts), so the runtime was not asked.
	reasonCreateContainerConfigError = "CreateContainerConfigError"
	reasonRunContainerError          = "RunContainerError"
	reasonErrImagePull               = "ErrImagePull"
	reasonImagePullBackOff           = "ImagePullBackOff"
	reasonErrImageNeverPull          = "ErrImageNeverPull"
	reasonPostStartHookError         = "PostStartHookError"
)

// Pod-level reasons, as the kubelet reports them.
const (
	reasonDeadlineExceeded  = "DeadlineExceeded"
	messageDeadlineExceeded = "Pod was active on the node longer than the specified deadline"
)

// maxDeadInstances is how many exited instances of one container are kept
// for its lastState; older ones are removed, as the kubelet's container GC
// keeps one dead container per container name.
const maxDeadInstances = 1

// computeActions decides the next step for a pod that should run, from its
// spec and what the runtime has, as the kubelet's computePodActions does:
// sandbox first, then init containers one at a time (sidecars stay
// running), then every app container; exited containers restart per the
// restart policy, through the backoff; a container whose liveness or
// startup probe failed is killed and, when the policy allows, started
// again in the same sync; so is a running regular container whose spec
// changed (a manifest that keeps its uid was edited), whatever the policy;
// a sandbox whose network namespace the pod no longer asks for is
// replaced; a pod whose regular containers are all done stops what still
// runs (sidecars) and its sandbox; a pod whose measured local storage is
// over a limit is evicted as the kubelet's eviction manager evicts it.
func computeActions(in decisionInput) podActions {
	d := decider{in: in, latest: latestByName(in.Observed.Containers), killed: map[string]bool{}, changed: map[string]bool{}}
	d.acts.Waiting = map[string]status.Waiting{}
	d.collectGarbage()
	sandboxes := in.Observed.Sandboxes
	evict, signal := localStorageEviction(in.Pod, in.Storage)
	switch {
	case in.Evicted != "":
		d.acts.Evicted = in.Evicted
		d.finish()
		grace := immediateEvictionGracePeriodSeconds
		d.acts.KillGrace = &grace
		return d.acts
	case deadlineExceeded(in.Pod, in.StartTime, in.Now):
		d.acts.DeadlineExceeded = true
		if !in.DeadlineReported {
			d.event("", v1.EventTypeWarning, reasonDeadlineExceeded, messageDeadlineExceeded)
		}
		d.finish()
		return d.acts
	case d.finishedBefore():
		d.finish()
		return d.acts
	case evict != "":
		// As the kubelet's eviction manager: a pod over a local storage
		// limit is killed at once and ends Failed.
		d.acts.Evicted, d.acts.EvictionSignal = evict, signal
		d.event("", v1.EventTypeWarning, reasonEvicted, evict)
		d.finish()
		grace := immediateEvictionGracePeriodSeconds
		d.acts.KillGrace = &grace
		return d.acts
	case len(sandboxes) == 0 || !sandboxes[0].Ready || sandboxChanged(in.Pod, sandboxes[0]):
		d.replaceSandbox()
		return d.acts
	}
	d.acts.SandboxID = sandboxes[0].ID
	d.killUnhealthy()
	if !d.initContainers() {
		d.wakeAtDeadline()
		return d.acts
	}
	keep := 0
	for i := range in.Pod.Spec.Containers {
		if d.appContainer(&in.Pod.Spec.Containers[i]) {
			keep++
		}
	}
	if keep == 0 && !d.startsApp() {
		// As the kubelet: with no regular container left to run, the pod
		// is done; sidecars do not keep it alive.
		d.acts.Starts = nil
		d.finish()
		return d.acts
	}
	d.wakeAtDeadline()
	return d.acts
}

type decider struct {
	in     decisionInput
	latest map[string][]containerRecord
	// killed names the containers this plan kills for their probes or
	// their changed spec; changed those of the second kind, which start
	// again whatever the restart policy.
	killed, changed map[string]bool
	acts            podActions
}

func (d *decider) pod() *v1.Pod { return d.in.Pod }

func (d *decider) event(container, eventType, reason, message string) {
	d.acts.Events = append(d.acts.Events, podEvent{Container: container, Type: eventType, Reason: reason, Message: message})
}

func (d *decider) wake(after time.Duration) {
	if after > 0 && (d.acts.Wake == 0 || after < d.acts.Wake) {
		d.acts.Wake = after
	}
}

// wakeAtDeadline asks for a sync when activeDeadlineSeconds passes.
func (d *decider) wakeAtDeadline() {
	if dl := d.pod().Spec.ActiveDeadlineSeconds; dl != nil && !d.in.StartTime.IsZero() {
		d.wake(d.in.StartTime.Add(time.Duration(*dl) * time.Second).Sub(d.in.Now))
	}
}

// finish stops what still runs of a pod that is done, and its sandbox.
func (d *decider) finish() {
	d.acts.Finished = true
	d.acts.Kills = nil
	d.acts.KillPod = anyReady(d.in.Observed.Sandboxes) || anyRunning(d.in.Observed.Containers)
}

// finishedBefore reports whether the pod was already done: every regular
// container exited and none will restart, or a regular init container
// failed under restartPolicy Never. (A pod that finished keeps its
// sandbox stopped; without this check a lost sandbox would start it anew.)
func (d *decider) finishedBefore() bool {
	spec := &d.pod().Spec
	if spec.RestartPolicy == v1.RestartPolicyNever {
		for i := range spec.InitContainers {
			c := &spec.InitContainers[i]
			if l := d.newest(c.Name); l != nil && !isSidecar(c) && l.State == status.ContainerExited && l.ExitCode != 0 {
				return true
			}
		}
	}
	if len(spec.Containers) == 0 {
		return false
	}
	for i := range spec.Containers {
		l := d.newest(spec.Containers[i].Name)
		if l == nil || l.State != status.ContainerExited || shouldRestart(spec.RestartPolicy, l) {
			return false
		}
	}
	return true
}

// killUnhealthy kills running containers whose spec changed, or whose
// liveness or startup probe failed, and plans their restart (for a probe,
// when the pod's policy allows it), as the kubelet's computePodActions
// does in one pass.
func (d *decider) killUnhealthy() {
	for _, c := range d.in.Observed.Containers {
		if c.State == status.ContainerUnknown {
			d.acts.Kills = append(d.acts.Kills, containerKill{ID: c.ID, Name: c.Name, Message: "container is in an unknown state"})
			continue
		}
		if c.State != status.ContainerRunning {
			continue
		}
		spec := containerSpec(d.pod(), c.Name)
		if spec == nil || d.newest(c.Name).ID != c.ID {
			continue
		}
		if definitionChanged(spec, c) {
			// As the kubelet's containerChanged: restarted regardless of
			// the restart policy, with the pod's grace period; a sidecar
			// as its computeInitContainerActions restarts one.
			what := "Container"
			if c.Init {
				what = "Init container"
			}
			d.acts.Kills = append(d.acts.Kills, containerKill{ID: c.ID, Name: c.Name,
				Message: fmt.Sprintf("%s %s definition changed, will be restarted", what, c.Name)})
			d.killed[c.Name], d.changed[c.Name] = true, true
			continue
		}
		v, ok := d.in.Probes[c.ID]
		if !ok || !v.Failed {
			continue
		}
		grace := probes.TerminationGracePeriod(v.FailedKind, spec, podGracePeriod(d.pod()))
		msg := fmt.Sprintf("Container %s failed %s probe", c.Name, lowerKind(v.FailedKind))
		if d.restartsAfterKill(spec) {
			msg += ", will be restarted"
		}
		d.acts.Kills = append(d.acts.Kills, containerKill{ID: c.ID, Name: c.Name, Message: msg, GracePeriod: &grace})
		d.killed[c.Name] = true
	}
}

// definitionChanged reports whether a regular container's or a sidecar's instance was
// made from another spec than the pod's (its hash annotation differs). An
// instance without the annotation is taken as it is.
func definitionChanged(spec *v1.Container, c containerRecord) bool {
	return (!c.Init || isSidecar(spec)) && c.Hash != "" && c.Hash != containerHash(spec)
}

// sandboxChanged reports whether the pod's ready sandbox no longer fits its
// spec: as the kubelet's podSandboxChanged, when the pod asks for the
// node's network namespace and the sandbox has its own, or the other way
// round.
func sandboxChanged(pod *v1.Pod, s sandboxRecord) bool {
	return s.HostNetwork != nil && *s.HostNetwork != pod.Spec.HostNetwork
}

// restartsAfterKill reports whether a container killed for its probe
// starts again: a sidecar always does, a regular container unless the pod
// never restarts (the kubelet's shouldRestartOnFailure).
func (d *decider) restartsAfterKill(c *v1.Container) bool {
	return isSidecar(c) || d.pod().Spec.RestartPolicy != v1.RestartPolicyNever
}

// replaceSandbox handles a pod with no ready sandbox: the first start, or a
// sandbox that died (then everything in it restarts from the beginning).
func (d *decider) replaceSandbox() {
	sandboxes := d.in.Observed.Sandboxes
	if len(sandboxes) > 0 {
		d.acts.SandboxAttempt = sandboxes[0].Attempt + 1
	}
	d.acts.KillPod = anyReady(sandboxes) || anyRunning(d.in.Observed.Containers)
	// As the kubelet: a pod that never restarts does not get a new sandbox
	// once its containers have been created.
	if d.pod().Spec.RestartPolicy == v1.RestartPolicyNever && len(d.in.Observed.Containers) > 0 {
		return
	}
	spec := &d.pod().Spec
	if len(spec.InitContainers) > 0 {
		d.start(&spec.InitContainers[0], true)
	} else {
		for i := range spec.Containers {
			c := &spec.Containers[i]
			latest := d.newest(c.Name)
			// Running containers die with the old sandbox and start again.
			if latest != nil && latest.State == status.ContainerExited && !shouldRestart(spec.RestartPolicy, latest) {
				continue
			}
			d.start(c, false)
		}
	}
	d.acts.CreateSandbox = len(d.acts.Starts) > 0
	d.wakeAtDeadline()
}

// initContainers decides for the init containers and reports whether they
// are all done, so app containers may run.
func (d *decider) initContainers() bool {
	spec := &d.pod().Spec
	// As the kubelet's computeInitContainerActions: the pod has initialized
	// in this sandbox once a regular container was created in it; what ran
	// in a sandbox that was replaced does not count, so after a new sandbox
	// the init containers run again from the first.
	appStarted := false
	for i := range spec.Containers {
		if l := d.newest(spec.Containers[i].Name); l != nil && d.inCurrentSandbox(l) {
			appStarted = true
			break
		}
	}
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		latest := d.newest(c.Name)
		if latest != nil && !isSidecar(c) && !d.inCurrentSandbox(latest) && latest.State == status.ContainerExited {
			latest = nil // ran in a sandbox that was replaced: it runs again
		}
		if isSidecar(c) {
			if !d.sidecar(c, latest, appStarted) {
				return false
			}
			continue
		}
		if appStarted {
			continue
		}
		switch {
		case latest == nil:
			d.start(c, true)
			return false
		case latest.State == status.ContainerCreated:
			d.startExisting(c, true, latest)
			return false
		case latest.State == status.ContainerRunning:
			return false
		case latest.State == status.ContainerExited && latest.ExitCode == 0:
			continue
		default:
			d.restartThroughBackoff(c, true, latest)
			return false
		}
	}
	return true
}

// sidecar decides for a native sidecar and reports whether the next init
// container may go on.
func (d *decider) sidecar(c *v1.Container, latest *containerRecord, appStarted bool) bool {
	switch {
	case latest == nil:
		d.start(c, true)
	case d.killed[c.Name]:
		d.start(c, true)
	case latest.State == status.ContainerRunning:
		// The next init container waits for the sidecar's startup probe,
		// as the kubelet does.
		if v, ok := d.in.Probes[latest.ID]; ok && !v.Started && !appStarted {
			return false
		}
		return true
	case latest.State == status.ContainerCreated:
		d.startExisting(c, true, latest)
	default:
		d.restartThroughBackoff(c, true, latest)
	}
	// Until the app containers have started, the next init container
	// waits for this sidecar to be running.
	return appStarted
}

// appContainer decides for a regular container and reports whether it is
// kept running.
func (d *decider) appContainer(c *v1.Container) bool {
	latest := d.newest(c.Name)
	switch {
	case latest == nil:
		d.start(c, false)
	case d.killed[c.Name]:
		if d.changed[c.Name] || d.restartsAfterKill(c) {
			d.start(c, false)
		}
	case latest.State == status.ContainerRunning, latest.State == status.ContainerUnknown:
		// An instance in an unknown state is killed first and restarted
		// by a later sync.
		return true
	case latest.State == status.ContainerCreated:
		d.startExisting(c, false, latest)
	case shouldRestart(d.pod().Spec.RestartPolicy, latest):
		d.restartThroughBackoff(c, false, latest)
	}
	return false
}

// inCurrentSandbox reports whether an instance belongs to the sandbox the
// plan starts containers in (an instance with no sandbox recorded counts as
// its own).
func (d *decider) inCurrentSandbox(r *containerRecord) bool {
	return r.SandboxID == "" || r.SandboxID == d.acts.SandboxID
}

// startsApp reports whether the plan starts a regular container, or would
// but for a backoff.
func (d *decider) startsApp() bool {
	for _, s := range d.acts.Starts {
		if !s.Init {
			return true
		}
	}
	for i := range d.pod().Spec.Containers {
		if _, waiting := d.acts.Waiting[d.pod().Spec.Containers[i].Name]; waiting {
			return true
		}
	}
	return false
}

// startExisting starts an instance that was created and never started.
func (d *decider) startExisting(c *v1.Container, init bool, latest *containerRecord) {
	d.plan(containerStart{Container: c, Init: init, RestartCount: latest.RestartCount, ExistingID: latest.ID})
}

func (d *decider) start(c *v1.Container, init bool) {
	d.plan(containerStart{Container: c, Init: init, RestartCount: d.nextRestartCount(c.Name)})
}

// plan adds a start, with what the image's pull backoff says of it, unless
// the container waits out a create failure.
func (d *decider) plan(s containerStart) {
	if s.ExistingID == "" {
		if w, wait, waiting := createBackoffWait(d.in.CreateFailures, s.Container.Name, d.in.Now); waiting {
			d.acts.Waiting[s.Container.Name] = w
			d.wake(wait)
			return
		}
	}
	if d.in.ImageBackoff != nil {
		if waiting, wait := d.in.ImageBackoff.inBackoffSinceUpdate(s.Container.Image, d.in.Now); waiting {
			s.PullBackoff = wait
			d.wake(wait)
		}
	}
	d.acts.Starts = append(d.acts.Starts, s)
}

// restartThroughBackoff restarts an exited container now, or records that
// it waits in CrashLoopBackOff and when to look again.
func (d *decider) restartThroughBackoff(c *v1.Container, init bool, latest *containerRecord) {
	if latest.State == status.ContainerUnknown {
		return // killed first; restarted by a later sync
	}
	if wait, waiting := d.backoffWait(c.Name, latest.FinishedAt); waiting {
		d.acts.Waiting[c.Name] = status.Waiting{
			Reason:  reasonCrashLoopBackOff,
			Message: crashLoopMessage(d.in.CrashBackoff.period(c.Name), c.Name, d.pod(), latest, d.in.Now.Add(wait)),
		}
		d.event(c.Name, v1.EventTypeWarning, eventBackOff, fmt.Sprintf("Back-off restarting failed container %s in pod %s", c.Name, podDescription(d.pod())))
		d.wake(wait)
		return
	}
	d.plan(containerStart{Container: c, Init: init, RestartCount: latest.RestartCount + 1, Restart: true})
}

func (d *decider) backoffWait(name string, finished time.Time) (time.Duration, bool) {
	if d.in.CrashBackoff == nil {
		return 0, false
	}
	waiting, wait := d.in.CrashBackoff.inBackoff(name, finished, d.in.Now)
	return wait, waiting
}

// deadlineExceeded reports whether the pod's activeDeadlineSeconds has
// passed.
func deadlineExceeded(pod *v1.Pod, start, now time.Time) bool {
	d := pod.Spec.ActiveDeadlineSeconds
	return d != nil && !start.IsZero() && now.Sub(start) >= time.Duration(*d)*time.Second
}

func anyReady(sandboxes []sandboxRecord) bool {
	for _, s := range sandboxes {
		if s.Ready {
			return true
		}
	}
	return false
}

func anyRunning(containers []containerRecord) bool {
	for _, c := range containers {
		if c.State == status.ContainerRunning || c.State == status.ContainerUnknown {
			return true
		}
	}
	return false
}

// collectGarbage removes dead instances beyond the newest ones kept for
// lastState.
func (d *decider) collectGarbage() {
	for _, instances := range d.latest {
		dead := 0
		for _, r := range instances {
			if r.State != status.ContainerExited {
				continue
			}
			dead++
			// The newest instance is kept whatever its state: it carries
			// the restart count.
			if dead > maxDeadInstances && r.ID != instances[0].ID {
				d.acts.Removes = append(d.acts.Removes, r.ID)
			}
		}
	}
	sort.Strings(d.acts.Removes)
	d.collectSandboxes()
}

// collectSandboxes removes sandboxes replaced by a newer one once nothing
// kept (the newest dead instance of a container, for its lastState and
// restart count) lives in them, as the kubelet's garbage collector does.
func (d *decider) collectSandboxes() {
	sandboxes := d.in.Observed.Sandboxes
	if len(sandboxes) < 2 {
		return
	}
	removed := map[string]bool{}
	for _, id := range d.acts.Removes {
		removed[id] = true
	}
	inUse := map[string]bool{}
	for _, c := range d.in.Observed.Containers {
		if !removed[c.ID] {
			inUse[c.SandboxID] = true
		}
	}
	for _, s := range sandboxes[1:] {
		if !s.Ready && !inUse[s.ID] {
			d.acts.RemoveSandboxes = append(d.acts.RemoveSandboxes, s.ID)
		}
	}
}

func (d *decider) newest(name string) *containerRecord {
	if rs := d.latest[name]; len(rs) > 0 {
		return &rs[0]
	}
	return nil
}

func (d *decider) nextRestartCount(name string) int32 {
	if r := d.newest(name); r != nil {
		return r.RestartCount + 1
	}
	return 0
}

// shouldRestart applies the restart policy to an instance that is not
// running.
func shouldRestart(policy v1.RestartPolicy, r *containerRecord) bool {
	if r.State == status.ContainerRunning {
		return false
	}
	if r.State != status.ContainerExited {
		return true
	}
	switch policy {
	case v1.RestartPolicyNever:
		return false
	case v1.RestartPolicyOnFailure:
		return r.ExitCode != 0
	default:
		return true
	}
}

// isSidecar reports whether an init container is a native sidecar.
func isSidecar(c *v1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways
}

// latestByName groups instances by container name, newest first.
func latestByName(records []containerRecord) map[string][]containerRecord {
	return status.GroupNewestFirst(records, func(r containerRecord) status.ContainerRecord { return r.ContainerRecord })
}

// lowerKind names a probe kind as the kubelet's kill messages do.
func lowerKind(k probes.Kind) string {
	switch k {
	case probes.Startup:
		return "startup"
	case probes.Readiness:
		return "readiness"
	default:
		return "liveness"
	}
}

// crashLoopMessage is the kubelet's CrashLoopBackOff message, followed by
// what a user needs to act on it: how the last run ended and when the
// next one starts.
func crashLoopMessage(period time.Duration, name string, pod *v1.Pod, last *containerRecord, next time.Time) string {
	ended := fmt.Sprintf("exit code %d", last.ExitCode)
	if last.Reason != "" {
		ended += " (" + last.Reason + ")"
	}
	return fmt.Sprintf("back-off %s restarting failed container=%s pod=%s; last run ended with %s; next restart at %s",
		period, name, podDescription(pod), ended, next.UTC().Format(time.RFC3339))
}

// podDescription names a pod in messages as the kubelet does:
// name_namespace(uid).
func podDescription(pod *v1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}
