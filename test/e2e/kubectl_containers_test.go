package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	v1 "k8s.io/api/core/v1"
)

const kubectlContainersPod = `apiVersion: v1
kind: Pod
metadata:
  name: kc
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: shell
    image: busybox:1.35
    command: ["sh", "-c", "echo started; echo second-line; exec sleep 3600"]
  - name: ticker
    image: busybox:1.35
    command: ["sh", "-c", "i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.5; done"]
  - name: crasher
    image: busybox:1.35
    command: ["sh", "-c", "echo run at $(date +%s%N); sleep 2; exit 1"]
  - name: web
    image: busybox:1.35
    command: ["sh", "-c", "mkdir -p /www && echo kubectl-forwarded > /www/index.html && exec httpd -f -p 8080 -h /www"]
  - name: reader
    image: busybox:1.35
    stdin: true
    stdinOnce: true
    # The answer waits a moment: containerd 1.6's CRI attach starts copying
    # stdin before it adds the stream's stdout, so an answer written at
    # once can miss the attached client (seen 1 in 8 here).
    command: ["sh", "-c", "read line; sleep 0.5; echo got $line"]
  - name: spin
    image: busybox:1.35
    command: ["sh", "-c", "while :; do :; done"]
`

// kubectlExit runs kubectl and returns stdout, stderr and its exit code.
func (n *testNode) kubectlExit(stdin string, args ...string) (string, string, int) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	cmd := n.kubectlCmd(ctx, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errOut.String(), ee.ExitCode()
	case err != nil:
		n.t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), 0
}

// lineReader hands the lines of r over a channel, trimmed.
func lineReader(r io.Reader) <-chan string {
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- strings.TrimSpace(sc.Text())
		}
		close(lines)
	}()
	return lines
}

// waitLine waits for a line that match accepts and returns it.
func waitLine(t *testing.T, lines <-chan string, timeout time.Duration, what string, match func(string) bool) string {
	t.Helper()
	deadline := time.After(timeout)
	var seen []string
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before %s; seen %q", what, seen)
			}
			if match(l) {
				return l
			}
			seen = append(seen, l)
		case <-deadline:
			t.Fatalf("no %s within %s; seen %q", what, timeout, seen)
		}
	}
}

// resizeAndWaitForStty resizes the terminal of ptmx and writes `stty
// size` to the shell behind it until the shell prints the new size: the
// resize reaches it only once the client heard SIGWINCH and sent it on.
func resizeAndWaitForStty(t *testing.T, ptmx *os.File, lines <-chan string, rows, cols uint16) {
	t.Helper()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d %d", rows, cols)
	for range 50 {
		ptmx.WriteString("stty size\n")
		timeout := time.After(300 * time.Millisecond)
	read:
		for {
			select {
			case l := <-lines:
				if l == want {
					return
				}
			case <-timeout:
				break read
			}
		}
	}
	t.Fatalf("the shell never saw the terminal resized to %dx%d", rows, cols)
}

var tickLine = regexp.MustCompile(`^tick (\d+)$`)

