package probes

import (
	"context"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Kind is the kind of a probe.
type Kind int

// The probe kinds, in the kubelet's order.
const (
	Liveness Kind = iota
	Readiness
	Startup

	numKinds = 3
)

// String returns the kind as the kubelet names it in events and in the
// probe_type label of its metrics: "Liveness", "Readiness" or "Startup".
func (k Kind) String() string {
	switch k {
	case Liveness:
		return "Liveness"
	case Readiness:
		return "Readiness"
	case Startup:
		return "Startup"
	default:
		return "UNKNOWN"
	}
}

// probe returns the container's probe of this kind, nil when it has none.
func (k Kind) probe(c *v1.Container) *v1.Probe {
	switch k {
	case Liveness:
		return c.LivenessProbe
	case Readiness:
		return c.ReadinessProbe
	case Startup:
		return c.StartupProbe
	}
	return nil
}

// initialResult is what a probe of this kind reports before its thresholds
// are first reached, as in the kubelet's worker: a container is not ready
// until its readiness probe succeeds, is alive until its liveness probe
// fails, and has not started until its startup probe says so.
func (k Kind) initialResult() Result {
	switch k {
	case Readiness:
		return Failure
	case Liveness:
		return Success
	default:
		return Unknown
	}
}

// Result is the outcome of a probe.
type Result int

// Probe results. The zero value is Unknown.
const (
	Unknown Result = iota
	Success
	Failure
)

// String returns "Unknown", "Success" or "Failure".
func (r Result) String() string {
	switch r {
	case Success:
		return "Success"
	case Failure:
		return "Failure"
	default:
		return "Unknown"
	}
}

// metricLabel is the result label value of prober_probe_total.
func (r Result) metricLabel() string {
	switch r {
	case Success:
		return "successful"
	case Failure:
		return "failed"
	default:
		return "unknown"
	}
}

// Target is one running container instance to probe.
type Target struct {
	PodUID    types.UID
	PodName   string
	Namespace string
	// PodIP is the default host of httpGet, tcpSocket and grpc probes. It may
	// be empty until known; a later Sync with the same container ID updates
	// it. The kubelet probes a hostNetwork pod at its pod IP, which is the
	// node's IP: pass that to match the kubelet exactly, or leave it empty
	// with HostNetwork set to probe 127.0.0.1.
	PodIP string
	// HostNetwork says the pod shares the node's network: an empty PodIP
	// then means 127.0.0.1. For other pods an empty PodIP makes network
	// probes error (their results stay) until a Sync brings the IP.
	HostNetwork bool
	// Container holds the probes, ports (named ports resolve against them)
	// and env (for $(VAR) in exec commands). It is read during Sync only.
	Container *v1.Container
	// ContainerID is the CRI ID, without a "containerd://" prefix.
	ContainerID string
	// StartedAt is when the container started; initialDelaySeconds counts
	// from it. Zero means when Sync first sees the container.
	StartedAt time.Time
}

// Update is a probe run worth telling the caller about, for one container
// instance: its result changed, or it failed, errored or warned.
type Update struct {
	PodUID        types.UID
	ContainerName string
	ContainerID   string
	Kind          Kind
	// Result is the probe's result after this run, thresholds applied: the
	// result the Manager holds from now on.
	Result Result
	// Changed says Result differs from the result before this run.
	Changed bool
	// Failed says this run failed. The kubelet records an event for every
	// failed run, also before failureThreshold is reached.
	Failed bool
	// Errored says this run could not be made (Output says why); as in the
	// kubelet, it does not count toward the thresholds.
	Errored bool
	// Output is, for a failed run, the kubelet's message ("HTTP probe failed
	// with statuscode: 503", the exec command's output, ...), and for an
	// errored run the error. It is empty on success.
	Output string
	// Warning is set when the run succeeded with a warning: an HTTP redirect
	// to another host ("Probe terminated redirects, Response body: ...").
	Warning string
	// FailureThresholdReached is set with a Failure of a liveness or startup
	// probe that reached failureThreshold consecutive failures: the
	// container must be killed (see TerminationGracePeriod). Probing of that
	// kind stops for this container instance.
	FailureThresholdReached bool
}

// Event reasons the kubelet records for probes (pkg/kubelet/events).
const (
	// ReasonUnhealthy is the reason of a failed or errored probe's event.
	ReasonUnhealthy = "Unhealthy"
	// ReasonProbeWarning is the reason of a probe warning's event.
	ReasonProbeWarning = "ProbeWarning"
)

// Event returns the reason and message of the Warning event the kubelet
// records for this run ("Liveness probe failed: <output>"), or empty
// strings when it records none (a success without warning).
func (u Update) Event() (reason, message string) {
	switch {
	case u.Failed:
		return ReasonUnhealthy, fmt.Sprintf("%s probe failed: %s", u.Kind, u.Output)
	case u.Errored:
		return ReasonUnhealthy, fmt.Sprintf("%s probe errored: %s", u.Kind, u.Output)
	case u.Warning != "":
		return ReasonProbeWarning, fmt.Sprintf("%s probe warning: %s", u.Kind, u.Warning)
	}
	return "", ""
}

// Execer runs a command in a container and waits for it (CRI ExecSync),
// stopping it after timeout. A command that exits non-zero returns its
// output and an error with an ExitStatus() int method; a command that runs
// past timeout returns an error that is, or wraps, context.DeadlineExceeded
// or a gRPC status with code DeadlineExceeded (containerd's answer).
// internal/runtime's Client has this method.
type Execer interface {
	ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (stdout, stderr []byte, err error)
}

// TerminationGracePeriod returns the grace period, in seconds, for killing
// container c because its probe of kind k reached failureThreshold: the
// probe's terminationGracePeriodSeconds when set on a liveness or startup
// probe, otherwise podSeconds (the pod's terminationGracePeriodSeconds), as
// the kubelet chooses it.
func TerminationGracePeriod(k Kind, c *v1.Container, podSeconds int64) int64 {
	if k == Readiness || c == nil {
		return podSeconds
	}
	if p := k.probe(c); p != nil && p.TerminationGracePeriodSeconds != nil {
		return *p.TerminationGracePeriodSeconds
	}
	return podSeconds
}
