package kubeapi

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeStreams records the CRI streaming calls and answers with url.
type fakeStreams struct {
	mu        sync.Mutex
	url       string
	execs     []*runtimeapi.ExecRequest
	attaches  []*runtimeapi.AttachRequest
	forwards  []*runtimeapi.PortForwardRequest
	sandboxes []*runtimeapi.PodSandbox
}

func (f *fakeStreams) Exec(_ context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.execs = append(f.execs, req)
	return &runtimeapi.ExecResponse{Url: f.url}, nil
}

func (f *fakeStreams) Attach(_ context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attaches = append(f.attaches, req)
	return &runtimeapi.AttachResponse{Url: f.url}, nil
}

func (f *fakeStreams) PortForward(_ context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forwards = append(f.forwards, req)
	return &runtimeapi.PortForwardResponse{Url: f.url}, nil
}

func (f *fakeStreams) ListPodSandbox(_ context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error) {
	var out []*runtimeapi.PodSandbox
	for _, s := range f.sandboxes {
		if s.Labels[sandboxLabelPodUID] == filter.LabelSelector[sandboxLabelPodUID] && s.State == filter.State.State {
			out = append(out, s)
		}
	}
	return out, nil
}

// upgradeEcho is a streaming server that answers an upgrade with 101 and
// echoes what comes after, and records the request it got.
type upgradeEcho struct {
	mu  sync.Mutex
	got *http.Request
}

func (u *upgradeEcho) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.got = r.Clone(context.Background())
	u.mu.Unlock()
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n")
	rw.Flush()
	io.Copy(conn, rw)
}

var spdyHeader = http.Header{
	"Connection":                {"Upgrade"},
	"Upgrade":                   {"SPDY/3.1"},
	"X-Stream-Protocol-Version": {"v4.channel.k8s.io"},
	"Authorization":             {"Bearer node-secret"},
}

func TestPodExec_WebSocketAttemptIsRefusedBeforeTheRuntime(t *testing.T) {
	streams := &fakeStreams{url: "http://127.0.0.1:1/exec/tok"}
	h, _ := newTestAPI(t, &fakePods{pods: []v1.Pod{testPod()}}, ContainerDeps{Streams: streams})
	for _, sub := range []string{"exec?command=sh&container=app&stdout=true", "attach?container=app&stdout=true", "portforward"} {
		rec := do(t, h, http.MethodGet, "/api/v1/namespaces/default/pods/web-node1/"+sub, http.Header{
			"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Protocol": {"v5.channel.k8s.io"},
		})
		if st := statusOf(t, rec); rec.Code != http.StatusBadRequest || st.Reason != metav1.StatusReasonBadRequest {
			t.Errorf("WebSocket %s = %d %+v, want a 400 Status (kubectl then falls back to SPDY)", sub, rec.Code, st)
		}
	}
	if len(streams.execs)+len(streams.attaches)+len(streams.forwards) != 0 {
		t.Fatalf("a WebSocket attempt reached the runtime: %d execs, %d attaches, %d forwards", len(streams.execs), len(streams.attaches), len(streams.forwards))
	}
}

func TestPodExec_Refusals(t *testing.T) {
	streams := &fakeStreams{url: "http://127.0.0.1:1/exec/tok"}
	h, _ := newTestAPI(t, &fakePods{pods: []v1.Pod{testPod()}}, ContainerDeps{Streams: streams})
	tests := []struct {
		name, query string
		code        int
		msg         string
	}{
		{"a container that does not run", "container=side&command=sh&stdout=1", 404, `container not found ("side")`},
		{"no container named", "command=sh&stdout=1", 400, "a container name must be specified for pod web-node1, choose one of: [app side]"},
		{"no stream", "container=app&command=sh", 400, "you must specify at least 1 of stdin, stdout, stderr"},
		{"no command", "container=app&stdout=1", 400, "you must specify at least one command for the container"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, h, http.MethodPost, "/api/v1/namespaces/default/pods/web-node1/exec?"+tt.query, spdyHeader)
			if st := statusOf(t, rec); rec.Code != tt.code || !strings.HasPrefix(st.Message, tt.msg) {
				t.Fatalf("exec ?%s = %d %q, want %d %q", tt.query, rec.Code, st.Message, tt.code, tt.msg)
			}
		})
	}
	if len(streams.execs) != 0 {
		t.Fatalf("a refused exec reached the runtime: %+v", streams.execs)
	}
}

