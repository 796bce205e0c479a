package sandbox

import (
	"fmt"
	"path/filepath"
	"strings"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// DefaultPodLogsDir is where pod logs go, as the kubelet's podLogsDir.
const DefaultPodLogsDir = "/var/log/pods"

// maxHostnameLen is the kernel's limit on a hostname (and a DNS label's).
const maxHostnameLen = 63

// Options are the node-wide settings that shape every sandbox.
type Options struct {
	// PodLogsDir is the root of pod log directories.
	PodLogsDir string
	// CgroupParent is the cgroup under which pod cgroups are made; empty
	// leaves the choice to the runtime.
	CgroupParent string
}

// LogDirectory is the directory that holds the pod's container logs:
// <podLogsDir>/<namespace>_<name>_<uid>, as the kubelet lays it out.
func LogDirectory(podLogsDir string, pod *v1.Pod) string {
	return filepath.Join(podLogsDir, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
}

// Labels are the labels of a pod's sandbox: the pod's own, plus the ones that
// tie it to the pod.
func Labels(pod *v1.Pod) map[string]string {
	labels := make(map[string]string, len(pod.Labels)+4)
	for k, v := range pod.Labels {
		labels[k] = v
	}
	labels[runtime.LabelPodName] = pod.Name
	labels[runtime.LabelPodNamespace] = pod.Namespace
	labels[runtime.LabelPodUID] = string(pod.UID)
	labels[runtime.LabelManaged] = "true"
	labels[runtime.LabelNode] = pod.Spec.NodeName
	return labels
}

// Config builds the CRI sandbox configuration for a pod. attempt counts the
// sandboxes made for the pod before this one.
func Config(pod *v1.Pod, attempt uint32, opts Options) *runtimeapi.PodSandboxConfig {
	logsDir := opts.PodLogsDir
	if logsDir == "" {
		logsDir = DefaultPodLogsDir
	}
	annotations := make(map[string]string, len(pod.Annotations)+1)
	for k, v := range pod.Annotations {
		annotations[k] = v
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		annotations[runtime.AnnotationPodTerminationGracePeriod] = fmt.Sprint(*g)
	}
	cfg := &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{
			Name:      pod.Name,
			Namespace: pod.Namespace,
			Uid:       string(pod.UID),
			Attempt:   attempt,
		},
		LogDirectory: LogDirectory(logsDir, pod),
		DnsConfig:    dnsConfig(pod),
		PortMappings: portMappings(pod),
		Labels:       Labels(pod),
		Annotations:  annotations,
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent:    opts.CgroupParent,
			SecurityContext: securityContext(pod),
			Sysctls:         sysctls(pod),
		},
	}
	cfg.Linux.Resources, cfg.Linux.Overhead = sandboxResources(pod)
	// runc cannot set a hostname without a private UTS namespace, which a
	// host-network pod does not have.
	if !pod.Spec.HostNetwork {
		cfg.Hostname = Hostname(pod)
	}
	return cfg
}

// Hostname is the pod's hostname: spec.hostname, or the pod's name cut to
// 63 characters without a trailing '-' or '.', as the kubelet makes it.
func Hostname(pod *v1.Pod) string {
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname
	}
	name := pod.Name
	if len(name) > maxHostnameLen {
		name = strings.TrimRight(name[:maxHostnameLen], "-.")
	}
	return name
}

// NamespaceOptions are the Linux namespaces a pod's sandbox and containers
// use.
func NamespaceOptions(pod *v1.Pod) *runtimeapi.NamespaceOption {
	ns := &runtimeapi.NamespaceOption{
		Network: runtimeapi.NamespaceMode_POD,
		Pid:     runtimeapi.NamespaceMode_CONTAINER,
		Ipc:     runtimeapi.NamespaceMode_POD,
	}
	if pod.Spec.HostNetwork {
		ns.Network = runtimeapi.NamespaceMode_NODE
	}
	if pod.Spec.HostIPC {
		ns.Ipc = runtimeapi.NamespaceMode_NODE
	}
	switch {
	case pod.Spec.HostPID:
		ns.Pid = runtimeapi.NamespaceMode_NODE
	case pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace:
		ns.Pid = runtimeapi.NamespaceMode_POD
	}
	return ns
}

func securityContext(pod *v1.Pod) *runtimeapi.LinuxSandboxSecurityContext {
	sc := &runtimeapi.LinuxSandboxSecurityContext{
		NamespaceOptions: NamespaceOptions(pod),
		Privileged:       anyPrivileged(pod),
		// As the kubelet (kuberuntime_sandbox.go): the sandbox always runs
		// under the runtime's default seccomp profile, whatever the pod's.
		Seccomp: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault},
	}
	sc.RunAsUser, sc.RunAsGroup, sc.SupplementalGroups = PodIdentity(pod)
	if psc := pod.Spec.SecurityContext; psc != nil && psc.SELinuxOptions != nil {
		o := psc.SELinuxOptions
		sc.SelinuxOptions = &runtimeapi.SELinuxOption{User: o.User, Role: o.Role, Type: o.Type, Level: o.Level}
	}
	return sc
}

