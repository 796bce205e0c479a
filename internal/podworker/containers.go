package podworker

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/expansion"
	"github.com/minikubelet/minikubelet/internal/fieldpath"
	"github.com/minikubelet/minikubelet/internal/machine"
	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/sandbox"
	"github.com/minikubelet/minikubelet/internal/volumes"
)

// podContext is what a container's config needs to know about its pod
// beyond the spec.
type podContext struct {
	Pod     *v1.Pod
	PodIPs  []string
	HostIP  string
	Sandbox *runtimeapi.PodSandboxConfig
	Volumes volumes.Volumes
	// SeccompRoot is where Localhost seccomp profiles live.
	SeccompRoot string
	// Node is what the node has: the oom_score_adj formula, huge page
	// sizes and resourceFieldRef's fallback for an unset limit read it.
	Node machine.Info
}

// containerHash fingerprints a container's spec, so an instance can be
// matched to the spec it was made from.
func containerHash(c *v1.Container) string {
	data, _ := json.Marshal(c)
	h := fnv.New32a()
	h.Write(data)
	return strconv.FormatUint(uint64(h.Sum32()), 16)
}

// containerConfig builds the CRI config of one container instance.
func containerConfig(pc podContext, c *v1.Container, init bool, restartCount int32, image string) (*runtimeapi.ContainerConfig, error) {
	envs, err := containerEnv(pc, c)
	if err != nil {
		return nil, err
	}
	lookup := envLookup(envs)
	expandAll := func(in []string) []string {
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = expansion.Expand(s, lookup)
		}
		return out
	}
	pod := pc.Pod
	labels := map[string]string{
		runtime.LabelPodName:       pod.Name,
		runtime.LabelPodNamespace:  pod.Namespace,
		runtime.LabelPodUID:        string(pod.UID),
		runtime.LabelContainerName: c.Name,
		runtime.LabelManaged:       "true",
		runtime.LabelNode:          pod.Spec.NodeName,
	}
	annotations := map[string]string{
		runtime.AnnotationContainerHash:            containerHash(c),
		runtime.AnnotationRestartCount:             strconv.Itoa(int(restartCount)),
		runtime.AnnotationTerminationMessagePath:   c.TerminationMessagePath,
		runtime.AnnotationTerminationMessagePolicy: string(c.TerminationMessagePolicy),
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		annotations[runtime.AnnotationPodTerminationGracePeriod] = strconv.FormatInt(*g, 10)
	}
	if init {
		annotations[runtime.AnnotationContainerIsInit] = "true"
		if isSidecar(c) {
			annotations[runtime.AnnotationContainerIsSidecar] = "true"
		}
	}
	if len(c.Ports) > 0 {
		if data, err := json.Marshal(c.Ports); err == nil {
			annotations[runtime.AnnotationContainerPorts] = string(data)
		}
	}
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		if data, err := json.Marshal(c.Lifecycle.PreStop); err == nil {
			annotations[runtime.AnnotationPreStopHandler] = string(data)
		}
	}
	cfg := &runtimeapi.ContainerConfig{
		Metadata:    &runtimeapi.ContainerMetadata{Name: c.Name, Attempt: uint32(restartCount)},
		Image:       &runtimeapi.ImageSpec{Image: image, UserSpecifiedImage: c.Image},
		Command:     expandAll(c.Command),
		Args:        expandAll(c.Args),
		WorkingDir:  c.WorkingDir,
		Envs:        envs,
		Labels:      labels,
		Annotations: annotations,
		LogPath:     filepath.Join(c.Name, fmt.Sprintf("%d.log", restartCount)),
		Stdin:       c.Stdin,
		StdinOnce:   c.StdinOnce,
		Tty:         c.TTY,
		Linux: &runtimeapi.LinuxContainerConfig{
			Resources:       linuxResources(pc, c),
			SecurityContext: containerSecurityContext(pod, c),
		},
	}
	addSecurityProfiles(cfg.Linux.SecurityContext, pod, c, pc.SeccompRoot)
	return cfg, nil
}

