package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

type fakePods []v1.Pod

func (f fakePods) List() []v1.Pod {
	out := make([]v1.Pod, len(f))
	copy(out, f)
	return out
}

// newServer is the one place tests build a Server, so that a change to New's
// arguments touches one line.
func newServer(pods fakePods, reg *prometheus.Registry, log *zap.Logger) *Server {
	return New(pods, nil, reg, log)
}

func pod(ns, name string, phase v1.PodPhase) v1.Pod {
	return v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name)},
		Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "app", Image: "busybox"}}},
		Status:     v1.PodStatus{Phase: phase},
	}
}

func get(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestHandler_Routes(t *testing.T) {
	tests := []struct {
		name        string
		method      string
		path        string
		registry    bool
		wantCode    int
		wantBody    string // exact when not empty
		wantType    string // prefix of Content-Type when not empty
		wantContain string
	}{
		{name: "healthz", method: http.MethodGet, path: "/healthz", wantCode: 200, wantBody: "ok", wantType: "text/plain"},
		{name: "pods", method: http.MethodGet, path: "/pods", wantCode: 200, wantType: "application/json", wantContain: `"kind":"PodList"`},
		{name: "unknown path", method: http.MethodGet, path: "/nope", wantCode: 404},
		{name: "root", method: http.MethodGet, path: "/", wantCode: 404},
		{name: "pods is read-only", method: http.MethodPost, path: "/pods", wantCode: 405},
		{name: "no metrics without a registry", method: http.MethodGet, path: "/metrics", wantCode: 404},
		{name: "metrics with a registry", method: http.MethodGet, path: "/metrics", registry: true, wantCode: 200, wantContain: "test_total 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reg *prometheus.Registry
			if tt.registry {
				reg = prometheus.NewRegistry()
				c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_total", Help: "a test counter"})
				c.Inc()
				reg.MustRegister(c)
			}
			s := newServer(fakePods{pod("default", "a", v1.PodRunning)}, reg, zap.NewNop())
			rec := get(t, s.handler, tt.method, tt.path)
			if rec.Code != tt.wantCode {
				t.Fatalf("%s %s = %d, want %d; body %q", tt.method, tt.path, rec.Code, tt.wantCode, rec.Body.String())
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("body = %q, want %q", rec.Body.String(), tt.wantBody)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type = %q, want %q", ct, tt.wantType)
			}
			if !strings.Contains(rec.Body.String(), tt.wantContain) {
				t.Errorf("body %q does not contain %q", rec.Body.String(), tt.wantContain)
			}
		})
	}
}

func TestListPods_IsAPodList(t *testing.T) {
	tests := []struct {
		name      string
		pods      fakePods
		wantNames []string
	}{
		{name: "no pods"},
		{name: "pods in store order", pods: fakePods{pod("default", "a", v1.PodRunning), pod("kube-system", "b", v1.PodPending)}, wantNames: []string{"default/a", "kube-system/b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, newServer(tt.pods, nil, zap.NewNop()).handler, http.MethodGet, "/pods")
			if rec.Code != http.StatusOK {
				t.Fatalf("GET /pods = %d: %s", rec.Code, rec.Body.String())
			}
			var list v1.PodList
			if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
				t.Fatalf("decode %q: %v", rec.Body.String(), err)
			}
			if list.Kind != "PodList" || list.APIVersion != "v1" {
				t.Errorf("kind %q apiVersion %q, want PodList v1", list.Kind, list.APIVersion)
			}
			var names []string
			for _, p := range list.Items {
				names = append(names, types.NamespacedName{Namespace: p.Namespace, Name: p.Name}.String())
				if p.Kind != "Pod" || p.APIVersion != "v1" {
					t.Errorf("item %s/%s: kind %q apiVersion %q, want Pod v1", p.Namespace, p.Name, p.Kind, p.APIVersion)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.wantNames, ",") {
				t.Errorf("items %v, want %v", names, tt.wantNames)
			}
			for i, p := range list.Items {
				if p.Status.Phase != tt.pods[i].Status.Phase || p.UID != tt.pods[i].UID {
					t.Errorf("item %d = phase %q uid %q, want %q %q", i, p.Status.Phase, p.UID, tt.pods[i].Status.Phase, tt.pods[i].UID)
				}
			}
		})
	}
}

