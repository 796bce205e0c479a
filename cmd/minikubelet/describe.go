package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/status"
)

// describeTimeFormat is how kubectl describe prints times.
const describeTimeFormat = time.RFC1123Z

func newDescribeCommand() *cobra.Command {
	opts := &getOptions{}
	cmd := &cobra.Command{
		Use:   "describe pod NAME",
		Short: "Show a pod in detail with its events, as kubectl describe pod does",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch args[0] {
			case "pod", "pods", "po":
			default:
				return fmt.Errorf("unknown resource type %q: minikubelet describes pods", args[0])
			}
			return runDescribe(cmd.Context(), cmd.OutOrStdout(), opts, args[1])
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.apiSocket, "api-socket", defaultAPISocket(), "the daemon's API socket (or $"+apiSocketEnv+")")
	f.StringVarP(&opts.namespace, "namespace", "n", "default", "namespace")
	return cmd
}

func runDescribe(ctx context.Context, out io.Writer, opts *getOptions, name string) error {
	list, err := fetchPods(ctx, opts.apiSocket)
	if err != nil {
		return err
	}
	var pod *v1.Pod
	for i := range list.Items {
		if list.Items[i].Namespace == opts.namespace && list.Items[i].Name == name {
			pod = &list.Items[i]
		}
	}
	if pod == nil {
		return fmt.Errorf("pods %q not found in namespace %q", name, opts.namespace)
	}
	body, err := apiGet(ctx, opts.apiSocket, "/events")
	if err != nil {
		return err
	}
	var events v1.EventList
	if err := json.Unmarshal(body, &events); err != nil {
		return fmt.Errorf("decode the daemon's events: %w", err)
	}
	var mine []v1.Event
	for _, e := range events.Items {
		if e.InvolvedObject.UID == pod.UID {
			mine = append(mine, e)
		}
	}
	return describePod(out, pod, mine, time.Now())
}

// describePod prints a pod the way kubectl describe pod lays it out.
func describePod(out io.Writer, pod *v1.Pod, events []v1.Event, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	p := func(indent int, format string, args ...any) {
		fmt.Fprintf(w, strings.Repeat("  ", indent)+format+"\n", args...)
	}
	p(0, "Name:\t%s", pod.Name)
	p(0, "Namespace:\t%s", pod.Namespace)
	p(0, "Priority:\t%d", ptrValue(pod.Spec.Priority))
	p(0, "Service Account:\t%s", pod.Spec.ServiceAccountName)
	p(0, "Node:\t%s/%s", pod.Spec.NodeName, pod.Status.HostIP)
	if pod.Status.StartTime != nil {
		p(0, "Start Time:\t%s", pod.Status.StartTime.Format(describeTimeFormat))
	}
	printMap(p, "Labels", pod.Labels)
	printMap(p, "Annotations", pod.Annotations)
	phase := string(pod.Status.Phase)
	if pod.DeletionTimestamp != nil {
		phase = fmt.Sprintf("Terminating (lasts %s)", status.Age(*pod.DeletionTimestamp, now))
		p(0, "Status:\t%s", phase)
		p(0, "Termination Grace Period:\t%ds", ptrValue(pod.DeletionGracePeriodSeconds))
	} else {
		p(0, "Status:\t%s", phase)
	}
	if pod.Status.Reason != "" {
		p(0, "Reason:\t%s", pod.Status.Reason)
	}
	if pod.Status.Message != "" {
		p(0, "Message:\t%s", pod.Status.Message)
	}
	p(0, "IP:\t%s", pod.Status.PodIP)
	p(0, "IPs:")
	if len(pod.Status.PodIPs) == 0 {
		p(1, "<none>")
	}
	for _, ip := range pod.Status.PodIPs {
		p(1, "IP:\t%s", ip.IP)
	}
	if len(pod.Spec.InitContainers) > 0 {
		p(0, "Init Containers:")
		describeContainers(p, pod, pod.Spec.InitContainers, pod.Status.InitContainerStatuses)
	}
	p(0, "Containers:")
	describeContainers(p, pod, pod.Spec.Containers, pod.Status.ContainerStatuses)
	p(0, "Conditions:")
	p(1, "Type\tStatus")
	for _, c := range pod.Status.Conditions {
		p(1, "%s \t%s ", c.Type, c.Status)
	}
	describeVolumes(p, pod.Spec.Volumes)
	p(0, "QoS Class:\t%s", pod.Status.QOSClass)
	printMap(p, "Node-Selectors", pod.Spec.NodeSelector)
	var tolerations []string
	for _, t := range pod.Spec.Tolerations {
		s := t.Key
		if t.Effect != "" {
			s += ":" + string(t.Effect)
		}
		s += " op=" + string(t.Operator)
		if t.TolerationSeconds != nil {
			s += fmt.Sprintf(" for %ds", *t.TolerationSeconds)
		}
		tolerations = append(tolerations, s)
	}
	printList(p, "Tolerations", tolerations)
	describeEvents(p, events, now)
	return w.Flush()
}

