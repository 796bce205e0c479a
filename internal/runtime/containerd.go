package runtime

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
)

// containerdDialTimeout bounds connecting to containerd.
const containerdDialTimeout = 5 * time.Second

// dialContainerd connects to containerd's own API (events, content,
// images, leases, snapshots, diff) at a socket path, waiting up to
// containerdDialTimeout for containerd to answer.
//
// The daemon speaks to these services through their generated gRPC clients
// and containerd's proxy packages rather than through containerd's client
// package: that package links Go's plugin package, which makes the linker
// export every symbol and keep every exported method, a third more binary
// that a node agent pays for in resident memory.
func dialContainerd(ctx context.Context, address string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient("unix://"+address,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgSize), grpc.MaxCallSendMsgSize(maxMsgSize)),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to containerd at %s: %w", address, err)
	}
	ctx, cancel := context.WithTimeout(ctx, containerdDialTimeout)
	defer cancel()
	conn.Connect()
	for {
		state := conn.GetState()
		if state == connectivity.Ready {
			return conn, nil
		}
		if !conn.WaitForStateChange(ctx, state) {
			conn.Close()
			return nil, fmt.Errorf("connect to containerd at %s: not answering after %s (is containerd running?)", address, containerdDialTimeout)
		}
	}
}