// serving starts ServeUnix on path and returns once the socket is ready,
// with a stop function that cancels the context and returns ServeUnix's
// error.
func serving(t *testing.T, s *Server, path string, ready <-chan struct{}) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeUnix(ctx, path) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("ServeUnix(%s) returned before serving: %v", path, err)
	}
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	return stop
}

// readyLogger signals ready when the server logs that it serves, which it
// does once the socket is listening with its final mode.
func readyLogger() (*zap.Logger, <-chan struct{}) {
	ready := make(chan struct{})
	var once sync.Once
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zapcore.DebugLevel)
	return zap.New(core, zap.Hooks(func(e zapcore.Entry) error {
		if e.Message == "serving the API" {
			once.Do(func() { close(ready) })
		}
		return nil
	})), ready
}

func unixClient(path string) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}}
}

func healthz(t *testing.T, path string) string {
	t.Helper()
	c := unixClient(path)
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://minikubelet/healthz")
	if err != nil {
		t.Fatalf("GET /healthz on %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func TestServeUnix(t *testing.T) {
	tests := []struct {
		name    string
		rel     string // the socket's path under a fresh directory
		prepare func(t *testing.T, path string)
	}{
		{name: "fresh", rel: "api.sock", prepare: func(*testing.T, string) {}},
		{name: "missing directory is made", rel: "run/mk/api.sock", prepare: func(*testing.T, string) {}},
		{name: "stale socket", rel: "api.sock", prepare: func(t *testing.T, path string) {
			l, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			l.(*net.UnixListener).SetUnlinkOnClose(false)
			l.Close()
		}},
		{name: "stale plain file", rel: "api.sock", prepare: func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("junk"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.rel)
			tt.prepare(t, path)
			log, ready := readyLogger()
			stop := serving(t, newServer(fakePods{}, nil, log), path, ready)

			fi, err := os.Stat(path)
			if err != nil {
				t.Fatalf("stat socket: %v", err)
			}
			if fi.Mode()&os.ModeSocket == 0 {
				t.Errorf("%s is %v, want a socket", path, fi.Mode())
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("socket mode = %#o, want 0600", perm)
			}
			if got := healthz(t, path); got != "ok" {
				t.Errorf("GET /healthz = %q, want ok", got)
			}

			if err := stop(); err != nil {
				t.Fatalf("ServeUnix after cancel: %v, want nil", err)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("socket still there after shutdown: stat = %v", err)
			}
		})
	}
}

func TestServeUnix_Errors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantErr string
	}{
		{name: "parent is a file", path: filepath.Join(file, "api.sock"), wantErr: "create API socket directory"},
		{name: "path too long for a socket", path: filepath.Join(dir, strings.Repeat("s", 120)+".sock"), wantErr: "listen on API socket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newServer(fakePods{}, nil, zap.NewNop()).ServeUnix(context.Background(), tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ServeUnix(%s) = %v, want an error containing %q", tt.path, err, tt.wantErr)
			}
		})
	}
}

func TestPodLog_IsTheKubeAPIsPodsLog(t *testing.T) {
	s := newServer(fakePods{}, nil, zap.NewNop())
	s.ServeKubeAPI(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s?%s", r.URL.Path, r.URL.RawQuery)
	}))
	rec := get(t, s.handler, http.MethodGet, "/pods/kube-system/a-node1/log?container=app&tailLines=1")
	want := "/api/v1/namespaces/kube-system/pods/a-node1/log?container=app&tailLines=1"
	if rec.Code != http.StatusOK || rec.Body.String() != want {
		t.Fatalf("GET /pods/kube-system/a-node1/log = %d %q, want 200 %q", rec.Code, rec.Body.String(), want)
	}
}
