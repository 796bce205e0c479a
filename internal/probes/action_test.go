package probes

import (
	"reflect"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

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

func TestNewAction_Handlers(t *testing.T) {
	c := &v1.Container{
		Ports: []v1.ContainerPort{{Name: "web", ContainerPort: 8080}},
		Env:   []v1.EnvVar{{Name: "F", Value: "/ok"}},
	}
	get := &v1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("web"), Scheme: v1.URISchemeHTTPS}
	a := newAction(&v1.Probe{ProbeHandler: v1.ProbeHandler{HTTPGet: get}}, c)
	get.Path, c.Ports[0].ContainerPort = "/changed", 9090
	if a.handler != handlerHTTP || a.err != nil || a.httpGet.Path != "/healthz" || a.ports.Ports[0].ContainerPort != 8080 {
		t.Errorf("httpGet action = %+v, want its own copy of the action and the ports", a)
	}
	c.Ports[0].ContainerPort = 8080
	a = newAction(&v1.Probe{ProbeHandler: v1.ProbeHandler{TCPSocket: &v1.TCPSocketAction{Port: intstr.FromString("nope")}}}, c)
	if a.handler != handlerTCP || a.err == nil || a.err.Error() != `port "nope" not found` {
		t.Errorf("tcpSocket action with a missing named port = %+v", a)
	}
	a = newAction(&v1.Probe{ProbeHandler: v1.ProbeHandler{Exec: &v1.ExecAction{Command: []string{"cat", "$(F)"}}}}, c)
	if a.handler != handlerExec || !reflect.DeepEqual(a.command, []string{"cat", "/ok"}) {
		t.Errorf("exec action = %+v", a)
	}
	a = newAction(&v1.Probe{ProbeHandler: v1.ProbeHandler{GRPC: &v1.GRPCAction{Port: 9090, Service: ptr.To("svc")}}}, c)
	if a.handler != handlerGRPC || a.port != 9090 || a.service != "svc" || a.err != nil {
		t.Errorf("grpc action = %+v", a)
	}
	a = newAction(&v1.Probe{}, c)
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
