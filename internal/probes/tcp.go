package probes

import (
	"context"
	"net"
	"strconv"
	"time"
)

// tcp runs a tcpSocket probe: a connection to host:port that opens
// succeeds. The dial error is the failure message, as the kubelet's.
func (p *prober) tcp(ctx context.Context, host string, port int, timeout time.Duration) outcome {
	conn, err := dialProbe(ctx, &net.Dialer{Timeout: timeout}, net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return failure(err.Error())
	}
	_ = conn.Close()
	return success()
}
