package probes

import (
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestResolvePort_NamedAndNumbered(t *testing.T) {
	c := &v1.Container{Ports: []v1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "bad", ContainerPort: 0}}}
	for _, tc := range []struct {
		param   intstr.IntOrString
		want    int
		wantErr string
	}{
		{intstr.FromInt32(80), 80, ""},
		{intstr.FromString("http"), 8080, ""},
		{intstr.FromString("metrics"), 0, `port "metrics" not found`},
		{intstr.FromString("bad"), 0, "invalid port number: 0"},
		{intstr.FromInt32(0), 0, "invalid port number: 0"},
		{intstr.FromInt32(65536), 0, "invalid port number: 65536"},
	} {
		got, err := resolvePort(tc.param, c)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("resolvePort(%v) error = %v, want %q", tc.param.String(), err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("resolvePort(%v) = %d, %v, want %d", tc.param.String(), got, err, tc.want)
		}
	}
}

func TestExpandCommand_AsTheKubelet(t *testing.T) {
	env := []v1.EnvVar{
		{Name: "FILE", Value: "/tmp/health"},
		{Name: "FROM", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
	}
	for in, want := range map[string]string{
		"cat $(FILE)":      "cat /tmp/health",
		"$(MISSING)":       "$(MISSING)",
		"$$(FILE)":         "$(FILE)",
		"$(FROM)x":         "x", // valueFrom is not expanded: it counts as empty
		"$(FILE":           "$(FILE",
		"cost $5":          "cost $5",
		"trailing $":       "trailing $",
		"$()":              "$()",
		"a$(FILE)b$(FILE)": "a/tmp/healthb/tmp/health",
		"no vars":          "no vars",
	} {
		if got := expandCommand([]string{in}, env); len(got) != 1 || got[0] != want {
			t.Errorf("expandCommand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProbeHeaders_Defaults(t *testing.T) {
	h := probeHeaders(nil, userAgent)
	if h.Get("User-Agent") != "kube-probe/"+kubeVersion || h.Get("Accept") != "*/*" {
		t.Fatalf("default headers = %v", h)
	}
	h = probeHeaders([]v1.HTTPHeader{
		{Name: "user-agent", Value: "mine"},
		{Name: "accept", Value: ""},
		{Name: "X-Two", Value: "a"},
		{Name: "x-two", Value: "b"},
		{Name: "Host", Value: "example.com"},
	}, userAgent)
	want := http.Header{"User-Agent": {"mine"}, "X-Two": {"a", "b"}, "Host": {"example.com"}}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("headers = %v, want %v (an empty Accept is removed)", h, want)
	}
}

func TestNewAction_Handlers(t *testing.T) {
	c := &v1.Container{
		Ports: []v1.ContainerPort{{Name: "web", ContainerPort: 8080}},
		Env:   []v1.EnvVar{{Name: "F", Value: "/ok"}},
	}
	a := newAction(&v1.Probe{ProbeHandler: v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{
		Path: "/healthz", Port: intstr.FromString("web"), Scheme: v1.URISchemeHTTPS,
	}}}, c, userAgent)
	if a.handler != handlerHTTP || a.err != nil || a.port != 8080 || a.scheme != "https" || a.path != "/healthz" {
		t.Errorf("httpGet action = %+v", a)
	}
	a = newAction(&v1.Probe{ProbeHandler: v1.ProbeHandler{TCPSocket: &v1.TCPSocketAction{Port: intstr.FromString("nope")}}}, c, userAgent)
	if a.handler != handlerTCP || a.err == nil || a.err.Error() != `port "nope" not found` {
		t.Errorf("tcpSocket action with a missing named port = %+v", a)
	}
	a = newAction(&v1.Probe{ProbeHandler: v1.ProbeHandler{Exec: &v1.ExecAction{Command: []string{"cat", "$(F)"}}}}, c, userAgent)
	if a.handler != handlerExec || !reflect.DeepEqual(a.command, []string{"cat", "/ok"}) {
		t.Errorf("exec action = %+v", a)
	}
	a = newAction(&v1.Probe{ProbeHandler: v1.ProbeHandler{GRPC: &v1.GRPCAction{Port: 9090, Service: ptr.To("svc")}}}, c, userAgent)
	if a.handler != handlerGRPC || a.port != 9090 || a.service != "svc" || a.err != nil {
		t.Errorf("grpc action = %+v", a)
	}
	a = newAction(&v1.Probe{}, c, userAgent)
	if a.err == nil {
		t.Errorf("a probe without a handler must error")
	}
}

func TestTerminationGracePeriod_ProbeLevelWinsForLivenessAndStartup(t *testing.T) {
	c := &v1.Container{
		LivenessProbe:  &v1.Probe{TerminationGracePeriodSeconds: ptr.To[int64](5)},
		ReadinessProbe: &v1.Probe{TerminationGracePeriodSeconds: ptr.To[int64](7)},
		StartupProbe:   &v1.Probe{},
	}
	for k, want := range map[Kind]int64{Liveness: 5, Readiness: 30, Startup: 30} {
		if got := TerminationGracePeriod(k, c, 30); got != want {
			t.Errorf("TerminationGracePeriod(%v) = %d, want %d", k, got, want)
		}
	}
}

func TestUpdateEvent_KubeletMessages(t *testing.T) {
	for _, tc := range []struct {
		u            Update
		reason, want string
	}{
		{Update{Kind: Readiness, Failed: true, Output: "HTTP probe failed with statuscode: 503"}, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503"},
		{Update{Kind: Liveness, Errored: true, Output: `port "x" not found`}, "Unhealthy", `Liveness probe errored: port "x" not found`},
		{Update{Kind: Startup, Warning: "Probe terminated redirects, Response body: "}, "ProbeWarning", "Startup probe warning: Probe terminated redirects, Response body: "},
		{Update{Kind: Liveness, Changed: true, Result: Success}, "", ""},
	} {
		reason, msg := tc.u.Event()
		if reason != tc.reason || msg != tc.want {
			t.Errorf("Event() = %q, %q; want %q, %q", reason, msg, tc.reason, tc.want)
		}
	}
}

func TestKindAndResultStrings(t *testing.T) {
	if Liveness.String() != "Liveness" || Readiness.String() != "Readiness" || Startup.String() != "Startup" {
		t.Errorf("kind strings: %v %v %v", Liveness, Readiness, Startup)
	}
	if Success.metricLabel() != "successful" || Failure.metricLabel() != "failed" || Unknown.metricLabel() != "unknown" {
		t.Errorf("result labels: %s %s %s", Success.metricLabel(), Failure.metricLabel(), Unknown.metricLabel())
	}
	if Liveness.initialResult() != Success || Readiness.initialResult() != Failure || Startup.initialResult() != Unknown {
		t.Errorf("initial results are not the kubelet's")
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
