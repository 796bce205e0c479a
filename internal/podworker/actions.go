package podworker

import (
	"fmt"
	"sort"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/status"
)

// Reasons a container waits, as the kubelet reports them.
const (
	reasonCrashLoopBackOff     = status.ReasonCrashLoopBackOff
	reasonCreateContainerError = "CreateContainerError"
	reasonRunContainerError    = "RunContainerError"
	reasonErrImagePull         = "ErrImagePull"
	reasonImagePullBackOff     = "ImagePullBackOff"
	reasonErrImageNeverPull    = "ErrImageNeverPull"
	reasonCreatePodSandboxErr  = "CreatePodSandboxError"
	reasonPostStartHookError   = "PostStartHookError"
)

// maxDeadInstances is how many exited instances of one container are kept
// for its lastState; older ones are removed, as the kubelet's container GC
// keeps one dead container per container name.
const maxDeadInstances = 1

// sandboxRecord is one sandbox the runtime has for the pod.
type sandboxRecord struct {
	ID        string
	Ready     bool
	Attempt   uint32
	CreatedAt time.Time
	IPs       []string
}

// containerRecord is one container instance the runtime has for the pod.
type containerRecord struct {
	status.ContainerRecord
	SandboxID string
	Hash      string
	Init      bool
	// LogPath is the instance's log file on the node.
	LogPath string
	// PreStop and Ports are the JSON the instance was annotated with, to
	// stop it when its pod's spec is gone.
	PreStop, Ports string
}

// observation is what the runtime has for one pod.
type observation struct {
	// Sandboxes, newest first.
	Sandboxes []sandboxRecord
	// Containers, every instance, in any order.
	Containers []containerRecord
}

// containerStart asks for a new instance of a container.
type containerStart struct {
	Container    *v1.Container
	Init         bool
	RestartCount int32
	// Restart is true when a previous instance exited: the restart goes
	// through the backoff.
	Restart bool
	// ExistingID names an instance that was created but never started (the
	// daemon stopped in between): it is started instead of a new one, so a
	// container runs at most once per restart count.
	ExistingID string
}

// containerKill asks to stop one running container.
type containerKill struct {
	ID      string
	Name    string
	Message string
	// GracePeriod overrides the pod's, in seconds (a probe's
	// terminationGracePeriodSeconds); nil for the pod's.
	GracePeriod *int64
}

// podActions is what one sync must do, decided by computeActions.
type podActions struct {
	// KillPod stops every container and sandbox of the pod before anything
	// else.
	KillPod bool
	// CreateSandbox makes a new sandbox with SandboxAttempt; otherwise
	// containers start in SandboxID.
	CreateSandbox  bool
	SandboxAttempt uint32
	SandboxID      string
	// Starts are started in order; an init container is always alone.
	Starts []containerStart
	Kills  []containerKill
	// Removes are IDs of dead container instances no longer needed.
	Removes []string
	// RemoveSandboxes are IDs of stopped sandboxes, older than the newest,
	// that hold no container instance still kept.
	RemoveSandboxes []string
	// Waiting holds why containers that should run do not yet.
	Waiting map[string]status.Waiting
	// Wake asks for a sync after this long (a backoff ends); zero for none.
	Wake time.Duration
	// DeadlineExceeded is set once activeDeadlineSeconds has passed: the
	// pod's containers are stopped for good and the pod is Failed.
	DeadlineExceeded bool
}

// decisionInput is everything computeActions looks at.
type decisionInput struct {
	Pod      *v1.Pod
	Observed observation
	Backoff  *backoff
	Now      time.Time
	// StartTime is when the pod was first acknowledged on the node, for
	// activeDeadlineSeconds.
	StartTime time.Time
	// Unhealthy holds, by container ID, why a liveness or startup probe
	// wants the container killed.
	Unhealthy map[string]unhealthy
	// Started says, by container ID, whether a running container's startup
	// probe has succeeded (absent means it has).
	Started map[string]bool
}

// unhealthy is a probe's verdict that a container must be restarted.
type unhealthy struct {
	Message     string
	GracePeriod *int64
}

// Pod-level reasons, as the kubelet reports them.
const (
	reasonDeadlineExceeded  = "DeadlineExceeded"
	messageDeadlineExceeded = "Pod was active on the node longer than the specified deadline"
)

