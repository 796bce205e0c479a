package staticpods

// What this node supports: manifests the API server accepts but minikubelet
// could not run as written, refused when the file is read rather than
// failing at run time (a probe that can never resolve its port, a mount the
// kubelet would fail), and the fields of the API it does not implement.

import (
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var supportedEmptyDirMedia = []string{"", string(v1.StorageMediumMemory)}

// validateNodeSupport checks what this node can run, beyond the API
// server's validation.
func validateNodeSupport(spec *v1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateContainersSupport(spec.Containers, false, p.Child("containers"))...)
	errs = append(errs, validateContainersSupport(spec.InitContainers, true, p.Child("initContainers"))...)
	for i := range spec.Volumes {
		errs = append(errs, validateEmptyDirMedium(&spec.Volumes[i].VolumeSource, p.Child("volumes").Index(i))...)
	}
	errs = append(errs, validateVolumeSupport(spec, p)...)
	if spec.OS != nil && spec.OS.Name == v1.Windows {
		errs = append(errs, field.NotSupported(p.Child("os").Child("name"), spec.OS.Name, []v1.OSName{v1.Linux}))
	}
	errs = append(errs, validateHostnameSupport(spec, p)...)
	if spec.Resources != nil {
		if _, ok := spec.Resources.Limits[v1.ResourceEphemeralStorage]; ok {
			errs = append(errs, field.Forbidden(p.Child("resources", "limits").Key(string(v1.ResourceEphemeralStorage)), podLevelStorageUnsupported))
		}
	}
	if sc := spec.SecurityContext; sc != nil && sc.SupplementalGroupsPolicy != nil && *sc.SupplementalGroupsPolicy != v1.SupplementalGroupsPolicyMerge {
		// As the kubelet on a runtime without the feature
		// (SupplementalGroupsPolicyNotSupported); containerd 1.6 only merges.
		errs = append(errs, field.Forbidden(p.Child("securityContext", "supplementalGroupsPolicy"),
			"containerd 1.6 on this node only merges the image's groups (Merge); Strict needs containerd 2.0 or later"))
	}
	return errs
}

// validateHostnameSupport refuses the hostname fields this node does not
// apply yet, rather than run the pod under another hostname than the
// kubelet would give it.
func validateHostnameSupport(spec *v1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.HostnameOverride != nil {
		errs = append(errs, field.Forbidden(p.Child("hostnameOverride"), "not supported by this node yet; set spec.hostname instead"))
	}
	if spec.SetHostnameAsFQDN != nil && *spec.SetHostnameAsFQDN && spec.Subdomain != "" {
		errs = append(errs, field.Forbidden(p.Child("setHostnameAsFQDN"),
			"this node has no cluster domain to make the pod's FQDN from; leave it unset (the hostname is spec.hostname)"))
	}
	return errs
}

func validateContainersSupport(containers []v1.Container, init bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range containers {
		c := &containers[i]
		cp := p.Index(i)
		if len(c.RestartPolicyRules) > 0 {
			errs = append(errs, field.Forbidden(cp.Child("restartPolicyRules"), "not supported by this kubelet"))
		}
		if c.Lifecycle != nil && c.Lifecycle.StopSignal != nil {
			errs = append(errs, field.Forbidden(cp.Child("lifecycle", "stopSignal"), stopSignalUnsupported))
		}
		errs = append(errs, validateUniqueContainerPorts(c.Ports, cp.Child("ports"))...)
		// Probes and hooks run on app containers and sidecars; the API
		// server forbids them on other init containers.
		if !init || (c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways) {
			errs = append(errs, validateProbeAndHookPorts(c, cp)...)
		}
	}
	return errs
}

// podLevelStorageUnsupported: pod-level resources (PodLevelResources) are
// cpu, memory and hugepages only (component-helpers' IsSupportedPodLevelResource);
// the kubelet's PodLimits, and so its eviction, leave a pod-level
// ephemeral-storage limit out. Refused rather than accepted and ignored.
const podLevelStorageUnsupported = "not a pod-level resource: the kubelet's pod-level resources are cpu, memory and hugepages, and it would ignore this limit; set ephemeral-storage limits on the containers, which are enforced"