type printer func(indent int, format string, args ...any)

func describeContainers(p printer, pod *v1.Pod, containers []v1.Container, statuses []v1.ContainerStatus) {
	for _, c := range containers {
		var st *v1.ContainerStatus
		for i := range statuses {
			if statuses[i].Name == c.Name {
				st = &statuses[i]
			}
		}
		p(1, "%s:", c.Name)
		if st != nil && st.ContainerID != "" {
			p(2, "Container ID:\t%s", st.ContainerID)
		}
		p(2, "Image:\t%s", c.Image)
		if st != nil && st.ImageID != "" {
			p(2, "Image ID:\t%s", st.ImageID)
		}
		for _, port := range c.Ports {
			p(2, "Port:\t%d/%s", port.ContainerPort, port.Protocol)
			p(2, "Host Port:\t%d/%s", port.HostPort, port.Protocol)
		}
		if len(c.Ports) == 0 {
			p(2, "Port:\t<none>")
			p(2, "Host Port:\t<none>")
		}
		printArgs(p, "Command", c.Command)
		printArgs(p, "Args", c.Args)
		if st != nil {
			describeState(p, "State", st.State)
			if st.LastTerminationState.Terminated != nil {
				describeState(p, "Last State", st.LastTerminationState)
			}
			p(2, "Ready:\t%v", cases(st.Ready))
			p(2, "Restart Count:\t%d", st.RestartCount)
		}
		for _, pr := range []struct {
			name  string
			probe *v1.Probe
		}{{"Liveness", c.LivenessProbe}, {"Readiness", c.ReadinessProbe}, {"Startup", c.StartupProbe}} {
			if pr.probe != nil {
				p(2, "%s:\t%s", pr.name, probeSummary(pr.probe))
			}
		}
		if len(c.Env) == 0 {
			p(2, "Environment:\t<none>")
		} else {
			p(2, "Environment:")
			for _, e := range c.Env {
				switch {
				case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
					p(3, "%s:\t (%s:%s)", e.Name, e.ValueFrom.FieldRef.APIVersion, e.ValueFrom.FieldRef.FieldPath)
				case e.ValueFrom != nil && e.ValueFrom.ResourceFieldRef != nil:
					p(3, "%s:\t%s (%s)", e.Name, e.ValueFrom.ResourceFieldRef.Resource, c.Name)
				default:
					p(3, "%s:\t%s", e.Name, e.Value)
				}
			}
		}
		if len(c.VolumeMounts) == 0 {
			p(2, "Mounts:\t<none>")
		} else {
			p(2, "Mounts:")
			for _, m := range c.VolumeMounts {
				mode := "rw"
				if m.ReadOnly {
					mode = "ro"
				}
				sub := ""
				if m.SubPath != "" {
					sub = ", path = \"" + m.SubPath + "\""
				}
				p(3, "%s from %s (%s%s)", m.MountPath, m.Name, mode, sub)
			}
		}
	}
}

func describeState(p printer, title string, s v1.ContainerState) {
	switch {
	case s.Running != nil:
		p(2, "%s:\tRunning", title)
		p(3, "Started:\t%s", s.Running.StartedAt.Format(describeTimeFormat))
	case s.Waiting != nil:
		p(2, "%s:\tWaiting", title)
		p(3, "Reason:\t%s", s.Waiting.Reason)
		if s.Waiting.Message != "" {
			p(3, "Message:\t%s", s.Waiting.Message)
		}
	case s.Terminated != nil:
		t := s.Terminated
		p(2, "%s:\tTerminated", title)
		p(3, "Reason:\t%s", t.Reason)
		if t.Message != "" {
			p(3, "Message:\t%s", strings.TrimSpace(t.Message))
		}
		p(3, "Exit Code:\t%d", t.ExitCode)
		if t.Signal != 0 {
			p(3, "Signal:\t%d", t.Signal)
		}
		p(3, "Started:\t%s", t.StartedAt.Format(describeTimeFormat))
		p(3, "Finished:\t%s", t.FinishedAt.Format(describeTimeFormat))
	default:
		p(2, "%s:\tWaiting", title)
	}
}

