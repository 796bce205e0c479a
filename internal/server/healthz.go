package server

import (
	"context"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// healthzRetry is how long the kubelet waits to try its healthz listener
// again when it cannot listen.
const healthzRetry = 5 * time.Second

// ServeHealthz serves GET /healthz alone, in plain HTTP on addr, as the
// kubelet's healthzBindAddress:healthzPort, until ctx ends. As the
// kubelet's, a listener that cannot be opened (the port taken) is logged
// and tried again every 5 s; it never stops the daemon.
func (s *Server) ServeHealthz(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	for {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			s.log.Info("serving /healthz over plain HTTP", zap.String("address", l.Addr().String()))
			return serve(ctx, newHTTPServer(mux, s.log), "healthz", l)
		}
		s.log.Error("Failed to start healthz server; trying again", zap.String("address", addr), zap.Duration("in", healthzRetry), zap.Error(err))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(healthzRetry):
		}
	}
}
