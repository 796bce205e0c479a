package server

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// runtimeCheckTimeout bounds how long a GET /healthz waits for the
// runtime's answer.
const runtimeCheckTimeout = 2 * time.Second

// RuntimeCheck says why the container runtime cannot run pods now, or
// nil when it can.
type RuntimeCheck func(ctx context.Context) error

// CheckRuntime makes GET /healthz fail (500, as the kubelet's healthz)
// while check fails: a node agent whose runtime is down is not healthy,
// whatever its own loops do.
func (s *Server) CheckRuntime(check RuntimeCheck) { s.runtimeCheck = check }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.runtimeCheck != nil {
		ctx, cancel := context.WithTimeout(r.Context(), runtimeCheckTimeout)
		defer cancel()
		if err := s.runtimeCheck(ctx); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "[-]runtime failed: %v\nhealthz check failed\n", err)
			return
		}
	}
	fmt.Fprint(w, "ok")
}
