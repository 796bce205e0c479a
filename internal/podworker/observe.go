package podworker

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/logs"
	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/status"
	"github.com/minikubelet/minikubelet/internal/volumes"
)

// observer reads what the runtime has for one pod. It remembers container
// statuses and sandbox addresses that cannot change (an exited container's
// status, a running one's start time, a sandbox's IP) so that a sync costs
// two list calls and a status call only for what changed.
type observer struct {
	rt         runtimeService
	uid        string
	containers map[string]containerRecord // by ID, with the state it was read in
	sandboxIPs map[string][]string
}

func newObserver(rt runtimeService, uid string) *observer {
	return &observer{rt: rt, uid: uid, containers: map[string]containerRecord{}, sandboxIPs: map[string][]string{}}
}

func (o *observer) observe(ctx context.Context) (observation, error) {
	selector := map[string]string{runtime.LabelPodUID: o.uid, runtime.LabelManaged: "true"}
	sandboxes, err := o.rt.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: selector})
	if err != nil {
		return observation{}, fmt.Errorf("list sandboxes: %w", err)
	}
	containers, err := o.rt.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: selector})
	if err != nil {
		return observation{}, fmt.Errorf("list containers: %w", err)
	}
	var obs observation
	seenSandboxes := map[string]bool{}
	for _, s := range sandboxes {
		rec := sandboxRecord{
			ID:        s.Id,
			Ready:     s.State == runtimeapi.PodSandboxState_SANDBOX_READY,
			Attempt:   s.GetMetadata().GetAttempt(),
			CreatedAt: time.Unix(0, s.CreatedAt),
		}
		seenSandboxes[s.Id] = true
		if rec.Ready {
			ips, err := o.sandboxAddresses(ctx, s.Id)
			if err != nil && !runtime.IsNotFound(err) {
				return observation{}, err
			}
			rec.IPs = ips
		}
		obs.Sandboxes = append(obs.Sandboxes, rec)
	}
	sort.SliceStable(obs.Sandboxes, func(i, j int) bool {
		a, b := obs.Sandboxes[i], obs.Sandboxes[j]
		if a.Attempt != b.Attempt {
			return a.Attempt > b.Attempt
		}
		return a.CreatedAt.After(b.CreatedAt)
	})
	for id := range o.sandboxIPs {
		if !seenSandboxes[id] {
			delete(o.sandboxIPs, id)
		}
	}
	seen := map[string]bool{}
	for _, c := range containers {
		seen[c.Id] = true
		rec, err := o.container(ctx, c)
		if runtime.IsNotFound(err) {
			continue // removed since the list
		}
		if err != nil {
			return observation{}, err
		}
		obs.Containers = append(obs.Containers, rec)
	}
	for id := range o.containers {
		if !seen[id] {
			delete(o.containers, id)
		}
	}
	return obs, nil
}

func (o *observer) sandboxAddresses(ctx context.Context, id string) ([]string, error) {
	if ips, ok := o.sandboxIPs[id]; ok {
		return ips, nil
	}
	st, err := o.rt.PodSandboxStatus(ctx, id, false)
	if err != nil {
		return nil, fmt.Errorf("sandbox %s status: %w", id, err)
	}
	var ips []string
	if n := st.GetStatus().GetNetwork(); n != nil {
		if n.Ip != "" {
			ips = append(ips, n.Ip)
		}
		for _, extra := range n.AdditionalIps {
			ips = append(ips, extra.Ip)
		}
	}
	o.sandboxIPs[id] = ips
	return ips, nil
}

func (o *observer) container(ctx context.Context, c *runtimeapi.Container) (containerRecord, error) {
	state := convertState(c.State)
	if cached, ok := o.containers[c.Id]; ok && cached.State == state {
		return cached, nil
	}
	resp, err := o.rt.ContainerStatus(ctx, c.Id, false)
	if err != nil {
		return containerRecord{}, fmt.Errorf("container %s status: %w", c.Id, err)
	}
	st := resp.GetStatus()
	rec := containerRecord{
		ContainerRecord: status.ContainerRecord{
			ID:           c.Id,
			Name:         c.GetMetadata().GetName(),
			RestartCount: restartCount(c.Annotations, c.GetMetadata().GetAttempt()),
			State:        convertState(st.GetState()),
			CreatedAt:    unixNano(st.GetCreatedAt()),
			StartedAt:    unixNano(st.GetStartedAt()),
			FinishedAt:   unixNano(st.GetFinishedAt()),
			ExitCode:     st.GetExitCode(),
			Reason:       st.GetReason(),
			Message:      st.GetMessage(),
			Image:        st.GetImage().GetImage(),
			ImageID:      st.GetImageRef(),
		},
		SandboxID: c.PodSandboxId,
		Hash:      c.Annotations[runtime.AnnotationContainerHash],
		Init:      c.Annotations[runtime.AnnotationContainerIsInit] == "true",
		LogPath:   st.GetLogPath(),
		PreStop:   c.Annotations[runtime.AnnotationPreStopHandler],
		Ports:     c.Annotations[runtime.AnnotationContainerPorts],
	}
	if rec.State == status.ContainerExited {
		rec.Message = terminationMessage(st, c.Annotations, rec.Message)
	}
	o.containers[c.Id] = rec
	return rec, nil
}

func convertState(s runtimeapi.ContainerState) status.ContainerState {
	switch s {
	case runtimeapi.ContainerState_CONTAINER_CREATED:
		return status.ContainerCreated
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		return status.ContainerRunning
	case runtimeapi.ContainerState_CONTAINER_EXITED:
		return status.ContainerExited
	default:
		return status.ContainerUnknown
	}
}

func restartCount(annotations map[string]string, attempt uint32) int32 {
	if v, err := strconv.ParseInt(annotations[runtime.AnnotationRestartCount], 10, 32); err == nil {
		return int32(v)
	}
	return int32(attempt)
}

func unixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Limits of a termination message taken from the log, as the kubelet's.
const (
	fallbackLogLines = 80
	fallbackLogBytes = 2048
)

// terminationMessage is what an exited container says about its end: the
// content of the file it wrote at terminationMessagePath, or, with
// FallbackToLogsOnError and a failure, the tail of its log.
func terminationMessage(st *runtimeapi.ContainerStatus, annotations map[string]string, runtimeMessage string) string {
	path := annotations[runtime.AnnotationTerminationMessagePath]
	msg := ""
	if path != "" {
		for _, m := range st.GetMounts() {
			if m.ContainerPath == path {
				msg, _ = volumes.ReadTerminationMessage(m.HostPath)
				break
			}
		}
	}
	if msg == "" && st.GetExitCode() != 0 && annotations[runtime.AnnotationTerminationMessagePolicy] == string(v1.TerminationMessageFallbackToLogsOnError) {
		msg = logs.Tail(st.GetLogPath(), fallbackLogLines, fallbackLogBytes)
	}
	if msg == "" {
		return runtimeMessage
	}
	return msg
}
