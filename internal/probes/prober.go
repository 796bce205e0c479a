package probes

import (
	"context"
	"errors"
	"net"
	"time"
)

// maxProbeRetries is how many times a run is tried when it errors (not when
// it fails), as the kubelet's prober.
const maxProbeRetries = 3

// maxOutputLength bounds what is read of an exec command's output and of an
// HTTP response body, as the kubelet's 10 KiB.
const maxOutputLength = 10 << 10

// probeLinger is the SO_LINGER time of the probes' TCP connections. The
// kubelet's probe dialer sets 1 s so that hundreds of short probe
// connections do not pile up in TIME-WAIT (kubernetes issue 89898), with a
// clean FIN rather than the RST a linger of 0 would send.
const probeLinger = 1

// errNoPodIP is the error of a network probe of a pod whose IP is not known.
var errNoPodIP = errors.New("pod IP not known yet")

// outcome is what one probe run gives.
type outcome struct {
	// result is Success or Failure when err is nil.
	result Result
	// output is the kubelet's failure message, for a Failure.
	output string
	// warning is set for a Success with a warning.
	warning string
	// err says the run could not be made; the kubelet throws such runs away.
	err error
}

func success() outcome               { return outcome{result: Success} }
func failure(output string) outcome  { return outcome{result: Failure, output: output} }
func errored(err error) outcome      { return outcome{err: err} }
func warning(message string) outcome { return outcome{result: Success, warning: message} }

// prober runs probe actions. It is shared by every worker of a Manager.
type prober struct {
	execer    Execer
	transport *connTransport
	userAgent string
}

// newProber returns a prober whose HTTP probes share one transport, set up
// as the kubelet's: no keep-alives (every probe is a new connection, as
// every probe of a real kubelet is), no proxy from the environment, no
// compression, certificates not checked, connections lingering 1 s. A
// plain-HTTP probe is carried in the probing goroutine (connTransport).
func newProber(execer Execer, userAgent string) *prober {
	return &prober{
		execer:    execer,
		userAgent: userAgent,
		transport: newConnTransport(),
	}
}

// run makes one probe run of a, retrying it when it errors. podIP is the
// container's pod IP as last synced.
func (p *prober) run(ctx context.Context, a *action, containerID, podIP string, hostNetwork bool, timeout time.Duration) outcome {
	var out outcome
	for range maxProbeRetries {
		out = p.runOnce(ctx, a, containerID, podIP, hostNetwork, timeout)
		if out.err == nil || ctx.Err() != nil {
			break
		}
	}
	return out
}

func (p *prober) runOnce(ctx context.Context, a *action, containerID, podIP string, hostNetwork bool, timeout time.Duration) outcome {
	if a.err != nil {
		return errored(a.err)
	}
	if a.handler == handlerExec {
		return p.exec(ctx, containerID, a.command, timeout)
	}
	host := a.host
	if host == "" || a.handler == handlerGRPC {
		host = podIP
		if host == "" && hostNetwork {
			host = "127.0.0.1"
		}
		if host == "" {
			return errored(errNoPodIP)
		}
	}
	switch a.handler {
	case handlerHTTP:
		return p.httpGet(ctx, a, host, timeout)
	case handlerTCP:
		return p.tcp(ctx, host, a.port, timeout)
	case handlerGRPC:
		return p.grpc(ctx, host, a.port, a.service, timeout)
	}
	return errored(errNoHandler)
}

// dialProbe dials a probe's TCP connection with the kubelet's linger.
func dialProbe(ctx context.Context, d *net.Dialer, address string) (net.Conn, error) {
	conn, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return nil, err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(probeLinger)
	}
	return conn, nil
}
