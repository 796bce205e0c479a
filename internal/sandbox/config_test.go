package sandbox

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

func testPod(mutate ...func(*v1.Pod)) *v1.Pod {
	grace := int64(30)
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-node1", Namespace: "default", UID: "uid-1"},
		Spec: v1.PodSpec{
			NodeName:                      "node1",
			DNSPolicy:                     v1.DNSClusterFirst,
			TerminationGracePeriodSeconds: &grace,
			Containers:                    []v1.Container{{Name: "app", Image: "busybox:1.35"}},
		},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

// useHostResolvConf points the node's resolv.conf at a file with content for
// the length of the test.
func useHostResolvConf(t *testing.T, content string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	old := hostResolvConf
	hostResolvConf = path
	t.Cleanup(func() { hostResolvConf = old })
}

func TestConfig_MetadataAttemptAndLogDirectory(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		attempt uint32
		wantLog string
	}{
		{name: "default logs dir", attempt: 0, wantLog: "/var/log/pods/default_web-node1_uid-1"},
		{name: "configured logs dir", opts: Options{PodLogsDir: "/srv/logs"}, attempt: 3, wantLog: "/srv/logs/default_web-node1_uid-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config(testPod(), tt.attempt, tt.opts)
			want := &runtimeapi.PodSandboxMetadata{Name: "web-node1", Namespace: "default", Uid: "uid-1", Attempt: tt.attempt}
			if got := cfg.GetMetadata(); got.GetName() != want.Name || got.GetNamespace() != want.Namespace || got.GetUid() != want.Uid || got.GetAttempt() != want.Attempt {
				t.Errorf("metadata = %v, want %v", got, want)
			}
			if cfg.GetLogDirectory() != tt.wantLog {
				t.Errorf("log directory = %q, want %q", cfg.GetLogDirectory(), tt.wantLog)
			}
		})
	}
}

func TestConfig_CgroupParent(t *testing.T) {
	cfg := Config(testPod(), 0, Options{CgroupParent: "/minikubelet"})
	if got := cfg.GetLinux().GetCgroupParent(); got != "/minikubelet" {
		t.Fatalf("cgroup parent = %q, want /minikubelet", got)
	}
}

func TestConfig_Hostname(t *testing.T) {
	long := strings.Repeat("a", 62) + "-bcd"    // cut at 63 ends in '-'
	dotted := strings.Repeat("b", 61) + "..xyz" // cut at 63 ends in ".."
	tests := []struct {
		name   string
		mutate func(*v1.Pod)
		want   string
	}{
		{name: "pod name", want: "web-node1"},
		{name: "spec.hostname wins", mutate: func(p *v1.Pod) { p.Spec.Hostname = "myhost" }, want: "myhost"},
		{name: "63 characters kept", mutate: func(p *v1.Pod) { p.Name = strings.Repeat("c", 63) }, want: strings.Repeat("c", 63)},
		{name: "long name cut to 63", mutate: func(p *v1.Pod) { p.Name = strings.Repeat("d", 70) }, want: strings.Repeat("d", 63)},
		{name: "cut drops trailing dash", mutate: func(p *v1.Pod) { p.Name = long }, want: strings.Repeat("a", 62)},
		{name: "cut drops trailing dots", mutate: func(p *v1.Pod) { p.Name = dotted }, want: strings.Repeat("b", 61)},
		{name: "host network has none", mutate: func(p *v1.Pod) { p.Spec.HostNetwork = true }, want: ""},
		{name: "host network ignores spec.hostname", mutate: func(p *v1.Pod) { p.Spec.HostNetwork = true; p.Spec.Hostname = "myhost" }, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod()
			if tt.mutate != nil {
				tt.mutate(pod)
			}
			if got := Config(pod, 0, Options{}).GetHostname(); got != tt.want {
				t.Fatalf("hostname = %q (%d chars), want %q (%d chars)", got, len(got), tt.want, len(tt.want))
			}
		})
	}
}

// namespaces are the modes of a NamespaceOption, comparable with ==.
type namespaces struct {
	Network, Pid, Ipc runtimeapi.NamespaceMode
}

