package status

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Words kubectl prints in the STATUS column beyond the pod phase and the
// containers' own reasons.
const (
	kubectlTerminating     = "Terminating"
	kubectlUnknown         = "Unknown"
	kubectlRunning         = "Running"
	kubectlNotReady        = "NotReady"
	kubectlCompleted       = "Completed"
	kubectlPodInitializing = "PodInitializing"
	// kubectlNodeLost is the pod reason the node controller sets when a node is
	// unreachable (k8s.io/kubernetes/pkg/util/node.NodeUnreachablePodReason).
	kubectlNodeLost = "NodeLost"
	kubectlNone     = "<none>"
	kubectlNoAge    = "<unknown>"
)

// kubectl's table writer settings (k8s.io/cli-runtime/pkg/printers
// GetNewTabWriter): minimum cell width 6, tab width 4, padding 3, spaces.
const (
	tabwriterMinWidth = 6
	tabwriterWidth    = 4
	tabwriterPadding  = 3
	tabwriterPadChar  = ' '
)

// podRow is one pod's line of `kubectl get pods`, as kubectl's printPod
// computes it.
type podRow struct {
	// ready and total make the READY column (readyCell): ready containers
	// over all containers, where sidecars (init containers with
	// restartPolicy Always) count as containers and a started, ready sidecar
	// counts as ready.
	ready, total int
	// status is the STATUS column, by kubectl's rules: the pod's reason or
	// phase (SchedulingGated when the scheduler gated it); while
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
	status string
	// restarts and lastRestart make the RESTARTS column (restartsCell).
	restarts    int
	lastRestart metav1.Time
}

// readyCell is the READY column: "<ready>/<total>".
func (r podRow) readyCell() string {
	return fmt.Sprintf("%d/%d", r.ready, r.total)
}

// restartsCell is the RESTARTS column: the restart count, followed by
// " (<age> ago)" of the most recent restart when there was one, e.g.
// "3 (2m ago)". While the pod initializes the count is that of the init
// containers; afterwards it is that of the sidecars and the app containers.
func (r podRow) restartsCell(now time.Time) string {
	if r.restarts != 0 && !r.lastRestart.IsZero() {
		return fmt.Sprintf("%d (%s ago)", r.restarts, Age(r.lastRestart, now))
	}
	return strconv.Itoa(r.restarts)
}

// Age formats the time since created as kubectl prints ages
// (duration.HumanDuration: "45s", "2m5s", "3h", "5d", "2y"), and "<unknown>"
// for a zero time.
func Age(created metav1.Time, now time.Time) string {
	if created.IsZero() {
		return kubectlNoAge
	}
	return duration.HumanDuration(now.Sub(created.Time))
}

// PrintPods writes pods as kubectl get pods does: a header and one line per
// pod with NAME READY STATUS RESTARTS AGE, plus IP NODE NOMINATED NODE
// READINESS GATES when wide, and a leading NAMESPACE column when
// allNamespaces. Columns are aligned with kubectl's tab writer settings.
// "No resources found" handling is left to the caller: with no pods only the
// header is written.
func PrintPods(w io.Writer, pods []v1.Pod, now time.Time, wide, allNamespaces bool) error {
	tw := tabwriter.NewWriter(w, tabwriterMinWidth, tabwriterWidth, tabwriterPadding, tabwriterPadChar, 0)

	header := []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}
	if wide {
		header = append(header, "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
	}
	if allNamespaces {
		header = append([]string{"NAMESPACE"}, header...)
	}
	if _, err := fmt.Fprintln(tw, strings.Join(header, "\t")); err != nil {
		return fmt.Errorf("write pod table header: %w", err)
	}

	for i := range pods {
		pod := &pods[i]
		r := summarize(pod)
		cells := []string{pod.Name, r.readyCell(), r.status, r.restartsCell(now), Age(pod.CreationTimestamp, now)}
		if wide {
			cells = append(cells, wideCells(pod)...)
		}
		if allNamespaces {
			cells = append([]string{pod.Namespace}, cells...)
		}
		for j := range cells {
			cells[j] = escapeTerminal(cells[j])
		}
		if _, err := fmt.Fprintln(tw, strings.Join(cells, "\t")); err != nil {
			return fmt.Errorf("write pod table row for %s: %w", types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name}, err)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write pod table: %w", err)
	}
	return nil
}

