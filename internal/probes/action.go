package probes

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/minikubelet/minikubelet/internal/expansion"
)

// handlerKind says which of a probe's handlers runs.
type handlerKind uint8

const (
	handlerNone handlerKind = iota
	handlerExec
	handlerHTTP
	handlerTCP
	handlerGRPC
)

// action is a probe's handler, prepared once per container instance: the
// exec command expanded, the port resolved, the HTTP headers built. Only the
// pod IP is looked up at each run.
type action struct {
	handler handlerKind
	// err, when set, makes every run error (a named port the container
	// lacks, no handler): the kubelet fails such runs the same way each time.
	err error

	command []string // exec, after $(VAR) expansion

	host    string      // httpGet, tcpSocket; empty means the pod IP
	port    int         // httpGet, tcpSocket, grpc
	scheme  string      // httpGet: "http" or "https"
	path    string      // httpGet
	headers http.Header // httpGet, with User-Agent and Accept defaulted
	service string      // grpc
}

// errNoHandler is the error of a probe that has no handler; validation
// rejects such a probe at manifest load.
var errNoHandler = errors.New("missing probe handler")

// newAction prepares the handler of probe p of container c.
func newAction(p *v1.Probe, c *v1.Container, userAgent string) action {
	switch {
	case p.Exec != nil:
		return action{handler: handlerExec, command: expandCommand(p.Exec.Command, c.Env)}
	case p.HTTPGet != nil:
		g := p.HTTPGet
		port, err := resolvePort(g.Port, c)
		scheme := strings.ToLower(string(g.Scheme))
		if scheme == "" {
			scheme = "http"
		}
		return action{
			handler: handlerHTTP,
			err:     err,
			host:    g.Host,
			port:    port,
			scheme:  scheme,
			path:    g.Path,
			headers: probeHeaders(g.HTTPHeaders, userAgent),
		}
	case p.TCPSocket != nil:
		port, err := resolvePort(p.TCPSocket.Port, c)
		return action{handler: handlerTCP, err: err, host: p.TCPSocket.Host, port: port}
	case p.GRPC != nil:
		a := action{handler: handlerGRPC, port: int(p.GRPC.Port)}
		if a.port <= 0 || a.port >= 65536 {
			a.err = fmt.Errorf("invalid port number: %d", a.port)
		}
		if p.GRPC.Service != nil {
			a.service = *p.GRPC.Service
		}
		return a
	}
	return action{err: errNoHandler}
}

// resolvePort returns the port number param names, looking a named port up
// in the container's ports, as the kubelet's ResolveContainerPort.
func resolvePort(param intstr.IntOrString, c *v1.Container) (int, error) {
	port := -1
	switch param.Type {
	case intstr.Int:
		port = param.IntValue()
	case intstr.String:
		found := false
		for _, p := range c.Ports {
			if p.Name == param.StrVal {
				port, found = int(p.ContainerPort), true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("port %q not found", param.StrVal)
		}
	default:
		return port, fmt.Errorf("intOrString had no kind: %+v", param)
	}
	if port > 0 && port < 65536 {
		return port, nil
	}
	return port, fmt.Errorf("invalid port number: %v", port)
}

// probeHeaders returns the headers of an httpGet probe: the probe's own
// (canonicalized, repeated names kept), a User-Agent unless the probe sets
// one, and Accept */* unless the probe sets one; an Accept set empty is
// removed, as the kubelet does.
func probeHeaders(list []v1.HTTPHeader, userAgent string) http.Header {
	h := make(http.Header, len(list)+2)
	for _, e := range list {
		h.Add(e.Name, e.Value)
	}
	if _, ok := h["User-Agent"]; !ok {
		h.Set("User-Agent", userAgent)
	}
	if _, ok := h["Accept"]; !ok {
		h.Set("Accept", "*/*")
	} else if h.Get("Accept") == "" {
		h.Del("Accept")
	}
	return h
}

// expandCommand replaces $(VAR) references in an exec probe's command with
// the container's static env values, as the kubelet's
// ExpandContainerCommandOnlyStatic: $$ is a literal $, a reference to a
// variable not in env stays as written, and an env entry set with valueFrom
// counts as empty.
func expandCommand(cmd []string, env []v1.EnvVar) []string {
	if len(cmd) == 0 {
		return nil
	}
	var vars map[string]string
	out := make([]string, len(cmd))
	for i, s := range cmd {
		if !strings.Contains(s, "$") {
			out[i] = s
			continue
		}
		if vars == nil {
			vars = make(map[string]string, len(env))
			for _, e := range env {
				vars[e.Name] = e.Value
			}
		}
		out[i] = expand(s, vars)
	}
	return out
}

// expand is the Kubernetes $(VAR) expansion of one string.
func expand(s string, vars map[string]string) string {
	return expansion.Expand(s, func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	})
}
