package podworker

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const localhostLines = "127.0.0.1\tlocalhost\n" +
	"::1\tlocalhost ip6-localhost ip6-loopback\n" +
	"fe00::0\tip6-localnet\n" +
	"fe00::0\tip6-mcastprefix\n" +
	"fe00::1\tip6-allnodes\n" +
	"fe00::2\tip6-allrouters\n"

// The kubelet's managed /etc/hosts (pkg/kubelet/kubelet_pods.go,
// managedHostsFileContent and nodeHostsFileContent), byte for byte.
func TestHostsFileContent(t *testing.T) {
	aliases := []v1.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"foo.remote", "bar.remote"}}, {IP: "127.0.0.1", Hostnames: []string{"foo.local"}}}
	tests := []struct {
		name      string
		spec      v1.PodSpec
		podName   string
		ips       []string
		nodeHosts string
		want      string
	}{
		{
			name:    "pod IP with the pod's name",
			podName: "web-node1",
			ips:     []string{"10.88.0.5"},
			want:    "# Kubernetes-managed hosts file.\n" + localhostLines + "10.88.0.5\tweb-node1\n",
		},
		{
			name:    "every pod IP, spec.hostname over the name",
			spec:    v1.PodSpec{Hostname: "h"},
			podName: "web-node1",
			ips:     []string{"10.88.0.5", "fd00::5"},
			want:    "# Kubernetes-managed hosts file.\n" + localhostLines + "10.88.0.5\th\nfd00::5\th\n",
		},
		{
			name:    "a subdomain puts the FQDN first",
			spec:    v1.PodSpec{Hostname: "h", Subdomain: "sub"},
			podName: "web-node1",
			ips:     []string{"10.88.0.5"},
			want:    "# Kubernetes-managed hosts file.\n" + localhostLines + "10.88.0.5\th.sub.default.svc.\th\n",
		},
		{
			name:    "a long name is cut as the hostname is",
			podName: "a23456789-123456789-123456789-123456789-123456789-123456789-12-node1",
			ips:     []string{"10.88.0.5"},
			want:    "# Kubernetes-managed hosts file.\n" + localhostLines + "10.88.0.5\ta23456789-123456789-123456789-123456789-123456789-123456789-12\n",
		},
		{
			name:    "hostAliases after a blank line, one line per IP",
			spec:    v1.PodSpec{HostAliases: aliases},
			podName: "web-node1",
			ips:     []string{"10.88.0.5"},
			want: "# Kubernetes-managed hosts file.\n" + localhostLines + "10.88.0.5\tweb-node1\n" +
				"\n# Entries added by HostAliases.\n10.1.2.3\tfoo.remote\tbar.remote\n127.0.0.1\tfoo.local\n",
		},
		{
			name:      "host network: the node's file under its own header",
			spec:      v1.PodSpec{HostNetwork: true},
			podName:   "web-node1",
			ips:       []string{"192.0.2.1"},
			nodeHosts: "127.0.0.1\tlocalhost\n192.0.2.1\tnode1\n",
			want:      "# Kubernetes-managed hosts file (host network).\n127.0.0.1\tlocalhost\n192.0.2.1\tnode1\n",
		},
		{
			name:      "host network with aliases",
			spec:      v1.PodSpec{HostNetwork: true, HostAliases: aliases[:1]},
			podName:   "web-node1",
			ips:       []string{"192.0.2.1"},
			nodeHosts: "127.0.0.1\tlocalhost\n",
			want:      "# Kubernetes-managed hosts file (host network).\n127.0.0.1\tlocalhost\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.remote\tbar.remote\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: tt.podName, Namespace: "default"}, Spec: tt.spec}
			if got := string(hostsFileContent(pod, tt.ips, []byte(tt.nodeHosts))); got != tt.want {
				t.Errorf("hosts file:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

func TestMountsHostsFile(t *testing.T) {
	own := []v1.VolumeMount{{Name: "h", MountPath: "/etc/hosts"}}
	tests := []struct {
		name   string
		host   bool
		mounts []v1.VolumeMount
		ips    []string
		want   bool
	}{
		{name: "a pod with an address", ips: []string{"10.88.0.5"}, want: true},
		{name: "no address yet", want: false},
		{name: "host network has the node's address", host: true, want: true},
		{name: "the container mounts its own", mounts: own, ips: []string{"10.88.0.5"}, want: false},
		{name: "host network, the container mounts its own", host: true, mounts: own, want: false},
		{name: "a mount elsewhere", mounts: []v1.VolumeMount{{Name: "h", MountPath: "/etc/hosts.d"}}, ips: []string{"10.88.0.5"}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &v1.Pod{Spec: v1.PodSpec{HostNetwork: tt.host}}
			c := &v1.Container{Name: "c", VolumeMounts: tt.mounts}
			if got := mountsHostsFile(pod, c, tt.ips); got != tt.want {
				t.Errorf("mountsHostsFile = %v, want %v", got, tt.want)
			}
		})
	}
}
