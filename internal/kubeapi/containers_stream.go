package kubeapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The labels that tie a CRI sandbox to its pod (internal/runtime's).
const (
	sandboxLabelPodUID = "io.kubernetes.pod.uid"
	containerIDPrefix  = "containerd://"
)

// streamOptions are the streams an exec or attach asks for.
type streamOptions struct {
	stdin, stdout, stderr, tty bool
}

// parseStreamOptions reads PodExecOptions' and PodAttachOptions' stream
// flags (stdin, stdout, stderr, tty; "true" and "1" both set one) with the
// kubelet's remotecommand.NewOptions rules: at least one stream, and no
// stderr with a TTY.
func parseStreamOptions(q url.Values) (streamOptions, error) {
	o := streamOptions{
		stdin:  queryBool(q, "stdin"),
		stdout: queryBool(q, "stdout"),
		stderr: queryBool(q, "stderr"),
		tty:    queryBool(q, "tty"),
	}
	if !o.stdin && !o.stdout && !o.stderr {
		return o, fmt.Errorf("you must specify at least 1 of stdin, stdout, stderr")
	}
	if o.tty && o.stderr {
		// A terminal has one output stream.
		o.stderr = false
	}
	return o, nil
}

// isWebSocket reports whether a request asks for a WebSocket upgrade
// (kubectl's first try, v5.channel.k8s.io).
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// isSPDYUpgrade reports whether a request asks to upgrade the connection
// (SPDY/3.1, kubectl's fallback).
func isSPDYUpgrade(r *http.Request) bool {
	return strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade") && r.Header.Get("Upgrade") != ""
}

// streamPreflight answers what must not reach the runtime: a WebSocket
// attempt gets a 400 Status, on which kubectl falls back to SPDY (the
// runtime's streaming server would refuse it with 403 and spend the
// session), and a request that upgrades nothing is refused.
func (c *containerRoutes) streamPreflight(w http.ResponseWriter, r *http.Request) bool {
	if isWebSocket(r) {
		writeContainerError(w, c.log, http.StatusBadRequest, metav1.StatusReasonBadRequest,
			"WebSocket streams are not served by this node: use SPDY/3.1 (kubectl falls back to it)", nil)
		return false
	}
	if !isSPDYUpgrade(r) {
		writeContainerError(w, c.log, http.StatusBadRequest, metav1.StatusReasonBadRequest, "Upgrade request required", nil)
		return false
	}
	if c.deps.Streams == nil {
		writeContainerError(w, c.log, http.StatusNotImplemented, metav1.StatusReasonInternalError, "streaming is not served", nil)
		return false
	}
	return true
}

// runningContainerID returns the CRI ID of the running instance of a
// container, or the kubelet's words when there is none.
func runningContainerID(pod *v1.Pod, name string) (string, error) {
	cs, ok := containerStatus(pod, name)
	if !ok || cs.State.Running == nil || cs.ContainerID == "" {
		return "", fmt.Errorf("container not found (%q)", name)
	}
	return strings.TrimPrefix(cs.ContainerID, containerIDPrefix), nil
}

// streamTarget resolves the pod and container of an exec or attach, or
// answers why not.
func (c *containerRoutes) streamTarget(w http.ResponseWriter, r *http.Request) (*v1.Pod, string, string, streamOptions, bool) {
	if !c.streamPreflight(w, r) {
		return nil, "", "", streamOptions{}, false
	}
	pod, ok := c.requestedPod(w, r)
	if !ok {
		return nil, "", "", streamOptions{}, false
	}
	q := r.URL.Query()
	name, err := chooseContainer(pod, q.Get("container"))
	if err != nil {
		writeContainerError(w, c.log, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error(), nil)
		return nil, "", "", streamOptions{}, false
	}
	opts, err := parseStreamOptions(q)
	if err != nil {
		writeContainerError(w, c.log, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error(), nil)
		return nil, "", "", streamOptions{}, false
	}
	id, err := runningContainerID(pod, name)
	if err != nil {
		writeContainerError(w, c.log, http.StatusNotFound, metav1.StatusReasonNotFound, err.Error(), nil)
		return nil, "", "", streamOptions{}, false
	}
	return pod, name, id, opts, true
}

// podExec serves pods/exec the kubelet's way: CRI Exec, then the upgrade
// proxied to the runtime's streaming server.
func (c *containerRoutes) podExec(w http.ResponseWriter, r *http.Request) {
	pod, name, id, opts, ok := c.streamTarget(w, r)
	if !ok {
		return
	}
	cmd := r.URL.Query()["command"]
	if len(cmd) == 0 {
		writeContainerError(w, c.log, http.StatusBadRequest, metav1.StatusReasonBadRequest, "you must specify at least one command for the container", nil)
		return
	}
	resp, err := c.deps.Streams.Exec(r.Context(), &runtimeapi.ExecRequest{
		ContainerId: id, Cmd: cmd, Tty: opts.tty, Stdin: opts.stdin, Stdout: opts.stdout, Stderr: opts.stderr,
	})
	if err != nil {
		c.streamFailed(w, pod, name, "exec", err)
		return
	}
	c.proxyStream(w, r, pod, name, resp.Url)
}

// podAttach serves pods/attach: CRI Attach, with the TTY setting of the
// container's spec (a running process's terminal cannot change), as the
// kubelet's GetAttach.
func (c *containerRoutes) podAttach(w http.ResponseWriter, r *http.Request) {
	pod, name, id, opts, ok := c.streamTarget(w, r)
	if !ok {
		return
	}
	tty := false
	for _, list := range [][]v1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, ctr := range list {
			if ctr.Name == name {
				tty = ctr.TTY
			}
		}
	}
	resp, err := c.deps.Streams.Attach(r.Context(), &runtimeapi.AttachRequest{
		ContainerId: id, Stdin: opts.stdin, Tty: tty, Stdout: opts.stdout, Stderr: opts.stderr && !tty,
	})
	if err != nil {
		c.streamFailed(w, pod, name, "attach", err)
		return
	}
	c.proxyStream(w, r, pod, name, resp.Url)
}

