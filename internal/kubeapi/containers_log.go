package kubeapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minikubelet/minikubelet/internal/logs"
)

// logRequest is a pods/log request's PodLogOptions, validated.
type logRequest struct {
	container  string
	follow     bool
	previous   bool
	timestamps bool
	tailLines  int // -1 for all
	limitBytes int64
	since      time.Time
}

// parseLogRequest reads PodLogOptions from a query, with the API server's
// validation (ValidatePodLogOptions) and its words.
func parseLogRequest(q url.Values, now time.Time) (logRequest, []string) {
	req := logRequest{
		container:  q.Get("container"),
		follow:     queryBool(q, "follow"),
		previous:   queryBool(q, "previous"),
		timestamps: queryBool(q, "timestamps"),
		tailLines:  -1,
	}
	var errs []string
	intParam := func(key string) (int64, bool) {
		v := q.Get(key)
		if v == "" {
			return 0, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: Invalid value: %q: must be an integer", key, v))
			return 0, false
		}
		return n, true
	}
	if n, ok := intParam("tailLines"); ok {
		if n < 0 {
			errs = append(errs, fmt.Sprintf("tailLines: Invalid value: %d: must be greater than or equal to 0", n))
		} else {
			req.tailLines = int(min(n, int64(^uint(0)>>1)))
		}
	}
	if n, ok := intParam("limitBytes"); ok {
		if n < 1 {
			errs = append(errs, fmt.Sprintf("limitBytes: Invalid value: %d: must be greater than 0", n))
		} else {
			req.limitBytes = n
		}
	}
	seconds, hasSeconds := intParam("sinceSeconds")
	if hasSeconds {
		if seconds < 1 {
			errs = append(errs, fmt.Sprintf("sinceSeconds: Invalid value: %d: must be greater than 0", seconds))
		} else {
			req.since = now.Add(-time.Duration(seconds) * time.Second)
		}
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Sprintf("sinceTime: Invalid value: %q: must be an RFC 3339 time", v))
		case hasSeconds:
			errs = append(errs, "at most one of `sinceTime` or `sinceSeconds` may be specified")
		default:
			req.since = t
		}
	}
	return req, errs
}

// logInstance says which container instance's log a request reads (its
// CRI ID, and its restart count as the status implies it), with the
// kubelet's words when there is none (validateContainerLogStatus).
func logInstance(pod *v1.Pod, name string, previous bool) (restartCount int32, containerID string, err error) {
	cs, ok := containerStatus(pod, name)
	if !ok {
		return 0, "", fmt.Errorf("container %q in pod %q is not available", name, pod.Name)
	}
	last := cs.LastTerminationState.Terminated
	// The run that ended: the latest instance while the container waits
	// to be restarted, else the one before the latest.
	lastCount := cs.RestartCount - 1
	if cs.State.Waiting != nil {
		lastCount = cs.RestartCount
	}
	switch {
	case previous:
		if last == nil || lastCount < 0 {
			return 0, "", fmt.Errorf("previous terminated container %q in pod %q not found", name, pod.Name)
		}
		return lastCount, last.ContainerID, nil
	case cs.State.Running != nil:
		return cs.RestartCount, cs.ContainerID, nil
	case cs.State.Terminated != nil:
		return cs.RestartCount, cs.State.Terminated.ContainerID, nil
	case last != nil && lastCount >= 0:
		return lastCount, last.ContainerID, nil
	case cs.State.Waiting != nil:
		switch reason := cs.State.Waiting.Reason; reason {
		case "ErrImagePull":
			return 0, "", fmt.Errorf("container %q in pod %q is waiting to start: image can't be pulled", name, pod.Name)
		case "ImagePullBackOff":
			return 0, "", fmt.Errorf("container %q in pod %q is waiting to start: trying and failing to pull image", name, pod.Name)
		default:
			return 0, "", fmt.Errorf("container %q in pod %q is waiting to start: %s", name, pod.Name, reason)
		}
	}
	return 0, "", fmt.Errorf("container %q in pod %q is waiting to start - no logs yet", name, pod.Name)
}

