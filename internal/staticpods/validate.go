package staticpods

import (
	"fmt"
	"math"
	"net"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validation follows the API server's ValidatePodCreate
// (pkg/apis/core/validation) for the fields a static pod uses, with its
// field paths and messages, plus what the kubelet rejects for static pods
// (references to API objects) and what it would fail on at run time
// (unknown emptyDir media, probes naming ports the container lacks, a
// non-Linux OS).

// fileModeErrorMsg is the API server's message for volume file modes.
const fileModeErrorMsg = "must be a number between 0 and 0777 (octal), both inclusive"

var (
	supportedRestartPolicies = []v1.RestartPolicy{v1.RestartPolicyAlways, v1.RestartPolicyOnFailure, v1.RestartPolicyNever}
	supportedDNSPolicies     = []v1.DNSPolicy{v1.DNSClusterFirstWithHostNet, v1.DNSClusterFirst, v1.DNSDefault, v1.DNSNone}
	supportedPullPolicies    = []v1.PullPolicy{v1.PullAlways, v1.PullIfNotPresent, v1.PullNever}
	supportedProtocols       = []v1.Protocol{v1.ProtocolSCTP, v1.ProtocolTCP, v1.ProtocolUDP}
	supportedHTTPSchemes     = []v1.URIScheme{v1.URISchemeHTTP, v1.URISchemeHTTPS}
	supportedTermMsgPolicies = []v1.TerminationMessagePolicy{v1.TerminationMessageReadFile, v1.TerminationMessageFallbackToLogsOnError}
	supportedHostPathTypes   = []v1.HostPathType{v1.HostPathUnset, v1.HostPathBlockDev, v1.HostPathCharDev, v1.HostPathDirectory, v1.HostPathDirectoryOrCreate, v1.HostPathFile, v1.HostPathFileOrCreate, v1.HostPathSocket}
	supportedPropagations    = []v1.MountPropagationMode{v1.MountPropagationBidirectional, v1.MountPropagationHostToContainer, v1.MountPropagationNone}
	supportedTolerationOps   = []v1.TolerationOperator{v1.TolerationOpEqual, v1.TolerationOpExists}
	supportedTaintEffects    = []v1.TaintEffect{v1.TaintEffectNoSchedule, v1.TaintEffectPreferNoSchedule, v1.TaintEffectNoExecute}
	supportedPreemption      = []v1.PreemptionPolicy{v1.PreemptLowerPriority, v1.PreemptNever}
	supportedResizeResources = []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory}
	supportedResizePolicies  = []v1.ResourceResizeRestartPolicy{v1.NotRequired, v1.RestartContainer}
	supportedProcMounts      = []v1.ProcMountType{v1.DefaultProcMount, v1.UnmaskedProcMount}
	supportedSeccompTypes    = []v1.SeccompProfileType{v1.SeccompProfileTypeLocalhost, v1.SeccompProfileTypeRuntimeDefault, v1.SeccompProfileTypeUnconfined}
	supportedAppArmorTypes   = []v1.AppArmorProfileType{v1.AppArmorProfileTypeLocalhost, v1.AppArmorProfileTypeRuntimeDefault, v1.AppArmorProfileTypeUnconfined}
	supportedFSGroupPolicies = []v1.PodFSGroupChangePolicy{v1.FSGroupChangeAlways, v1.FSGroupChangeOnRootMismatch}
	supportedRecursiveRO     = []v1.RecursiveReadOnlyMode{v1.RecursiveReadOnlyDisabled, v1.RecursiveReadOnlyEnabled, v1.RecursiveReadOnlyIfPossible}
	supportedEmptyDirMedia   = []string{"", string(v1.StorageMediumMemory), string(v1.StorageMediumHugePages), string(v1.StorageMediumHugePagesPrefix) + "<size>"}

	validEnvFieldPaths    = []string{"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"}
	validVolumeFieldPaths = []string{"metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"}
	validResourceFields   = []string{"limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"}
)

// validatePod validates a defaulted pod before it is named; nodeName is the
// node it will be named after.
func validatePod(pod *v1.Pod, nodeName string) field.ErrorList {
	metaPath := field.NewPath("metadata")
	errs := apivalidation.ValidateObjectMeta(&pod.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, metaPath)
	if pod.Name != "" && len(validation.IsDNS1123Subdomain(pod.Name)) == 0 {
		full := staticPodName(pod.Name, nodeName)
		for _, msg := range validation.IsDNS1123Subdomain(full) {
			errs = append(errs, field.Invalid(metaPath.Child("name"), pod.Name,
				fmt.Sprintf("the static pod's name %q (<metadata.name>-<nodeName>) is invalid: %s", full, msg)))
		}
	}
	errs = append(errs, validateSpec(&pod.Spec, field.NewPath("spec"))...)
	errs = append(errs, validateNoAPIReferences(&pod.Spec, field.NewPath("spec"))...)
	return errs
}