// sandboxLister finds a pod's sandbox for a port forward.
type sandboxLister interface {
	ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)
}

// podPortForward serves pods/portforward: CRI PortForward into the pod's
// ready sandbox (the ports travel in the streams' headers).
func (c *containerRoutes) podPortForward(w http.ResponseWriter, r *http.Request) {
	if !c.streamPreflight(w, r) {
		return
	}
	pod, ok := c.requestedPod(w, r)
	if !ok {
		return
	}
	if c.deps.Sandboxes == nil {
		writeContainerError(w, c.log, http.StatusNotImplemented, metav1.StatusReasonInternalError, "port forwarding is not served", nil)
		return
	}
	list, err := c.deps.Sandboxes.ListPodSandbox(r.Context(), &runtimeapi.PodSandboxFilter{
		State:         &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY},
		LabelSelector: map[string]string{sandboxLabelPodUID: string(pod.UID)},
	})
	if err != nil {
		c.streamFailed(w, pod, "", "portforward", err)
		return
	}
	if len(list) == 0 {
		writeContainerError(w, c.log, http.StatusNotFound, metav1.StatusReasonNotFound,
			fmt.Sprintf("pod not found (%q)", pod.Name+"_"+pod.Namespace), nil)
		return
	}
	resp, err := c.deps.Streams.PortForward(r.Context(), &runtimeapi.PortForwardRequest{PodSandboxId: list[0].Id})
	if err != nil {
		c.streamFailed(w, pod, "", "portforward", err)
		return
	}
	c.proxyStream(w, r, pod, "", resp.Url)
}

func (c *containerRoutes) streamFailed(w http.ResponseWriter, pod *v1.Pod, name, what string, err error) {
	c.log.Info("runtime refused a stream", append(containerLogFields(pod, name), zap.String("stream", what), zap.Error(err))...)
	writeContainerError(w, c.log, http.StatusInternalServerError, metav1.StatusReasonInternalError,
		fmt.Sprintf("%s: the container runtime refused: %v", what, err), nil)
}

// proxyStream hands the request to the runtime's streaming server at
// rawURL, which answers the upgrade (101) and then carries the session;
// ReverseProxy copies both ways after a 101. The client's credentials are
// for this node, never for the runtime.
func (c *containerRoutes) proxyStream(w http.ResponseWriter, r *http.Request, pod *v1.Pod, name, rawURL string) {
	target, err := url.Parse(rawURL)
	if err != nil {
		c.streamFailed(w, pod, name, "stream", fmt.Errorf("the streaming URL %q: %w", rawURL, err))
		return
	}
	log := c.log.With(containerLogFields(pod, name)...)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			u := *target
			pr.Out.URL = &u
			pr.Out.Host = ""
			pr.Out.Header.Del("Authorization")
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			log.Info("proxy a stream to the runtime", zap.Error(err))
			writeContainerError(w, c.log, http.StatusBadGateway, metav1.StatusReasonInternalError,
				fmt.Sprintf("reach the container runtime's streaming server: %v", err), nil)
		},
	}
	log.Debug("proxying a stream", zap.String("url", target.Redacted()))
	proxy.ServeHTTP(w, r)
}
