package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
)

const portForwardPod = `apiVersion: v1
kind: Pod
metadata:
  name: pf
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox:1.35
    command: ["sh", "-c", "mkdir -p /www && echo through-the-tunnel > /www/index.html && exec httpd -f -p 8080 -h /www"]
`

// portForward opens pods/portforward over the node's socket as kubectl
// port-forward does (SPDY/3.1, portforward.k8s.io) and returns a data
// stream to port of the pod.
func (n *testNode) portForward(t *testing.T, pod string, port int) (httpstream.Connection, httpstream.Stream, httpstream.Stream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", n.socket)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://minikubelet/api/v1/namespaces/default/pods/"+pod+"/portforward", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "SPDY/3.1")
	req.Header.Set("X-Stream-Protocol-Version", "portforward.k8s.io")
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("portforward upgrade = %d %s, want 101", resp.StatusCode, body)
	}
	sc, err := spdy.NewClientConnection(&readerConn{Conn: conn, r: br})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(v1.PortHeader, fmt.Sprint(port))
	h.Set(v1.PortForwardRequestIDHeader, "0")
	h.Set(v1.StreamType, v1.StreamTypeError)
	errStream, err := sc.CreateStream(h)
	if err != nil {
		t.Fatal(err)
	}
	errStream.Close()
	h.Set(v1.StreamType, v1.StreamTypeData)
	data, err := sc.CreateStream(h)
	if err != nil {
		t.Fatal(err)
	}
	return sc, errStream, data
}

type readerConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// pods/portforward carries an HTTP request to a port of the pod, through
// containerd's streaming server.
func TestKubeAPI_PortForwardCarriesHTTP(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	n.writeManifest("pf.yaml", portForwardPod)
	n.waitPod("pf", 60*time.Second, "running", podRunning)
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		conn, errStream, data := n.portForward(t, n.podName("pf"), 8080)
		io.WriteString(data, "GET / HTTP/1.0\r\nHost: pod\r\n\r\n")
		out, _ := io.ReadAll(data)
		msg, _ := io.ReadAll(errStream)
		conn.Close()
		body = string(out)
		if strings.Contains(body, "through-the-tunnel") {
			return
		}
		t.Logf("port-forward answer %q, error stream %q; retrying (httpd may not listen yet)", body, msg)
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("port-forward to 8080 never carried the pod's page; last answer %q", body)
}
