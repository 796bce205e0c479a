package staticpods

// This file ports the pod-level checks of the API server's pod validation,
// ValidatePodCreate and what it calls: k8s.io/kubernetes
// pkg/apis/core/validation/validation.go at v1.33, one function for each
// upstream function of the same name (exported ones unexported here), for
// the v1.Pod fields of k8s.io/api v0.37. Messages and field paths are the
// API server's. Where upstream takes PodValidationOptions, the options a
// pod gets on create are built in.

import (
	"math"
	"net"
	"strings"

	v1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	supportedRestartPolicies = []v1.RestartPolicy{v1.RestartPolicyAlways, v1.RestartPolicyOnFailure, v1.RestartPolicyNever}
	supportedDNSPolicies     = []v1.DNSPolicy{v1.DNSClusterFirstWithHostNet, v1.DNSClusterFirst, v1.DNSDefault, v1.DNSNone}
	supportedTolerationOps   = []v1.TolerationOperator{v1.TolerationOpEqual, v1.TolerationOpExists}
	supportedTaintEffects    = []v1.TaintEffect{v1.TaintEffectNoSchedule, v1.TaintEffectPreferNoSchedule, v1.TaintEffectNoExecute}
	supportedPreemption      = []v1.PreemptionPolicy{v1.PreemptLowerPriority, v1.PreemptNever}
)

// validatePodCreate validates a pod as the API server does on create.
func validatePodCreate(pod *v1.Pod) field.ErrorList {
	errs := validatePodMetadataAndSpec(pod)
	// As the API server on create: ephemeral containers are added to a
	// running pod through a subresource, never written in the manifest.
	if len(pod.Spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(field.NewPath("spec").Child("ephemeralContainers"), "cannot be set on create"))
	}
	return errs
}

func validatePodMetadataAndSpec(pod *v1.Pod) field.ErrorList {
	metaPath, specPath := field.NewPath("metadata"), field.NewPath("spec")
	errs := apivalidation.ValidateObjectMeta(&pod.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, metaPath)
	errs = append(errs, validatePodSpec(&pod.Spec, specPath)...)
	errs = append(errs, validateContainersOnlyForPod(pod.Spec.Containers, specPath.Child("containers"))...)
	errs = append(errs, validateContainersOnlyForPod(pod.Spec.InitContainers, specPath.Child("initContainers"))...)
	return errs
}

func validatePodSpec(spec *v1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	grace := spec.TerminationGracePeriodSeconds
	if grace == nil {
		errs = append(errs, field.Required(p.Child("terminationGracePeriodSeconds"), ""))
	} else if *grace < 0 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *grace, apivalidation.IsNegativeErrorMsg))
	}
	vols, vErrs := validateVolumes(spec.Volumes, p.Child("volumes"))
	errs = append(errs, vErrs...)
	errs = append(errs, validateContainers(spec.Containers, vols, spec, grace, p.Child("containers"))...)
	errs = append(errs, validateInitContainers(spec.InitContainers, spec.Containers, vols, spec, grace, p.Child("initContainers"))...)
	errs = append(errs, validatePodResources(spec, p.Child("resources"))...)
	errs = append(errs, validatePodHostNetworkDeps(spec, p)...)
	errs = append(errs, validateRestartPolicy(spec.RestartPolicy, p.Child("restartPolicy"))...)
	errs = append(errs, validateDNSPolicy(spec.DNSPolicy, p.Child("dnsPolicy"))...)
	errs = append(errs, metavalidation.ValidateLabels(spec.NodeSelector, p.Child("nodeSelector"))...)
	errs = append(errs, validatePodSpecSecurityContext(spec, p.Child("securityContext"))...)
	errs = append(errs, validatePodDNSConfig(spec.DNSConfig, spec.DNSPolicy, p.Child("dnsConfig"))...)
	errs = append(errs, validateReadinessGates(spec.ReadinessGates, p.Child("readinessGates"))...)
	errs = append(errs, validateHostUsers(spec, p)...)
	if spec.ActiveDeadlineSeconds != nil {
		if v := *spec.ActiveDeadlineSeconds; v < 1 || v > math.MaxInt32 {
			errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), v, validation.InclusiveRangeError(1, math.MaxInt32)))
		}
	}
	if spec.Hostname != "" {
		errs = append(errs, validateDNS1123Label(spec.Hostname, p.Child("hostname"))...)
	}
	if spec.Subdomain != "" {
		errs = append(errs, validateDNS1123Label(spec.Subdomain, p.Child("subdomain"))...)
	}
	errs = append(errs, validateTolerations(spec.Tolerations, p.Child("tolerations"))...)
	errs = append(errs, validateHostAliases(spec.HostAliases, p.Child("hostAliases"))...)
	if spec.PriorityClassName != "" {
		errs = append(errs, validateDNS1123Subdomain(spec.PriorityClassName, p.Child("priorityClassName"))...)
	}
	if spec.RuntimeClassName != nil {
		errs = append(errs, validateDNS1123Subdomain(*spec.RuntimeClassName, p.Child("runtimeClassName"))...)
	}
	if spec.PreemptionPolicy != nil {
		errs = append(errs, validatePreemptionPolicy(*spec.PreemptionPolicy, p.Child("preemptionPolicy"))...)
	}
	if spec.Overhead != nil {
		errs = append(errs, validateOverhead(spec.Overhead, p.Child("overhead"))...)
	}
	return append(errs, validateOS(spec, p.Child("os"))...)
}

