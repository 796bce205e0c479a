package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"

	"go.uber.org/zap"
)

// ServeHTTPS listens on addr (host:port), and on also when it can (the
// other loopback address), and serves the same API as the socket, less
// what only the socket serves (GET /kubeconfig), over TLS with tlsConfig
// (internal/pki: a client certificate of the node's CA required), until
// ctx ends.
func (s *Server) ServeHTTPS(ctx context.Context, addr, also string, tlsConfig *tls.Config) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on HTTPS address %s: %w", addr, err)
	}
	s.log.Info("serving the API over HTTPS", zap.String("address", l.Addr().String()))
	listeners := []net.Listener{tls.NewListener(l, tlsConfig)}
	if also != "" {
		if l2, err := net.Listen("tcp", also); err != nil {
			s.log.Info("not serving HTTPS on the other loopback address", zap.String("address", also), zap.Error(err))
		} else {
			s.log.Info("serving the API over HTTPS", zap.String("address", l2.Addr().String()))
			listeners = append(listeners, tls.NewListener(l2, tlsConfig))
		}
	}
	return serve(ctx, newHTTPServer(s.mux, s.log), "HTTPS API", listeners...)
}

// ServeKubeconfig makes GET /kubeconfig, on the unix socket only, answer
// with what render gives: the socket is root's, and the kubeconfig holds
// the admin key.
func (s *Server) ServeKubeconfig(render func() ([]byte, error)) { s.kubeconfig = render }

func (s *Server) getKubeconfig(w http.ResponseWriter, _ *http.Request) {
	if s.kubeconfig == nil {
		http.Error(w, "the HTTPS port is off (port 0): there is no kubeconfig", http.StatusNotFound)
		return
	}
	data, err := s.kubeconfig()
	if err != nil {
		http.Error(w, fmt.Sprintf("render kubeconfig: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(data)
}
