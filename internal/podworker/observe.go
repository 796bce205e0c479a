package podworker

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/clock"

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
	clock      clock.Clock
	containers map[string]containerRecord // by ID, with the state it was read in
	sandboxes  map[string]sandboxStatus   // what a ready sandbox's status said, by ID
}

// sandboxStatus is what a sandbox's status says that cannot change.
type sandboxStatus struct {
	ips         []string
	hostNetwork *bool
}

func newObserver(rt runtimeService, uid string, clk clock.Clock) *observer {
	return &observer{rt: rt, uid: uid, clock: clk, containers: map[string]containerRecord{}, sandboxes: map[string]sandboxStatus{}}
}

// observe lists the pod's sandboxes and containers and merges in the exits
// containerd reported that the CRI has not recorded yet, so that deciding
// and publishing see one view. The observation carries the fingerprint of
// the CRI's listing and when the listing began, for the relister.
func (o *observer) observe(ctx context.Context, exits map[string]runtime.Exit) (observation, error) {
	at := o.clock.Now()
	selector := map[string]string{runtime.LabelPodUID: o.uid, runtime.LabelManaged: "true"}
	// The two lists go out together: a sync woken by an exit waits for
	// the slower of them, not for both in turn.
	var sandboxes []*runtimeapi.PodSandbox
	var sandboxesErr error
	listed := make(chan struct{})
	go func() {
		defer close(listed)
		sandboxes, sandboxesErr = o.rt.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: selector})
	}()
	containers, err := o.rt.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: selector})
	<-listed
	if sandboxesErr != nil {
		return observation{}, fmt.Errorf("list sandboxes: %w", sandboxesErr)
	}
	if err != nil {
		return observation{}, fmt.Errorf("list containers: %w", err)
	}
	obs := observation{ListedAt: at, Fingerprint: fingerprints(sandboxes, containers)[types.UID(o.uid)]}
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
			st, err := o.sandboxStatus(ctx, s.Id)
			if err != nil && !runtime.IsNotFound(err) {
				return observation{}, err
			}
			rec.IPs, rec.HostNetwork = st.ips, st.hostNetwork
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
	for id := range o.sandboxes {
		if !seenSandboxes[id] {
			delete(o.sandboxes, id)
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
		if e, ok := exits[rec.ID]; ok && rec.State == status.ContainerRunning {
			rec = exitedByEvent(rec, e)
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

func (o *observer) sandboxStatus(ctx context.Context, id string) (sandboxStatus, error) {
	if st, ok := o.sandboxes[id]; ok {
		return st, nil
	}
	resp, err := o.rt.PodSandboxStatus(ctx, id, false)
	if err != nil {
		return sandboxStatus{}, fmt.Errorf("sandbox %s status: %w", id, err)
	}
	var st sandboxStatus
	if n := resp.GetStatus().GetNetwork(); n != nil {
		if n.Ip != "" {
			st.ips = append(st.ips, n.Ip)
		}
		for _, extra := range n.AdditionalIps {
			st.ips = append(st.ips, extra.Ip)
		}
	}
	if opts := resp.GetStatus().GetLinux().GetNamespaces().GetOptions(); opts != nil {
		host := opts.Network == runtimeapi.NamespaceMode_NODE
		st.hostNetwork = &host
	}
	o.sandboxes[id] = st
	return st, nil
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
		SandboxID:      c.PodSandboxId,
		Hash:           c.Annotations[runtime.AnnotationContainerHash],
		Init:           c.Annotations[runtime.AnnotationContainerIsInit] == "true",
		LogPath:        st.GetLogPath(),
		PreStop:        c.Annotations[runtime.AnnotationPreStopHandler],
		Ports:          c.Annotations[runtime.AnnotationContainerPorts],
		messageFile:    terminationMessageFile(st, c.Annotations),
		fallbackToLogs: c.Annotations[runtime.AnnotationTerminationMessagePolicy] == string(v1.TerminationMessageFallbackToLogsOnError),
	}
	if rec.State == status.ContainerExited {
		rec.Message = terminationMessage(rec, rec.Message)
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

// exitedByEvent is a running instance as it is once containerd reported its
// exit: what the CRI will record tens of milliseconds later.
func exitedByEvent(rec containerRecord, e runtime.Exit) containerRecord {
	rec.State = status.ContainerExited
	rec.ExitCode = e.ExitCode
	rec.FinishedAt = e.ExitedAt
	rec.Reason = status.ReasonError
	if e.ExitCode == 0 {
		rec.Reason = status.ReasonCompleted
	}
	rec.Message = terminationMessage(rec, "")
	return rec
}

// terminationMessageFile is the host file behind the instance's
// terminationMessagePath, if it has one.
func terminationMessageFile(st *runtimeapi.ContainerStatus, annotations map[string]string) string {
	path := annotations[runtime.AnnotationTerminationMessagePath]
	if path == "" {
		return ""
	}
	for _, m := range st.GetMounts() {
		if m.ContainerPath == path {
			return m.HostPath
		}
	}
	return ""
}

// terminationMessage is what an exited container says about its end, as
// the kubelet's convertToKubeContainerStatus builds it: the runtime's
// message, enriched with (": " and) the content of the file the container
// wrote at terminationMessagePath or, with FallbackToLogsOnError and a
// failure of a container that could run, the tail of its log.
func terminationMessage(rec containerRecord, runtimeMessage string) string {
	msg := ""
	if rec.messageFile != "" {
		msg, _ = volumes.ReadTerminationMessage(rec.messageFile)
	}
	if msg == "" && rec.fallbackToLogs && rec.ExitCode != 0 && rec.Reason != reasonContainerCannotRun {
		msg = logs.Tail(rec.LogPath, fallbackLogLines, fallbackLogBytes)
	}
	switch {
	case msg == "":
		return runtimeMessage
	case runtimeMessage == "":
		return msg
	default:
		return runtimeMessage + ": " + msg
	}
}

// reasonContainerCannotRun is the runtime's reason for a container that
// never ran: it has no log to fall back to.
const reasonContainerCannotRun = "ContainerCannotRun"
