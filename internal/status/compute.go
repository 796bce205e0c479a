package status

import (
	"sort"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minikubelet/minikubelet/internal/qos"
)

// ContainerState is the runtime's state of one container instance.
type ContainerState int

// The states a CRI container can be in.
const (
	ContainerCreated ContainerState = iota
	ContainerRunning
	ContainerExited
	ContainerUnknown
)

// Container reasons and pod reasons the kubelet reports.
const (
	ReasonContainerCreating = "ContainerCreating"
	ReasonPodInitializing   = "PodInitializing"
	ReasonCrashLoopBackOff  = "CrashLoopBackOff"
	ReasonCompleted         = "Completed"
	ReasonError             = "Error"
	ReasonContainerUnknown  = "ContainerStatusUnknown"

	// ContainerIDPrefix is how container IDs from containerd are shown.
	ContainerIDPrefix = "containerd://"
)

// ContainerRecord is one container instance as the runtime reports it.
type ContainerRecord struct {
	ID           string
	Name         string
	RestartCount int32
	State        ContainerState
	CreatedAt    time.Time
	StartedAt    time.Time
	FinishedAt   time.Time
	ExitCode     int32
	Reason       string
	Message      string
	Image        string
	ImageID      string
}

// Waiting is why a container is not running, as decided by the pod worker
// (CrashLoopBackOff, CreateContainerError, ...).
type Waiting struct {
	Reason  string
	Message string
}

// Observation is everything known about one pod at one instant: what the
// runtime has, and what the pod worker and probes decided.
type Observation struct {
	// SandboxReady is true when the pod's sandbox runs with its network.
	SandboxReady bool
	// PodIPs are the sandbox's addresses, primary first.
	PodIPs []string
	// HostIP is the node's address.
	HostIP string
	// StartTime is when the worker first acknowledged the pod.
	StartTime time.Time
	// Containers holds every container instance of the pod the runtime
	// knows, in any order.
	Containers []ContainerRecord
	// Waiting holds, by container name, why a container is waiting.
	Waiting map[string]Waiting
	// Ready holds readiness probe results by container name; a running
	// container without an entry is ready unless NotReadyByDefault says it
	// has a readiness probe that has not succeeded yet.
	Ready map[string]bool
	// Started holds startup probe results by container name; a running
	// container without an entry has started.
	Started map[string]bool
	// Terminating is true once the pod is being stopped. Readiness still
	// follows the probes, as the kubelet's.
	Terminating bool
	// Terminated is true once every container and the sandbox are stopped
	// for good.
	Terminated bool
	// Failed forces the Failed phase with Reason and Message (an exceeded
	// activeDeadlineSeconds).
	Failed          bool
	Reason, Message string
	// SandboxMessage says why the sandbox is not ready, when it is not.
	SandboxMessage string
}

// Compute builds the pod's status from an observation. prev is the status
// published last time (for condition transition times), or nil.
func Compute(pod *v1.Pod, obs Observation, prev *v1.PodStatus, now time.Time) v1.PodStatus {
	byName := instancesByName(obs.Containers)
	defaultReason := ReasonContainerCreating
	if len(pod.Spec.InitContainers) > 0 {
		defaultReason = ReasonPodInitializing
	}
	var st v1.PodStatus
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs := containerStatus(c, byName, obs, defaultReason)
		if !isSidecar(c) {
			// As the kubelet: a regular init container is ready exactly
			// when it has terminated with exit code 0.
			t := cs.State.Terminated
			cs.Ready = t != nil && t.ExitCode == 0
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
	}
	for i := range pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, containerStatus(&pod.Spec.Containers[i], byName, obs, defaultReason))
	}
	st.Phase = PodPhase(&pod.Spec, st.InitContainerStatuses, st.ContainerStatuses, obs.Terminated)
	if obs.Failed {
		st.Phase = v1.PodFailed
		st.Reason, st.Message = obs.Reason, obs.Message
	}
	if prev != nil && isTerminal(prev.Phase) && !obs.Terminating {
		// As the kubelet: a pod that reached Succeeded or Failed stays so.
		st.Phase = prev.Phase
		st.Reason, st.Message = prev.Reason, prev.Message
	}
	var previous []v1.PodCondition
	if prev != nil {
		previous = prev.Conditions
	}
	st.Conditions = Conditions(ConditionInput{
		Spec:           &pod.Spec,
		Phase:          st.Phase,
		InitStatuses:   st.InitContainerStatuses,
		Statuses:       st.ContainerStatuses,
		SandboxReady:   obs.SandboxReady,
		SandboxMessage: obs.SandboxMessage,
		Previous:       previous,
	}, now)
	st.HostIP = obs.HostIP
	if obs.HostIP != "" {
		st.HostIPs = []v1.HostIP{{IP: obs.HostIP}}
	}
	if len(obs.PodIPs) > 0 {
		st.PodIP = obs.PodIPs[0]
		for _, ip := range obs.PodIPs {
			st.PodIPs = append(st.PodIPs, v1.PodIP{IP: ip})
		}
	}
	if !obs.StartTime.IsZero() {
		t := metav1.NewTime(obs.StartTime)
		st.StartTime = &t
	}
	st.QOSClass = QOSClass(&pod.Spec)
	return st
}

