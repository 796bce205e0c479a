package staticpods

// What this node's kernel and runtime lack among the security features a
// manifest may ask for: refused when the file is read, with the field and
// what would work, rather than accepted and silently not applied.

import (
	"fmt"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// NodeFeatures is what the node offers that a manifest may depend on,
// learnt once when the daemon starts. The zero value is a node with no
// Linux security module and a runtime whose handlers are not known.
type NodeFeatures struct {
	// AppArmor and SELinux say whether the host enforces them.
	AppArmor bool
	SELinux  bool
	// RuntimeHandlers are the handlers the runtime reports, by name, the
	// default one under "". Nil means not known: runtimeClassName is then
	// left to the runtime, and recursive read-only mounts are refused.
	RuntimeHandlers map[string]RuntimeHandler
}

// RuntimeHandler is one runtime handler (a RuntimeClass's handler) and what
// it supports.
type RuntimeHandler struct {
	RecursiveReadOnlyMounts bool
}

// The kubelet's reason for a pod that asks for a sysctl it does not allow
// (pkg/kubelet/sysctl: ForbiddenReason).
const reasonSysctlForbidden = "SysctlForbidden"

// safeSysctls is the kubelet's safe set (pkg/kubelet/sysctl/safe_sysctls.go,
// SafeSysctlAllowlist), each namespaced by the pod's network namespace
// except kernel.shm_rmid_forced (IPC). The kernel versions upstream checks
// for some of them are far below any kernel containerd 1.6 runs on.
var safeSysctls = map[string]string{
	"kernel.shm_rmid_forced":              "ipc",
	"net.ipv4.ip_local_port_range":        "net",
	"net.ipv4.tcp_syncookies":             "net",
	"net.ipv4.ping_group_range":           "net",
	"net.ipv4.ip_unprivileged_port_start": "net",
	"net.ipv4.ip_local_reserved_ports":    "net",
	"net.ipv4.tcp_keepalive_time":         "net",
	"net.ipv4.tcp_fin_timeout":            "net",
	"net.ipv4.tcp_keepalive_intvl":        "net",
	"net.ipv4.tcp_keepalive_probes":       "net",
	"net.ipv4.tcp_rmem":                   "net",
	"net.ipv4.tcp_wmem":                   "net",
}

// deprecatedAppArmorAnnotationPrefix is the beta annotation that still
// sets a container's AppArmor profile (v1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix).
const deprecatedAppArmorAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/"

// validateNodeSecurity checks the security features the pod asks for
// against what the node has.
func validateNodeSecurity(pod *v1.Pod, node NodeFeatures, p *field.Path) field.ErrorList {
	spec := &pod.Spec
	var errs field.ErrorList
	if spec.HostUsers != nil && !*spec.HostUsers {
		errs = append(errs, field.Forbidden(p.Child("hostUsers"),
			"user namespaces are not supported by this node's runtime (containerd 1.6 cannot create them; containerd 2.0 or later can): remove hostUsers or set it to true"))
	}
	if psc := spec.SecurityContext; psc != nil {
		sp := p.Child("securityContext")
		errs = append(errs, validateLSMSupport(psc.AppArmorProfile, psc.SELinuxOptions, node, sp)...)
		errs = append(errs, validateSysctlsAllowed(psc.Sysctls, spec.HostNetwork, spec.HostIPC, sp.Child("sysctls"))...)
	}
	visit := func(containers []v1.Container, cp *field.Path) {
		for i := range containers {
			c := &containers[i]
			if sc := c.SecurityContext; sc != nil {
				errs = append(errs, validateLSMSupport(sc.AppArmorProfile, sc.SELinuxOptions, node, cp.Index(i).Child("securityContext"))...)
			}
			errs = append(errs, validateRecursiveReadOnlySupport(c, spec.RuntimeClassName, node, cp.Index(i).Child("volumeMounts"))...)
		}
	}
	visit(spec.InitContainers, p.Child("initContainers"))
	visit(spec.Containers, p.Child("containers"))
	if !node.AppArmor {
		for _, k := range sortedKeys(pod.Annotations) {
			if strings.HasPrefix(k, deprecatedAppArmorAnnotationPrefix) && pod.Annotations[k] != "unconfined" {
				errs = append(errs, field.Forbidden(field.NewPath("metadata", "annotations").Key(k), appArmorMissing))
			}
		}
	}
	return append(errs, validateRuntimeHandler(spec.RuntimeClassName, node, p.Child("runtimeClassName"))...)
}

// appArmorMissing is the kubelet's admission message for an AppArmor
// profile on a host without AppArmor (pkg/security/apparmor/validate.go),
// with what would work.
const appArmorMissing = "Cannot enforce AppArmor: AppArmor is not enabled on the host; use type Unconfined or remove the profile"

func validateLSMSupport(ap *v1.AppArmorProfile, se *v1.SELinuxOptions, node NodeFeatures, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	// As the kubelet: an Unconfined profile needs no AppArmor.
	if ap != nil && ap.Type != v1.AppArmorProfileTypeUnconfined && !node.AppArmor {
		errs = append(errs, field.Forbidden(p.Child("appArmorProfile"), appArmorMissing))
	}
	// The runtime would accept these options and ignore them.
	if se != nil && !node.SELinux {
		errs = append(errs, field.Forbidden(p.Child("seLinuxOptions"), "SELinux is not enabled on this node, so the runtime would ignore these options: remove seLinuxOptions"))
	}
	return errs
}

// validateSysctlsAllowed refuses, as the kubelet's sysctl admission does,
// a sysctl outside the safe set (minikubelet has no allowedUnsafeSysctls)
// or one of the namespace the pod shares with the host.
func validateSysctlsAllowed(sysctls []v1.Sysctl, hostNet, hostIPC bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, s := range sysctls {
		name := normalizeSysctlName(s.Name)
		ns, safe := safeSysctls[name]
		var msg string
		switch {
		case !safe:
			msg = fmt.Sprintf("%q not allowlisted; this node allows only the kubelet's safe sysctls (%s)", name, strings.Join(sortedKeys(safeSysctls), ", "))
		case ns == "net" && hostNet, ns == "ipc" && hostIPC:
			msg = fmt.Sprintf("%q not allowed with host %s enabled", name, ns)
		default:
			continue
		}
		errs = append(errs, field.Forbidden(p.Index(i).Child("name"), fmt.Sprintf("%s: forbidden sysctl: %s", reasonSysctlForbidden, msg)))
	}
	return errs
}

// normalizeSysctlName turns a name written with '/' separators into the
// dotted form, as the kubelet's utilsysctl.NormalizeName: a '.' in a
// slashed name is part of a component and becomes '/'.
func normalizeSysctlName(name string) string {
	first := strings.IndexAny(name, "./")
	if first == -1 || name[first] == '.' {
		return name
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '.':
			return '/'
		case '/':
			return '.'
		}
		return r
	}, name)
}