func validateSpec(spec *v1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	grace := spec.TerminationGracePeriodSeconds
	if grace == nil {
		errs = append(errs, field.Required(p.Child("terminationGracePeriodSeconds"), ""))
	} else if *grace < 0 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *grace, apivalidation.IsNegativeErrorMsg))
	}

	vols, vErrs := validateVolumes(spec.Volumes, p.Child("volumes"))
	errs = append(errs, vErrs...)

	// Container names are unique across app, init and ephemeral containers.
	names := map[string]bool{}
	for i := range spec.Containers {
		c := &spec.Containers[i]
		cp := p.Child("containers").Index(i)
		errs = append(errs, validateContainer(c, vols, spec, cp)...)
		if c.Name != "" && names[c.Name] {
			errs = append(errs, field.Duplicate(cp.Child("name"), c.Name))
		}
		names[c.Name] = true
		errs = append(errs, validateLifecycleAndProbes(c, grace, cp)...)
		if c.RestartPolicy != nil {
			errs = append(errs, field.Forbidden(cp.Child("restartPolicy"), "may not be set for non-init containers"))
		}
		if len(c.RestartPolicyRules) > 0 {
			errs = append(errs, field.Forbidden(cp.Child("restartPolicyRules"), "not supported by this kubelet"))
		}
	}
	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	errs = append(errs, checkHostPortConflicts(spec.Containers, p.Child("containers"))...)

	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		cp := p.Child("initContainers").Index(i)
		errs = append(errs, validateContainer(c, vols, spec, cp)...)
		if c.Name != "" && names[c.Name] {
			errs = append(errs, field.Duplicate(cp.Child("name"), c.Name))
		}
		names[c.Name] = true
		sidecar := false
		if c.RestartPolicy != nil {
			if *c.RestartPolicy == v1.ContainerRestartPolicyAlways {
				sidecar = true
			} else {
				errs = append(errs, field.NotSupported(cp.Child("restartPolicy"), *c.RestartPolicy, []v1.ContainerRestartPolicy{v1.ContainerRestartPolicyAlways}))
			}
		}
		if len(c.RestartPolicyRules) > 0 {
			errs = append(errs, field.Forbidden(cp.Child("restartPolicyRules"), "not supported by this kubelet"))
		}
		// Init containers run one at a time: only their own ports may clash.
		errs = append(errs, checkHostPortConflicts([]v1.Container{*c}, p.Child("initContainers"))...)
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

	// As the API server on create: ephemeral containers are added to a
	// running pod through a subresource, never written in the manifest.
	if len(spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(p.Child("ephemeralContainers"), "cannot be set on create"))
	}

	if spec.HostNetwork {
		for i, c := range spec.Containers {
			for j, port := range c.Ports {
				if port.HostPort != port.ContainerPort {
					errs = append(errs, field.Invalid(p.Child("containers").Index(i).Child("ports").Index(j).Child("hostPort"), port.HostPort, "must match `containerPort` when `hostNetwork` is true"))
				}
			}
		}
	}

	switch spec.RestartPolicy {
	case v1.RestartPolicyAlways, v1.RestartPolicyOnFailure, v1.RestartPolicyNever:
	case "":
		errs = append(errs, field.Required(p.Child("restartPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(p.Child("restartPolicy"), spec.RestartPolicy, supportedRestartPolicies))
	}
	switch spec.DNSPolicy {
	case v1.DNSClusterFirstWithHostNet, v1.DNSClusterFirst, v1.DNSDefault, v1.DNSNone:
	case "":
		errs = append(errs, field.Required(p.Child("dnsPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(p.Child("dnsPolicy"), spec.DNSPolicy, supportedDNSPolicies))
	}
	errs = append(errs, validateDNSConfig(spec.DNSConfig, spec.DNSPolicy, p.Child("dnsConfig"))...)
	errs = append(errs, metavalidation.ValidateLabels(spec.NodeSelector, p.Child("nodeSelector"))...)
	errs = append(errs, validatePodSecurityContext(spec, p.Child("securityContext"))...)

	if spec.ActiveDeadlineSeconds != nil {
		if v := *spec.ActiveDeadlineSeconds; v < 1 || v > math.MaxInt32 {
			errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), v, validation.InclusiveRangeError(1, math.MaxInt32)))
		}
	}
	if spec.Hostname != "" {
		errs = append(errs, dns1123Label(spec.Hostname, p.Child("hostname"))...)
	}
	if spec.Subdomain != "" {
		errs = append(errs, dns1123Label(spec.Subdomain, p.Child("subdomain"))...)
	}
	errs = append(errs, validateTolerations(spec.Tolerations, p.Child("tolerations"))...)
	for i, ha := range spec.HostAliases {
		hp := p.Child("hostAliases").Index(i)
		if net.ParseIP(ha.IP) == nil {
			errs = append(errs, field.Invalid(hp.Child("ip"), ha.IP, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
		}
		for j, h := range ha.Hostnames {
			errs = append(errs, dns1123Subdomain(h, hp.Child("hostnames").Index(j))...)
		}
	}
	if spec.PriorityClassName != "" {
		errs = append(errs, dns1123Subdomain(spec.PriorityClassName, p.Child("priorityClassName"))...)
	}
	if spec.RuntimeClassName != nil {
		errs = append(errs, dns1123Subdomain(*spec.RuntimeClassName, p.Child("runtimeClassName"))...)
	}
	if spec.PreemptionPolicy != nil {
		switch *spec.PreemptionPolicy {
		case v1.PreemptLowerPriority, v1.PreemptNever:
		default:
			errs = append(errs, field.NotSupported(p.Child("preemptionPolicy"), *spec.PreemptionPolicy, supportedPreemption))
		}
	}
	if spec.Overhead != nil {
		errs = append(errs, validateResources(&v1.ResourceRequirements{Limits: spec.Overhead}, p.Child("overhead"))...)
	}
	if spec.Resources != nil {
		errs = append(errs, validateResources(spec.Resources, p.Child("resources"))...)
	}
	for i, g := range spec.ReadinessGates {
		errs = append(errs, qualifiedName(string(g.ConditionType), p.Child("readinessGates").Index(i).Child("conditionType"))...)
	}
	// The kubelet binds a static pod to its node (spec.nodeName), and the
	// API server refuses a bound pod that still has scheduling gates.
	if len(spec.SchedulingGates) > 0 {
		errs = append(errs, field.Forbidden(p.Child("schedulingGates"), "a static pod is bound to its node (spec.nodeName) and cannot have scheduling gates"))
	}
	if spec.OS != nil && spec.OS.Name != v1.Linux {
		if spec.OS.Name == v1.Windows {
			errs = append(errs, field.NotSupported(p.Child("os").Child("name"), spec.OS.Name, []v1.OSName{v1.Linux}))
		} else {
			errs = append(errs, field.NotSupported(p.Child("os").Child("name"), spec.OS.Name, []v1.OSName{v1.Linux, v1.Windows}))
		}
	}
	if spec.HostUsers != nil && !*spec.HostUsers {
		if spec.HostNetwork {
			errs = append(errs, field.Forbidden(p.Child("hostNetwork"), "when `pod.Spec.HostUsers` is false"))
		}
		if spec.HostPID {
			errs = append(errs, field.Forbidden(p.Child("HostPID"), "when `pod.Spec.HostUsers` is false"))
		}
		if spec.HostIPC {
			errs = append(errs, field.Forbidden(p.Child("HostIPC"), "when `pod.Spec.HostUsers` is false"))
		}
	}
	return errs
}

// countVolumeSources counts the volume types a volume sets; it looks at
// every pointer field so that a source added to the API later counts too.
func countVolumeSources(src *v1.VolumeSource) int {
	n := 0
	v := reflect.ValueOf(src).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			n++
		}
	}
	return n
}

// volumeSourceNames lists the JSON names of the volume types a volume sets.
func volumeSourceNames(src *v1.VolumeSource) []string {
	var names []string
	v := reflect.ValueOf(src).Elem()
	t := v.Type()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			names = append(names, name)
		}
	}
	return names
}

func validateVolumes(vols []v1.Volume, p *field.Path) (map[string]*v1.VolumeSource, field.ErrorList) {
	var errs field.ErrorList
	byName := make(map[string]*v1.VolumeSource, len(vols))
	for i := range vols {
		vol := &vols[i]
		vp := p.Index(i)
		var el field.ErrorList
		if vol.Name == "" {
			el = append(el, field.Required(vp.Child("name"), ""))
		} else {
			el = append(el, dns1123Label(vol.Name, vp.Child("name"))...)
		}
		if _, dup := byName[vol.Name]; dup && vol.Name != "" {
			el = append(el, field.Duplicate(vp.Child("name"), vol.Name))
		}
		el = append(el, validateVolumeSource(&vol.VolumeSource, vp)...)
		if len(el) == 0 {
			byName[vol.Name] = &vol.VolumeSource
		} else {
			errs = append(errs, el...)
			// Still declared: mounts of it should not also report "not found".
			if _, dup := byName[vol.Name]; !dup && vol.Name != "" {
				byName[vol.Name] = &vol.VolumeSource
			}
		}
	}
	return byName, errs
}

