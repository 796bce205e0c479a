package probes

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// grpcServer serves on a loopback port; with health set, the standard
// health service. It returns the port and the user agents seen.
func grpcServer(t *testing.T, hs *health.Server) (int, func() []string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var agents []string
	srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			mu.Lock()
			agents = append(agents, md.Get("user-agent")...)
			mu.Unlock()
		}
		return handler(ctx, req)
	}))
	if hs != nil {
		healthpb.RegisterHealthServer(srv, hs)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return l.Addr().(*net.TCPAddr).Port, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), agents...)
	}
}

func TestGRPC_HealthCheck(t *testing.T) {
	hs := health.NewServer() // "" is SERVING
	hs.SetServingStatus("up", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("down", healthpb.HealthCheckResponse_NOT_SERVING)
	port, agents := grpcServer(t, hs)
	p := newProber(nil, userAgent)
	for _, tc := range []struct {
		service    string
		want       Result
		wantOutput string
	}{
		{"", Success, ""},
		{"up", Success, ""},
		{"down", Failure, `service unhealthy (responded with "NOT_SERVING")`},
		{"nope", Failure, "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service"},
	} {
		out := p.grpc(context.Background(), "127.0.0.1", port, tc.service, time.Second)
		if out.err != nil || out.result != tc.want || out.output != tc.wantOutput {
			t.Errorf("service %q: %+v, want %v %q", tc.service, out, tc.want, tc.wantOutput)
		}
	}
	if len(agents()) == 0 {
		t.Fatal("the server saw no user agent")
	}
	for _, a := range agents() {
		if !strings.HasPrefix(a, "kube-probe/1.37 ") {
			t.Errorf("user agent %q, want kube-probe/1.37 first", a)
		}
	}
}

func TestGRPC_NoHealthServiceOrNoServer(t *testing.T) {
	port, _ := grpcServer(t, nil)
	p := newProber(nil, userAgent)
	out := p.grpc(context.Background(), "127.0.0.1", port, "", time.Second)
	want := "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health"
	if out.result != Failure || out.output != want {
		t.Errorf("server without health: %+v, want %q", out, want)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	out = p.grpc(context.Background(), "127.0.0.1", closed, "", 200*time.Millisecond)
	want = `timeout: failed to connect service "127.0.0.1:` + strconv.Itoa(closed) + `" within 200ms: context deadline exceeded`
	if out.result != Failure || out.output != want {
		t.Errorf("no server: %+v, want %q", out, want)
	}
}
