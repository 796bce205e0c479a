package e2e

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/status"
)

func execCommand(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// freePort finds a free TCP port on loopback.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// statusColumn is the STATUS column `minikubelet get pods` prints for p.
func statusColumn(t *testing.T, p *v1.Pod) string {
	t.Helper()
	var b strings.Builder
	if err := status.PrintPods(&b, []v1.Pod{*p}, time.Now(), false, false); err != nil {
		t.Fatalf("print pod %s: %v", p.Name, err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("printed pod %s as:\n%s\nwant a header and one line", p.Name, b.String())
	}
	fields := strings.Fields(lines[1]) // NAME READY STATUS RESTARTS AGE
	if len(fields) < 3 {
		t.Fatalf("printed pod %s as %q, want NAME READY STATUS ...", p.Name, lines[1])
	}
	return fields[2]
}