func validateVolumeSource(src *v1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch names := volumeSourceNames(src); {
	case len(names) == 0:
		return append(errs, field.Required(p, "must specify a volume type"))
	case len(names) > 1:
		for _, n := range names[1:] {
			errs = append(errs, field.Forbidden(p.Child(n), "may not specify more than 1 volume type"))
		}
		return errs
	}
	switch {
	case src.HostPath != nil:
		hp := p.Child("hostPath")
		if src.HostPath.Path == "" {
			errs = append(errs, field.Required(hp.Child("path"), ""))
			break
		}
		errs = append(errs, noBacksteps(src.HostPath.Path, hp.Child("path"))...)
		if t := src.HostPath.Type; t != nil && !contains(supportedHostPathTypes, *t) {
			errs = append(errs, field.NotSupported(hp.Child("type"), *t, supportedHostPathTypes))
		}
	case src.EmptyDir != nil:
		ep := p.Child("emptyDir")
		if sl := src.EmptyDir.SizeLimit; sl != nil && sl.Sign() < 0 {
			errs = append(errs, field.Forbidden(ep.Child("sizeLimit"), "SizeLimit field must be a valid resource quantity"))
		}
		// The API server accepts any medium; the kubelet fails the mount
		// of one it does not know, so say it now.
		m := src.EmptyDir.Medium
		if m != v1.StorageMediumDefault && m != v1.StorageMediumMemory && m != v1.StorageMediumHugePages && !strings.HasPrefix(string(m), string(v1.StorageMediumHugePagesPrefix)) {
			errs = append(errs, field.NotSupported(ep.Child("medium"), m, supportedEmptyDirMedia))
		}
		if mode := src.EmptyDir.Mode; mode != nil && (*mode < 0 || *mode > 0o777) {
			errs = append(errs, field.Invalid(ep.Child("mode"), *mode, fileModeErrorMsg))
		}
	case src.DownwardAPI != nil:
		dp := p.Child("downwardAPI")
		if m := src.DownwardAPI.DefaultMode; m != nil && (*m < 0 || *m > 0o777) {
			errs = append(errs, field.Invalid(dp.Child("defaultMode"), *m, fileModeErrorMsg))
		}
		for i := range src.DownwardAPI.Items {
			errs = append(errs, validateDownwardAPIFile(&src.DownwardAPI.Items[i], dp.Child("items").Index(i))...)
		}
	case src.Projected != nil:
		pp := p.Child("projected")
		if m := src.Projected.DefaultMode; m != nil && (*m < 0 || *m > 0o777) {
			errs = append(errs, field.Invalid(pp.Child("defaultMode"), *m, fileModeErrorMsg))
		}
		seen := map[string]bool{}
		for i, s := range src.Projected.Sources {
			sp := pp.Child("sources").Index(i)
			if s.DownwardAPI != nil {
				for j := range s.DownwardAPI.Items {
					item := &s.DownwardAPI.Items[j]
					errs = append(errs, validateDownwardAPIFile(item, sp.Child("downwardAPI", "items").Index(j))...)
					if item.Path != "" && seen[item.Path] {
						errs = append(errs, field.Invalid(pp, item.Path, "conflicting duplicate paths"))
					}
					seen[item.Path] = true
				}
			}
		}
	case src.Image != nil:
		ip := p.Child("image")
		if src.Image.Reference == "" {
			errs = append(errs, field.Required(ip.Child("reference"), ""))
		}
		if pp := src.Image.PullPolicy; pp != "" && !contains(supportedPullPolicies, pp) {
			errs = append(errs, field.NotSupported(ip.Child("pullPolicy"), pp, supportedPullPolicies))
		}
	case src.NFS != nil:
		np := p.Child("nfs")
		if src.NFS.Server == "" {
			errs = append(errs, field.Required(np.Child("server"), ""))
		}
		if src.NFS.Path == "" {
			errs = append(errs, field.Required(np.Child("path"), ""))
		} else if !path.IsAbs(src.NFS.Path) {
			errs = append(errs, field.Invalid(np.Child("path"), src.NFS.Path, "must be an absolute path"))
		}
	case src.ISCSI != nil:
		ip := p.Child("iscsi")
		if src.ISCSI.TargetPortal == "" {
			errs = append(errs, field.Required(ip.Child("targetPortal"), ""))
		}
		if src.ISCSI.IQN == "" {
			errs = append(errs, field.Required(ip.Child("iqn"), ""))
		}
		if src.ISCSI.Lun < 0 || src.ISCSI.Lun > 255 {
			errs = append(errs, field.Invalid(ip.Child("lun"), src.ISCSI.Lun, validation.InclusiveRangeError(0, 255)))
		}
	case src.GitRepo != nil:
		gp := p.Child("gitRepo")
		if src.GitRepo.Repository == "" {
			errs = append(errs, field.Required(gp.Child("repository"), ""))
		}
		errs = append(errs, localDescendingPath(src.GitRepo.Directory, gp.Child("directory"))...)
	}
	return errs
}

