package e2e

import (
	"os"
	"strings"
	"testing"
	"time"
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
