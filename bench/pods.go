package main

import (
	"context"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/minikubelet/minikubelet/internal/ociimage"
)

// containerName is the name of the one container of every bench pod.
const containerName = "c"

// httpPort is where the httpd of the probed pods listens, in their own
// network namespace.
const httpPort = 8080

// settleTime is how long the bench lets a container run before it stops
// it. Its shell sets the SIGTERM trap a few milliseconds after the process
// starts, and PID 1 ignores the signals it has no handler for: a stop
// sent before would wait the whole grace period.
const settleTime = 200 * time.Millisecond

// settle waits settleTime, outside any measured interval.
func settle(ctx context.Context) { sleepCtx(ctx, settleTime) }

// settleAfter waits until settleTime after started (a container's
// startedAt), outside any measured interval.
func settleAfter(ctx context.Context, started time.Time) {
	if d := time.Until(started.Add(settleTime)); d > 0 {
		sleepCtx(ctx, d)
	}
}

// Container commands. Every one but ignoreTerm exits on SIGTERM at once,
// as a well-behaved server does, so that a kill measures the daemon and
// not a grace period.
var (
	sleepForever = []string{"sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"}
	// serveHTTP serves /var/www/index.html on httpPort.
	serveHTTP = []string{"sh", "-c", "echo ok > /var/www/index.html; trap 'exit 0' TERM; httpd -f -p 8080 -h /var/www & wait"}
	// exitAfterOne runs for a second and fails.
	exitAfterOne = []string{"sh", "-c", "sleep 1; exit 1"}
	// ignoreTerm ignores SIGTERM: only the grace period's SIGKILL ends it.
	ignoreTerm = []string{"sh", "-c", "trap '' TERM; sleep 3600 & wait"}
	// turnUnhealthy is healthy for 3 s, then removes the file its liveness
	// probe reads and says so on stdout: the CRI log's timestamp of that
	// line is when the probe starts failing.
	turnUnhealthy = []string{"sh", "-c", "touch /tmp/healthy; trap 'exit 0' TERM; (sleep 3; rm /tmp/healthy; echo unhealthy) & sleep 3600 & wait"}
)

// basePod is a pod with one busybox container running command, on the
// host's network or the CNI bridge.
func basePod(name string, hostNetwork bool, command []string) *v1.Pod {
	return &v1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench"}},
		Spec: v1.PodSpec{
			HostNetwork: hostNetwork,
			Containers: []v1.Container{{
				Name:    containerName,
				Image:   ociimage.BusyboxRef,
				Command: command,
			}},
		},
	}
}

func withGrace(p *v1.Pod, seconds int64) *v1.Pod {
	p.Spec.TerminationGracePeriodSeconds = &seconds
	return p
}

func withEnv(p *v1.Pod, name, value string) *v1.Pod {
	p.Spec.Containers[0].Env = []v1.EnvVar{{Name: name, Value: value}}
	return p
}

func httpGetProbe() v1.ProbeHandler {
	return v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(httpPort)}}
}

func tcpProbe() v1.ProbeHandler {
	return v1.ProbeHandler{TCPSocket: &v1.TCPSocketAction{Port: intstr.FromInt32(httpPort)}}
}

func execProbe(command ...string) v1.ProbeHandler {
	return v1.ProbeHandler{Exec: &v1.ExecAction{Command: command}}
}

// everySecond is a probe with period 1 s and the given failure threshold.
func everySecond(h v1.ProbeHandler, failureThreshold int32) *v1.Probe {
	return &v1.Probe{ProbeHandler: h, PeriodSeconds: 1, TimeoutSeconds: 1, FailureThreshold: failureThreshold}
}

// readyPod serves HTTP with an httpGet readiness probe of period 1 s.
func readyPod(name string) *v1.Pod {
	p := basePod(name, false, serveHTTP)
	p.Spec.Containers[0].ReadinessProbe = everySecond(httpGetProbe(), 3)
	return p
}

// probedPod serves HTTP with an httpGet liveness and a tcpSocket
// readiness probe, both every second: the footprint pods.
func probedPod(name string) *v1.Pod {
	p := basePod(name, false, serveHTTP)
	p.Spec.Containers[0].LivenessProbe = everySecond(httpGetProbe(), 3)
	p.Spec.Containers[0].ReadinessProbe = everySecond(tcpProbe(), 3)
	return p
}

// restartingPod fails after a second under restartPolicy Always.
func restartingPod(name string) *v1.Pod {
	p := basePod(name, false, exitAfterOne)
	p.Spec.RestartPolicy = v1.RestartPolicyAlways
	return p
}

// unhealthyPod turns unhealthy after 3 s; its exec liveness probe has
// period 1 s and failure threshold 1.
func unhealthyPod(name string) *v1.Pod {
	p := basePod(name, false, turnUnhealthy)
	p.Spec.Containers[0].LivenessProbe = everySecond(execProbe("cat", "/tmp/healthy"), 1)
	return p
}
