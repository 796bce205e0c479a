package staticpods

// This file ports the container checks of the API server's pod validation:
// k8s.io/kubernetes pkg/apis/core/validation/validation.go at v1.33, one
// function for each upstream function of the same name (exported ones
// unexported here), for the v1.Pod fields of k8s.io/api v0.37. Messages
// and field paths are the API server's.

import (
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	supportedPullPolicies    = []v1.PullPolicy{v1.PullAlways, v1.PullIfNotPresent, v1.PullNever}
	supportedProtocols       = []v1.Protocol{v1.ProtocolSCTP, v1.ProtocolTCP, v1.ProtocolUDP}
	supportedTermMsgPolicies = []v1.TerminationMessagePolicy{v1.TerminationMessageReadFile, v1.TerminationMessageFallbackToLogsOnError}
)

// validateContainers checks the app containers. Their names are unique
// among themselves; clashes with init containers are reported on the init
// container.
func validateContainers(containers []v1.Container, vols map[string]*v1.VolumeSource, spec *v1.PodSpec, grace *int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(containers) == 0 {
		return append(errs, field.Required(p, ""))
	}
	names := map[string]bool{}
	for i := range containers {
		c := &containers[i]
		cp := p.Index(i)
		errs = append(errs, validateContainerCommon(c, vols, spec, cp)...)
		errs = append(errs, checkDuplicateName(c, names, cp)...)
		errs = append(errs, validateLifecycleAndProbes(c, grace, cp)...)
		if c.RestartPolicy != nil {
			errs = append(errs, field.Forbidden(cp.Child("restartPolicy"), "may not be set for non-init containers"))
		}
	}
	return append(errs, checkHostPortConflicts(containers, p)...)
}

// validateInitContainers checks the init containers; sidecars (restartPolicy
// Always) may have probes, hooks and a resize policy, the others may not.
func validateInitContainers(containers, regularContainers []v1.Container, vols map[string]*v1.VolumeSource, spec *v1.PodSpec, grace *int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for _, c := range regularContainers {
		names[c.Name] = true
	}
	for i := range containers {
		c := &containers[i]
		cp := p.Index(i)
		errs = append(errs, validateContainerCommon(c, vols, spec, cp)...)
		errs = append(errs, checkDuplicateName(c, names, cp)...)
		sidecar := false
		if c.RestartPolicy != nil {
			errs = append(errs, validateInitContainerRestartPolicy(c.RestartPolicy, cp.Child("restartPolicy"))...)
			sidecar = *c.RestartPolicy == v1.ContainerRestartPolicyAlways
		}
		// Init containers run one at a time: only their own ports may clash.
		errs = append(errs, checkHostPortConflicts([]v1.Container{*c}, p)...)
		if sidecar {
			errs = append(errs, validateLifecycleAndProbes(c, grace, cp)...)
		} else {
			const msg = "may not be set for init containers without restartPolicy=Always"
			if c.Lifecycle != nil {
				errs = append(errs, field.Forbidden(cp.Child("lifecycle"), msg))
			}
			if c.LivenessProbe != nil {
				errs = append(errs, field.Forbidden(cp.Child("livenessProbe"), msg))
			}
			if c.ReadinessProbe != nil {
				errs = append(errs, field.Forbidden(cp.Child("readinessProbe"), msg))
			}
			if c.StartupProbe != nil {
				errs = append(errs, field.Forbidden(cp.Child("startupProbe"), msg))
			}
		}
		if len(c.ResizePolicy) > 0 && !sidecar {
			errs = append(errs, field.Invalid(cp.Child("resizePolicy"), c.ResizePolicy, "must not be set for init containers"))
		}
	}
	return errs
}

// checkDuplicateName reports a container whose name is already in names
// (app and init containers share one namespace), and adds its name.
func checkDuplicateName(c *v1.Container, names map[string]bool, p *field.Path) field.ErrorList {
	dup := c.Name != "" && names[c.Name]
	names[c.Name] = true
	if dup {
		return field.ErrorList{field.Duplicate(p.Child("name"), c.Name)}
	}
	return nil
}

