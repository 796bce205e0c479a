package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// socketMode keeps the API to root: it can read every pod's spec.
const socketMode = 0o600

// maxSocketPath is the size of sun_path on Linux, terminating NUL included.
const maxSocketPath = 108

// shutdownTimeout bounds how long in-flight requests may finish on stop.
const shutdownTimeout = 5 * time.Second

// podLister is where the server reads pods from (status.Store).
type podLister interface {
	List() []v1.Pod
}

// eventLister is where the server reads events from (status.Events).
type eventLister interface {
	List() []v1.Event
}

// Server serves the local API.
type Server struct {
	pods      podLister
	events    eventLister
	manifests *Manifests
	drainer   drainer
	log       *zap.Logger
	registry  *prometheus.Registry
	// kubeconfig renders GET /kubeconfig (the admin kubeconfig that
	// internal/pki makes), nil while HTTPS is off.
	kubeconfig func() ([]byte, error)
	// runtimeCheck makes /healthz fail while the runtime is down (nil: not checked).
	runtimeCheck RuntimeCheck
	// handler serves the unix socket: mux plus the socket-only routes.
	handler http.Handler
	mux     *http.ServeMux
}

// New returns a server reading pods from pods and metrics from registry
// (nil for none).
func New(pods podLister, events eventLister, registry *prometheus.Registry, log *zap.Logger) *Server {
	s := &Server{pods: pods, events: events, log: log, registry: registry}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /pods", s.listPods)
	mux.HandleFunc("GET /events", s.listEvents)
	mux.HandleFunc("GET /manifests", s.listManifests)
	mux.HandleFunc("POST /drain", s.drain)
	// Profiles, as the kubelet's enableProfilingHandler serves them; the
	// socket is root's only.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /pods/{namespace}/{name}/log", s.podLog)
	if registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	}
	s.mux = mux
	socket := http.NewServeMux()
	socket.HandleFunc("GET /kubeconfig", s.getKubeconfig)
	socket.Handle("/", mux)
	s.handler = socket
	return s
}

// kubeAPIRoutes are the path prefixes of the Kubernetes API subset.
var kubeAPIRoutes = []string{"/api", "/api/", "/apis", "/apis/", "/version", "/version/", "/openapi/v2", "/openapi/v3"}

// ServeKubeAPI makes the server answer the Kubernetes API paths (/api,
// /apis, /version and under them) with h (internal/kubeapi).
func (s *Server) ServeKubeAPI(h http.Handler) {
	for _, p := range kubeAPIRoutes {
		s.mux.Handle(p, h)
	}
}

// drainer stops every pod (podworker.Manager).
type drainer interface {
	Drain(ctx context.Context) (int, error)
}

// ServeDrain makes POST /drain stop every pod through d.
func (s *Server) ServeDrain(d drainer) { s.drainer = d }

func (s *Server) drain(w http.ResponseWriter, r *http.Request) {
	if s.drainer == nil {
		http.Error(w, "drain is not served", http.StatusNotImplemented)
		return
	}
	n, err := s.drainer.Drain(r.Context())
	if err != nil {
		http.Error(w, fmt.Sprintf("drain: stopped %d pods, then: %v", n, err), http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "node drained: %d pods stopped; manifests are ignored until the daemon restarts\n", n)
}

// ServeManifests makes GET /manifests answer from m.
func (s *Server) ServeManifests(m *Manifests) { s.manifests = m }

// ServeUnix listens on the unix socket at path (replacing a stale one) and
// serves until ctx ends.
func (s *Server) ServeUnix(ctx context.Context, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create API socket directory: %w", err)
	}
	l, err := listenPrivate(path)
	if err != nil {
		return err
	}
	s.log.Info("serving the API", zap.String("socket", path))
	err = serve(ctx, newHTTPServer(s.handler, s.log), "API", l)
	os.Remove(path)
	return err
}

func (s *Server) listPods(w http.ResponseWriter, _ *http.Request) {
	list := v1.PodList{
		TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"},
		Items:    s.pods.List(),
	}
	for i := range list.Items {
		list.Items[i].TypeMeta = metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"}
	}
	writeJSON(w, s.log, &list)
}

func (s *Server) listEvents(w http.ResponseWriter, _ *http.Request) {
	list := v1.EventList{TypeMeta: metav1.TypeMeta{Kind: "EventList", APIVersion: "v1"}}
	if s.events != nil {
		list.Items = s.events.List()
	}
	writeJSON(w, s.log, &list)
}

func writeJSON(w http.ResponseWriter, log *zap.Logger, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Debug("write answer", zap.Error(err))
	}
}

// listenPrivate listens on a unix socket at path that only root can use,
// replacing a stale one. The socket is made in a private directory and
// renamed into place, so it is never reachable with looser permissions.
func listenPrivate(path string) (net.Listener, error) {
	// Clients connect by path, and the kernel limits a socket's path.
	if len(path) >= maxSocketPath {
		return nil, fmt.Errorf("listen on API socket %s: the path is longer than a unix socket allows (%d bytes)", path, maxSocketPath-1)
	}
	private, err := os.MkdirTemp(filepath.Dir(path), ".api-")
	if err != nil {
		return nil, fmt.Errorf("create API socket: %w", err)
	}
	defer os.RemoveAll(private)
	tmp := filepath.Join(private, "sock")
	l, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("listen on API socket %s: %w", path, err)
	}
	// The listener must not remove the socket by its first name on close.
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, socketMode); err != nil {
		l.Close()
		return nil, fmt.Errorf("restrict API socket %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		l.Close()
		return nil, fmt.Errorf("put API socket in place at %s: %w", path, err)
	}
	return l, nil
}