// stopSignalUnsupported: the kubelet hands lifecycle.stopSignal to the
// runtime in the CRI ContainerConfig, and a runtime that predates it (as
// containerd 1.6 does) ignores it and stops the container with the image's
// STOPSIGNAL or SIGTERM. The kubelet then degrades silently; minikubelet
// refuses the field instead.
const stopSignalUnsupported = "not supported by this node's container runtime (containerd 1.6 ignores the CRI stop signal and would send the image's STOPSIGNAL or SIGTERM); set STOPSIGNAL in the image, or trap SIGTERM in the container"

// validateUniqueContainerPorts: the API server only warns about the same
// port listed twice; two entries for one port in one container are always
// a mistake.
func validateUniqueContainerPorts(ports []v1.ContainerPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	numbers := map[string]bool{}
	for i, port := range ports {
		key := fmt.Sprintf("%d/%s", port.ContainerPort, port.Protocol)
		if port.ContainerPort != 0 && numbers[key] {
			errs = append(errs, field.Duplicate(p.Index(i).Child("containerPort"), key))
		}
		numbers[key] = true
	}
	return errs
}

// validateProbeAndHookPorts checks the named ports of a container's probes
// and hooks, for the action validateHandler checks (the first one set).
func validateProbeAndHookPorts(c *v1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	check := func(h commonHandler, hp *field.Path) {
		switch {
		case h.Exec != nil:
		case h.HTTPGet != nil:
			errs = append(errs, validateDeclaredPort(h.HTTPGet.Port, c, hp.Child("httpGet", "port"))...)
		case h.TCPSocket != nil:
			errs = append(errs, validateDeclaredPort(h.TCPSocket.Port, c, hp.Child("tcpSocket", "port"))...)
		}
	}
	if lc := c.Lifecycle; lc != nil {
		if lc.PostStart != nil {
			check(handlerFromLifecycle(lc.PostStart), p.Child("lifecycle", "postStart"))
		}
		if lc.PreStop != nil {
			check(handlerFromLifecycle(lc.PreStop), p.Child("lifecycle", "preStop"))
		}
	}
	for _, pr := range []struct {
		name  string
		probe *v1.Probe
	}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
		if pr.probe != nil {
			check(handlerFromProbe(&pr.probe.ProbeHandler), p.Child(pr.name))
		}
	}
	return errs
}

// validateDeclaredPort: a valid port name must be one the container
// declares. The kubelet could never resolve it, and the probe would fail
// forever.
func validateDeclaredPort(port intstr.IntOrString, c *v1.Container, p *field.Path) field.ErrorList {
	if port.Type == intstr.Int || len(validation.IsValidPortName(port.StrVal)) > 0 {
		return nil
	}
	for _, cp := range c.Ports {
		if cp.Name == port.StrVal {
			return nil
		}
	}
	return field.ErrorList{{Type: field.ErrorTypeNotFound, Field: p.String(), BadValue: port.StrVal,
		Detail: fmt.Sprintf("container %q has no port with this name", c.Name)}}
}

// validateEmptyDirMedium: the API server accepts any medium; the kubelet
// fails the mount of one it does not know, so say it now. Only a volume of
// one type is checked; the API server reports the others.
func validateEmptyDirMedium(src *v1.VolumeSource, p *field.Path) field.ErrorList {
	if src.EmptyDir == nil || countVolumeSources(src) != 1 {
		return nil
	}
	m := src.EmptyDir.Medium
	mp := p.Child("emptyDir").Child("medium")
	switch {
	case m == v1.StorageMediumHugePages || strings.HasPrefix(string(m), string(v1.StorageMediumHugePagesPrefix)):
		// The kubelet mounts a hugetlbfs here; this node mounts none (its
		// huge page pools are not offered to pods), so the volume would be
		// a plain directory.
		return field.ErrorList{field.Invalid(mp, m, "this node does not mount hugetlbfs volumes for pods; use medium Memory (tmpfs) or the default (disk)")}
	case m != v1.StorageMediumDefault && m != v1.StorageMediumMemory:
		return field.ErrorList{field.NotSupported(mp, m, supportedEmptyDirMedia)}
	}
	return nil
}
