package podcolumns

import (
	"fmt"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Words the pod printer shows beyond the pod phase and the containers' own
// reasons.
const (
	terminating     = "Terminating"
	unknown         = "Unknown"
	running         = "Running"
	notReady        = "NotReady"
	completed       = "Completed"
	podInitializing = "PodInitializing"
	// nodeLost is the pod reason the node controller sets when a node is
	// unreachable (k8s.io/kubernetes/pkg/util/node.NodeUnreachablePodReason).
	nodeLost = "NodeLost"
	// None is what the printer shows for an empty cell.
	None  = "<none>"
	noAge = "<unknown>"
)

// Row is one pod's line of `kubectl get pods`, as the printer's printPod
// computes it.
type Row struct {
	// Ready and Total make the READY column (ReadyCell): ready containers
	// over all containers, where sidecars (init containers with
	// restartPolicy Always) count as containers and a started, ready sidecar
	// counts as ready.
	Ready, Total int
	// Status is the STATUS column, by the printer's rules: the pod's reason
	// or phase (SchedulingGated when the scheduler gated it); while
	// initializing, Init:<reason> of the first init container that has not
	// completed (Init:CrashLoopBackOff, Init:Error, Init:ExitCode:N,
	// Init:Signal:N) or Init:i/n; then, once initialized, the reason of the
	// first app container (in status order, which is spec order) that is
	// waiting or terminated (ContainerCreating, PodInitializing,
	// CrashLoopBackOff, Completed, Error, ExitCode:N, Signal:N); Completed
	// turns back into Running (or NotReady without a True Ready condition)
	// while another container still runs ready; and a pod with a
	// deletionTimestamp prints Terminating unless its phase is terminal
	// (Unknown when its node was lost). Started sidecars do not hold up
	// initialization.
	Status string
	// Restarts and LastRestart make the RESTARTS column (RestartsCell).
	Restarts    int
	LastRestart metav1.Time
}

// ReadyCell is the READY column: "<ready>/<total>".
func (r Row) ReadyCell() string {
	return fmt.Sprintf("%d/%d", r.Ready, r.Total)
}

// RestartsCell is the RESTARTS column: the restart count, followed by
// " (<age> ago)" of the most recent restart when there was one, e.g.
// "3 (2m ago)". While the pod initializes the count is that of the init
// containers; afterwards it is that of the sidecars and the app containers.
func (r Row) RestartsCell(now time.Time) string {
	if r.Restarts != 0 && !r.LastRestart.IsZero() {
		return fmt.Sprintf("%d (%s ago)", r.Restarts, Age(r.LastRestart, now))
	}
	return strconv.Itoa(r.Restarts)
}

// Age formats the time since t as the printers print ages
// (duration.HumanDuration: "45s", "2m5s", "3h", "5d", "2y"), and
// "<unknown>" for a zero time.
func Age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return noAge
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// WideCells are the IP, NODE, NOMINATED NODE and READINESS GATES cells of
// the wide output.
func WideCells(pod *v1.Pod) []string {
	ip := None
	if len(pod.Status.PodIPs) > 0 && pod.Status.PodIPs[0].IP != "" {
		ip = pod.Status.PodIPs[0].IP
	}
	node := pod.Spec.NodeName
	if node == "" {
		node = None
	}
	nominated := pod.Status.NominatedNodeName
	if nominated == "" {
		nominated = None
	}
	gates := None
	if len(pod.Spec.ReadinessGates) > 0 {
		met := 0
		for _, g := range pod.Spec.ReadinessGates {
			if c, ok := findCondition(pod.Status.Conditions, g.ConditionType); ok && c.Status == v1.ConditionTrue {
				met++
			}
		}
		gates = fmt.Sprintf("%d/%d", met, len(pod.Spec.ReadinessGates))
	}
	return []string{ip, node, nominated, gates}
}

// Summarize computes the READY, STATUS and RESTARTS cells together, as
// printPod does in one pass.
func Summarize(pod *v1.Pod) Row {
	r := Row{Total: len(pod.Spec.Containers)}

	phase := pod.Status.Phase
	r.Status = string(phase)
	if pod.Status.Reason != "" {
		r.Status = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == v1.PodScheduled && c.Reason == v1.PodReasonSchedulingGated {
			r.Status = v1.PodReasonSchedulingGated
		}
	}

	initSpecs := make(map[string]*v1.Container, len(pod.Spec.InitContainers))
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		initSpecs[c.Name] = c
		if isSidecar(c) {
			r.Total++
		}
	}

	var sidecarRestarts int
	var lastSidecarRestart metav1.Time
	initializing := false
	for i := range pod.Status.InitContainerStatuses {
		s := &pod.Status.InitContainerStatuses[i]
		sidecar := isSidecar(initSpecs[s.Name])
		r.Restarts += int(s.RestartCount)
		laterRestart(&r.LastRestart, s)
		if sidecar {
			sidecarRestarts += int(s.RestartCount)
			laterRestart(&lastSidecarRestart, s)
		}

		switch {
		case s.State.Terminated != nil && s.State.Terminated.ExitCode == 0:
			continue
		case sidecar && s.Started != nil && *s.Started:
			if s.Ready {
				r.Ready++
			}
			continue
		case s.State.Terminated != nil:
			t := s.State.Terminated
			switch {
			case t.Reason != "":
				r.Status = "Init:" + t.Reason
			case t.Signal != 0:
				r.Status = fmt.Sprintf("Init:Signal:%d", t.Signal)
			default:
				r.Status = fmt.Sprintf("Init:ExitCode:%d", t.ExitCode)
			}
		case s.State.Waiting != nil && s.State.Waiting.Reason != "" && s.State.Waiting.Reason != podInitializing:
			r.Status = "Init:" + s.State.Waiting.Reason
		default:
			r.Status = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		initializing = true
		break
	}

	if !initializing || conditionTrue(pod.Status.Conditions, v1.PodInitialized) {
		r.Restarts = sidecarRestarts
		r.LastRestart = lastSidecarRestart
		hasRunning := false
		// printPod walks the app containers backwards, so the first one in
		// spec order that is waiting or terminated gives the status.
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			s := &pod.Status.ContainerStatuses[i]
			r.Restarts += int(s.RestartCount)
			laterRestart(&r.LastRestart, s)
			switch {
			case s.State.Waiting != nil && s.State.Waiting.Reason != "":
				r.Status = s.State.Waiting.Reason
			case s.State.Terminated != nil && s.State.Terminated.Reason != "":
				r.Status = s.State.Terminated.Reason
			case s.State.Terminated != nil && s.State.Terminated.Signal != 0:
				r.Status = fmt.Sprintf("Signal:%d", s.State.Terminated.Signal)
			case s.State.Terminated != nil:
				r.Status = fmt.Sprintf("ExitCode:%d", s.State.Terminated.ExitCode)
			case s.Ready && s.State.Running != nil:
				hasRunning = true
				r.Ready++
			}
		}
		if r.Status == completed && hasRunning {
			if anyConditionTrue(pod.Status.Conditions, v1.PodReady) {
				r.Status = running
			} else {
				r.Status = notReady
			}
		}
	}

	if pod.DeletionTimestamp != nil {
		switch {
		case pod.Status.Reason == nodeLost:
			r.Status = unknown
		case phase != v1.PodSucceeded && phase != v1.PodFailed:
			r.Status = terminating
		}
	}
	return r
}