// wideCells are the IP, NODE, NOMINATED NODE and READINESS GATES cells of
// kubectl get pods -o wide.
func wideCells(pod *v1.Pod) []string {
	ip := kubectlNone
	if len(pod.Status.PodIPs) > 0 && pod.Status.PodIPs[0].IP != "" {
		ip = pod.Status.PodIPs[0].IP
	}
	node := pod.Spec.NodeName
	if node == "" {
		node = kubectlNone
	}
	nominated := pod.Status.NominatedNodeName
	if nominated == "" {
		nominated = kubectlNone
	}
	gates := kubectlNone
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

// StatusColumn is the STATUS cell kubectl get pods shows for pod
// (Running, ContainerCreating, CrashLoopBackOff, Init:0/1, Completed, ...).
func StatusColumn(pod *v1.Pod) string { return summarize(pod).status }

// summarize computes the READY, STATUS and RESTARTS cells together, as
// kubectl's printPod does in one pass.
func summarize(pod *v1.Pod) podRow {
	r := podRow{total: len(pod.Spec.Containers)}

	phase := pod.Status.Phase
	r.status = string(phase)
	if pod.Status.Reason != "" {
		r.status = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == v1.PodScheduled && c.Reason == v1.PodReasonSchedulingGated {
			r.status = v1.PodReasonSchedulingGated
		}
	}

	initSpecs := make(map[string]*v1.Container, len(pod.Spec.InitContainers))
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		initSpecs[c.Name] = c
		if isSidecar(c) {
			r.total++
		}
	}

	var sidecarRestarts int
	var lastSidecarRestart metav1.Time
	initializing := false
	for i := range pod.Status.InitContainerStatuses {
		s := &pod.Status.InitContainerStatuses[i]
		sidecar := isSidecar(initSpecs[s.Name])
		r.restarts += int(s.RestartCount)
		laterRestart(&r.lastRestart, s)
		if sidecar {
			sidecarRestarts += int(s.RestartCount)
			laterRestart(&lastSidecarRestart, s)
		}

		switch {
		case s.State.Terminated != nil && s.State.Terminated.ExitCode == 0:
			continue
		case sidecar && isTrue(s.Started):
			if s.Ready {
				r.ready++
			}
			continue
		case s.State.Terminated != nil:
			t := s.State.Terminated
			switch {
			case t.Reason != "":
				r.status = "Init:" + t.Reason
			case t.Signal != 0:
				r.status = fmt.Sprintf("Init:Signal:%d", t.Signal)
			default:
				r.status = fmt.Sprintf("Init:ExitCode:%d", t.ExitCode)
			}
		case s.State.Waiting != nil && s.State.Waiting.Reason != "" && s.State.Waiting.Reason != kubectlPodInitializing:
			r.status = "Init:" + s.State.Waiting.Reason
		default:
			r.status = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		initializing = true
		break
	}

	if !initializing || conditionTrue(pod.Status.Conditions, v1.PodInitialized) {
		r.restarts = sidecarRestarts
		r.lastRestart = lastSidecarRestart
		hasRunning := false
		// kubectl walks the app containers backwards, so the first one in spec
		// order that is waiting or terminated gives the status.
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			s := &pod.Status.ContainerStatuses[i]
			r.restarts += int(s.RestartCount)
			laterRestart(&r.lastRestart, s)
			switch {
			case s.State.Waiting != nil && s.State.Waiting.Reason != "":
				r.status = s.State.Waiting.Reason
			case s.State.Terminated != nil && s.State.Terminated.Reason != "":
				r.status = s.State.Terminated.Reason
			case s.State.Terminated != nil && s.State.Terminated.Signal != 0:
				r.status = fmt.Sprintf("Signal:%d", s.State.Terminated.Signal)
			case s.State.Terminated != nil:
				r.status = fmt.Sprintf("ExitCode:%d", s.State.Terminated.ExitCode)
			case s.Ready && s.State.Running != nil:
				hasRunning = true
				r.ready++
			}
		}
		if r.status == kubectlCompleted && hasRunning {
			if anyConditionTrue(pod.Status.Conditions, v1.PodReady) {
				r.status = kubectlRunning
			} else {
				r.status = kubectlNotReady
			}
		}
	}

	if pod.DeletionTimestamp != nil {
		switch {
		case pod.Status.Reason == kubectlNodeLost:
			r.status = kubectlUnknown
		case phase != v1.PodSucceeded && phase != v1.PodFailed:
			r.status = kubectlTerminating
		}
	}
	return r
}

// laterRestart moves *last to s's last termination when that is later.
func laterRestart(last *metav1.Time, s *v1.ContainerStatus) {
	if t := s.LastTerminationState.Terminated; t != nil && last.Before(&t.FinishedAt) {
		*last = t.FinishedAt
	}
}

// conditionTrue reports whether the first condition of type t is True, as
// kubectl looks up Initialized.
func conditionTrue(conditions []v1.PodCondition, t v1.PodConditionType) bool {
	c, ok := findCondition(conditions, t)
	return ok && c.Status == v1.ConditionTrue
}

// anyConditionTrue reports whether any condition of type t is True, as
// kubectl looks up Ready.
func anyConditionTrue(conditions []v1.PodCondition, t v1.PodConditionType) bool {
	for _, c := range conditions {
		if c.Type == t && c.Status == v1.ConditionTrue {
			return true
		}
	}
	return false
}

// escapeTerminal neutralizes terminal escape sequences in a table cell, as
// kubectl does since kubernetes/kubernetes#101695.
func escapeTerminal(s string) string {
	return strings.NewReplacer("\x1b", "^[", "\r", "\\r").Replace(s)
}
