package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

const twoContainerPod = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: sleeper
    image: busybox:1.35
    command: ["sleep", "3600"]
  - name: server
    image: busybox:1.35
    command: ["sh", "-c", "mkdir -p /www && echo hello-e2e > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports:
    - containerPort: 8080
`

func TestPod_TwoContainersRunAndShareTheNetwork(t *testing.T) {
	n := startNode(t)
	start := time.Now()
	n.writeManifest("web.yaml", twoContainerPod)
	p := n.waitPod("web", 5*time.Second, "Running with both containers running", podRunning)
	t.Logf("pod Running %s after the manifest was written", time.Since(start).Round(time.Millisecond))

	if p.Status.PodIP == "" {
		t.Fatalf("pod %s is Running with no pod IP", p.Name)
	}
	if got := len(p.Status.ContainerStatuses); got != 2 {
		t.Fatalf("pod %s shows %d container statuses, want 2", p.Name, got)
	}
	// The sleeper reaches the server on localhost: one network namespace.
	var out string
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		out, err = n.exec(p, "sleeper", "wget", "-q", "-O-", "http://127.0.0.1:8080/")
		if err == nil && out == "hello-e2e" {
			break
		}
		time.Sleep(pollInterval)
	}
	if err != nil || out != "hello-e2e" {
		t.Fatalf("wget from sleeper to 127.0.0.1:8080 in pod %s: %q, %v; want hello-e2e", p.Name, out, err)
	}
	// And the node reaches the server on the pod IP.
	body := httpGet(t, fmt.Sprintf("http://%s:8080/", p.Status.PodIP))
	if body != "hello-e2e" {
		t.Fatalf("GET pod IP %s:8080 = %q, want hello-e2e", p.Status.PodIP, body)
	}
}

func TestPod_RemovingTheManifestRemovesThePod(t *testing.T) {
	n := startNode(t)
	n.writeManifest("web.yaml", twoContainerPod)
	n.waitPod("web", 5*time.Second, "Running", podRunning)
	if len(n.sandboxesOf("web")) == 0 {
		t.Fatal("no sandbox in containerd for a Running pod")
	}
	start := time.Now()
	n.removeManifest("web.yaml")
	// terminationGracePeriodSeconds (3) + 2 s.
	n.waitGone("web", 5*time.Second)
	t.Logf("pod gone from containerd %s after its manifest was removed", time.Since(start).Round(time.Millisecond))
}

func TestPod_HostNetworkIsReachableOnLoopback(t *testing.T) {
	n := startNode(t)
	port := freePort(t)
	n.writeManifest("hostnet.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: hostnet
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
  - name: server
    image: busybox:1.35
    command: ["sh", "-c", "mkdir -p /www && echo hello-host > /www/index.html && exec httpd -f -p 127.0.0.1:%d -h /www"]
`, port))
	p := n.waitPod("hostnet", 5*time.Second, "Running", podRunning)
	if !p.Spec.HostNetwork {
		t.Fatalf("pod %s lost hostNetwork", p.Name)
	}
	var body string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if body = tryHTTPGet(fmt.Sprintf("http://127.0.0.1:%d/", port)); body == "hello-host" {
			break
		}
		time.Sleep(pollInterval)
	}
	if body != "hello-host" {
		t.Fatalf("GET 127.0.0.1:%d = %q, want hello-host", port, body)
	}
}

func TestPod_ListShowsStatusAsKubectlDoes(t *testing.T) {
	n := startNode(t)
	n.writeManifest("web.yaml", twoContainerPod)
	p := n.waitPod("web", 5*time.Second, "Running", podRunning)
	for _, cs := range p.Status.ContainerStatuses {
		if !strings.HasPrefix(cs.ContainerID, "containerd://") || cs.State.Running == nil || cs.RestartCount != 0 {
			t.Errorf("container %s: id %q, state %+v, restarts %d; want a running containerd container with no restarts", cs.Name, cs.ContainerID, cs.State, cs.RestartCount)
		}
	}
	if p.Status.StartTime == nil || p.Status.HostIP == "" || p.Status.QOSClass != v1.PodQOSBestEffort {
		t.Errorf("pod status misses startTime, hostIP or qosClass: %+v", p.Status)
	}
	if p.Annotations["kubernetes.io/config.source"] != "file" {
		t.Errorf("pod annotations %v lack kubernetes.io/config.source=file", p.Annotations)
	}
	out := n.cli("get", "pods")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("minikubelet get pods printed:\n%s\nwant a header and one pod", out)
	}
	fields := strings.Fields(lines[1])
	if fields[0] != n.podName("web") || fields[1] != "2/2" || fields[2] != "Running" || fields[3] != "0" {
		t.Fatalf("minikubelet get pods printed %q, want %s 2/2 Running 0", lines[1], n.podName("web"))
	}
}

func (n *testNode) cli(args ...string) string {
	n.t.Helper()
	args = append(args, "--api-socket", n.socket)
	out, err := execCommand(binary, args...)
	if err != nil {
		n.t.Fatalf("minikubelet %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	var body string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if body = tryHTTPGet(url); body != "" {
			return body
		}
		time.Sleep(pollInterval)
	}
	return body
}

func tryHTTPGet(url string) string {
	c := &http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}