// validateLifecycleAndProbes checks the hooks and probes of an app
// container or a sidecar.
func validateLifecycleAndProbes(c *v1.Container, grace *int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.Lifecycle != nil {
		errs = append(errs, validateLifecycle(c.Lifecycle, grace, p.Child("lifecycle"))...)
	}
	errs = append(errs, validateLivenessProbe(c.LivenessProbe, grace, p.Child("livenessProbe"))...)
	errs = append(errs, validateReadinessProbe(c.ReadinessProbe, grace, p.Child("readinessProbe"))...)
	return append(errs, validateStartupProbe(c.StartupProbe, grace, p.Child("startupProbe"))...)
}

func validateInitContainerRestartPolicy(rp *v1.ContainerRestartPolicy, p *field.Path) field.ErrorList {
	if *rp != v1.ContainerRestartPolicyAlways {
		return field.ErrorList{field.NotSupported(p, *rp, []v1.ContainerRestartPolicy{v1.ContainerRestartPolicyAlways})}
	}
	return nil
}

// validateContainerCommon checks what is common to app and init containers.
func validateContainerCommon(c *v1.Container, vols map[string]*v1.VolumeSource, spec *v1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		errs = append(errs, validateDNS1123Label(c.Name, p.Child("name"))...)
	}
	if c.Image == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	}
	errs = append(errs, validateRequiredEnum(c.TerminationMessagePolicy, supportedTermMsgPolicies, p.Child("terminationMessagePolicy"))...)
	errs = append(errs, validateContainerPorts(c.Ports, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, vols, p.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, p.Child("envFrom"))...)
	errs = append(errs, validateVolumeMounts(c, vols, p.Child("volumeMounts"))...)
	errs = append(errs, validateVolumeDevices(c, vols, p.Child("volumeDevices"))...)
	errs = append(errs, validatePullPolicy(c.ImagePullPolicy, p.Child("imagePullPolicy"))...)
	errs = append(errs, validateContainerResourceRequirements(&c.Resources, p.Child("resources"))...)
	errs = append(errs, validateResizePolicy(c.ResizePolicy, spec.RestartPolicy, p.Child("resizePolicy"))...)
	errs = append(errs, validateSecurityContext(c.SecurityContext, p.Child("securityContext"), spec.HostUsers == nil || *spec.HostUsers)...)
	errs = append(errs, validateStopSignal(c.Lifecycle, spec.OS, p.Child("lifecycle", "stopSignal"))...)
	return errs
}

// validateContainersOnlyForPod checks what the API server checks for the
// containers of a pod but not of a pod template.
func validateContainersOnlyForPod(containers []v1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range containers {
		errs = append(errs, validateContainerOnlyForPod(&containers[i], p.Index(i))...)
	}
	return errs
}

func validateContainerOnlyForPod(c *v1.Container, p *field.Path) field.ErrorList {
	if strings.TrimSpace(c.Image) != c.Image {
		return field.ErrorList{field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace")}
	}
	return nil
}

func validatePullPolicy(policy v1.PullPolicy, p *field.Path) field.ErrorList {
	return validateRequiredEnum(policy, supportedPullPolicies, p)
}

func validateContainerPorts(ports []v1.ContainerPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, port := range ports {
		pp := p.Index(i)
		if port.Name != "" {
			if msgs := validation.IsValidPortName(port.Name); len(msgs) > 0 {
				for _, msg := range msgs {
					errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
				}
			} else if names[port.Name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(pp.Child("containerPort"), ""))
		} else {
			for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
				errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, msg))
			}
		}
		if port.HostPort != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.HostPort)) {
				errs = append(errs, field.Invalid(pp.Child("hostPort"), port.HostPort, msg))
			}
		}
		errs = append(errs, validateRequiredEnum(port.Protocol, supportedProtocols, pp.Child("protocol"))...)
	}
	return errs
}

// checkHostPortConflicts: two containers that run at the same time cannot
// bind the same host port, protocol and address.
func checkHostPortConflicts(containers []v1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, c := range containers {
		for j, port := range c.Ports {
			if port.HostPort == 0 {
				continue
			}
			key := fmt.Sprintf("%s/%s/%d", port.Protocol, port.HostIP, port.HostPort)
			if seen[key] {
				errs = append(errs, field.Duplicate(p.Index(i).Child("ports").Index(j).Child("hostPort"), key))
			}
			seen[key] = true
		}
	}
	return errs
}