// computeActions decides the next step for a pod that should run, from its
// spec and what the runtime has, as the kubelet's computePodActions does:
// sandbox first, then init containers one at a time (sidecars stay
// running), then every app container; exited containers restart per the
// restart policy, through the backoff.
func computeActions(in decisionInput) podActions {
	d := decider{in: in, latest: latestByName(in.Observed.Containers)}
	d.acts.Waiting = map[string]status.Waiting{}
	d.collectGarbage()
	if deadlineExceeded(in.Pod, in.StartTime, in.Now) {
		d.acts.DeadlineExceeded = true
		d.killRunning(messageDeadlineExceeded)
		return d.acts
	}
	sandboxes := in.Observed.Sandboxes
	if len(sandboxes) == 0 || !sandboxes[0].Ready {
		d.replaceSandbox()
		return d.acts
	}
	d.acts.SandboxID = sandboxes[0].ID
	for _, c := range in.Observed.Containers {
		switch {
		case c.State == status.ContainerUnknown:
			d.acts.Kills = append(d.acts.Kills, containerKill{ID: c.ID, Name: c.Name, Message: "container is in an unknown state"})
		case c.State == status.ContainerRunning:
			if u, ok := in.Unhealthy[c.ID]; ok {
				d.acts.Kills = append(d.acts.Kills, containerKill{ID: c.ID, Name: c.Name, Message: u.Message, GracePeriod: u.GracePeriod})
			}
		}
	}
	if !d.initContainers() {
		return d.acts
	}
	for i := range in.Pod.Spec.Containers {
		d.appContainer(&in.Pod.Spec.Containers[i])
	}
	return d.acts
}

type decider struct {
	in     decisionInput
	latest map[string][]containerRecord
	acts   podActions
}

func (d *decider) pod() *v1.Pod { return d.in.Pod }

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
		c := &spec.InitContainers[0]
		d.acts.Starts = append(d.acts.Starts, containerStart{Container: c, Init: true, RestartCount: d.nextRestartCount(c.Name)})
	} else {
		for i := range spec.Containers {
			c := &spec.Containers[i]
			latest := d.newest(c.Name)
			// Running containers die with the old sandbox and start again.
			if latest != nil && latest.State == status.ContainerExited && !shouldRestart(spec.RestartPolicy, latest) {
				continue
			}
			d.acts.Starts = append(d.acts.Starts, containerStart{Container: c, RestartCount: d.nextRestartCount(c.Name)})
		}
	}
	d.acts.CreateSandbox = len(d.acts.Starts) > 0
}

// initContainers decides for the init containers and reports whether they
// are all done, so app containers may run.
func (d *decider) initContainers() bool {
	spec := &d.pod().Spec
	appStarted := false
	for i := range spec.Containers {
		if d.newest(spec.Containers[i].Name) != nil {
			appStarted = true
			break
		}
	}
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		latest := d.newest(c.Name)
		if isSidecar(c) {
			switch {
			case latest == nil:
				d.start(c, true)
			case latest.State == status.ContainerRunning:
				// The next init container waits for the sidecar's startup
				// probe, as the kubelet does.
				if started, ok := d.in.Started[latest.ID]; ok && !started && !appStarted {
					return false
				}
				continue
			case latest.State == status.ContainerCreated:
				d.startExisting(c, true, latest)
			default:
				d.restartThroughBackoff(c, true, latest)
			}
			// Until the app containers have started, the next init
			// container waits for this sidecar to be running.
			if !appStarted {
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
		case spec.RestartPolicy == v1.RestartPolicyNever && latest.State == status.ContainerExited:
			// A failed init container under Never fails the pod: what
			// still runs (sidecars) is stopped.
			d.killRunning("init container failed and the pod's restartPolicy is Never")
			return false
		default:
			d.restartThroughBackoff(c, true, latest)
			return false
		}
	}
	return true
}

func (d *decider) appContainer(c *v1.Container) {
	latest := d.newest(c.Name)
	switch {
	case latest == nil:
		d.start(c, false)
	case latest.State == status.ContainerRunning:
	case latest.State == status.ContainerCreated:
		d.startExisting(c, false, latest)
	case shouldRestart(d.pod().Spec.RestartPolicy, latest):
		d.restartThroughBackoff(c, false, latest)
	}
}

// startExisting starts an instance that was created and never started.
func (d *decider) startExisting(c *v1.Container, init bool, latest *containerRecord) {
	d.acts.Starts = append(d.acts.Starts, containerStart{Container: c, Init: init, RestartCount: latest.RestartCount, ExistingID: latest.ID})
}

func (d *decider) start(c *v1.Container, init bool) {
	d.acts.Starts = append(d.acts.Starts, containerStart{Container: c, Init: init, RestartCount: d.nextRestartCount(c.Name)})
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
			Message: crashLoopMessage(d.in.Backoff.period(c.Name), c.Name, d.pod(), latest, d.in.Now.Add(wait)),
		}
		if d.acts.Wake == 0 || wait < d.acts.Wake {
			d.acts.Wake = wait
		}
		return
	}
	d.acts.Starts = append(d.acts.Starts, containerStart{Container: c, Init: init, RestartCount: latest.RestartCount + 1, Restart: true})
}

func (d *decider) backoffWait(name string, finished time.Time) (time.Duration, bool) {
	if d.in.Backoff == nil {
		return 0, false
	}
	waiting, wait := d.in.Backoff.inBackoff(name, finished, d.in.Now)
	return wait, waiting
}

func (d *decider) killRunning(why string) {
	for _, c := range d.in.Observed.Containers {
		if c.State == status.ContainerRunning {
			d.acts.Kills = append(d.acts.Kills, containerKill{ID: c.ID, Name: c.Name, Message: why})
		}
	}
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
