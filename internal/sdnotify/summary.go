package sdnotify

import (
	"fmt"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/status"
)

// statusLine is the STATUS= text: the pods' counts, prefixed while the
// daemon is not ready yet.
func statusLine(ready, scanned bool, pods []v1.Pod) string {
	switch {
	case ready:
		return summary(pods)
	case !scanned:
		return "Starting: reading the manifests"
	default:
		return "Starting: " + summary(pods)
	}
}

// summary counts pods by what kubectl's STATUS column shows: running,
// completed (Succeeded), failed (Failed), and waiting, with the most
// common of the waiting pods' columns ("12 pods: 11 running, 1 waiting:
// CrashLoopBackOff").
func summary(pods []v1.Pod) string {
	var running, completed, failed int
	waiting := map[string]int{}
	for i := range pods {
		pod := &pods[i]
		column := status.StatusColumn(pod)
		switch {
		case pod.DeletionTimestamp == nil && pod.Status.Phase == v1.PodSucceeded:
			completed++
		case pod.DeletionTimestamp == nil && pod.Status.Phase == v1.PodFailed:
			failed++
		case column == string(v1.PodRunning):
			running++
		default:
			waiting[column]++
		}
	}
	noun := "pods"
	if len(pods) == 1 {
		noun = "pod"
	}
	b := &strings.Builder{}
	fmt.Fprintf(b, "%d %s: %d running", len(pods), noun, running)
	if completed > 0 {
		fmt.Fprintf(b, ", %d completed", completed)
	}
	if failed > 0 {
		fmt.Fprintf(b, ", %d failed", failed)
	}
	if len(waiting) == 0 {
		return b.String()
	}
	reasons := make([]string, 0, len(waiting))
	total := 0
	for r, n := range waiting {
		reasons = append(reasons, r)
		total += n
	}
	sort.Slice(reasons, func(i, j int) bool {
		if waiting[reasons[i]] != waiting[reasons[j]] {
			return waiting[reasons[i]] > waiting[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	top := reasons[0]
	if waiting[top] == total {
		fmt.Fprintf(b, ", %d waiting: %s", total, top)
	} else {
		fmt.Fprintf(b, ", %d waiting: %d %s, %d other", total, waiting[top], top, total-waiting[top])
	}
	return b.String()
}