func TestConfig_NamespaceOptions(t *testing.T) {
	yes := true
	no := false
	tests := []struct {
		name   string
		mutate func(*v1.Pod)
		want   namespaces
	}{
		{
			name: "defaults",
			want: namespaces{runtimeapi.NamespaceMode_POD, runtimeapi.NamespaceMode_CONTAINER, runtimeapi.NamespaceMode_POD},
		},
		{
			name:   "hostNetwork",
			mutate: func(p *v1.Pod) { p.Spec.HostNetwork = true },
			want:   namespaces{runtimeapi.NamespaceMode_NODE, runtimeapi.NamespaceMode_CONTAINER, runtimeapi.NamespaceMode_POD},
		},
		{
			name:   "hostPID",
			mutate: func(p *v1.Pod) { p.Spec.HostPID = true },
			want:   namespaces{runtimeapi.NamespaceMode_POD, runtimeapi.NamespaceMode_NODE, runtimeapi.NamespaceMode_POD},
		},
		{
			name:   "hostIPC",
			mutate: func(p *v1.Pod) { p.Spec.HostIPC = true },
			want:   namespaces{runtimeapi.NamespaceMode_POD, runtimeapi.NamespaceMode_CONTAINER, runtimeapi.NamespaceMode_NODE},
		},
		{
			name:   "shareProcessNamespace",
			mutate: func(p *v1.Pod) { p.Spec.ShareProcessNamespace = &yes },
			want:   namespaces{runtimeapi.NamespaceMode_POD, runtimeapi.NamespaceMode_POD, runtimeapi.NamespaceMode_POD},
		},
		{
			name:   "shareProcessNamespace false",
			mutate: func(p *v1.Pod) { p.Spec.ShareProcessNamespace = &no },
			want:   namespaces{runtimeapi.NamespaceMode_POD, runtimeapi.NamespaceMode_CONTAINER, runtimeapi.NamespaceMode_POD},
		},
		{
			name:   "hostPID wins over shareProcessNamespace",
			mutate: func(p *v1.Pod) { p.Spec.HostPID = true; p.Spec.ShareProcessNamespace = &yes },
			want:   namespaces{runtimeapi.NamespaceMode_POD, runtimeapi.NamespaceMode_NODE, runtimeapi.NamespaceMode_POD},
		},
		{
			name:   "all host",
			mutate: func(p *v1.Pod) { p.Spec.HostNetwork = true; p.Spec.HostPID = true; p.Spec.HostIPC = true },
			want:   namespaces{runtimeapi.NamespaceMode_NODE, runtimeapi.NamespaceMode_NODE, runtimeapi.NamespaceMode_NODE},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod()
			if tt.mutate != nil {
				tt.mutate(pod)
			}
			ns := Config(pod, 0, Options{}).GetLinux().GetSecurityContext().GetNamespaceOptions()
			if got := (namespaces{ns.GetNetwork(), ns.GetPid(), ns.GetIpc()}); got != tt.want {
				t.Fatalf("namespaces = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConfig_SecurityContext(t *testing.T) {
	yes := true
	uid, gid, fsGroup := int64(1000), int64(2000), int64(3000)
	tests := []struct {
		name           string
		mutate         func(*v1.Pod)
		wantPrivileged bool
		wantUser       *int64
		wantGroup      *int64
		wantSupp       []int64
		wantSysctls    map[string]string
		wantSELinux    *runtimeapi.SELinuxOption
	}{
		{name: "unprivileged"},
		{
			name: "pod SELinux options",
			mutate: func(p *v1.Pod) {
				p.Spec.SecurityContext = &v1.PodSecurityContext{SELinuxOptions: &v1.SELinuxOptions{Level: "s0:c1,c2"}}
			},
			wantSELinux: &runtimeapi.SELinuxOption{Level: "s0:c1,c2"},
		},
		{
			name: "pod seccomp does not reach the sandbox",
			mutate: func(p *v1.Pod) {
				p.Spec.SecurityContext = &v1.PodSecurityContext{SeccompProfile: &v1.SeccompProfile{Type: v1.SeccompProfileTypeUnconfined}}
			},
		},
		{
			name: "privileged app container",
			mutate: func(p *v1.Pod) {
				p.Spec.Containers[0].SecurityContext = &v1.SecurityContext{Privileged: &yes}
			},
			wantPrivileged: true,
		},
		{
			name: "privileged init container",
			mutate: func(p *v1.Pod) {
				p.Spec.InitContainers = []v1.Container{{Name: "init", SecurityContext: &v1.SecurityContext{Privileged: &yes}}}
			},
			wantPrivileged: true,
		},
		{
			name: "pod security context",
			mutate: func(p *v1.Pod) {
				p.Spec.SecurityContext = &v1.PodSecurityContext{
					RunAsUser: &uid, RunAsGroup: &gid, FSGroup: &fsGroup, SupplementalGroups: []int64{10, 20},
					Sysctls: []v1.Sysctl{{Name: "net.ipv4.ip_forward", Value: "1"}},
				}
			},
			wantUser:    &uid,
			wantGroup:   &gid,
			wantSupp:    []int64{10, 20, 3000},
			wantSysctls: map[string]string{"net.ipv4.ip_forward": "1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod()
			if tt.mutate != nil {
				tt.mutate(pod)
			}
			linux := Config(pod, 0, Options{}).GetLinux()
			sc := linux.GetSecurityContext()
			if sc.GetPrivileged() != tt.wantPrivileged {
				t.Errorf("privileged = %v, want %v", sc.GetPrivileged(), tt.wantPrivileged)
			}
			if (sc.GetRunAsUser() == nil) != (tt.wantUser == nil) || (tt.wantUser != nil && sc.GetRunAsUser().GetValue() != *tt.wantUser) {
				t.Errorf("runAsUser = %v, want %v", sc.GetRunAsUser(), tt.wantUser)
			}
			if (sc.GetRunAsGroup() == nil) != (tt.wantGroup == nil) || (tt.wantGroup != nil && sc.GetRunAsGroup().GetValue() != *tt.wantGroup) {
				t.Errorf("runAsGroup = %v, want %v", sc.GetRunAsGroup(), tt.wantGroup)
			}
			if !reflect.DeepEqual(sc.GetSupplementalGroups(), tt.wantSupp) {
				t.Errorf("supplemental groups = %v, want %v", sc.GetSupplementalGroups(), tt.wantSupp)
			}
			if !reflect.DeepEqual(linux.GetSysctls(), tt.wantSysctls) {
				t.Errorf("sysctls = %v, want %v", linux.GetSysctls(), tt.wantSysctls)
			}
			if !reflect.DeepEqual(sc.GetSelinuxOptions(), tt.wantSELinux) {
				t.Errorf("SELinux options = %v, want %v", sc.GetSelinuxOptions(), tt.wantSELinux)
			}
			// As the kubelet: the sandbox always runs under RuntimeDefault.
			if sc.GetSeccomp().GetProfileType() != runtimeapi.SecurityProfile_RuntimeDefault {
				t.Errorf("seccomp = %v, want RuntimeDefault", sc.GetSeccomp())
			}
		})
	}
}

func TestConfig_PortMappings(t *testing.T) {
	type mapping struct {
		Protocol      runtimeapi.Protocol
		ContainerPort int32
		HostPort      int32
		HostIP        string
	}
	tests := []struct {
		name  string
		ports []v1.ContainerPort
		init  []v1.ContainerPort
		want  []mapping
	}{
		{name: "no ports"},
		{name: "container port without host port is not mapped", ports: []v1.ContainerPort{{ContainerPort: 80}}},
		{
			name:  "host port mapped, TCP by default",
			ports: []v1.ContainerPort{{ContainerPort: 80, HostPort: 8080}, {ContainerPort: 81}},
			want:  []mapping{{runtimeapi.Protocol_TCP, 80, 8080, ""}},
		},
		{
			name: "protocols and host IP",
			ports: []v1.ContainerPort{
				{ContainerPort: 53, HostPort: 5353, Protocol: v1.ProtocolUDP},
				{ContainerPort: 9, HostPort: 9009, Protocol: v1.ProtocolSCTP},
				{ContainerPort: 443, HostPort: 8443, Protocol: v1.ProtocolTCP, HostIP: "127.0.0.1"},
			},
			want: []mapping{
				{runtimeapi.Protocol_UDP, 53, 5353, ""},
				{runtimeapi.Protocol_SCTP, 9, 9009, ""},
				{runtimeapi.Protocol_TCP, 443, 8443, "127.0.0.1"},
			},
		},
		{
			name:  "init containers' host ports are not mapped, as the kubelet",
			init:  []v1.ContainerPort{{ContainerPort: 70, HostPort: 7070}},
			ports: []v1.ContainerPort{{ContainerPort: 80, HostPort: 8080}},
			want:  []mapping{{runtimeapi.Protocol_TCP, 80, 8080, ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod(func(p *v1.Pod) {
				p.Spec.Containers[0].Ports = tt.ports
				if tt.init != nil {
					p.Spec.InitContainers = []v1.Container{{Name: "init", Ports: tt.init}}
				}
			})
			var got []mapping
			for _, m := range Config(pod, 0, Options{}).GetPortMappings() {
				got = append(got, mapping{m.GetProtocol(), m.GetContainerPort(), m.GetHostPort(), m.GetHostIp()})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("port mappings = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConfig_LabelsAndAnnotations(t *testing.T) {
	grace := int64(5)
	tests := []struct {
		name            string
		mutate          func(*v1.Pod)
		wantLabels      map[string]string
		wantAnnotations map[string]string
	}{
		{
			name: "pod labels and annotations are kept",
			mutate: func(p *v1.Pod) {
				p.Labels = map[string]string{"app": "web"}
				p.Annotations = map[string]string{"note": "x"}
			},
			wantLabels: map[string]string{
				"app":                     "web",
				runtime.LabelPodName:      "web-node1",
				runtime.LabelPodNamespace: "default",
				runtime.LabelPodUID:       "uid-1",
				runtime.LabelManaged:      "true",
				runtime.LabelNode:         "node1",
			},
			wantAnnotations: map[string]string{"note": "x", runtime.AnnotationPodTerminationGracePeriod: "30"},
		},
		{
			name: "our labels win over the pod's",
			mutate: func(p *v1.Pod) {
				p.Labels = map[string]string{runtime.LabelPodName: "evil", runtime.LabelManaged: "false"}
				p.Spec.TerminationGracePeriodSeconds = &grace
			},
			wantLabels: map[string]string{
				runtime.LabelPodName:      "web-node1",
				runtime.LabelPodNamespace: "default",
				runtime.LabelPodUID:       "uid-1",
				runtime.LabelManaged:      "true",
				runtime.LabelNode:         "node1",
			},
			wantAnnotations: map[string]string{runtime.AnnotationPodTerminationGracePeriod: "5"},
		},
		{
			name:   "no grace period, no annotation",
			mutate: func(p *v1.Pod) { p.Spec.TerminationGracePeriodSeconds = nil },
			wantLabels: map[string]string{
				runtime.LabelPodName:      "web-node1",
				runtime.LabelPodNamespace: "default",
				runtime.LabelPodUID:       "uid-1",
				runtime.LabelManaged:      "true",
				runtime.LabelNode:         "node1",
			},
			wantAnnotations: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod(tt.mutate)
			cfg := Config(pod, 0, Options{})
			if !reflect.DeepEqual(cfg.GetLabels(), tt.wantLabels) {
				t.Errorf("labels = %v, want %v", cfg.GetLabels(), tt.wantLabels)
			}
			if !reflect.DeepEqual(cfg.GetAnnotations(), tt.wantAnnotations) {
				t.Errorf("annotations = %v, want %v", cfg.GetAnnotations(), tt.wantAnnotations)
			}
		})
	}
}

func TestConfig_DoesNotChangeThePod(t *testing.T) {
	pod := testPod(func(p *v1.Pod) {
		p.Labels = map[string]string{"app": "web"}
		p.Annotations = map[string]string{"note": "x"}
	})
	Config(pod, 0, Options{})
	if !reflect.DeepEqual(pod.Labels, map[string]string{"app": "web"}) || !reflect.DeepEqual(pod.Annotations, map[string]string{"note": "x"}) {
		t.Fatalf("pod changed: labels %v annotations %v", pod.Labels, pod.Annotations)
	}
}

func TestConfig_DNS(t *testing.T) {
	useHostResolvConf(t, "nameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch corp.example\noptions ndots:2\n")
	five := "5"
	podDNS := &v1.PodDNSConfig{
		Nameservers: []string{"1.1.1.1", "10.0.0.2"},
		Searches:    []string{"svc.example", "corp.example"},
		Options:     []v1.PodDNSConfigOption{{Name: "ndots", Value: &five}, {Name: "edns0"}},
	}
	tests := []struct {
		name   string
		policy v1.DNSPolicy
		dns    *v1.PodDNSConfig
		host   bool
		want   *runtimeapi.DNSConfig
	}{
		{name: "ClusterFirst copies the node's resolver", policy: v1.DNSClusterFirst},
		{name: "Default copies the node's resolver", policy: v1.DNSDefault},
		{name: "ClusterFirstWithHostNet on host network", policy: v1.DNSClusterFirstWithHostNet, host: true},
		{
			name:   "None uses only the pod's config",
			policy: v1.DNSNone,
			dns:    podDNS,
			want: &runtimeapi.DNSConfig{
				Servers:  []string{"1.1.1.1", "10.0.0.2"},
				Searches: []string{"svc.example", "corp.example"},
				Options:  []string{"ndots:5", "edns0"},
			},
		},
		{
			name:   "ClusterFirst merges the pod's config into the node's",
			policy: v1.DNSClusterFirst,
			dns:    podDNS,
			want: &runtimeapi.DNSConfig{
				Servers:  []string{"10.0.0.2", "10.0.0.3", "1.1.1.1"},
				Searches: []string{"corp.example", "svc.example"},
				// Resolvers apply options in order, so the pod's ndots:5 wins.
				Options: []string{"ndots:2", "ndots:5", "edns0"},
			},
		},
		{
			name:   "Default merges the pod's config into the node's",
			policy: v1.DNSDefault,
			dns:    &v1.PodDNSConfig{Nameservers: []string{"9.9.9.9"}},
			want: &runtimeapi.DNSConfig{
				Servers:  []string{"10.0.0.2", "10.0.0.3", "9.9.9.9"},
				Searches: []string{"corp.example"},
				Options:  []string{"ndots:2"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod(func(p *v1.Pod) {
				p.Spec.DNSPolicy = tt.policy
				p.Spec.DNSConfig = tt.dns
				p.Spec.HostNetwork = tt.host
			})
			got := Config(pod, 0, Options{}).GetDnsConfig()
			if tt.want == nil {
				if got != nil {
					t.Fatalf("dns config = %v, want nil (the runtime copies the node's resolv.conf)", got)
				}
				return
			}
			if got == nil {
				t.Fatalf("dns config = nil, want %v", tt.want)
			}
			if !reflect.DeepEqual(got.GetServers(), tt.want.Servers) || !reflect.DeepEqual(got.GetSearches(), tt.want.Searches) || !reflect.DeepEqual(got.GetOptions(), tt.want.Options) {
				t.Fatalf("dns config = servers %q searches %q options %q, want servers %q searches %q options %q",
					got.GetServers(), got.GetSearches(), got.GetOptions(), tt.want.Servers, tt.want.Searches, tt.want.Options)
			}
		})
	}
}

func TestConfig_DNSWithoutNodeResolvConf(t *testing.T) {
	old := hostResolvConf
	hostResolvConf = filepath.Join(t.TempDir(), "missing")
	t.Cleanup(func() { hostResolvConf = old })

	pod := testPod(func(p *v1.Pod) { p.Spec.DNSConfig = &v1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}} })
	got := Config(pod, 0, Options{}).GetDnsConfig()
	if !reflect.DeepEqual(got.GetServers(), []string{"1.1.1.1"}) || len(got.GetSearches()) != 0 || len(got.GetOptions()) != 0 {
		t.Fatalf("dns config = %v, want only the pod's nameserver", got)
	}
}