func validateRecursiveReadOnlySupport(c *v1.Container, runtimeClass *string, node NodeFeatures, p *field.Path) field.ErrorList {
	handler := ""
	if runtimeClass != nil {
		handler = *runtimeClass
	}
	var errs field.ErrorList
	for i, m := range c.VolumeMounts {
		if m.RecursiveReadOnly == nil || *m.RecursiveReadOnly != v1.RecursiveReadOnlyEnabled {
			continue
		}
		if h, ok := node.RuntimeHandlers[handler]; ok && h.RecursiveReadOnlyMounts {
			continue
		}
		// The kubelet fails such a container at creation; here the file is
		// refused at once.
		errs = append(errs, field.Forbidden(p.Index(i).Child("recursiveReadOnly"), fmt.Sprintf(
			"the runtime handler %q does not report support for recursive read-only mounts (containerd 1.6 does not have them; containerd 2.0 on Linux 5.12 or later does): use IfPossible or Disabled", handlerName(handler))))
	}
	return errs
}

// validateRuntimeHandler: runtimeClassName names the runtime handler
// directly (there are no RuntimeClass objects without an API server), and
// it must be one the runtime serves.
func validateRuntimeHandler(runtimeClass *string, node NodeFeatures, p *field.Path) field.ErrorList {
	if runtimeClass == nil || node.RuntimeHandlers == nil {
		return nil
	}
	if _, ok := node.RuntimeHandlers[*runtimeClass]; ok {
		return nil
	}
	var names []string
	for name := range node.RuntimeHandlers {
		if name != "" {
			names = append(names, strconvQuote(name))
		}
	}
	sort.Strings(names)
	return field.ErrorList{field.Invalid(p, *runtimeClass, fmt.Sprintf(
		"the runtime has no handler of this name (it serves %s): with no API server, runtimeClassName names the runtime handler itself", strings.Join(names, ", ")))}
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

func handlerName(h string) string {
	if h == "" {
		return "default"
	}
	return h
}
