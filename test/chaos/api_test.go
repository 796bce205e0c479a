package chaos

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestChaos_UnixAPI: the API socket the daemon makes (in a directory it
// creates) is 0600 and root's, in a directory no one else may write; a
// header of 2 MB is refused; a client that sends its headers a byte at a
// time (slowloris) is cut by the server's header timeout.
func TestChaos_UnixAPI(t *testing.T) {
	n := newNode(t, cri)
	n.socket = filepath.Join(n.work, "run", "mk", "api.sock")
	n.args = []string{"--api-socket", n.socket}
	n.start()
	n.waitHealthy()

	st, err := os.Stat(n.socket)
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if st.Mode().Perm() != 0o600 || sys.Uid != 0 {
		t.Errorf("API socket mode %v owner %d, want 0600 and root", st.Mode().Perm(), sys.Uid)
	}
	for dir := filepath.Dir(n.socket); dir != n.work; dir = filepath.Dir(dir) {
		dst, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if dst.Mode().Perm()&0o022 != 0 || dst.Sys().(*syscall.Stat_t).Uid != 0 {
			t.Errorf("the socket's directory %s is mode %v owner %d: writable by others, who could replace the socket", dir, dst.Mode().Perm(), dst.Sys().(*syscall.Stat_t).Uid)
		}
	}

	// A 2 MB header.
	conn, err := net.Dial("unix", n.socket)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 2<<20))
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	status, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if !strings.Contains(status, "431") {
		t.Errorf("a 2 MB header got %q, want 431 Request Header Fields Too Large", strings.TrimSpace(status))
	}

	// Slowloris: a header byte a second; the server must hang up.
	conn, err = net.Dial("unix", n.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	req := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 120)
	var cut time.Duration
	for i := 0; i < len(req); i++ {
		conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte{req[i]}); err != nil {
			cut = time.Since(start)
			break
		}
		time.Sleep(500 * time.Millisecond)
		conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := conn.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
			cut = time.Since(start)
			break
		}
	}
	if cut == 0 {
		t.Errorf("a client sending its header a byte every 0.5 s was never cut (%s)", time.Since(start).Round(time.Second))
	}
	t.Logf("chaos: unix API: socket 0600 root in a directory only root writes; a 2 MB header answered %q; slowloris cut after %.1fs", strings.TrimSpace(status), cut.Seconds())
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
