package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minikubelet/minikubelet/internal/logs"
)

// maxExecTimeout bounds a non-interactive exec.
const maxExecTimeout = 10 * time.Minute

// execer runs a command in a container and waits for it (CRI ExecSync).
type execer interface {
	ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (stdout []byte, stderr []byte, err error)
}

// exitCoder is an error that carries a command's exit code.
type exitCoder interface {
	ExitStatus() int
}

// LogPathFunc says where the log of a container instance is on the node.
type LogPathFunc func(pod *v1.Pod, container string, restartCount int32) string

// ServeContainers makes the log and exec endpoints answer, reading logs at
// the paths logPath gives and running commands through exec.
func (s *Server) ServeContainers(logPath LogPathFunc, exec execer) {
	s.logPath, s.exec = logPath, exec
}

// ExecResult is the answer of POST /pods/{namespace}/{name}/exec.
type ExecResult struct {
	Stdout   []byte `json:"stdout"`
	Stderr   []byte `json:"stderr"`
	ExitCode int    `json:"exitCode"`
}

// findPod looks a pod up by namespace and name.
func (s *Server) findPod(namespace, name string) (*v1.Pod, bool) {
	for _, p := range s.pods.List() {
		if p.Namespace == namespace && p.Name == name {
			return &p, true
		}
	}
	return nil, false
}

// pickContainer finds the status of the container a request names, or the
// pod's only container.
func pickContainer(pod *v1.Pod, name string) (*v1.ContainerStatus, error) {
	all := append(append([]v1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	if name == "" {
		if len(pod.Spec.Containers) != 1 {
			var names []string
			for _, c := range pod.Spec.Containers {
				names = append(names, c.Name)
			}
			return nil, fmt.Errorf("a container name must be specified for pod %s, choose one of: %v", pod.Name, names)
		}
		name = pod.Spec.Containers[0].Name
	}
	for i := range all {
		if all[i].Name == name {
			return &all[i], nil
		}
	}
	return nil, fmt.Errorf("container %s is not valid for pod %s", name, pod.Name)
}

// requestedContainer finds the pod and container a request names, or
// answers with why it cannot.
func (s *Server) requestedContainer(w http.ResponseWriter, r *http.Request) (*v1.Pod, *v1.ContainerStatus, bool) {
	pod, ok := s.findPod(r.PathValue("namespace"), r.PathValue("name"))
	if !ok {
		http.Error(w, fmt.Sprintf("pods %q not found", r.PathValue("name")), http.StatusNotFound)
		return nil, nil, false
	}
	cs, err := pickContainer(pod, r.URL.Query().Get("container"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, nil, false
	}
	return pod, cs, true
}

func (s *Server) podLog(w http.ResponseWriter, r *http.Request) {
	if s.logPath == nil {
		http.Error(w, "logs are not served", http.StatusNotImplemented)
		return
	}
	pod, cs, ok := s.requestedContainer(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	restart := cs.RestartCount
	if q.Get("previous") == "true" {
		if cs.LastTerminationState.Terminated == nil || restart == 0 {
			http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", cs.Name, pod.Name), http.StatusBadRequest)
			return
		}
		restart--
	} else if cs.ContainerID == "" {
		reason := "ContainerCreating"
		if cs.State.Waiting != nil {
			reason = cs.State.Waiting.Reason
		}
		http.Error(w, fmt.Sprintf("container %q in pod %q is waiting to start: %s", cs.Name, pod.Name, reason), http.StatusBadRequest)
		return
	}
	tail := -1
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			http.Error(w, "tailLines must be a non-negative number", http.StatusBadRequest)
			return
		}
		tail = n
	}
	f, err := logs.Open(s.logPath(pod, cs.Name, restart))
	if err != nil {
		http.Error(w, fmt.Sprintf("read log of container %q: %v", cs.Name, err), http.StatusNotFound)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	opts := logs.Options{TailLines: tail, Timestamps: q.Get("timestamps") == "true"}
	if err := f.Copy(w, opts); err != nil {
		s.log.Debug("write log", zap.Stringer("pod", types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name}), zap.String("container", cs.Name), zap.Error(err))
		return
	}
	if q.Get("follow") != "true" || q.Get("previous") == "true" {
		return
	}
	err = f.Follow(r.Context(), w, opts, func() bool { return s.stillRunning(pod, cs.ContainerID) })
	if err != nil {
		s.log.Debug("follow log", zap.Stringer("pod", types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name}), zap.String("container", cs.Name), zap.Error(err))
	}
}

func (s *Server) stillRunning(pod *v1.Pod, containerID string) bool {
	current, ok := s.findPod(pod.Namespace, pod.Name)
	if !ok {
		return false
	}
	for _, cs := range append(current.Status.InitContainerStatuses, current.Status.ContainerStatuses...) {
		if cs.ContainerID == containerID {
			return cs.State.Running != nil
		}
	}
	return false
}

func (s *Server) podExec(w http.ResponseWriter, r *http.Request) {
	if s.exec == nil {
		http.Error(w, "exec is not served", http.StatusNotImplemented)
		return
	}
	pod, cs, ok := s.requestedContainer(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	if cs.State.Running == nil {
		http.Error(w, fmt.Sprintf("cannot exec in a container that is not running: container %q in pod %q", cs.Name, pod.Name), http.StatusBadRequest)
		return
	}
	cmd := q["command"]
	if len(cmd) == 0 {
		http.Error(w, "a command is required", http.StatusBadRequest)
		return
	}
	id := strings.TrimPrefix(cs.ContainerID, "containerd://")
	stdout, stderr, err := s.exec.ExecSync(r.Context(), id, cmd, maxExecTimeout)
	res := ExecResult{Stdout: stdout, Stderr: stderr}
	var ec exitCoder
	switch {
	case errors.As(err, &ec):
		res.ExitCode = ec.ExitStatus()
	case err != nil:
		s.log.Debug("exec", zap.Stringer("pod", types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name}), zap.String("container", cs.Name), zap.Error(err))
		http.Error(w, fmt.Sprintf("exec in container %q: %v", cs.Name, err), http.StatusInternalServerError)
		return
	}
	writeJSON(w, s.log, &res)
}
