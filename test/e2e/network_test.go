package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// The kubelet's localhost lines (pkg/kubelet/kubelet_pods.go,
// managedHostsFileContent).
const kubeletLocalhostLines = "127.0.0.1\tlocalhost\n" +
	"::1\tlocalhost ip6-localhost ip6-loopback\n" +
	"fe00::0\tip6-localnet\n" +
	"fe00::0\tip6-mcastprefix\n" +
	"fe00::1\tip6-allnodes\n" +
	"fe00::2\tip6-allrouters\n"

func TestNetwork_HostsFileHasThePodIPWithItsFQDNAndTheAliases(t *testing.T) {
	n := startNode(t)
	n.writeManifest("hosts.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: hosts
spec:
  hostname: web
  subdomain: sub
  terminationGracePeriodSeconds: 1
  hostAliases:
  - ip: 10.1.2.3
    hostnames: [foo.remote, bar.remote]
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
`)
	p := n.waitPod("hosts", 10*time.Second, "Running", podRunning)
	out, err := n.exec(p, "c", "cat", "/etc/hosts")
	if err != nil {
		t.Fatalf("cat /etc/hosts: %v: %s", err, out)
	}
	want := "# Kubernetes-managed hosts file.\n" + kubeletLocalhostLines +
		p.Status.PodIP + "\tweb.sub.default.svc.\tweb\n" +
		"\n# Entries added by HostAliases.\n10.1.2.3\tfoo.remote\tbar.remote"
	if out != want {
		t.Fatalf("/etc/hosts of pod %s:\n%s\nwant:\n%s", p.Name, out, want)
	}
	// The names resolve through it.
	if out, err := n.exec(p, "c", "ping", "-c", "1", "-W", "1", "web.sub.default.svc."); err != nil || !strings.Contains(out, p.Status.PodIP) {
		t.Fatalf("ping the pod's FQDN: %v: %s; want it to resolve to %s", err, out, p.Status.PodIP)
	}
}

func TestNetwork_HostNetworkPodShowsAndSeesTheNodeAddress(t *testing.T) {
	n := startNode(t)
	n.writeManifest("hostnet.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: hostnet
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  hostAliases:
  - ip: 10.1.2.3
    hostnames: [foo.remote]
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
    env:
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: POD_IPS
      valueFrom: {fieldRef: {fieldPath: status.podIPs}}
`)
	p := n.waitPod("hostnet", 10*time.Second, "Running", podRunning)
	if p.Status.HostIP == "" || p.Status.PodIP != p.Status.HostIP || len(p.Status.PodIPs) != 1 || p.Status.PodIPs[0].IP != p.Status.HostIP {
		t.Fatalf("host-network pod %s: podIP %q podIPs %v, want the node's %q", p.Name, p.Status.PodIP, p.Status.PodIPs, p.Status.HostIP)
	}
	for _, name := range []string{"POD_IP", "POD_IPS"} {
		if out, err := n.exec(p, "c", "sh", "-c", "echo $"+name); err != nil || out != p.Status.HostIP {
			t.Errorf("echo $%s = %q (%v), want the node's %q", name, out, err, p.Status.HostIP)
		}
	}
	nodeHosts, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	out, err := n.exec(p, "c", "cat", "/etc/hosts")
	if err != nil {
		t.Fatalf("cat /etc/hosts: %v: %s", err, out)
	}
	want := strings.TrimSpace("# Kubernetes-managed hosts file (host network).\n" + string(nodeHosts) +
		"\n# Entries added by HostAliases.\n10.1.2.3\tfoo.remote")
	if out != want {
		t.Fatalf("/etc/hosts of host-network pod %s:\n%s\nwant:\n%s", p.Name, out, want)
	}
}

func hostPortPod(name string, port int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: server
    image: busybox:1.35
    command: ["sh", "-c", "mkdir -p /www && echo %s > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports:
    - containerPort: 8080
      hostPort: %d
`, name, name, port)
}

// As the kubelet's admission (the NodePorts predicate): a pod asking for a
// host port another pod holds is refused and shown Failed; the first keeps
// the port.
func TestNetwork_SecondPodOnAHeldHostPortIsRefused(t *testing.T) {
	n := startNode(t)
	port := freePort(t)
	n.writeManifest("first.yaml", hostPortPod("first", port))
	n.waitPod("first", 10*time.Second, "Running", podRunning)
	n.writeManifest("second.yaml", hostPortPod("second", port))
	p := n.waitPod("second", 10*time.Second, "Failed", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodFailed })
	wantMsg := "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports"
	if p.Status.Reason != "NodePorts" || p.Status.Message != wantMsg {
		t.Fatalf("second pod: reason %q message %q, want NodePorts / %q", p.Status.Reason, p.Status.Message, wantMsg)
	}
	if !hasEvent(n.events(), "NodePorts", wantMsg) {
		t.Errorf("no NodePorts event: %+v", n.events())
	}
	if s := n.sandboxesOf("second"); len(s) != 0 {
		t.Errorf("the refused pod has %d sandboxes", len(s))
	}
	if body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); body != "first" {
		t.Fatalf("host port %d serves %q, want the first pod's page", port, body)
	}
	if got := statusColumn(t, p); got != "NodePorts" {
		t.Errorf("STATUS column %q, want NodePorts", got)
	}
}

// containerd 1.6 ignores the CRI stop signal: the field is refused when
// the file is read, named, and nothing starts.
func TestLifecycle_StopSignalIsRefusedOnThisRuntime(t *testing.T) {
	n := startNode(t)
	n.writeManifest("sig.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: sig
spec:
  os: {name: linux}
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
    lifecycle:
      stopSignal: SIGUSR1
`)
	items := n.waitManifests(5*time.Second, "an error for sig.yaml", func(items []manifestItem) bool {
		return len(items) == 1 && items[0].Error != ""
	})
	if !strings.Contains(items[0].Error, "spec.containers[0].lifecycle.stopSignal: Forbidden: not supported by this node's container runtime") {
		t.Fatalf("manifest error %q, want the stopSignal field named and refused", items[0].Error)
	}
	if p, err := n.pod("sig"); err != nil || p != nil || len(n.sandboxesOf("sig")) != 0 {
		t.Fatalf("a refused manifest started something: pod %v (%v), %d sandboxes", p, err, len(n.sandboxesOf("sig")))
	}
}
