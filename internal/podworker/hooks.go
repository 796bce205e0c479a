package podworker

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/minikubelet/minikubelet/internal/probes"
)

// hookBodyLimit bounds how much of an httpGet hook's answer is read.
const hookBodyLimit = 10 << 10

// execer runs a command in a container (CRI ExecSync).
type execer interface {
	ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (stdout []byte, stderr []byte, err error)
}

// hookRunner runs lifecycle handlers (postStart, preStop): exec in the
// container, an HTTP GET, or a sleep.
type hookRunner struct {
	exec   execer
	client *http.Client
	clock  clock.Clock
}

func newHookRunner(exec execer, clk clock.Clock) *hookRunner {
	return &hookRunner{exec: exec, clock: clk, client: probes.NewHTTPClient()}
}

// run runs handler for container c (instance containerID) of a pod with
// address podIP, until it returns or ctx ends. The error message is the
// one the kubelet puts in its FailedPostStartHook/FailedPreStopHook events.
func (h *hookRunner) run(ctx context.Context, handler *v1.LifecycleHandler, c *v1.Container, containerID, podIP string) error {
	switch {
	case handler.Exec != nil:
		stdout, stderr, err := h.exec.ExecSync(ctx, containerID, handler.Exec.Command, 0)
		if err != nil {
			out := strings.TrimSpace(string(append(stdout, stderr...)))
			//lint:ignore ST1005 the kubelet's words, shown in events
			return fmt.Errorf("Exec lifecycle hook (%v) for Container %q failed - error: %w, message: %q", handler.Exec.Command, c.Name, err, out)
		}
		return nil
	case handler.HTTPGet != nil:
		if err := h.httpGet(ctx, handler.HTTPGet, c, podIP); err != nil {
			return fmt.Errorf("HTTP lifecycle hook (%s) for Container %q failed - error: %w", handler.HTTPGet.Path, c.Name, err)
		}
		return nil
	case handler.Sleep != nil:
		t := h.clock.NewTimer(time.Duration(handler.Sleep.Seconds) * time.Second)
		defer t.Stop()
		select {
		case <-t.C():
		case <-ctx.Done():
		}
		return nil
	default:
		return fmt.Errorf("lifecycle hook for Container %q has no action", c.Name)
	}
}

// httpGet sends the request of an httpGet hook and reads a little of the
// answer. As the kubelet, it builds the request as an httpGet probe's (with
// the lifecycle User-Agent) and does not look at the status code.
func (h *hookRunner) httpGet(ctx context.Context, get *v1.HTTPGetAction, c *v1.Container, podIP string) error {
	req, err := probes.NewHTTPGetRequest(ctx, get, c, podIP, probes.LifecycleUserAgent)
	if err != nil {
		return err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, hookBodyLimit))
	return nil
}