func isTerminal(p v1.PodPhase) bool {
	return p == v1.PodSucceeded || p == v1.PodFailed
}

// instancesByName groups container instances by name, newest first.
func instancesByName(records []ContainerRecord) map[string][]ContainerRecord {
	return GroupNewestFirst(records, func(r ContainerRecord) ContainerRecord { return r })
}

// GroupNewestFirst groups container instances (of any type that holds a
// ContainerRecord) by container name, the newest instance first: the
// highest restart count, then the latest creation.
func GroupNewestFirst[T any](items []T, record func(T) ContainerRecord) map[string][]T {
	m := make(map[string][]T)
	for _, it := range items {
		name := record(it).Name
		m[name] = append(m[name], it)
	}
	for _, list := range m {
		sort.SliceStable(list, func(i, j int) bool {
			a, b := record(list[i]), record(list[j])
			if a.RestartCount != b.RestartCount {
				return a.RestartCount > b.RestartCount
			}
			return a.CreatedAt.After(b.CreatedAt)
		})
	}
	return m
}

func containerStatus(c *v1.Container, byName map[string][]ContainerRecord, obs Observation, defaultReason string) v1.ContainerStatus {
	cs := v1.ContainerStatus{Name: c.Name, Image: c.Image}
	instances := byName[c.Name]
	if len(instances) == 0 {
		w, ok := obs.Waiting[c.Name]
		if !ok {
			w = Waiting{Reason: defaultReason}
		}
		cs.State.Waiting = &v1.ContainerStateWaiting{Reason: w.Reason, Message: w.Message}
		return cs
	}
	latest := instances[0]
	cs.ContainerID = ContainerIDPrefix + latest.ID
	cs.ImageID = latest.ImageID
	if latest.Image != "" {
		cs.Image = latest.Image
	}
	cs.RestartCount = latest.RestartCount
	cs.State = recordState(latest)
	if len(instances) > 1 {
		cs.LastTerminationState = recordState(instances[1])
	}
	if w, ok := obs.Waiting[c.Name]; ok && latest.State != ContainerRunning {
		// A container waiting to be (re)started shows Waiting, with the run
		// that ended as its last state, as the kubelet shows it.
		if latest.State == ContainerExited {
			cs.LastTerminationState = cs.State
		}
		cs.State = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: w.Reason, Message: w.Message}}
	}
	if latest.State == ContainerRunning {
		started := true
		if s, ok := obs.Started[c.Name]; ok {
			started = s
		}
		cs.Started = &started
		ready, ok := obs.Ready[c.Name]
		if !ok {
			ready = started && c.ReadinessProbe == nil
		}
		// As the kubelet, a terminating pod's running containers stay
		// ready while their readiness probes pass.
		cs.Ready = ready && started
	} else {
		started := false
		cs.Started = &started
	}
	return cs
}

func recordState(r ContainerRecord) v1.ContainerState {
	switch r.State {
	case ContainerRunning:
		return v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: metav1.NewTime(r.StartedAt)}}
	case ContainerExited:
		reason := r.Reason
		if reason == "" {
			reason = ReasonError
			if r.ExitCode == 0 {
				reason = ReasonCompleted
			}
		}
		return v1.ContainerState{Terminated: &v1.ContainerStateTerminated{
			ExitCode:    r.ExitCode,
			Reason:      reason,
			Message:     r.Message,
			StartedAt:   metav1.NewTime(r.StartedAt),
			FinishedAt:  metav1.NewTime(r.FinishedAt),
			ContainerID: ContainerIDPrefix + r.ID,
		}}
	case ContainerUnknown:
		return v1.ContainerState{Terminated: &v1.ContainerStateTerminated{
			ExitCode:    137,
			Reason:      ReasonContainerUnknown,
			Message:     "The container could not be located when the pod was terminated",
			ContainerID: ContainerIDPrefix + r.ID,
		}}
	default:
		return v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: ReasonContainerCreating}}
	}
}

// QOSClass is the pod's quality of service class, as the API server computes
// it (with pod-level resources, see qos.PodQOS).
func QOSClass(spec *v1.PodSpec) v1.PodQOSClass {
	return qos.PodQOS(spec)
}