// containerEnv resolves the container's env list in order: each value may
// refer to the ones before it.
func containerEnv(pc podContext, c *v1.Container) ([]*runtimeapi.KeyValue, error) {
	var out []*runtimeapi.KeyValue
	values := map[string]string{}
	lookup := func(name string) (string, bool) {
		v, ok := values[name]
		return v, ok
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FileKeyRef != nil {
			v, found, err := volumes.FileKeyValue(pc.Volumes, e.ValueFrom.FileKeyRef)
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			if found {
				values[e.Name] = v
				out = append(out, &runtimeapi.KeyValue{Key: e.Name, Value: []byte(v)})
			}
			continue
		}
		value := expansion.Expand(e.Value, lookup)
		if e.ValueFrom != nil {
			v, err := envValueFrom(pc, c, e.ValueFrom)
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			value = v
		}
		values[e.Name] = value
		out = append(out, &runtimeapi.KeyValue{Key: e.Name, Value: []byte(value)})
	}
	return out, nil
}

func envLookup(envs []*runtimeapi.KeyValue) func(string) (string, bool) {
	m := make(map[string]string, len(envs))
	for _, kv := range envs {
		m[kv.Key] = string(kv.Value)
	}
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func envValueFrom(pc podContext, c *v1.Container, src *v1.EnvVarSource) (string, error) {
	pod := pc.Pod
	switch {
	case src.FieldRef != nil:
		path := src.FieldRef.FieldPath
		if v, ok := fieldpath.ExtractMetadata(pod, path); ok {
			return v, nil
		}
		switch path {
		case "spec.nodeName":
			return pod.Spec.NodeName, nil
		case "spec.serviceAccountName":
			return pod.Spec.ServiceAccountName, nil
		case "status.hostIP", "status.hostIPs":
			return pc.HostIP, nil
		case "status.podIP":
			if len(pc.PodIPs) > 0 {
				return pc.PodIPs[0], nil
			}
			return "", nil
		case "status.podIPs":
			return strings.Join(pc.PodIPs, ","), nil
		}
		return "", fmt.Errorf("unsupported fieldRef %q", path)
	case src.ResourceFieldRef != nil:
		return resourceFieldValue(pc, c, src.ResourceFieldRef)
	default:
		return "", fmt.Errorf("static pods cannot read secrets or config maps")
	}
}

func containerSecurityContext(pod *v1.Pod, c *v1.Container) *runtimeapi.LinuxContainerSecurityContext {
	sc := &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: sandbox.NamespaceOptions(pod)}
	sc.RunAsUser, sc.RunAsGroup, sc.SupplementalGroups = sandbox.PodIdentity(pod)
	csc := c.SecurityContext
	if csc == nil {
		return sc
	}
	if csc.RunAsUser != nil {
		sc.RunAsUser = &runtimeapi.Int64Value{Value: *csc.RunAsUser}
	}
	if csc.RunAsGroup != nil {
		sc.RunAsGroup = &runtimeapi.Int64Value{Value: *csc.RunAsGroup}
	}
	if csc.Privileged != nil {
		sc.Privileged = *csc.Privileged
	}
	if csc.ReadOnlyRootFilesystem != nil {
		sc.ReadonlyRootfs = *csc.ReadOnlyRootFilesystem
	}
	if csc.AllowPrivilegeEscalation != nil {
		sc.NoNewPrivs = !*csc.AllowPrivilegeEscalation
	}
	if caps := csc.Capabilities; caps != nil {
		sc.Capabilities = &runtimeapi.Capability{}
		for _, a := range caps.Add {
			sc.Capabilities.AddCapabilities = append(sc.Capabilities.AddCapabilities, string(a))
		}
		for _, d := range caps.Drop {
			sc.Capabilities.DropCapabilities = append(sc.Capabilities.DropCapabilities, string(d))
		}
	}
	return sc
}