// validatePodResources checks pod-level resources with the rules for a
// container's.
func validatePodResources(spec *v1.PodSpec, p *field.Path) field.ErrorList {
	if spec.Resources == nil {
		return nil
	}
	return validateContainerResourceRequirements(spec.Resources, p)
}

func validateOverhead(overhead v1.ResourceList, p *field.Path) field.ErrorList {
	return validateContainerResourceRequirements(&v1.ResourceRequirements{Limits: overhead}, p)
}

func validatePodHostNetworkDeps(spec *v1.PodSpec, p *field.Path) field.ErrorList {
	if !spec.HostNetwork {
		return nil
	}
	var errs field.ErrorList
	for i, c := range spec.Containers {
		for j, port := range c.Ports {
			if port.HostPort != port.ContainerPort {
				errs = append(errs, field.Invalid(p.Child("containers").Index(i).Child("ports").Index(j).Child("hostPort"), port.HostPort, "must match `containerPort` when `hostNetwork` is true"))
			}
		}
	}
	return errs
}

func validateRestartPolicy(policy v1.RestartPolicy, p *field.Path) field.ErrorList {
	return validateRequiredEnum(policy, supportedRestartPolicies, p)
}

func validateDNSPolicy(policy v1.DNSPolicy, p *field.Path) field.ErrorList {
	return validateRequiredEnum(policy, supportedDNSPolicies, p)
}

func validatePreemptionPolicy(policy v1.PreemptionPolicy, p *field.Path) field.ErrorList {
	switch policy {
	case v1.PreemptLowerPriority, v1.PreemptNever:
		return nil
	default:
		return field.ErrorList{field.NotSupported(p, policy, supportedPreemption)}
	}
}

