package podworker

import (
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/probes"
	"github.com/minikubelet/minikubelet/internal/status"
)

// sandboxRecord is one sandbox the runtime has for the pod.
type sandboxRecord struct {
	ID        string
	Ready     bool
	Attempt   uint32
	CreatedAt time.Time
	IPs       []string
	// HostNetwork is whether a ready sandbox shares the node's network
	// namespace, as its status says; nil when it does not say.
	HostNetwork *bool
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
	// messageFile is the host file behind terminationMessagePath, and
	// fallbackToLogs the FallbackToLogsOnError policy: what an exit needs
	// for its message.
	messageFile    string
	fallbackToLogs bool
}

// observation is what the runtime has for one pod, at one instant.
type observation struct {
	// Sandboxes, newest first.
	Sandboxes []sandboxRecord
	// Containers, every instance, in any order.
	Containers []containerRecord
	// Fingerprint and ListedAt say how the CRI listed the pod and when
	// the listing began (for the relister: a worker's own changes are no
	// news).
	Fingerprint string
	ListedAt    time.Time
}

// probeVerdict is what the probes say of one running container instance,
// pulled by the worker before it decides.
type probeVerdict struct {
	// Started is false while a startup probe has not succeeded.
	Started bool
	// Failed is set when the liveness or startup probe reached its failure
	// threshold: the container must be killed.
	Failed bool
	// FailedKind is that probe's kind.
	FailedKind probes.Kind
}

// decisionInput is everything computeActions looks at. Backoffs are read,
// never changed: settle says how they move.
type decisionInput struct {
	Pod      *v1.Pod
	Observed observation
	// CrashBackoff is the restart backoff by container name; ImageBackoff
	// the pull backoff by image. Nil means none.
	CrashBackoff *backoff
	ImageBackoff *backoff
	Now          time.Time
	// StartTime is when the pod was first acknowledged on the node, for
	// activeDeadlineSeconds.
	StartTime time.Time
	// Probes holds, by container ID, what the probes say of the running
	// containers; a running container without an entry has started and
	// is healthy.
	Probes map[string]probeVerdict
	// DeadlineReported is true once the DeadlineExceeded event was
	// recorded.
	DeadlineReported bool
	// CreateFailures are the containers whose last start could not create
	// them, by name: none is tried again before syncErrorBackoff passed.
	CreateFailures map[string]createFailure
	// Storage is the pod's last local storage measurement; nil when the
	// pod has no limit to enforce or was not measured yet.
	Storage *storageUsage
	// Evicted is the eviction message once the pod was evicted (and the
	// Evicted event recorded); "" before.
	Evicted string
}

// containerStart asks for a new instance of a container.
type containerStart struct {
	Container    *v1.Container
	Init         bool
	RestartCount int32
	// Restart is true when a previous instance exited and the restart went
	// through the crash-loop backoff, which then grows.
	Restart bool
	// ExistingID names an instance that was created but never started (the
	// daemon stopped in between): it is started instead of a new one, so a
	// container runs at most once per restart count.
	ExistingID string
	// PullBackoff is how long the image's pull backoff still lasts; while
	// it does, a missing image is not pulled (ImagePullBackOff).
	PullBackoff time.Duration
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

// podEvent is an event the decision itself records.
type podEvent struct {
	Container, Type, Reason, Message string
}

// podActions is the plan of one sync, decided by computeActions. It is
// read-only once decided: what applying it teaches comes back as an
// applyResult, and settle turns both into the sync's outcome.
type podActions struct {
	// KillPod stops every container (the pod's termination order) and
	// every ready sandbox before anything else.
	KillPod bool
	// Finished says the pod is done for good (every regular container
	// exited and will not restart, an init container failed under Never,
	// or the deadline passed): KillPod then stops what still runs and gives
	// back the sandbox, and nothing starts again.
	Finished bool
	// CreateSandbox makes a new sandbox with SandboxAttempt; otherwise
	// containers start in SandboxID.
	CreateSandbox  bool
	SandboxAttempt uint32
	SandboxID      string
	// Kills are stopped, in parallel, before Starts.
	Kills []containerKill
	// Starts are started in order; an init container is always alone.
	Starts []containerStart
	// Removes are IDs of dead container instances no longer needed.
	Removes []string
	// RemoveSandboxes are IDs of stopped sandboxes, older than the newest,
	// that hold no container instance still kept.
	RemoveSandboxes []string
	// Waiting holds why containers that should run do not yet.
	Waiting map[string]status.Waiting
	// Events are recorded before acting.
	Events []podEvent
	// Wake asks for a sync after this long (a backoff ends, the deadline
	// passes); zero for none.
	Wake time.Duration
	// DeadlineExceeded is set once activeDeadlineSeconds has passed: the
	// pod is Failed.
	DeadlineExceeded bool
	// Evicted is the eviction message once local storage went over a
	// limit: the pod is Failed, reason Evicted.
	Evicted string
	// EvictionSignal is the kubelet's signal of that eviction
	// (emptydirfs.limit, ephemeralpodfs.limit, ephemeralcontainerfs.limit).
	EvictionSignal string
	// KillGrace overrides the pod's grace period for KillPod, in seconds
	// (an eviction's); nil for the pod's.
	KillGrace *int64
}

// acts reports whether the plan changes anything in the runtime.
func (a *podActions) acts() bool {
	return a.KillPod || a.CreateSandbox || len(a.Kills) > 0 || len(a.Starts) > 0 || len(a.Removes) > 0 || len(a.RemoveSandboxes) > 0
}
