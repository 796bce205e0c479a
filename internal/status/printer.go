package status

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minikubelet/minikubelet/internal/podcolumns"
)

// kubectl's table writer settings (k8s.io/cli-runtime/pkg/printers
// GetNewTabWriter): minimum cell width 6, tab width 4, padding 3, spaces.
const (
	tabwriterMinWidth = 6
	tabwriterWidth    = 4
	tabwriterPadding  = 3
	tabwriterPadChar  = ' '
)

// Age formats the time since created as kubectl prints ages
// (duration.HumanDuration: "45s", "2m5s", "3h", "5d", "2y"), and "<unknown>"
// for a zero time.
func Age(created metav1.Time, now time.Time) string { return podcolumns.Age(created, now) }

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
		r := podcolumns.Summarize(pod)
		cells := []string{pod.Name, r.ReadyCell(), r.Status, r.RestartsCell(now), Age(pod.CreationTimestamp, now)}
		if wide {
			cells = append(cells, podcolumns.WideCells(pod)...)
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

// StatusColumn is the STATUS cell kubectl get pods shows for pod
// (Running, ContainerCreating, CrashLoopBackOff, Init:0/1, Completed, ...).
func StatusColumn(pod *v1.Pod) string { return podcolumns.Summarize(pod).Status }

// escapeTerminal neutralizes terminal escape sequences in a table cell, as
// kubectl does since kubernetes/kubernetes#101695.
func escapeTerminal(s string) string {
	return strings.NewReplacer("\x1b", "^[", "\r", "\\r").Replace(s)
}
