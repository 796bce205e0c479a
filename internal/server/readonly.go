package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"

	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ServeReadOnly serves, on addr in plain HTTP and until ctx ends, the
// part of the API that reads (readOnlyAllowed), as the kubelet's
// read-only port: nothing there can be authenticated, so nothing there
// acts on a container or shows what it prints.
func (s *Server) ServeReadOnly(ctx context.Context, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on read-only address %s: %w", addr, err)
	}
	s.log.Info("serving the read-only API over plain HTTP", zap.String("address", l.Addr().String()))
	return serve(ctx, newHTTPServer(readOnly(s.mux), s.log), "read-only API", l)
}

// readOnly lets through to h only GET requests for the paths
// readOnlyAllowed names: 405 for another method, 403 for another path,
// each as a Status that kubectl prints.
func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			writeStatus(w, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed,
				fmt.Sprintf("the read-only port serves GET only, not %s: use the HTTPS port", r.Method))
			return
		}
		if !readOnlyAllowed(r.URL.Path) {
			writeStatus(w, http.StatusForbidden, metav1.StatusReasonForbidden,
				fmt.Sprintf("%s is not served on the read-only port (no logs, exec, attach or port-forward there): use the HTTPS port", r.URL.Path))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// readOnlyNamespaced and readOnlyCluster are the core/v1 resources the
// read-only port lists and gets, under /api/v1/namespaces/NS/ and /api/v1/.
var (
	readOnlyNamespaced = map[string]bool{"pods": true, "events": true}
	readOnlyCluster    = map[string]bool{"pods": true, "events": true, "nodes": true, "namespaces": true}
	readOnlyPlain      = map[string]bool{"/healthz": true, "/metrics": true, "/pods": true, "/events": true, "/version": true, "/api": true, "/api/v1": true, "/apis": true}
)

// readOnlyAllowed reports whether the read-only port serves path: health,
// Prometheus metrics, the socket's pod and event lists, discovery, and the
// objects (pods, events, nodes, namespaces, pod and node metrics, leases)
// but no subresource of them: no log, exec, attach or portforward.
func readOnlyAllowed(path string) bool {
	if readOnlyPlain[path] {
		return true
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if strings.Contains(path, "//") || strings.HasSuffix(path, "/") {
		return false
	}
	for _, p := range parts {
		if p == "." || p == ".." {
			return false
		}
	}
	switch parts[0] {
	case "api":
		if len(parts) < 3 || parts[1] != "v1" {
			return false
		}
		return coreAllowed(parts[2:])
	case "apis":
		switch {
		case len(parts) <= 3: // /apis/GROUP and /apis/GROUP/VERSION: discovery
			return true
		case parts[1] == "metrics.k8s.io":
			return groupAllowed(parts[3:], map[string]bool{"pods": true}, map[string]bool{"pods": true, "nodes": true})
		case parts[1] == "coordination.k8s.io":
			return groupAllowed(parts[3:], map[string]bool{"leases": true}, nil)
		}
	}
	return false
}

// coreAllowed decides for the path below /api/v1/.
func coreAllowed(rest []string) bool {
	return groupAllowed(rest, readOnlyNamespaced, readOnlyCluster)
}

// groupAllowed decides for the path below a group version: a list or an
// object, namespaced (namespaces/NS/RESOURCE[/NAME]) or not
// (RESOURCE[/NAME]), never a subresource.
func groupAllowed(rest []string, namespaced, cluster map[string]bool) bool {
	if len(rest) >= 3 && rest[0] == "namespaces" {
		return len(rest) <= 4 && namespaced[rest[2]]
	}
	return len(rest) <= 2 && cluster[rest[0]]
}

// writeStatus answers a Kubernetes Status, as kubectl expects errors.
func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	st := metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  msg,
		Reason:   reason,
		Code:     int32(code),
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(&st)
}
