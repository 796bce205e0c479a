package probes

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestResolvePort_AsTheKubelet(t *testing.T) {
	c := &v1.Container{Name: "app", Ports: []v1.ContainerPort{
		{Name: "http", ContainerPort: 8080},
		{Name: "bad", ContainerPort: 0},
	}}
	tests := []struct {
		name    string
		param   intstr.IntOrString
		want    int
		wantErr string
	}{
		{name: "number", param: intstr.FromInt32(80), want: 80},
		{name: "named port", param: intstr.FromString("http"), want: 8080},
		{name: "missing named port", param: intstr.FromString("metrics"), wantErr: `port "metrics" not found`},
		// As the kubelet's ResolveContainerPort: a string is always a port
		// name (validation rejects a numeric one), never parsed as a number.
		{name: "numeric string", param: intstr.FromString("8080"), wantErr: `port "8080" not found`},
		{name: "named port with number 0", param: intstr.FromString("bad"), wantErr: "invalid port number: 0"},
		{name: "zero", param: intstr.FromInt32(0), wantErr: "invalid port number: 0"},
		{name: "above 65535", param: intstr.FromInt32(65536), wantErr: "invalid port number: 65536"},
		{name: "no kind", param: intstr.IntOrString{Type: 7}, wantErr: "intOrString had no kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolvePort(tt.param, c)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("ResolvePort(%v) = %d, %v; want error %q", tt.param.String(), got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ResolvePort(%v) = %d, %v; want %d", tt.param.String(), got, err, tt.want)
			}
		})
	}
}

func TestNewHTTPGetRequest_AsTheKubelet(t *testing.T) {
	c := &v1.Container{Name: "app", Ports: []v1.ContainerPort{{Name: "web", ContainerPort: 8080}}}
	tests := []struct {
		name      string
		get       v1.HTTPGetAction
		podIP     string
		userAgent string
		wantURL   string
		wantHost  string // the request's Host
		wantHdr   http.Header
		wantErr   string
	}{
		{
			name:      "probe defaults",
			get:       v1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(80)},
			podIP:     "10.88.0.5",
			userAgent: userAgent,
			wantURL:   "http://10.88.0.5:80/healthz",
			wantHdr:   http.Header{"User-Agent": {"kube-probe/" + kubeVersion}, "Accept": {"*/*"}},
		},
		{
			name:      "lifecycle hook defaults",
			get:       v1.HTTPGetAction{Path: "/hook", Port: intstr.FromString("web")},
			podIP:     "10.88.0.5",
			userAgent: LifecycleUserAgent,
			wantURL:   "http://10.88.0.5:8080/hook",
			wantHdr:   http.Header{"User-Agent": {"kube-lifecycle/" + kubeVersion}, "Accept": {"*/*"}},
		},
		{
			name:      "host, HTTPS, query and a path without its slash",
			get:       v1.HTTPGetAction{Host: "::1", Scheme: v1.URISchemeHTTPS, Path: "ready?full=1", Port: intstr.FromInt32(8443)},
			podIP:     "10.88.0.5",
			userAgent: userAgent,
			wantURL:   "https://[::1]:8443/ready?full=1",
			wantHdr:   http.Header{"User-Agent": {"kube-probe/" + kubeVersion}, "Accept": {"*/*"}},
		},
		{
			name:      "a path that does not parse is passed on",
			get:       v1.HTTPGetAction{Path: "/%zz", Port: intstr.FromInt32(80)},
			podIP:     "10.88.0.5",
			userAgent: userAgent,
			wantURL:   "http://10.88.0.5:80/%25zz",
			wantHdr:   http.Header{"User-Agent": {"kube-probe/" + kubeVersion}, "Accept": {"*/*"}},
		},
		{
			name: "the spec's headers win, repeated names kept, an empty Accept removed",
			get: v1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(80), HTTPHeaders: []v1.HTTPHeader{
				{Name: "user-agent", Value: "mine"},
				{Name: "accept", Value: ""},
				{Name: "X-Two", Value: "a"},
				{Name: "x-two", Value: "b"},
				{Name: "Host", Value: "app.example.com"},
			}},
			podIP:     "10.88.0.5",
			userAgent: LifecycleUserAgent,
			wantURL:   "http://10.88.0.5:80/",
			wantHost:  "app.example.com",
			wantHdr:   http.Header{"User-Agent": {"mine"}, "X-Two": {"a", "b"}, "Host": {"app.example.com"}},
		},
		{
			name:    "missing named port",
			get:     v1.HTTPGetAction{Path: "/", Port: intstr.FromString("metrics")},
			podIP:   "10.88.0.5",
			wantErr: `port "metrics" not found`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := NewHTTPGetRequest(context.Background(), &tt.get, c, tt.podIP, tt.userAgent)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("NewHTTPGetRequest() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewHTTPGetRequest(): %v", err)
			}
			if req.Method != http.MethodGet || req.URL.String() != tt.wantURL || req.Host != tt.wantHost {
				t.Errorf("request = %s %s (host %q), want GET %s (host %q)", req.Method, req.URL, req.Host, tt.wantURL, tt.wantHost)
			}
			if !reflect.DeepEqual(req.Header, tt.wantHdr) {
				t.Errorf("headers = %v, want %v", req.Header, tt.wantHdr)
			}
		})
	}
}

// What a lifecycle hook sends, end to end through the hooks' client.
func TestNewHTTPClient_SendsTheLifecycleHeaders(t *testing.T) {
	tests := []struct {
		name       string
		headers    []v1.HTTPHeader
		wantAgent  string
		wantAccept string
	}{
		{name: "defaults", wantAgent: "kube-lifecycle/" + kubeVersion, wantAccept: "*/*"},
		{name: "set by the spec", headers: []v1.HTTPHeader{{Name: "User-Agent", Value: "hook"}, {Name: "Accept", Value: "text/plain"}},
			wantAgent: "hook", wantAccept: "text/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(chan http.Header, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen <- r.Header.Clone() }))
			defer srv.Close()
			host, port := serverAddr(t, srv)
			get := &v1.HTTPGetAction{Path: "/hook", Port: intstr.FromInt(port), HTTPHeaders: tt.headers}
			req, err := NewHTTPGetRequest(context.Background(), get, &v1.Container{}, host, LifecycleUserAgent)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := NewHTTPClient().Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", req.URL, err)
			}
			resp.Body.Close()
			h := <-seen
			if got := h.Get("User-Agent"); got != tt.wantAgent {
				t.Errorf("User-Agent = %q, want %q", got, tt.wantAgent)
			}
			if got := h.Get("Accept"); got != tt.wantAccept {
				t.Errorf("Accept = %q, want %q", got, tt.wantAccept)
			}
		})
	}
}

// The User-Agent names the Kubernetes release of the API types built in;
// this catches a k8s.io/api bump in go.mod that forgets kubeVersion.
func TestKubeVersion_MatchesK8sAPIModule(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Skipf("go.mod: %v", err)
	}
	for _, line := range strings.Split(string(mod), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "k8s.io/api" {
			continue
		}
		// k8s.io/api v0.MINOR.PATCH is Kubernetes 1.MINOR.PATCH.
		parts := strings.Split(strings.TrimPrefix(f[1], "v"), ".")
		if len(parts) < 2 || parts[0] != "0" {
			t.Skipf("unexpected k8s.io/api version %s", f[1])
		}
		if want := "1." + parts[1]; kubeVersion != want {
			t.Fatalf("kubeVersion = %s, but k8s.io/api %s is Kubernetes %s", kubeVersion, f[1], want)
		}
		return
	}
	t.Skip("k8s.io/api not in go.mod")
}
