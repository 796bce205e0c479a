package podworker

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/sandbox"
)

// The kubelet-managed /etc/hosts of a pod's containers, as the kubelet
// writes it (pkg/kubelet/kubelet_pods.go: makeHostsMount, ensureHostsFile).
const (
	etcHostsPath                      = "/etc/hosts"
	managedHostsHeader                = "# Kubernetes-managed hosts file.\n"
	managedHostsHeaderWithHostNetwork = "# Kubernetes-managed hosts file (host network).\n"
	hostAliasesHeader                 = "# Entries added by HostAliases.\n"
)

// clusterDomain is the kubelet's clusterDomain, which this node does not
// have: with none configured the kubelet still names a pod with a subdomain
// "<subdomain>.<namespace>.svc.", and so does minikubelet.
const clusterDomain = ""

// mountsHostsFile reports whether container c gets the managed /etc/hosts:
// as the kubelet's shouldMountHostsFile and makeMounts, once the pod has an
// address (a host-network pod always has the node's), unless c mounts a
// volume of its own at /etc/hosts.
func mountsHostsFile(pod *v1.Pod, c *v1.Container, podIPs []string) bool {
	if len(podIPs) == 0 && !pod.Spec.HostNetwork {
		return false
	}
	for _, vm := range c.VolumeMounts {
		if vm.MountPath == etcHostsPath {
			return false
		}
	}
	return true
}

// hostsFileContent is the pod's /etc/hosts: for a host-network pod the
// node's hosts file (nodeHosts) under its own header, otherwise the
// localhost lines and one line per pod address with the pod's hostname
// (and its FQDN first when it has a subdomain); the hostAliases follow in
// both cases.
func hostsFileContent(pod *v1.Pod, podIPs []string, nodeHosts []byte) []byte {
	var b bytes.Buffer
	if pod.Spec.HostNetwork {
		b.WriteString(managedHostsHeaderWithHostNetwork)
		b.Write(nodeHosts)
	} else {
		b.WriteString(managedHostsHeader)
		b.WriteString("127.0.0.1\tlocalhost\n")
		b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
		b.WriteString("fe00::0\tip6-localnet\n")
		b.WriteString("fe00::0\tip6-mcastprefix\n")
		b.WriteString("fe00::1\tip6-allnodes\n")
		b.WriteString("fe00::2\tip6-allrouters\n")
		hostname, domain := sandbox.Hostname(pod), podDomain(pod)
		for _, ip := range podIPs {
			if domain != "" {
				fmt.Fprintf(&b, "%s\t%s.%s\t%s\n", ip, hostname, domain, hostname)
			} else {
				fmt.Fprintf(&b, "%s\t%s\n", ip, hostname)
			}
		}
	}
	if len(pod.Spec.HostAliases) > 0 {
		b.WriteString("\n")
		b.WriteString(hostAliasesHeader)
		for _, a := range pod.Spec.HostAliases {
			fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
		}
	}
	return b.Bytes()
}

// podDomain is the pod's DNS domain, as the kubelet's
// GeneratePodHostNameAndDomain: "<subdomain>.<namespace>.svc.<clusterDomain>"
// with a subdomain, none without.
func podDomain(pod *v1.Pod) string {
	if pod.Spec.Subdomain == "" {
		return ""
	}
	return fmt.Sprintf("%s.%s.svc.%s", pod.Spec.Subdomain, pod.Namespace, clusterDomain)
}

// hostsMount writes the pod's /etc/hosts and returns its mount for
// container c, or nil when c does not get one. As the kubelet, the file is
// written again for every container it starts, so a new address or alias
// shows up with the next container.
func (w *worker) hostsMount(pc podContext, c *v1.Container) (*runtimeapi.Mount, error) {
	if !mountsHostsFile(pc.Pod, c, pc.PodIPs) {
		return nil, nil
	}
	var nodeHosts []byte
	if pc.Pod.Spec.HostNetwork {
		data, err := os.ReadFile(etcHostsPath)
		if err != nil {
			return nil, fmt.Errorf("read the node's hosts file: %w", err)
		}
		nodeHosts = data
	}
	path, err := w.m.cfg.Volumes.HostsFile(pc.Pod.UID, hostsFileContent(pc.Pod, pc.PodIPs, nodeHosts))
	if err != nil {
		return nil, fmt.Errorf("write the pod's hosts file: %w", err)
	}
	return &runtimeapi.Mount{ContainerPath: etcHostsPath, HostPath: path}, nil
}
