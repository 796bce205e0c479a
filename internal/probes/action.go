package probes

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"

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
// exec command expanded, the port of tcpSocket and grpc resolved, what an
// httpGet request is built from copied. The pod IP is looked up at each
// run, and an httpGet request is built at each run with NewHTTPGetRequest,
// as the kubelet's prober does.
type action struct {
	handler handlerKind
	// err, when set, makes every run error (a named port the container
	// lacks, no handler): the kubelet fails such runs the same way each time.
	err error

	command []string // exec, after $(VAR) expansion

	host    string // httpGet, tcpSocket; empty means the pod IP
	port    int    // tcpSocket, grpc
	service string // grpc

	httpGet *v1.HTTPGetAction // httpGet, a copy of the probe's
	ports   *v1.Container     // httpGet: the container's ports, for named ports
}

// errNoHandler is the error of a probe that has no handler; validation
// rejects such a probe at manifest load.
var errNoHandler = errors.New("missing probe handler")

// newAction prepares the handler of probe p of container c.
func newAction(p *v1.Probe, c *v1.Container) action {
	switch {
	case p.Exec != nil:
		return action{handler: handlerExec, command: expandCommand(p.Exec.Command, c.Env)}
	case p.HTTPGet != nil:
		return action{
			handler: handlerHTTP,
			host:    p.HTTPGet.Host,
			httpGet: p.HTTPGet.DeepCopy(),
			ports:   &v1.Container{Ports: slices.Clone(c.Ports)},
		}
	case p.TCPSocket != nil:
		port, err := ResolvePort(p.TCPSocket.Port, c)
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