// logPath is where an instance's log is: what the runtime says, else
// where this node writes the log of that restart count.
func (c *containerRoutes) logPath(ctx context.Context, pod *v1.Pod, name, containerID string, restartCount int32) string {
	if c.deps.Instances != nil && containerID != "" {
		st, err := c.deps.Instances.ContainerStatus(ctx, strings.TrimPrefix(containerID, containerIDPrefix), false)
		if err == nil && st.GetStatus().GetLogPath() != "" {
			return st.GetStatus().GetLogPath()
		}
	}
	if c.deps.LogPath == nil {
		return ""
	}
	return c.deps.LogPath(pod, name, restartCount)
}

// podLog serves GET .../pods/{name}/log: the API server's container
// choice, then the kubelet's containerLogs.
func (c *containerRoutes) podLog(w http.ResponseWriter, r *http.Request) {
	pod, ok := c.requestedPod(w, r)
	if !ok {
		return
	}
	req, errs := parseLogRequest(r.URL.Query(), c.clock.Now())
	if len(errs) > 0 {
		writeContainerError(w, c.log, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid,
			fmt.Sprintf("PodLogOptions %q is invalid: %s", pod.Name, strings.Join(errs, ", ")), nil)
		return
	}
	name, err := chooseContainer(pod, req.container)
	if err != nil {
		writeContainerError(w, c.log, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error(), nil)
		return
	}
	restartCount, containerID, err := logInstance(pod, name, req.previous)
	if err != nil {
		writeContainerError(w, c.log, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error(), nil)
		return
	}
	path := c.logPath(r.Context(), pod, name, containerID, restartCount)
	if path == "" {
		writeContainerError(w, c.log, http.StatusNotImplemented, metav1.StatusReasonInternalError, "container logs are not served", nil)
		return
	}
	f, err := logs.Open(path)
	if err != nil {
		// The kubelet's words, and its 400 for every log failure.
		writeContainerError(w, c.log, http.StatusBadRequest, metav1.StatusReasonBadRequest,
			fmt.Sprintf("failed to open log file %q: %v", path, errors.Unwrap(err)), nil)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var out io.Writer = w
	if req.limitBytes > 0 {
		out = &limitWriter{w: w, left: req.limitBytes, full: cancel}
	}
	opts := logs.Options{TailLines: req.tailLines, Timestamps: req.timestamps, Since: req.since}
	if err := f.Copy(out, opts); err != nil {
		c.log.Debug("write log", append(containerLogFields(pod, name), zap.Error(err))...)
		return
	}
	// As the kubelet: following ends with the instance, and the log of a
	// previous one is never followed.
	if !req.follow || req.previous || ctx.Err() != nil {
		return
	}
	running := func() bool { return c.stillRunning(pod, containerID) }
	if err := f.Follow(ctx, flushingWriter{out, w}, opts, running); err != nil {
		c.log.Debug("follow log", append(containerLogFields(pod, name), zap.Error(err))...)
	}
}

// stillRunning reports whether the container instance runs.
func (c *containerRoutes) stillRunning(pod *v1.Pod, containerID string) bool {
	current, ok := c.findPod(pod.Namespace, pod.Name)
	if !ok || current.UID != pod.UID {
		return false
	}
	for _, list := range [][]v1.ContainerStatus{current.Status.ContainerStatuses, current.Status.InitContainerStatuses} {
		for _, cs := range list {
			if cs.ContainerID == containerID {
				return cs.State.Running != nil
			}
		}
	}
	return false
}

// errLimitReached ends a log once limitBytes were written.
var errLimitReached = errors.New("limitBytes reached")

// limitWriter writes at most left bytes, then calls full (which ends a
// follow) and fails, as the kubelet's log writer does at limitBytes.
type limitWriter struct {
	w    io.Writer
	left int64
	full func()
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errLimitReached
	}
	short := int64(len(p)) > l.left
	if short {
		p = p[:l.left]
	}
	n, err := l.w.Write(p)
	l.left -= int64(n)
	if err == nil && l.left <= 0 {
		l.full()
		if short {
			err = errLimitReached
		}
	}
	return n, err
}

// flushingWriter writes to an io.Writer and flushes an http.ResponseWriter,
// so that a followed log reaches the client as it grows.
type flushingWriter struct {
	io.Writer
	rw http.ResponseWriter
}

func (f flushingWriter) Flush() { http.NewResponseController(f.rw).Flush() }
