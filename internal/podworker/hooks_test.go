package podworker

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minikubelet/minikubelet/internal/probes"
	"github.com/minikubelet/minikubelet/internal/runtime"
)

// An httpGet hook sends the kubelet's lifecycle request: the probes' request
// with User-Agent kube-lifecycle/<major>.<minor>, to a named port of the
// container on the pod IP.
func TestHookRunner_HTTPGetSendsTheLifecycleRequest(t *testing.T) {
	tests := []struct {
		name       string
		headers    []v1.HTTPHeader
		wantAgent  string
		wantAccept string
	}{
		{name: "kubelet defaults", wantAgent: probes.LifecycleUserAgent, wantAccept: "*/*"},
		{name: "the spec's headers win", headers: []v1.HTTPHeader{{Name: "User-Agent", Value: "mine"}, {Name: "Accept", Value: "application/json"}},
			wantAgent: "mine", wantAccept: "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(chan *http.Request, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen <- r
				w.WriteHeader(http.StatusInternalServerError) // the kubelet ignores the status
			}))
			defer srv.Close()
			u, err := url.Parse(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			host, portText, err := net.SplitHostPort(u.Host)
			if err != nil {
				t.Fatal(err)
			}
			port, err := strconv.Atoi(portText)
			if err != nil {
				t.Fatal(err)
			}
			c := &v1.Container{Name: "app", Ports: []v1.ContainerPort{{Name: "hooks", ContainerPort: int32(port)}}}
			handler := &v1.LifecycleHandler{HTTPGet: &v1.HTTPGetAction{Path: "started", Port: intstr.FromString("hooks"), HTTPHeaders: tt.headers}}

			h := newHookRunner(nil, clocktesting.NewFakeClock(time.Unix(0, 0)))
			if err := h.run(context.Background(), handler, c, "", host); err != nil {
				t.Fatalf("run: %v", err)
			}
			r := <-seen
			if r.URL.Path != "/started" {
				t.Errorf("path = %q, want /started", r.URL.Path)
			}
			if got := r.Header.Get("User-Agent"); got != tt.wantAgent {
				t.Errorf("User-Agent = %q, want %q", got, tt.wantAgent)
			}
			if got := r.Header.Get("Accept"); got != tt.wantAccept {
				t.Errorf("Accept = %q, want %q", got, tt.wantAccept)
			}
		})
	}
}

func TestHookRunner_HTTPGetMissingPortIsTheKubeletsError(t *testing.T) {
	h := newHookRunner(nil, clocktesting.NewFakeClock(time.Unix(0, 0)))
	handler := &v1.LifecycleHandler{HTTPGet: &v1.HTTPGetAction{Path: "/x", Port: intstr.FromString("web")}}
	err := h.run(context.Background(), handler, &v1.Container{Name: "app"}, "", "127.0.0.1")
	want := `HTTP lifecycle hook (/x) for Container "app" failed - error: port "web" not found`
	if err == nil || err.Error() != want {
		t.Fatalf("run = %v, want %q", err, want)
	}
}

// execFails is an execer whose command exits with status 3.
type execFails struct{}

func (execFails) ExecSync(context.Context, string, []string, time.Duration) ([]byte, []byte, error) {
	return []byte("out\n"), nil, &runtime.ExitError{Code: 3}
}

// A failed hook's error keeps the kubelet's event text and still wraps the
// cause, so callers can look at it with errors.As.
func TestHookRunner_FailureWrapsTheCause(t *testing.T) {
	h := newHookRunner(execFails{}, clocktesting.NewFakeClock(time.Unix(0, 0)))
	handler := &v1.LifecycleHandler{Exec: &v1.ExecAction{Command: []string{"sh", "-c", "exit 3"}}}
	err := h.run(context.Background(), handler, &v1.Container{Name: "app"}, "c1", "")
	want := `Exec lifecycle hook ([sh -c exit 3]) for Container "app" failed - error: command terminated with exit code 3, message: "out"`
	if err == nil || err.Error() != want {
		t.Fatalf("run = %v, want %q", err, want)
	}
	var exit *runtime.ExitError
	if !errors.As(err, &exit) || exit.Code != 3 {
		t.Fatalf("errors.As(%v, *runtime.ExitError) = false, want the exec's exit error", err)
	}
}
