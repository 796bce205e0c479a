package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/logs"
)

const (
	// followPollInterval paces reading a followed log file for growth.
	followPollInterval = 100 * time.Millisecond
	// maxExecTimeout bounds a non-interactive exec.
	maxExecTimeout = 10 * time.Minute
)

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
	path := s.logPath(pod, cs.Name, restart)
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, fmt.Sprintf("read log of container %q: %v", cs.Name, err), http.StatusNotFound)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	timestamps := q.Get("timestamps") == "true"
	offset, err := writeLog(w, f, tail, timestamps)
	if err != nil || q.Get("follow") != "true" || q.Get("previous") == "true" {
		return
	}
	s.followLog(r.Context(), w, f, offset, timestamps, pod, cs.ContainerID)
}

// writeLog writes the content of a CRI log file (its last tail lines when
// tail >= 0) and returns how far it read.
func writeLog(w io.Writer, f *os.File, tail int, timestamps bool) (int64, error) {
	data, err := io.ReadAll(f)
	if err != nil {
		return 0, err
	}
	// Only whole lines: a partly written last line is left for later.
	end := strings.LastIndexByte(string(data), '\n') + 1
	lines := strings.Split(string(data[:end]), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if tail >= 0 && len(lines) > tail {
		lines = lines[len(lines)-tail:]
	}
	bw := bufio.NewWriter(w)
	for _, line := range lines {
		writeLogLine(bw, line, timestamps)
	}
	return int64(end), bw.Flush()
}

func writeLogLine(w io.Writer, line string, timestamps bool) {
	content, full, ok := logs.ParseLine(line)
	if !ok {
		return
	}
	if timestamps {
		ts, _, _ := strings.Cut(line, " ")
		io.WriteString(w, ts+" ")
	}
	io.WriteString(w, content)
	if full {
		io.WriteString(w, "\n")
	}
}

// followLog writes what is appended to the log until the client goes away
// or the container instance is no longer the running one.
func (s *Server) followLog(ctx context.Context, w http.ResponseWriter, f *os.File, offset int64, timestamps bool, pod *v1.Pod, containerID string) {
	flusher, _ := w.(http.Flusher)
	ticker := time.NewTicker(followPollInterval)
	defer ticker.Stop()
	var pending []byte
	for {
		if flusher != nil {
			flusher.Flush()
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		buf := make([]byte, 64<<10)
		for {
			n, err := f.ReadAt(buf, offset)
			offset += int64(n)
			pending = append(pending, buf[:n]...)
			if err != nil || n == 0 {
				break
			}
		}
		for {
			i := strings.IndexByte(string(pending), '\n')
			if i < 0 {
				break
			}
			writeLogLine(w, string(pending[:i]), timestamps)
			pending = pending[i+1:]
		}
		if !s.stillRunning(pod, containerID) {
			return
		}
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
		s.log.Debug("exec", zap.String("pod", pod.Name), zap.String("container", cs.Name), zap.Error(err))
		http.Error(w, fmt.Sprintf("exec in container %q: %v", cs.Name, err), http.StatusInternalServerError)
		return
	}
	writeJSON(w, s.log, &res)
}