func validatePodDNSConfig(dc *v1.PodDNSConfig, policy v1.DNSPolicy, p *field.Path) field.ErrorList {
	if policy == v1.DNSNone {
		if dc == nil {
			return field.ErrorList{field.Required(p, "must provide `dnsConfig` when `dnsPolicy` is None")}
		}
		if len(dc.Nameservers) == 0 {
			return field.ErrorList{field.Required(p.Child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None")}
		}
	}
	if dc == nil {
		return nil
	}
	var errs field.ErrorList
	if len(dc.Nameservers) > 3 {
		errs = append(errs, field.Invalid(p.Child("nameservers"), dc.Nameservers, "must not have more than 3 nameservers"))
	}
	for i, ns := range dc.Nameservers {
		if net.ParseIP(ns) == nil {
			errs = append(errs, field.Invalid(p.Child("nameservers").Index(i), ns, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
		}
	}
	if len(dc.Searches) > 32 {
		errs = append(errs, field.Invalid(p.Child("searches"), dc.Searches, "must not have more than 32 search paths"))
	}
	for i, s := range dc.Searches {
		if s == "." {
			continue
		}
		for _, msg := range validation.IsDNS1123SubdomainWithUnderscore(strings.TrimSuffix(s, ".")) {
			errs = append(errs, field.Invalid(p.Child("searches").Index(i), s, msg))
		}
	}
	for i, o := range dc.Options {
		if o.Name == "" {
			errs = append(errs, field.Required(p.Child("options").Index(i), "must not be empty"))
		}
	}
	return errs
}

func validateTolerations(ts []v1.Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range ts {
		tp := p.Index(i)
		if t.Key != "" {
			errs = append(errs, metavalidation.ValidateLabelName(t.Key, tp.Child("key"))...)
		}
		if t.Key == "" && t.Operator != v1.TolerationOpExists {
			errs = append(errs, field.Invalid(tp.Child("operator"), t.Operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if t.TolerationSeconds != nil && t.Effect != v1.TaintEffectNoExecute {
			errs = append(errs, field.Invalid(tp.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
		switch t.Operator {
		case v1.TolerationOpEqual, "":
			if msgs := validation.IsValidLabelValue(t.Value); len(msgs) > 0 {
				errs = append(errs, field.Invalid(tp.Child("operator"), t.Value, strings.Join(msgs, ";")))
			}
		case v1.TolerationOpExists:
			if t.Value != "" {
				errs = append(errs, field.Invalid(tp.Child("operator"), t.Value, "value must be empty when `operator` is 'Exists'"))
			}
		default:
			errs = append(errs, field.NotSupported(tp.Child("operator"), t.Operator, supportedTolerationOps))
		}
		if t.Effect != "" && !contains(supportedTaintEffects, t.Effect) {
			errs = append(errs, field.NotSupported(tp.Child("effect"), t.Effect, supportedTaintEffects))
		}
	}
	return errs
}

func validateHostAliases(aliases []v1.HostAlias, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ha := range aliases {
		hp := p.Index(i)
		if net.ParseIP(ha.IP) == nil {
			errs = append(errs, field.Invalid(hp.Child("ip"), ha.IP, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
		}
		for j, h := range ha.Hostnames {
			errs = append(errs, validateDNS1123Subdomain(h, hp.Child("hostnames").Index(j))...)
		}
	}
	return errs
}

func validateReadinessGates(gates []v1.PodReadinessGate, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, g := range gates {
		errs = append(errs, validateQualifiedName(string(g.ConditionType), p.Index(i).Child("conditionType"))...)
	}
	return errs
}

// validateHostUsers: a pod in its own user namespace may not share the
// host's network, PID or IPC namespace.
func validateHostUsers(spec *v1.PodSpec, p *field.Path) field.ErrorList {
	if spec.HostUsers == nil || *spec.HostUsers {
		return nil
	}
	var errs field.ErrorList
	if spec.HostNetwork {
		errs = append(errs, field.Forbidden(p.Child("hostNetwork"), "when `pod.Spec.HostUsers` is false"))
	}
	if spec.HostPID {
		errs = append(errs, field.Forbidden(p.Child("HostPID"), "when `pod.Spec.HostUsers` is false"))
	}
	if spec.HostIPC {
		errs = append(errs, field.Forbidden(p.Child("HostIPC"), "when `pod.Spec.HostUsers` is false"))
	}
	return errs
}

// validateOS accepts the operating systems the API knows; that this node
// runs only Linux pods is validateNodeSupport's.
func validateOS(spec *v1.PodSpec, p *field.Path) field.ErrorList {
	if spec.OS == nil || spec.OS.Name == v1.Linux || spec.OS.Name == v1.Windows {
		return nil
	}
	return field.ErrorList{field.NotSupported(p.Child("name"), spec.OS.Name, []v1.OSName{v1.Linux, v1.Windows})}
}

func validateDNS1123Label(v string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}

func validateDNS1123Subdomain(v string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}

func validateQualifiedName(v string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}