// upgradeThrough sends an SPDY upgrade to the API at path and checks that
// bytes written after the 101 come back from the streaming server.
func upgradeThrough(t *testing.T, api *httptest.Server, path string) {
	t.Helper()
	conn, err := net.Dial("tcp", api.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req, _ := http.NewRequest(http.MethodPost, api.URL+path, nil)
	req.Header = spdyHeader.Clone()
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("X-Stream-Protocol-Version") != "v4.channel.k8s.io" {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("upgrade %s = %d %q, want 101 with the runtime's protocol", path, resp.StatusCode, body)
	}
	conn.Write([]byte("ping\n"))
	line, err := br.ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Fatalf("after the upgrade read %q, %v; want the echo of ping", line, err)
	}
}

func TestPodExec_ProxiesTheUpgradeToTheRuntimeURL(t *testing.T) {
	echo := &upgradeEcho{}
	runtimeServer := httptest.NewServer(echo)
	defer runtimeServer.Close()
	streams := &fakeStreams{url: runtimeServer.URL + "/exec/tok123", sandboxes: []*runtimeapi.PodSandbox{
		{Id: "sb-old", State: runtimeapi.PodSandboxState_SANDBOX_NOTREADY, Labels: map[string]string{sandboxLabelPodUID: "uid-1"}},
		{Id: "sb-1", State: runtimeapi.PodSandboxState_SANDBOX_READY, Labels: map[string]string{sandboxLabelPodUID: "uid-1"}},
	}}
	pod := testPod()
	pod.Status.ContainerStatuses[1] = v1.ContainerStatus{Name: "side", ContainerID: "containerd://s1", State: running()}
	h, _ := newTestAPI(t, &fakePods{pods: []v1.Pod{pod}}, ContainerDeps{Streams: streams, Sandboxes: streams})
	api := httptest.NewServer(h)
	defer api.Close()

	upgradeThrough(t, api, "/api/v1/namespaces/default/pods/web-node1/exec?container=app&command=sh&command=-c&command=id&stdin=1&stdout=true&stderr=true&tty=true")
	want := &runtimeapi.ExecRequest{ContainerId: "a2", Cmd: []string{"sh", "-c", "id"}, Tty: true, Stdin: true, Stdout: true}
	if len(streams.execs) != 1 || streams.execs[0].String() != want.String() {
		t.Fatalf("CRI Exec got %v, want %v (a TTY has no stderr)", streams.execs, want)
	}
	echo.mu.Lock()
	got := echo.got
	echo.mu.Unlock()
	if got.URL.Path != "/exec/tok123" || got.URL.RawQuery != "" || got.Header.Get("Authorization") != "" || got.Header.Get("Upgrade") != "SPDY/3.1" {
		t.Fatalf("the runtime got %s %q with Authorization %q, Upgrade %q; want /exec/tok123, no query, no credentials, the upgrade",
			got.Method, got.URL.String(), got.Header.Get("Authorization"), got.Header.Get("Upgrade"))
	}

	upgradeThrough(t, api, "/api/v1/namespaces/default/pods/web-node1/attach?container=side&stdin=true&stdout=true&stderr=true")
	// As the kubelet: attach takes the TTY of the container's spec.
	wantAttach := &runtimeapi.AttachRequest{ContainerId: "s1", Stdin: true, Tty: true, Stdout: true}
	if len(streams.attaches) != 1 || streams.attaches[0].String() != wantAttach.String() {
		t.Fatalf("CRI Attach got %v, want %v", streams.attaches, wantAttach)
	}

	upgradeThrough(t, api, "/api/v1/namespaces/default/pods/web-node1/portforward")
	if len(streams.forwards) != 1 || streams.forwards[0].PodSandboxId != "sb-1" {
		t.Fatalf("CRI PortForward got %v, want the ready sandbox sb-1", streams.forwards)
	}
}
