package e2e

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

const cliStreamsPod = `apiVersion: v1
kind: Pod
metadata:
  name: streams
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: shell
    image: busybox:1.35
    command: ["sh", "-c", "echo started; exec sleep 3600"]
  - name: reader
    image: busybox:1.35
    stdin: true
    stdinOnce: true
    # The answer waits a moment: containerd 1.6's CRI attach starts copying
    # stdin before it adds the stream's stdout, so an answer written at
    # once can miss the attached client (seen 1 in 8 here).
    command: ["sh", "-c", "read line; sleep 0.5; echo got $line"]
`

// cliRun runs the CLI against the node and returns stdout, stderr and the
// exit code.
func (n *testNode) cliRun(stdin string, args ...string) (string, string, int) {
	n.t.Helper()
	cmd := exec.Command(binary, append([]string{args[0], "--api-socket", n.socket}, args[1:]...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errOut.String(), ee.ExitCode()
	case err != nil:
		n.t.Fatalf("minikubelet %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), 0
}

// The CLI's exec and attach take kubectl's path: the Kubernetes API's
// pods/exec and pods/attach, proxied to containerd's streaming server.
func TestCLI_ExecAndAttachStream(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	n.writeManifest("streams.yaml", cliStreamsPod)
	n.waitPod("streams", 60*time.Second, "running", podRunning)
	pod := n.podName("streams")

	t.Run("stdout, stderr and the exit code", func(t *testing.T) {
		out, errOut, code := n.cliRun("", "exec", pod, "-c", "shell", "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 3")
		if out != "to-out\n" || !strings.Contains(errOut, "to-err\n") || code != 3 || !strings.Contains(errOut, "command terminated with exit code 3") {
			t.Fatalf("exec = stdout %q stderr %q code %d; want to-out, to-err, code 3 and \"command terminated with exit code 3\"", out, errOut, code)
		}
	})
	t.Run("stdin piped", func(t *testing.T) {
		out, errOut, code := n.cliRun("piped-in\n", "exec", "-i", pod, "-c", "shell", "--", "cat")
		if out != "piped-in\n" || code != 0 {
			t.Fatalf("exec -i cat = stdout %q stderr %q code %d; want piped-in and 0", out, errOut, code)
		}
	})
	t.Run("a container that does not run", func(t *testing.T) {
		_, errOut, code := n.cliRun("", "exec", pod, "-c", "nope", "--", "true")
		if code == 0 || !strings.Contains(errOut, "container nope is not valid for pod "+pod) {
			t.Fatalf("exec -c nope = stderr %q code %d; want the API server's words and a failure", errOut, code)
		}
	})
	t.Run("exec -it through a terminal, with a resize", func(t *testing.T) {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Fatalf("open a pty: %v", err)
		}
		defer ptmx.Close()
		if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 30, Cols: 90}); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binary, "exec", "-it", pod, "-c", "shell", "--api-socket", n.socket, "--", "sh")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		tty.Close()
		lines := lineReader(ptmx)
		ptmx.WriteString("stty size\n")
		waitLine(t, lines, 20*time.Second, "stty size 30 90", func(l string) bool { return l == "30 90" })
		// SIGWINCH reaches the CLI's session through the terminal.
		resizeAndWaitForStty(t, ptmx, lines, 41, 123)
		ptmx.WriteString("exit 7\n")
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 7 {
			t.Fatalf("exec -it sh, exit 7: %v, want exit code 7", err)
		}
	})
	t.Run("attach", func(t *testing.T) {
		out, errOut, code := n.cliRun("hello\n", "attach", "-i", pod, "-c", "reader")
		if !strings.Contains(out, "got hello") || code != 0 {
			t.Fatalf("attach -i = stdout %q stderr %q code %d; want \"got hello\" and 0", out, errOut, code)
		}
	})
	t.Run("logs", func(t *testing.T) {
		out := n.cli("logs", pod, "-c", "shell", "--timestamps")
		if !strings.HasSuffix(out, " started\n") || !strings.HasPrefix(out, "20") {
			t.Fatalf("logs --timestamps = %q, want a timestamp and \"started\"", out)
		}
		if out := n.cli("logs", pod, "-c", "shell", "--limit-bytes", "3", "--since", "1h"); out != "sta" {
			t.Fatalf("logs --limit-bytes 3 --since 1h = %q, want \"sta\"", out)
		}
		if out := n.cli("logs", pod, "-c", "shell", "--since-time", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); out != "" {
			t.Fatalf("logs --since-time in an hour = %q, want nothing", out)
		}
	})
}