// PodIdentity is the user, group and supplemental groups (fsGroup
// included) the pod's securityContext asks for; nil where it is silent.
func PodIdentity(pod *v1.Pod) (user, group *runtimeapi.Int64Value, supplemental []int64) {
	psc := pod.Spec.SecurityContext
	if psc == nil {
		return nil, nil, nil
	}
	if psc.RunAsUser != nil {
		user = &runtimeapi.Int64Value{Value: *psc.RunAsUser}
	}
	if psc.RunAsGroup != nil {
		group = &runtimeapi.Int64Value{Value: *psc.RunAsGroup}
	}
	supplemental = append(supplemental, psc.SupplementalGroups...)
	if psc.FSGroup != nil {
		supplemental = append(supplemental, *psc.FSGroup)
	}
	return user, group, supplemental
}

func anyPrivileged(pod *v1.Pod) bool {
	for _, list := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
				return true
			}
		}
	}
	return false
}

func sysctls(pod *v1.Pod) map[string]string {
	if pod.Spec.SecurityContext == nil || len(pod.Spec.SecurityContext.Sysctls) == 0 {
		return nil
	}
	m := make(map[string]string, len(pod.Spec.SecurityContext.Sysctls))
	for _, s := range pod.Spec.SecurityContext.Sysctls {
		m[s.Name] = s.Value
	}
	return m
}

// RuntimeHandler is the runtime handler the pod's sandbox runs under: its
// runtimeClassName, which names the handler itself on a node without an
// API server; empty for the runtime's default.
func RuntimeHandler(pod *v1.Pod) string {
	if pod.Spec.RuntimeClassName == nil {
		return ""
	}
	return *pod.Spec.RuntimeClassName
}

// portMappings maps the host ports of the app containers.
func portMappings(pod *v1.Pod) []*runtimeapi.PortMapping {
	var out []*runtimeapi.PortMapping
	for _, p := range HostPorts(pod) {
		out = append(out, &runtimeapi.PortMapping{
			Protocol:      protocol(p.Protocol),
			ContainerPort: p.ContainerPort,
			HostPort:      p.HostPort,
			HostIp:        p.HostIP,
		})
	}
	return out
}

// HostPorts are the container ports of the pod that ask for a host port
// and get one: the app containers' only. As the kubelet's
// generatePodSandboxConfig (pkg/kubelet/kuberuntime/kuberuntime_sandbox.go),
// which maps pod.Spec.Containers and not the init containers.
func HostPorts(pod *v1.Pod) []v1.ContainerPort {
	var out []v1.ContainerPort
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort > 0 {
				out = append(out, p)
			}
		}
	}
	return out
}

func protocol(p v1.Protocol) runtimeapi.Protocol {
	switch p {
	case v1.ProtocolUDP:
		return runtimeapi.Protocol_UDP
	case v1.ProtocolSCTP:
		return runtimeapi.Protocol_SCTP
	default:
		return runtimeapi.Protocol_TCP
	}
}

// dnsConfig returns the resolver configuration for the pod, or nil to let
// the runtime copy the node's /etc/resolv.conf. With no cluster DNS on a
// single node, ClusterFirst falls back to the node's resolver as the
// kubelet does when it has no clusterDNS configured.
func dnsConfig(pod *v1.Pod) *runtimeapi.DNSConfig {
	if pod.Spec.DNSPolicy != v1.DNSNone && pod.Spec.DNSConfig == nil {
		return nil
	}
	cfg := &runtimeapi.DNSConfig{}
	if pod.Spec.DNSPolicy != v1.DNSNone {
		// The node's resolver is merged in by the runtime only when no
		// config is given, so read it here.
		cfg.Servers, cfg.Searches, cfg.Options = hostResolver()
	}
	if dc := pod.Spec.DNSConfig; dc != nil {
		cfg.Servers = appendUnique(cfg.Servers, dc.Nameservers...)
		cfg.Searches = appendUnique(cfg.Searches, dc.Searches...)
		for _, o := range dc.Options {
			opt := o.Name
			if o.Value != nil {
				opt += ":" + *o.Value
			}
			cfg.Options = appendUnique(cfg.Options, opt)
		}
	}
	return cfg
}

func appendUnique(list []string, items ...string) []string {
	for _, it := range items {
		found := false
		for _, have := range list {
			if have == it {
				found = true
				break
			}
		}
		if !found {
			list = append(list, it)
		}
	}
	return list
}
