package probes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	grpcstatus "google.golang.org/grpc/status"
)

// grpc runs a grpc probe: grpc.health.v1.Health/Check for service on
// host:port, without TLS, within timeout for connecting and the call
// together. Every problem is a failure with the kubelet's message (which
// are grpc_health_probe's).
func (p *prober) grpc(ctx context.Context, host string, port int, service string, timeout time.Duration) outcome {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	dialer := &net.Dialer{}
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithUserAgent(p.userAgent),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, address string) (net.Conn, error) {
			return dialProbe(ctx, dialer, address)
		}),
	)
	if err != nil {
		return failure(fmt.Sprintf("error: failed to connect service at %q: %+v", addr, err))
	}
	defer func() { _ = conn.Close() }()

	// The kubelet dials blocking until the connection is up or the timeout
	// ends; a refused connection is retried until then.
	if err := waitReady(ctx, conn); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return failure(fmt.Sprintf("timeout: failed to connect service %q within %v: %+v", addr, timeout, err))
		}
		return failure(fmt.Sprintf("error: failed to connect service at %q: %+v", addr, err))
	}

	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		if st, ok := grpcstatus.FromError(err); ok {
			switch st.Code() {
			case codes.Unimplemented:
				return failure(fmt.Sprintf("error: this server does not implement the grpc health protocol (grpc.health.v1.Health): %s", st.Message()))
			case codes.DeadlineExceeded:
				return failure(fmt.Sprintf("timeout: health rpc did not complete within %v", timeout))
			}
		}
		return failure(fmt.Sprintf("error: health rpc probe failed: %+v", err))
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return failure(fmt.Sprintf("service unhealthy (responded with %q)", resp.GetStatus().String()))
	}
	return success()
}

// waitReady connects conn and waits until it is ready or ctx ends, as a
// blocking dial does.
func waitReady(ctx context.Context, conn *grpc.ClientConn) error {
	conn.Connect()
	for {
		s := conn.GetState()
		switch s {
		case connectivity.Ready:
			return nil
		case connectivity.Shutdown:
			return errors.New("grpc: the client connection is closing")
		}
		if !conn.WaitForStateChange(ctx, s) {
			return ctx.Err()
		}
	}
}
