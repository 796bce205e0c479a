package probes

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// execFunc is an Execer made of a function.
type execFunc func(ctx context.Context, containerID string, cmd []string, timeout time.Duration) ([]byte, []byte, error)

func (f execFunc) ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) ([]byte, []byte, error) {
	return f(ctx, containerID, cmd, timeout)
}

func TestExec_Outcomes(t *testing.T) {
	cmd := []string{"sh", "-c", "cat /tmp/health"}
	for _, tc := range []struct {
		name           string
		stdout, stderr string
		err            error
		want           Result
		wantOutput     string
		wantErr        bool
	}{
		{name: "exit 0", stdout: "ok", want: Success},
		{name: "exit 1 (internal/runtime's error)", stdout: "out\n", stderr: "cat: can't open '/tmp/health': No such file or directory\n",
			err: &runtime.ExitError{Code: 1}, want: Failure, wantOutput: "out\ncat: can't open '/tmp/health': No such file or directory\n"},
		{name: "wrapped exit error", err: errExit(2), want: Failure, wantOutput: ""},
		{name: "containerd's timeout", err: grpcstatus.Error(codes.DeadlineExceeded, "timeout 1s exceeded: context deadline exceeded"),
			want: Failure, wantOutput: `command "sh -c cat /tmp/health" timed out`},
		{name: "our deadline", err: context.DeadlineExceeded, want: Failure, wantOutput: `command "sh -c cat /tmp/health" timed out`},
		{name: "runtime error", err: grpcstatus.Error(codes.NotFound, "container not found"), wantErr: true},
	} {
		var gotTimeout time.Duration
		var hasDeadline bool
		p := newProber(execFunc(func(ctx context.Context, id string, c []string, timeout time.Duration) ([]byte, []byte, error) {
			gotTimeout = timeout
			_, hasDeadline = ctx.Deadline()
			return []byte(tc.stdout), []byte(tc.stderr), tc.err
		}), userAgent)
		out := p.exec(context.Background(), "abc", cmd, 3*time.Second)
		if tc.wantErr {
			if out.err == nil {
				t.Errorf("%s: %+v, want an error (thrown away)", tc.name, out)
			}
			continue
		}
		if out.err != nil || out.result != tc.want || out.output != tc.wantOutput {
			t.Errorf("%s: %+v, want %v with output %q", tc.name, out, tc.want, tc.wantOutput)
		}
		if gotTimeout != 3*time.Second || !hasDeadline {
			t.Errorf("%s: ExecSync got timeout %v (deadline %v), want timeoutSeconds and a deadline", tc.name, gotTimeout, hasDeadline)
		}
	}
}

type exitCode int

func (e exitCode) Error() string   { return "exit" }
func (e exitCode) ExitStatus() int { return int(e) }

func errExit(code int) error { return errors.Join(errors.New("exec"), exitCode(code)) }

func TestExec_OutputLimitedTo10KiB(t *testing.T) {
	p := newProber(execFunc(func(context.Context, string, []string, time.Duration) ([]byte, []byte, error) {
		return []byte(strings.Repeat("o", 8<<10)), []byte(strings.Repeat("e", 8<<10)), &runtime.ExitError{Code: 1}
	}), userAgent)
	out := p.exec(context.Background(), "abc", []string{"x"}, time.Second)
	want := strings.Repeat("o", 8<<10) + strings.Repeat("e", 2<<10)
	if out.result != Failure || out.output != want {
		t.Fatalf("output of %d bytes, want the first 10 KiB of stdout then stderr", len(out.output))
	}
}

func TestExec_NoExecerErrors(t *testing.T) {
	if out := newProber(nil, userAgent).exec(context.Background(), "abc", []string{"true"}, time.Second); out.err == nil {
		t.Fatalf("%+v, want an error", out)
	}
}