func validateDownwardAPIFile(f *v1.DownwardAPIVolumeFile, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if f.Path == "" {
		errs = append(errs, field.Required(p.Child("path"), ""))
	}
	errs = append(errs, localNonReservedPath(f.Path, p.Child("path"))...)
	switch {
	case f.FieldRef != nil && f.ResourceFieldRef != nil:
		errs = append(errs, field.Invalid(p, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
	case f.FieldRef != nil:
		errs = append(errs, validateFieldRef(f.FieldRef, validVolumeFieldPaths, p.Child("fieldRef"))...)
	case f.ResourceFieldRef != nil:
		errs = append(errs, validateResourceFieldRef(f.ResourceFieldRef, true, p.Child("resourceFieldRef"))...)
	default:
		errs = append(errs, field.Required(p, "one of fieldRef and resourceFieldRef is required"))
	}
	if f.Mode != nil && (*f.Mode < 0 || *f.Mode > 0o777) {
		errs = append(errs, field.Invalid(p.Child("mode"), *f.Mode, fileModeErrorMsg))
	}
	return errs
}

func validateFieldRef(f *v1.ObjectFieldSelector, valid []string, p *field.Path) field.ErrorList {
	if f.APIVersion == "" {
		return field.ErrorList{field.Required(p.Child("apiVersion"), "")}
	}
	if f.APIVersion != "v1" {
		return field.ErrorList{field.Invalid(p.Child("fieldPath"), f.FieldPath, fmt.Sprintf("error converting fieldPath: unsupported apiVersion %q", f.APIVersion))}
	}
	if f.FieldPath == "" {
		return field.ErrorList{field.Required(p.Child("fieldPath"), "")}
	}
	fp := f.FieldPath
	if base, sub, ok := splitSubscript(fp); ok {
		switch base {
		case "metadata.annotations":
			return qualifiedName(strings.ToLower(sub), p)
		case "metadata.labels":
			return qualifiedName(sub, p)
		default:
			return field.ErrorList{field.Invalid(p, base, "does not support subscript")}
		}
	}
	if !contains(valid, fp) {
		return field.ErrorList{field.NotSupported(p.Child("fieldPath"), fp, valid)}
	}
	return nil
}

// splitSubscript splits "metadata.labels['key']" into its path and key.
func splitSubscript(fp string) (string, string, bool) {
	if !strings.HasSuffix(fp, "']") {
		return "", "", false
	}
	i := strings.Index(fp, "['")
	if i < 0 {
		return "", "", false
	}
	return fp[:i], fp[i+2 : len(fp)-2], true
}

func validateResourceFieldRef(f *v1.ResourceFieldSelector, volume bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case volume && f.ContainerName == "":
		errs = append(errs, field.Required(p.Child("containerName"), ""))
	case f.Resource == "":
		errs = append(errs, field.Required(p.Child("resource"), ""))
	case !contains(validResourceFields, f.Resource) && !strings.HasPrefix(f.Resource, "requests.hugepages-") && !strings.HasPrefix(f.Resource, "limits.hugepages-"):
		errs = append(errs, field.NotSupported(p.Child("resource"), f.Resource, validResourceFields))
	}
	if !f.Divisor.IsZero() {
		d := f.Divisor.String()
		switch {
		case strings.HasSuffix(f.Resource, ".cpu"):
			if d != "1m" && d != "1" {
				errs = append(errs, field.Invalid(p.Child("divisor"), f.Resource, "only divisor's values 1m and 1 are supported with the cpu resource"))
			}
		default:
			if !contains([]string{"1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"}, d) {
				errs = append(errs, field.Invalid(p.Child("divisor"), f.Resource, "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with this resource"))
			}
		}
	}
	return errs
}

// validateContainer checks what is common to app, init and ephemeral
// containers.
func validateContainer(c *v1.Container, vols map[string]*v1.VolumeSource, spec *v1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		errs = append(errs, dns1123Label(c.Name, p.Child("name"))...)
	}
	if c.Image == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	} else if strings.TrimSpace(c.Image) != c.Image {
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	switch c.TerminationMessagePolicy {
	case v1.TerminationMessageReadFile, v1.TerminationMessageFallbackToLogsOnError:
	case "":
		errs = append(errs, field.Required(p.Child("terminationMessagePolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(p.Child("terminationMessagePolicy"), c.TerminationMessagePolicy, supportedTermMsgPolicies))
	}
	switch c.ImagePullPolicy {
	case v1.PullAlways, v1.PullIfNotPresent, v1.PullNever:
	case "":
		errs = append(errs, field.Required(p.Child("imagePullPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(p.Child("imagePullPolicy"), c.ImagePullPolicy, supportedPullPolicies))
	}
	errs = append(errs, validatePorts(c.Ports, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, vols, p.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, p.Child("envFrom"))...)
	errs = append(errs, validateVolumeMounts(c, vols, p.Child("volumeMounts"))...)
	errs = append(errs, validateVolumeDevices(c, vols, p.Child("volumeDevices"))...)
	errs = append(errs, validateResources(&c.Resources, p.Child("resources"))...)
	errs = append(errs, validateResizePolicy(c.ResizePolicy, spec.RestartPolicy, p.Child("resizePolicy"))...)
	errs = append(errs, validateSecurityContext(c.SecurityContext, p.Child("securityContext"))...)
	return errs
}

func validatePorts(ports []v1.ContainerPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	numbers := map[string]bool{}
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
		if port.Protocol == "" {
			errs = append(errs, field.Required(pp.Child("protocol"), ""))
		} else if !contains(supportedProtocols, port.Protocol) {
			errs = append(errs, field.NotSupported(pp.Child("protocol"), port.Protocol, supportedProtocols))
		}
		// The API server only warns about the same port listed twice; two
		// entries for one port in one container are always a mistake.
		key := fmt.Sprintf("%d/%s", port.ContainerPort, port.Protocol)
		if port.ContainerPort != 0 && numbers[key] {
			errs = append(errs, field.Duplicate(pp.Child("containerPort"), key))
		}
		numbers[key] = true
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

func validateEnv(env []v1.EnvVar, vols map[string]*v1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range env {
		ep := p.Index(i)
		if ev.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), ""))
		} else {
			for _, msg := range validation.IsRelaxedEnvVarName(ev.Name) {
				errs = append(errs, field.Invalid(ep.Child("name"), ev.Name, msg))
			}
		}
		vf := ev.ValueFrom
		if vf == nil {
			continue
		}
		vp := ep.Child("valueFrom")
		n := 0
		if vf.FieldRef != nil {
			n++
			errs = append(errs, validateFieldRef(vf.FieldRef, validEnvFieldPaths, vp.Child("fieldRef"))...)
		}
		if vf.ResourceFieldRef != nil {
			n++
			errs = append(errs, validateResourceFieldRef(vf.ResourceFieldRef, false, vp.Child("resourceFieldRef"))...)
		}
		if vf.ConfigMapKeyRef != nil {
			n++
		}
		if vf.SecretKeyRef != nil {
			n++
		}
		if f := vf.FileKeyRef; f != nil {
			n++
			fp := vp.Child("fileKeyRef")
			if f.VolumeName == "" {
				errs = append(errs, field.Required(fp.Child("volumeName"), ""))
			} else if src, ok := vols[f.VolumeName]; !ok {
				errs = append(errs, field.NotFound(fp.Child("volumeName"), f.VolumeName))
			} else if src.EmptyDir == nil {
				errs = append(errs, field.Invalid(fp.Child("volumeName"), f.VolumeName, "must refer to an emptyDir volume"))
			}
			if f.Path == "" {
				errs = append(errs, field.Required(fp.Child("path"), ""))
			} else {
				errs = append(errs, localNonReservedPath(f.Path, fp.Child("path"))...)
			}
			if f.Key == "" {
				errs = append(errs, field.Required(fp.Child("key"), ""))
			}
		}
		switch {
		case n == 0:
			errs = append(errs, field.Invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`"))
		case ev.Value != "":
			errs = append(errs, field.Invalid(vp, "", "may not be specified when `value` is not empty"))
		case n > 1:
			errs = append(errs, field.Invalid(vp, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

func validateEnvFrom(from []v1.EnvFromSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ef := range from {
		ep := p.Index(i)
		if ef.Prefix != "" {
			for _, msg := range validation.IsRelaxedEnvVarName(ef.Prefix) {
				errs = append(errs, field.Invalid(ep.Child("prefix"), ef.Prefix, msg))
			}
		}
		n := 0
		if ef.ConfigMapRef != nil {
			n++
		}
		if ef.SecretRef != nil {
			n++
		}
		if n == 0 {
			errs = append(errs, field.Invalid(p, "", "must specify one of: `configMapRef` or `secretRef`"))
		} else if n > 1 {
			errs = append(errs, field.Invalid(p, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

func validateVolumeMounts(c *v1.Container, vols map[string]*v1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	mountPaths := map[string]bool{}
	devicePaths := map[string]bool{}
	deviceNames := map[string]bool{}
	for _, d := range c.VolumeDevices {
		devicePaths[d.DevicePath] = true
		deviceNames[d.Name] = true
	}
	privileged := c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged
	for i, m := range c.VolumeMounts {
		mp := p.Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(mp.Child("name"), ""))
		}
		src, declared := vols[m.Name]
		if !declared {
			errs = append(errs, &field.Error{Type: field.ErrorTypeNotFound, Field: mp.Child("name").String(), BadValue: m.Name,
				Detail: "no volume with this name in spec.volumes"})
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		} else if mountPaths[m.MountPath] {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mountPaths[m.MountPath] = true
		if deviceNames[m.Name] {
			errs = append(errs, field.Invalid(mp.Child("name"), m.Name, "must not already exist in volumeDevices"))
		}
		if devicePaths[m.MountPath] {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must not already exist as a path in volumeDevices"))
		}
		if declared && src.Image != nil {
			if m.SubPath != "" {
				errs = append(errs, field.Invalid(mp.Child("subPath"), m.SubPath, "not allowed in image volume sources"))
			}
			if m.SubPathExpr != "" {
				errs = append(errs, field.Invalid(mp.Child("subPathExpr"), m.SubPathExpr, "not allowed in image volume sources"))
			}
		}
		if m.SubPath != "" {
			errs = append(errs, localDescendingPath(m.SubPath, mp.Child("subPath"))...)
		}
		if m.SubPathExpr != "" {
			if m.SubPath != "" {
				errs = append(errs, field.Invalid(mp.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
			}
			errs = append(errs, localDescendingPath(m.SubPathExpr, mp.Child("subPathExpr"))...)
		}
		if mprop := m.MountPropagation; mprop != nil {
			if !contains(supportedPropagations, *mprop) {
				errs = append(errs, field.NotSupported(mp.Child("mountPropagation"), *mprop, supportedPropagations))
			} else if *mprop == v1.MountPropagationBidirectional && !privileged {
				errs = append(errs, field.Forbidden(mp.Child("mountPropagation"), "Bidirectional mount propagation is available only to privileged containers"))
			}
		}
		if rro := m.RecursiveReadOnly; rro != nil {
			switch *rro {
			case v1.RecursiveReadOnlyDisabled:
			case v1.RecursiveReadOnlyEnabled, v1.RecursiveReadOnlyIfPossible:
				if !m.ReadOnly {
					errs = append(errs, field.Forbidden(mp.Child("recursiveReadOnly"), "may only be specified when readOnly is true"))
				}
				if m.MountPropagation != nil && *m.MountPropagation != v1.MountPropagationNone {
					errs = append(errs, field.Forbidden(mp.Child("recursiveReadOnly"), "may only be specified when mountPropagation is None or not specified"))
				}
			default:
				errs = append(errs, field.NotSupported(mp.Child("recursiveReadOnly"), *rro, supportedRecursiveRO))
			}
		}
	}
	return errs
}

func validateVolumeDevices(c *v1.Container, vols map[string]*v1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, d := range c.VolumeDevices {
		dp := p.Index(i)
		if d.Name == "" {
			errs = append(errs, field.Required(dp.Child("name"), ""))
		}
		src, ok := vols[d.Name]
		switch {
		case !ok:
			errs = append(errs, field.NotFound(dp.Child("name"), d.Name))
		case src.PersistentVolumeClaim == nil && src.Ephemeral == nil:
			errs = append(errs, field.Invalid(dp.Child("name"), d.Name, "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"))
		}
		if d.DevicePath == "" {
			errs = append(errs, field.Required(dp.Child("devicePath"), ""))
		}
	}
	return errs
}

// validateLifecycleAndProbes applies to app containers and sidecars.
func validateLifecycleAndProbes(c *v1.Container, grace *int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if lc := c.Lifecycle; lc != nil {
		lp := p.Child("lifecycle")
		if lc.PostStart != nil {
			errs = append(errs, validateHandler(handlerOf(lc.PostStart), c, grace, lp.Child("postStart"))...)
		}
		if lc.PreStop != nil {
			errs = append(errs, validateHandler(handlerOf(lc.PreStop), c, grace, lp.Child("preStop"))...)
		}
	}
	if pr := c.LivenessProbe; pr != nil {
		pp := p.Child("livenessProbe")
		errs = append(errs, validateProbe(pr, c, grace, pp)...)
		if pr.SuccessThreshold != 1 {
			errs = append(errs, field.Invalid(pp.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
		}
	}
	if pr := c.ReadinessProbe; pr != nil {
		pp := p.Child("readinessProbe")
		errs = append(errs, validateProbe(pr, c, grace, pp)...)
		if pr.TerminationGracePeriodSeconds != nil {
			errs = append(errs, field.Invalid(pp.Child("terminationGracePeriodSeconds"), *pr.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
		}
	}
	if pr := c.StartupProbe; pr != nil {
		pp := p.Child("startupProbe")
		errs = append(errs, validateProbe(pr, c, grace, pp)...)
		if pr.SuccessThreshold != 1 {
			errs = append(errs, field.Invalid(pp.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
		}
	}
	return errs
}

func validateProbe(pr *v1.Probe, c *v1.Container, grace *int64, p *field.Path) field.ErrorList {
	h := handler{exec: pr.Exec, httpGet: pr.HTTPGet, tcpSocket: pr.TCPSocket, grpc: pr.GRPC}
	errs := validateHandler(h, c, grace, p)
	for _, f := range []struct {
		name string
		v    int32
	}{
		{"initialDelaySeconds", pr.InitialDelaySeconds},
		{"timeoutSeconds", pr.TimeoutSeconds},
		{"periodSeconds", pr.PeriodSeconds},
		{"successThreshold", pr.SuccessThreshold},
		{"failureThreshold", pr.FailureThreshold},
	} {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(f.v), p.Child(f.name))...)
	}
	if t := pr.TerminationGracePeriodSeconds; t != nil && *t <= 0 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *t, "must be greater than 0"))
	}
	return errs
}

type handler struct {
	exec      *v1.ExecAction
	httpGet   *v1.HTTPGetAction
	tcpSocket *v1.TCPSocketAction
	grpc      *v1.GRPCAction
	sleep     *v1.SleepAction
}

func handlerOf(h *v1.LifecycleHandler) handler {
	return handler{exec: h.Exec, httpGet: h.HTTPGet, tcpSocket: h.TCPSocket, sleep: h.Sleep}
}

// validateHandler requires exactly one action, as the API server does for
// probes and lifecycle hooks.
func validateHandler(h handler, c *v1.Container, grace *int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	one := func(name string) bool {
		if n > 0 {
			errs = append(errs, field.Forbidden(p.Child(name), "may not specify more than 1 handler type"))
			return false
		}
		n++
		return true
	}
	if h.exec != nil && one("exec") && len(h.exec.Command) == 0 {
		errs = append(errs, field.Required(p.Child("exec", "command"), ""))
	}
	if h.httpGet != nil && one("httpGet") {
		hp := p.Child("httpGet")
		if h.httpGet.Path == "" {
			errs = append(errs, field.Required(hp.Child("path"), ""))
		}
		errs = append(errs, validatePortNumOrName(h.httpGet.Port, c, hp.Child("port"))...)
		if !contains(supportedHTTPSchemes, h.httpGet.Scheme) {
			errs = append(errs, field.NotSupported(hp.Child("scheme"), h.httpGet.Scheme, supportedHTTPSchemes))
		}
		for _, hdr := range h.httpGet.HTTPHeaders {
			for _, msg := range validation.IsHTTPHeaderName(hdr.Name) {
				errs = append(errs, field.Invalid(hp.Child("httpHeaders"), hdr.Name, msg))
			}
		}
	}
	if h.tcpSocket != nil && one("tcpSocket") {
		errs = append(errs, validatePortNumOrName(h.tcpSocket.Port, c, p.Child("tcpSocket", "port"))...)
	}
	if h.grpc != nil && one("grpc") {
		for _, msg := range validation.IsValidPortNum(int(h.grpc.Port)) {
			errs = append(errs, field.Invalid(p.Child("grpc", "port"), h.grpc.Port, msg))
		}
	}
	if h.sleep != nil && one("sleep") && grace != nil {
		if s := h.sleep.Seconds; s < 0 || s > *grace {
			errs = append(errs, field.Invalid(p.Child("sleep"), s, fmt.Sprintf("must be non-negative and less than terminationGracePeriodSeconds (%d)", *grace)))
		}
	}
	if n == 0 {
		errs = append(errs, field.Required(p, "must specify a handler type"))
	}
	return errs
}

// validatePortNumOrName checks a probe or hook port. Beyond the API server,
// a named port must be one the container declares: the kubelet could never
// resolve it, and the probe would fail forever.
func validatePortNumOrName(port intstr.IntOrString, c *v1.Container, p *field.Path) field.ErrorList {
	if port.Type == intstr.Int {
		var errs field.ErrorList
		for _, msg := range validation.IsValidPortNum(port.IntValue()) {
			errs = append(errs, field.Invalid(p, port.IntValue(), msg))
		}
		return errs
	}
	if msgs := validation.IsValidPortName(port.StrVal); len(msgs) > 0 {
		var errs field.ErrorList
		for _, msg := range msgs {
			errs = append(errs, field.Invalid(p, port.StrVal, msg))
		}
		return errs
	}
	for _, cp := range c.Ports {
		if cp.Name == port.StrVal {
			return nil
		}
	}
	return field.ErrorList{{Type: field.ErrorTypeNotFound, Field: p.String(), BadValue: port.StrVal,
		Detail: fmt.Sprintf("container %q has no port with this name", c.Name)}}
}

// validateResources: names are standard or extended resources, quantities
// are non-negative, requests are at most limits (equal for resources that
// cannot be overcommitted).
func validateResources(r *v1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	limPath, reqPath := p.Child("limits"), p.Child("requests")
	hasCPUOrMemory, hasHugePages := false, false
	for _, name := range sortedResourceNames(r.Limits) {
		q := r.Limits[v1.ResourceName(name)]
		fp := limPath.Key(name)
		errs = append(errs, validateResourceName(v1.ResourceName(name), fp)...)
		errs = append(errs, validateQuantityValue(v1.ResourceName(name), q, fp)...)
		hasCPUOrMemory = hasCPUOrMemory || name == string(v1.ResourceCPU) || name == string(v1.ResourceMemory)
		hasHugePages = hasHugePages || strings.HasPrefix(name, v1.ResourceHugePagesPrefix)
	}
	for _, name := range sortedResourceNames(r.Requests) {
		q := r.Requests[v1.ResourceName(name)]
		fp := reqPath.Key(name)
		errs = append(errs, validateResourceName(v1.ResourceName(name), fp)...)
		errs = append(errs, validateQuantityValue(v1.ResourceName(name), q, fp)...)
		limit, hasLimit := r.Limits[v1.ResourceName(name)]
		switch {
		case hasLimit && q.Cmp(limit) != 0 && !overcommitAllowed(name):
			errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
		case hasLimit && q.Cmp(limit) > 0:
			errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		case !hasLimit && !overcommitAllowed(name):
			errs = append(errs, field.Required(limPath, "Limit must be set for non overcommitable resources"))
		}
		hasCPUOrMemory = hasCPUOrMemory || name == string(v1.ResourceCPU) || name == string(v1.ResourceMemory)
		hasHugePages = hasHugePages || strings.HasPrefix(name, v1.ResourceHugePagesPrefix)
	}
	if hasHugePages && !hasCPUOrMemory {
		errs = append(errs, field.Forbidden(p, "HugePages require cpu or memory"))
	}
	return errs
}

func sortedResourceNames(list v1.ResourceList) []string {
	names := make([]string, 0, len(list))
	for n := range list {
		names = append(names, string(n))
	}
	sort.Strings(names)
	return names
}

func isNativeResource(name string) bool {
	return !strings.Contains(name, "/") || strings.Contains(name, "kubernetes.io/")
}

// overcommitAllowed: requests may be below limits only for native
// resources other than hugepages.
func overcommitAllowed(name string) bool {
	return isNativeResource(name) && !strings.HasPrefix(name, v1.ResourceHugePagesPrefix)
}

func validateResourceName(name v1.ResourceName, p *field.Path) field.ErrorList {
	s := string(name)
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(s) {
		errs = append(errs, field.Invalid(p, s, msg))
	}
	if len(errs) > 0 {
		return errs
	}
	if !strings.Contains(s, "/") {
		switch {
		case name == v1.ResourceCPU, name == v1.ResourceMemory, name == v1.ResourceEphemeralStorage, strings.HasPrefix(s, v1.ResourceHugePagesPrefix):
		default:
			errs = append(errs, field.Invalid(p, s, "must be a standard resource for containers"))
		}
	} else if !isNativeResource(s) && strings.HasPrefix(s, v1.DefaultResourceRequestsPrefix) {
		// An extended resource may not look like a quota's "requests.x".
		errs = append(errs, field.Invalid(p, s, "doesn't follow extended resource name standard"))
	}
	return errs
}

func validateQuantityValue(name v1.ResourceName, q resource.Quantity, p *field.Path) field.ErrorList {
	if q.Sign() < 0 {
		return field.ErrorList{field.Invalid(p, q.String(), apivalidation.IsNegativeErrorMsg)}
	}
	// Extended resources are counted in whole units.
	if !isNativeResource(string(name)) && q.MilliValue()%1000 != 0 {
		return field.ErrorList{field.Invalid(p, q.String(), "must be an integer")}
	}
	return nil
}

func validateResizePolicy(policies []v1.ContainerResizePolicy, podRestart v1.RestartPolicy, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[v1.ResourceName]bool{}
	for i, rp := range policies {
		if seen[rp.ResourceName] {
			errs = append(errs, field.Duplicate(p.Index(i), rp.ResourceName))
		}
		seen[rp.ResourceName] = true
		switch rp.ResourceName {
		case v1.ResourceCPU, v1.ResourceMemory:
		case "":
			errs = append(errs, field.Required(p, ""))
		default:
			errs = append(errs, field.NotSupported(p, rp.ResourceName, supportedResizeResources))
		}
		switch rp.RestartPolicy {
		case v1.NotRequired, v1.RestartContainer:
		case "":
			errs = append(errs, field.Required(p, ""))
		default:
			errs = append(errs, field.NotSupported(p, rp.RestartPolicy, supportedResizePolicies))
		}
		if podRestart == v1.RestartPolicyNever && rp.RestartPolicy != v1.NotRequired {
			errs = append(errs, field.Invalid(p, rp.RestartPolicy, "must be 'NotRequired' when `restartPolicy` is 'Never'"))
		}
	}
	return errs
}

func validateSecurityContext(sc *v1.SecurityContext, p *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	if sc.RunAsUser != nil {
		for _, msg := range validation.IsValidUserID(*sc.RunAsUser) {
			errs = append(errs, field.Invalid(p.Child("runAsUser"), *sc.RunAsUser, msg))
		}
	}
	if sc.RunAsGroup != nil {
		for _, msg := range validation.IsValidGroupID(*sc.RunAsGroup) {
			errs = append(errs, field.Invalid(p.Child("runAsGroup"), *sc.RunAsGroup, msg))
		}
	}
	if sc.ProcMount != nil && !contains(supportedProcMounts, *sc.ProcMount) {
		errs = append(errs, field.NotSupported(p.Child("procMount"), *sc.ProcMount, supportedProcMounts))
	}
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		if sc.Privileged != nil && *sc.Privileged {
			errs = append(errs, field.Invalid(p, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		if sc.Capabilities != nil {
			for _, c := range sc.Capabilities.Add {
				if c == "SYS_ADMIN" || c == "CAP_SYS_ADMIN" {
					errs = append(errs, field.Invalid(p, sc, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
				}
			}
		}
	}
	errs = append(errs, validateSeccompProfile(sc.SeccompProfile, p.Child("seccompProfile"))...)
	errs = append(errs, validateAppArmorProfile(sc.AppArmorProfile, p.Child("appArmorProfile"))...)
	return errs
}

func validatePodSecurityContext(spec *v1.PodSpec, p *field.Path) field.ErrorList {
	sc := spec.SecurityContext
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	if sc.FSGroup != nil {
		for _, msg := range validation.IsValidGroupID(*sc.FSGroup) {
			errs = append(errs, field.Invalid(p.Child("fsGroup"), *sc.FSGroup, msg))
		}
	}
	if sc.RunAsUser != nil {
		for _, msg := range validation.IsValidUserID(*sc.RunAsUser) {
			errs = append(errs, field.Invalid(p.Child("runAsUser"), *sc.RunAsUser, msg))
		}
	}
	if sc.RunAsGroup != nil {
		for _, msg := range validation.IsValidGroupID(*sc.RunAsGroup) {
			errs = append(errs, field.Invalid(p.Child("runAsGroup"), *sc.RunAsGroup, msg))
		}
	}
	for i, gid := range sc.SupplementalGroups {
		for _, msg := range validation.IsValidGroupID(gid) {
			errs = append(errs, field.Invalid(p.Child("supplementalGroups").Index(i), gid, msg))
		}
	}
	if spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace && spec.HostPID {
		errs = append(errs, field.Invalid(p.Child("shareProcessNamespace"), *spec.ShareProcessNamespace, "ShareProcessNamespace and HostPID cannot both be enabled"))
	}
	names := map[string]bool{}
	for i, s := range sc.Sysctls {
		sp := p.Child("sysctls").Index(i).Child("name")
		switch {
		case s.Name == "":
			errs = append(errs, field.Required(sp, ""))
		case !validSysctlName(s.Name):
			errs = append(errs, field.Invalid(sp, s.Name, "must have at most 253 characters and match regex "+sysctlPattern))
		case names[s.Name]:
			errs = append(errs, field.Duplicate(sp, s.Name))
		}
		names[s.Name] = true
	}
	if sc.FSGroupChangePolicy != nil && !contains(supportedFSGroupPolicies, *sc.FSGroupChangePolicy) {
		errs = append(errs, field.NotSupported(p.Child("fsGroupChangePolicy"), *sc.FSGroupChangePolicy, supportedFSGroupPolicies))
	}
	errs = append(errs, validateSeccompProfile(sc.SeccompProfile, p.Child("seccompProfile"))...)
	errs = append(errs, validateAppArmorProfile(sc.AppArmorProfile, p.Child("appArmorProfile"))...)
	return errs
}

func validateSeccompProfile(sp *v1.SeccompProfile, p *field.Path) field.ErrorList {
	if sp == nil {
		return nil
	}
	switch sp.Type {
	case v1.SeccompProfileTypeLocalhost:
		if sp.LocalhostProfile == nil || *sp.LocalhostProfile == "" {
			return field.ErrorList{field.Required(p.Child("localhostProfile"), "must be set when seccomp type is Localhost")}
		}
		return localDescendingPath(*sp.LocalhostProfile, p.Child("localhostProfile"))
	case v1.SeccompProfileTypeRuntimeDefault, v1.SeccompProfileTypeUnconfined:
		if sp.LocalhostProfile != nil {
			return field.ErrorList{field.Invalid(p.Child("localhostProfile"), sp.LocalhostProfile, "can only be set when seccomp type is Localhost")}
		}
	case "":
		return field.ErrorList{field.Required(p.Child("type"), "type is required when seccompProfile is set")}
	default:
		return field.ErrorList{field.NotSupported(p.Child("type"), sp.Type, supportedSeccompTypes)}
	}
	return nil
}

func validateAppArmorProfile(ap *v1.AppArmorProfile, p *field.Path) field.ErrorList {
	if ap == nil {
		return nil
	}
	switch ap.Type {
	case v1.AppArmorProfileTypeLocalhost:
		if ap.LocalhostProfile == nil || strings.TrimSpace(*ap.LocalhostProfile) == "" {
			return field.ErrorList{field.Required(p.Child("localhostProfile"), "must be set when AppArmor type is Localhost")}
		}
	case v1.AppArmorProfileTypeRuntimeDefault, v1.AppArmorProfileTypeUnconfined:
		if ap.LocalhostProfile != nil {
			return field.ErrorList{field.Invalid(p.Child("localhostProfile"), ap.LocalhostProfile, "can only be set when AppArmor type is Localhost")}
		}
	case "":
		return field.ErrorList{field.Required(p.Child("type"), "type is required when appArmorProfile is set")}
	default:
		return field.ErrorList{field.NotSupported(p.Child("type"), ap.Type, supportedAppArmorTypes)}
	}
	return nil
}

func validateDNSConfig(dc *v1.PodDNSConfig, policy v1.DNSPolicy, p *field.Path) field.ErrorList {
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

// validateNoAPIReferences rejects what a static pod may not use: anything
// read from the API server. The kubelet refuses such static pods
// (PreventStaticPodAPIReferences) and the API server refuses their mirror
// pods; here there is no API server to read them from at all.
func validateNoAPIReferences(spec *v1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	forbid := func(fp *field.Path, what string) {
		errs = append(errs, field.Forbidden(fp, fmt.Sprintf(
			"static pods may not reference %s: the API server rejects mirror pods that reference API objects, and a static pod must run without one", what)))
	}
	if spec.ServiceAccountName != "" {
		forbid(p.Child("serviceAccountName"), "serviceaccounts")
	} else if spec.DeprecatedServiceAccount != "" {
		forbid(p.Child("serviceAccount"), "serviceaccounts")
	}
	if len(spec.ImagePullSecrets) > 0 {
		forbid(p.Child("imagePullSecrets"), "secrets")
	}
	if len(spec.ResourceClaims) > 0 {
		forbid(p.Child("resourceClaims"), "resourceclaims")
	}
	containers := func(list string, cs []v1.Container) {
		for i, c := range cs {
			cp := p.Child(list).Index(i)
			for j, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				vp := cp.Child("env").Index(j).Child("valueFrom")
				if e.ValueFrom.SecretKeyRef != nil {
					forbid(vp.Child("secretKeyRef"), "secrets")
				}
				if e.ValueFrom.ConfigMapKeyRef != nil {
					forbid(vp.Child("configMapKeyRef"), "configmaps")
				}
			}
			for j, ef := range c.EnvFrom {
				ep := cp.Child("envFrom").Index(j)
				if ef.SecretRef != nil {
					forbid(ep.Child("secretRef"), "secrets")
				}
				if ef.ConfigMapRef != nil {
					forbid(ep.Child("configMapRef"), "configmaps")
				}
			}
			if len(c.Resources.Claims) > 0 {
				forbid(cp.Child("resources", "claims"), "resourceclaims")
			}
		}
	}
	containers("initContainers", spec.InitContainers)
	containers("containers", spec.Containers)
	ephemeral := make([]v1.Container, len(spec.EphemeralContainers))
	for i := range spec.EphemeralContainers {
		ephemeral[i] = v1.Container(spec.EphemeralContainers[i].EphemeralContainerCommon)
	}
	containers("ephemeralContainers", ephemeral)

	for i, vol := range spec.Volumes {
		vp := p.Child("volumes").Index(i)
		src := &vol.VolumeSource
		switch {
		case src.Secret != nil:
			forbid(vp.Child("secret"), "secrets")
		case src.ConfigMap != nil:
			forbid(vp.Child("configMap"), "configmaps")
		case src.PersistentVolumeClaim != nil:
			forbid(vp.Child("persistentVolumeClaim"), "persistentvolumeclaims")
		case src.Ephemeral != nil:
			forbid(vp.Child("ephemeral"), "persistentvolumeclaims (via ephemeral volumes)")
		case src.CSI != nil:
			forbid(vp.Child("csi"), "csidrivers (via CSI volumes)")
		case src.Glusterfs != nil:
			forbid(vp.Child("glusterfs"), "endpoints (via glusterfs volumes)")
		case src.AzureFile != nil:
			forbid(vp.Child("azureFile"), "secrets (via azureFile volumes)")
		case src.CephFS != nil && src.CephFS.SecretRef != nil:
			forbid(vp.Child("cephfs", "secretRef"), "secrets")
		case src.Cinder != nil && src.Cinder.SecretRef != nil:
			forbid(vp.Child("cinder", "secretRef"), "secrets")
		case src.FlexVolume != nil && src.FlexVolume.SecretRef != nil:
			forbid(vp.Child("flexVolume", "secretRef"), "secrets")
		case src.RBD != nil && src.RBD.SecretRef != nil:
			forbid(vp.Child("rbd", "secretRef"), "secrets")
		case src.ScaleIO != nil && src.ScaleIO.SecretRef != nil:
			forbid(vp.Child("scaleIO", "secretRef"), "secrets")
		case src.ISCSI != nil && src.ISCSI.SecretRef != nil:
			forbid(vp.Child("iscsi", "secretRef"), "secrets")
		case src.StorageOS != nil && src.StorageOS.SecretRef != nil:
			forbid(vp.Child("storageos", "secretRef"), "secrets")
		case src.Projected != nil:
			for j, s := range src.Projected.Sources {
				sp := vp.Child("projected", "sources").Index(j)
				switch {
				case s.Secret != nil:
					forbid(sp.Child("secret"), "secrets (via projected volumes)")
				case s.ConfigMap != nil:
					forbid(sp.Child("configMap"), "configmaps (via projected volumes)")
				case s.ServiceAccountToken != nil:
					forbid(sp.Child("serviceAccountToken"), "serviceaccounts (via projected volumes)")
				case s.ClusterTrustBundle != nil:
					forbid(sp.Child("clusterTrustBundle"), "clustertrustbundles")
				case s.PodCertificate != nil:
					forbid(sp.Child("podCertificate"), "podcertificates")
				case s.DownwardAPI != nil:
				default:
					errs = append(errs, field.Required(sp, "must specify a projection source"))
				}
			}
		}
	}
	return errs
}

const sysctlPattern = `^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`

var sysctlRE = regexp.MustCompile(sysctlPattern)

func validSysctlName(name string) bool {
	if len(name) > 253 {
		return false
	}
	return sysctlRE.MatchString(name)
}

func dns1123Label(v string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}

func dns1123Subdomain(v string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}

func qualifiedName(v string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}

// noBacksteps rejects a path with a ".." element.
func noBacksteps(target string, p *field.Path) field.ErrorList {
	for _, part := range strings.Split(filepath.ToSlash(target), "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(p, target, "must not contain '..'")}
		}
	}
	return nil
}

// localDescendingPath: relative, no "..".
func localDescendingPath(target string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path.IsAbs(target) {
		errs = append(errs, field.Invalid(p, target, "must be a relative path"))
	}
	return append(errs, noBacksteps(target, p)...)
}

func localNonReservedPath(target string, p *field.Path) field.ErrorList {
	errs := localDescendingPath(target, p)
	if strings.HasPrefix(target, "..") && !strings.HasPrefix(target, "../") {
		errs = append(errs, field.Invalid(p, target, "must not start with '..'"))
	}
	return errs
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