func tickNumber(l string) int {
	m := tickLine.FindStringSubmatch(l)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// A stock kubectl drives logs, exec, attach, port-forward and top against
// the node over its HTTPS port, and a user sees what a cluster shows.
func TestKubectl_Containers(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	kubectlBinary(t)
	n.writeManifest("kc.yaml", kubectlContainersPod)
	n.waitPod("kc", 90*time.Second, "running with crasher restarted", func(p *v1.Pod) bool {
		s := statusOf(p, "crasher")
		return podRunning(p) && s != nil && s.RestartCount >= 1
	})
	pod := n.podName("kc")

	t.Run("logs", func(t *testing.T) {
		if out := n.kubectlOK("logs", pod, "-c", "shell"); out != "started\nsecond-line\n" {
			t.Errorf("kubectl logs -c shell = %q, want the two lines", out)
		}
		_, stderr, _ := n.kubectl("logs", pod)
		if !strings.Contains(stderr, `Defaulted container "shell" out of: shell, ticker, crasher, web, reader, spin`) {
			t.Errorf("kubectl logs without -c: stderr %q, want kubectl's defaulting note", stderr)
		}
		if out := n.kubectlOK("logs", pod, "-c", "shell", "--tail", "1"); out != "second-line\n" {
			t.Errorf("kubectl logs --tail 1 = %q, want the last line", out)
		}
		if out := n.kubectlOK("logs", pod, "-c", "shell", "--limit-bytes", "4"); out != "star" {
			t.Errorf("kubectl logs --limit-bytes 4 = %q, want \"star\"", out)
		}
		out := n.kubectlOK("logs", pod, "-c", "shell", "--timestamps")
		first, _, _ := strings.Cut(out, "\n")
		ts, rest, _ := strings.Cut(first, " ")
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || rest != "started" {
			t.Errorf("kubectl logs --timestamps first line %q, want an RFC 3339 time and \"started\"", first)
		}
		if out := n.kubectlOK("logs", pod, "-c", "shell", "--since", "1h"); out != "started\nsecond-line\n" {
			t.Errorf("kubectl logs --since 1h = %q, want both lines", out)
		}
		if out := n.kubectlOK("logs", pod, "-c", "shell", "--since-time", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); out != "" {
			t.Errorf("kubectl logs --since-time in an hour = %q, want nothing", out)
		}
		prev := n.kubectlOK("logs", pod, "-c", "crasher", "--previous")
		cur := n.kubectlOK("logs", pod, "-c", "crasher")
		if !strings.HasPrefix(prev, "run at ") || !strings.HasPrefix(cur, "run at ") || prev == cur {
			t.Errorf("kubectl logs --previous = %q, current %q; want two different instances' lines", prev, cur)
		}
		_, stderr, code := n.kubectlExit("", "logs", pod, "-c", "shell", "--previous")
		if code == 0 || !strings.Contains(stderr, fmt.Sprintf(`previous terminated container "shell" in pod %q not found`, pod)) {
			t.Errorf("kubectl logs --previous of a container never restarted: code %d stderr %q", code, stderr)
		}
	})

	t.Run("logs -f sees a new line", func(t *testing.T) {
		last := tickNumber(strings.TrimSpace(n.kubectlOK("logs", pod, "-c", "ticker", "--tail", "1")))
		if last < 0 {
			t.Fatalf("no tick line in the ticker's log")
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cmd := n.kubectlCmd(ctx, "logs", "-f", pod, "-c", "ticker", "--tail", "1")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Wait()
		waitLine(t, lineReader(stdout), 20*time.Second, fmt.Sprintf("a tick after %d", last), func(l string) bool { return tickNumber(l) > last+1 })
		cancel()
	})

	t.Run("exec: output, exit code", func(t *testing.T) {
		out, errOut, code := n.kubectlExit("", "exec", pod, "-c", "shell", "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 3")
		if out != "to-out\n" || !strings.Contains(errOut, "to-err\n") || !strings.Contains(errOut, "command terminated with exit code 3") || code != 3 {
			t.Fatalf("kubectl exec = stdout %q stderr %q code %d; want to-out, to-err, \"command terminated with exit code 3\" and 3", out, errOut, code)
		}
		out, errOut, code = n.kubectlExit("piped\n", "exec", "-i", pod, "-c", "shell", "--", "cat")
		if out != "piped\n" || code != 0 {
			t.Fatalf("kubectl exec -i cat = stdout %q stderr %q code %d; want piped", out, errOut, code)
		}
	})

	t.Run("exec -it through a terminal, with a resize", func(t *testing.T) {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Fatalf("open a pty: %v", err)
		}
		defer ptmx.Close()
		if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 31, Cols: 91}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
		defer cancel()
		cmd := n.kubectlCmd(ctx, "exec", "-it", pod, "-c", "shell", "--", "sh")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		tty.Close()
		lines := lineReader(ptmx)
		ptmx.WriteString("stty size\n")
		waitLine(t, lines, 30*time.Second, "stty size 31 91", func(l string) bool { return l == "31 91" })
		resizeAndWaitForStty(t, ptmx, lines, 42, 124)
		ptmx.WriteString("exit 6\n")
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 6 {
			t.Fatalf("kubectl exec -it sh, exit 6: %v; want exit code 6", err)
		}
	})

	t.Run("attach", func(t *testing.T) {
		out, errOut, code := n.kubectlExit("hello\n", "attach", "-i", pod, "-c", "reader")
		// The attach ends with the process, which exits after its line.
		if !strings.Contains(out, "got hello") || code != 0 {
			t.Fatalf("kubectl attach -i = stdout %q stderr %q code %d; want \"got hello\" and 0", out, errOut, code)
		}
	})

	t.Run("port-forward carries an HTTP request", func(t *testing.T) {
		local := freePort(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cmd := n.kubectlCmd(ctx, "port-forward", "pod/"+pod, fmt.Sprintf("%d:8080", local))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Wait()
		waitLine(t, lineReader(stdout), 30*time.Second, "Forwarding from", func(l string) bool { return strings.HasPrefix(l, "Forwarding from 127.0.0.1:") })
		client := &http.Client{Timeout: 10 * time.Second}
		var body string
		for i := 0; i < 20; i++ {
			resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", local))
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				body = string(b)
				if body == "kubectl-forwarded\n" {
					cancel()
					return
				}
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Fatalf("GET through kubectl port-forward = %q, want the pod's page", body)
	})

	t.Run("top pod shows a busy container's CPU", func(t *testing.T) {
		out := n.kubectlOK("top", "pod", pod, "--containers")
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) == 4 && f[0] == pod && f[1] == "spin" {
				milli, err := strconv.Atoi(strings.TrimSuffix(f[2], "m"))
				if err != nil || milli < 100 {
					t.Fatalf("kubectl top pod: spin uses %s, want at least 100m:\n%s", f[2], out)
				}
				return
			}
		}
		t.Fatalf("kubectl top pod --containers shows no spin row:\n%s", out)
	})

	t.Run("the machine's kubectl", func(t *testing.T) {
		bin := machineKubectl(t)
		if out, stderr, err := n.runKubectl(bin, "logs", pod, "-c", "shell"); err != nil || out != "started\nsecond-line\n" {
			t.Errorf("machine kubectl logs = %q, %v (%s); want the two lines", out, err, stderr)
		}
		out, stderr, err := n.runKubectl(bin, "exec", pod, "-c", "shell", "--", "sh", "-c", "echo hi; exit 4")
		var ee *exec.ExitError
		if out != "hi\n" || !errors.As(err, &ee) || ee.ExitCode() != 4 || !strings.Contains(stderr, "command terminated with exit code 4") {
			t.Errorf("machine kubectl exec = %q, %v (%s); want hi and exit code 4", out, err, stderr)
		}
	})

	t.Run("top node", func(t *testing.T) {
		out := n.kubectlOK("top", "node")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") {
			t.Fatalf("kubectl top node =\n%s\nwant a header and this node", out)
		}
		f := strings.Fields(lines[1])
		if len(f) != 5 || f[0] != n.name || !strings.HasSuffix(f[1], "m") || !strings.HasSuffix(f[3], "Mi") {
			t.Fatalf("kubectl top node row %q, want this node's CPU and memory", lines[1])
		}
	})
}