// probeSummary is kubectl's one-line form of a probe.
func probeSummary(pr *v1.Probe) string {
	var action string
	switch h := pr.ProbeHandler; {
	case h.Exec != nil:
		action = fmt.Sprintf("exec %v", h.Exec.Command)
	case h.HTTPGet != nil:
		host := h.HTTPGet.Host
		scheme := strings.ToLower(string(h.HTTPGet.Scheme))
		if scheme == "" {
			scheme = "http"
		}
		action = fmt.Sprintf("http-get %s://%s:%s%s", scheme, host, h.HTTPGet.Port.String(), h.HTTPGet.Path)
	case h.TCPSocket != nil:
		action = fmt.Sprintf("tcp-socket %s:%s", h.TCPSocket.Host, h.TCPSocket.Port.String())
	case h.GRPC != nil:
		action = fmt.Sprintf("grpc <pod>:%d %s", h.GRPC.Port, ptrValue(h.GRPC.Service))
	default:
		action = "unknown"
	}
	return fmt.Sprintf("%s delay=%ds timeout=%ds period=%ds #success=%d #failure=%d",
		action, pr.InitialDelaySeconds, pr.TimeoutSeconds, pr.PeriodSeconds, pr.SuccessThreshold, pr.FailureThreshold)
}

func describeVolumes(p printer, vols []v1.Volume) {
	if len(vols) == 0 {
		p(0, "Volumes:\t<none>")
		return
	}
	p(0, "Volumes:")
	for _, v := range vols {
		p(1, "%s:", v.Name)
		switch {
		case v.EmptyDir != nil:
			p(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)")
			p(2, "Medium:\t%s", v.EmptyDir.Medium)
			limit := "<unset>"
			if v.EmptyDir.SizeLimit != nil {
				limit = v.EmptyDir.SizeLimit.String()
			}
			p(2, "SizeLimit:\t%s", limit)
		case v.HostPath != nil:
			p(2, "Type:\tHostPath (bare host directory volume)")
			p(2, "Path:\t%s", v.HostPath.Path)
			p(2, "HostPathType:\t%s", ptrValue(v.HostPath.Type))
		default:
			p(2, "Type:\t<unknown>")
		}
	}
}

func describeEvents(p printer, events []v1.Event, now time.Time) {
	if len(events) == 0 {
		p(0, "Events:\t<none>")
		return
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].LastTimestamp.Before(&events[j].LastTimestamp) })
	p(0, "Events:")
	p(1, "Type\tReason\tAge\tFrom\tMessage")
	p(1, "----\t------\t----\t----\t-------")
	for _, e := range events {
		age := status.Age(e.LastTimestamp, now)
		if e.Count > 1 {
			age = fmt.Sprintf("%s (x%d over %s)", age, e.Count, status.Age(e.FirstTimestamp, now))
		}
		p(1, "%s\t%s\t%s\t%s\t%s", e.Type, e.Reason, age, e.Source.Component, strings.TrimSpace(e.Message))
	}
}

func printMap(p printer, title string, m map[string]string) {
	if len(m) == 0 {
		p(0, "%s:\t<none>", title)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var lines []string
	for _, k := range keys {
		sep := "="
		if title == "Annotations" {
			sep = ": "
		}
		lines = append(lines, k+sep+m[k])
	}
	printList(p, title, lines)
}

func printList(p printer, title string, items []string) {
	if len(items) == 0 {
		p(0, "%s:\t<none>", title)
		return
	}
	p(0, "%s:\t%s", title, items[0])
	for _, it := range items[1:] {
		p(0, "\t%s", it)
	}
}

func printArgs(p printer, title string, args []string) {
	if len(args) == 0 {
		return
	}
	p(2, "%s:", title)
	for _, a := range args {
		p(3, "%s", a)
	}
}

func cases(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func ptrValue[T any](v *T) T {
	var zero T
	if v == nil {
		return zero
	}
	return *v
}
