package probes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
)

// execRuntimeSlack is how long past timeoutSeconds an exec probe waits for
// the runtime's answer before giving up on it. containerd stops the command
// at timeoutSeconds itself; the slack covers exec setup on a loaded node
// and bounds a runtime that does not answer. (The kubelet waits its
// runtime request timeout, 2 minutes, which leaves a hung runtime holding a
// liveness verdict back that long.)
const execRuntimeSlack = 10 * time.Second

// errNoExecer is the error of an exec probe of a Manager made without an
// Execer.
var errNoExecer = errors.New("exec probes need a container runtime (probes.Config.Exec is nil)")

// exec runs an exec probe: cmd in the container, success on exit 0.
func (p *prober) exec(ctx context.Context, containerID string, cmd []string, timeout time.Duration) outcome {
	if p.execer == nil {
		return errored(errNoExecer)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+execRuntimeSlack)
	defer cancel()
	stdout, stderr, err := p.execer.ExecSync(ctx, containerID, cmd, timeout)
	if err == nil {
		return success()
	}
	var exit interface{ ExitStatus() int }
	if errors.As(err, &exit) {
		if exit.ExitStatus() == 0 {
			return success()
		}
		return failure(combinedOutput(stdout, stderr))
	}
	if isTimeout(err) {
		// The kubelet's runtime client turns the runtime's DeadlineExceeded
		// into this message, and its exec prober reports it as the output.
		return failure(fmt.Sprintf("command %q timed out", strings.Join(cmd, " ")))
	}
	return errored(err)
}

// combinedOutput is stdout then stderr, at most maxOutputLength bytes of
// them, as the kubelet's exec prober reads them.
func combinedOutput(stdout, stderr []byte) string {
	n := min(len(stdout)+len(stderr), maxOutputLength)
	b := make([]byte, 0, n)
	b = append(b, stdout[:min(len(stdout), n)]...)
	b = append(b, stderr[:min(len(stderr), n-len(b))]...)
	return string(b)
}

// isTimeout reports whether an ExecSync error says the command ran past its
// timeout (or the call past ours).
func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || grpcstatus.Code(err) == codes.DeadlineExceeded
}