// isSidecar reports whether c is a native sidecar: an init container with
// restartPolicy Always.
func isSidecar(c *v1.Container) bool {
	return c != nil && c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways
}

// laterRestart moves *last to s's last termination when that is later.
func laterRestart(last *metav1.Time, s *v1.ContainerStatus) {
	if t := s.LastTerminationState.Terminated; t != nil && last.Before(&t.FinishedAt) {
		*last = t.FinishedAt
	}
}

func findCondition(conditions []v1.PodCondition, t v1.PodConditionType) (*v1.PodCondition, bool) {
	for i := range conditions {
		if conditions[i].Type == t {
			return &conditions[i], true
		}
	}
	return nil, false
}

// conditionTrue reports whether the first condition of type t is True, as
// printPod looks up Initialized.
func conditionTrue(conditions []v1.PodCondition, t v1.PodConditionType) bool {
	c, ok := findCondition(conditions, t)
	return ok && c.Status == v1.ConditionTrue
}

// anyConditionTrue reports whether any condition of type t is True, as
// printPod looks up Ready.
func anyConditionTrue(conditions []v1.PodCondition, t v1.PodConditionType) bool {
	for _, c := range conditions {
		if c.Type == t && c.Status == v1.ConditionTrue {
			return true
		}
	}
	return false
}
