package staticpods

// This file ports the security context checks of the API server's pod
// validation: k8s.io/kubernetes pkg/apis/core/validation/validation.go at
// v1.33, one function for each upstream function of the same name
// (exported ones unexported here), for the v1.Pod fields of k8s.io/api
// v0.37. Messages and field paths are the API server's.

import (
	"regexp"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const sysctlPattern = `^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`

var (
	sysctlRE = regexp.MustCompile(sysctlPattern)

	supportedProcMounts      = []v1.ProcMountType{v1.DefaultProcMount, v1.UnmaskedProcMount}
	supportedSeccompTypes    = []v1.SeccompProfileType{v1.SeccompProfileTypeLocalhost, v1.SeccompProfileTypeRuntimeDefault, v1.SeccompProfileTypeUnconfined}
	supportedAppArmorTypes   = []v1.AppArmorProfileType{v1.AppArmorProfileTypeLocalhost, v1.AppArmorProfileTypeRuntimeDefault, v1.AppArmorProfileTypeUnconfined}
	supportedFSGroupPolicies = []v1.PodFSGroupChangePolicy{v1.FSGroupChangeAlways, v1.FSGroupChangeOnRootMismatch}
)

func validateSecurityContext(sc *v1.SecurityContext, p *field.Path, hostUsers bool) field.ErrorList {
	if sc == nil {
		return nil
	}
	errs := validateRunAsIDs(sc.RunAsUser, sc.RunAsGroup, p)
	if sc.ProcMount != nil {
		if !contains(supportedProcMounts, *sc.ProcMount) {
			errs = append(errs, field.NotSupported(p.Child("procMount"), *sc.ProcMount, supportedProcMounts))
		}
		if hostUsers && *sc.ProcMount == v1.UnmaskedProcMount {
			errs = append(errs, field.Invalid(p.Child("procMount"), *sc.ProcMount, "`hostUsers` must be false to use `Unmasked`"))
		}
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
	errs = append(errs, validateSeccompProfileField(sc.SeccompProfile, p.Child("seccompProfile"))...)
	errs = append(errs, validateAppArmorProfileField(sc.AppArmorProfile, p.Child("appArmorProfile"))...)
	return errs
}

// validateRunAsIDs checks the user and group a pod's or a container's
// processes run as.
func validateRunAsIDs(user, group *int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if user != nil {
		for _, msg := range validation.IsValidUserID(*user) {
			errs = append(errs, field.Invalid(p.Child("runAsUser"), *user, msg))
		}
	}
	if group != nil {
		for _, msg := range validation.IsValidGroupID(*group) {
			errs = append(errs, field.Invalid(p.Child("runAsGroup"), *group, msg))
		}
	}
	return errs
}

func validatePodSpecSecurityContext(spec *v1.PodSpec, p *field.Path) field.ErrorList {
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
	errs = append(errs, validateRunAsIDs(sc.RunAsUser, sc.RunAsGroup, p)...)
	for i, gid := range sc.SupplementalGroups {
		for _, msg := range validation.IsValidGroupID(gid) {
			errs = append(errs, field.Invalid(p.Child("supplementalGroups").Index(i), gid, msg))
		}
	}
	if spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace && spec.HostPID {
		errs = append(errs, field.Invalid(p.Child("shareProcessNamespace"), *spec.ShareProcessNamespace, "ShareProcessNamespace and HostPID cannot both be enabled"))
	}
	errs = append(errs, validateSysctls(sc.Sysctls, p.Child("sysctls"))...)
	errs = append(errs, validateFSGroupChangePolicy(sc.FSGroupChangePolicy, p.Child("fsGroupChangePolicy"))...)
	errs = append(errs, validateSeccompProfileField(sc.SeccompProfile, p.Child("seccompProfile"))...)
	errs = append(errs, validateAppArmorProfileField(sc.AppArmorProfile, p.Child("appArmorProfile"))...)
	return errs
}

func validateSysctls(sysctls []v1.Sysctl, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, s := range sysctls {
		sp := p.Index(i).Child("name")
		switch {
		case s.Name == "":
			errs = append(errs, field.Required(sp, ""))
		case !isValidSysctlName(s.Name):
			errs = append(errs, field.Invalid(sp, s.Name, "must have at most 253 characters and match regex "+sysctlPattern))
		case names[s.Name]:
			errs = append(errs, field.Duplicate(sp, s.Name))
		}
		names[s.Name] = true
	}
	return errs
}

func isValidSysctlName(name string) bool {
	if len(name) > 253 {
		return false
	}
	return sysctlRE.MatchString(name)
}

func validateFSGroupChangePolicy(policy *v1.PodFSGroupChangePolicy, p *field.Path) field.ErrorList {
	if policy != nil && !contains(supportedFSGroupPolicies, *policy) {
		return field.ErrorList{field.NotSupported(p, *policy, supportedFSGroupPolicies)}
	}
	return nil
}

func validateSeccompProfileField(sp *v1.SeccompProfile, p *field.Path) field.ErrorList {
	if sp == nil {
		return nil
	}
	switch sp.Type {
	case v1.SeccompProfileTypeLocalhost:
		if sp.LocalhostProfile == nil || *sp.LocalhostProfile == "" {
			return field.ErrorList{field.Required(p.Child("localhostProfile"), "must be set when seccomp type is Localhost")}
		}
		return validateLocalDescendingPath(*sp.LocalhostProfile, p.Child("localhostProfile"))
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

func validateAppArmorProfileField(ap *v1.AppArmorProfile, p *field.Path) field.ErrorList {
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
