package podworker

// The parts of a container's CRI security context the kubelet derives
// beyond the plain fields (pkg/kubelet/kuberuntime/security_context.go and
// security_context_others.go): the runAsNonRoot check against the image's
// user, seccomp and AppArmor profiles, SELinux options and the masked and
// read-only /proc paths.

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// seccompProfileDir is the kubelet's seccomp profile root under its root
// directory (--root-dir): Localhost profiles are relative to it.
const seccompProfileDir = "seccomp"

// The /proc paths a Default procMount masks and makes read-only, as the
// kubelet sets them (pkg/securitycontext/util.go, defaultMaskedPaths and
// defaultReadonlyPaths).
var (
	defaultMaskedPaths = []string{
		"/proc/asound",
		"/proc/acpi",
		"/proc/kcore",
		"/proc/keys",
		"/proc/latency_stats",
		"/proc/timer_list",
		"/proc/timer_stats",
		"/proc/sched_debug",
		"/proc/scsi",
		"/sys/firmware",
		"/sys/devices/virtual/powercap",
	}
	defaultReadonlyPaths = []string{
		"/proc/bus",
		"/proc/fs",
		"/proc/irq",
		"/proc/sys",
		"/proc/sysrq-trigger",
	}
)

// effectiveSecurity is the part of a container's security context that
// falls back to the pod's, as the kubelet's DetermineEffectiveSecurityContext.
type effectiveSecurity struct {
	RunAsUser    *int64
	RunAsNonRoot *bool
	Seccomp      *v1.SeccompProfile
	AppArmor     *v1.AppArmorProfile
	SELinux      *v1.SELinuxOptions
}

func effectiveSecurityOf(pod *v1.Pod, c *v1.Container) effectiveSecurity {
	var e effectiveSecurity
	if psc := pod.Spec.SecurityContext; psc != nil {
		e = effectiveSecurity{RunAsUser: psc.RunAsUser, RunAsNonRoot: psc.RunAsNonRoot, Seccomp: psc.SeccompProfile, AppArmor: psc.AppArmorProfile, SELinux: psc.SELinuxOptions}
	}
	if csc := c.SecurityContext; csc != nil {
		if csc.RunAsUser != nil {
			e.RunAsUser = csc.RunAsUser
		}
		if csc.RunAsNonRoot != nil {
			e.RunAsNonRoot = csc.RunAsNonRoot
		}
		if csc.SeccompProfile != nil {
			e.Seccomp = csc.SeccompProfile
		}
		if csc.AppArmorProfile != nil {
			e.AppArmor = csc.AppArmorProfile
		}
		if csc.SELinuxOptions != nil {
			e.SELinux = csc.SELinuxOptions
		}
	}
	return e
}

// needsImageUser says whether runAsNonRoot can only be checked against the
// user the image runs as.
func needsImageUser(pod *v1.Pod, c *v1.Container) bool {
	e := effectiveSecurityOf(pod, c)
	return e.RunAsNonRoot != nil && *e.RunAsNonRoot && e.RunAsUser == nil
}

// verifyRunAsNonRoot refuses a container that would run as root under
// runAsNonRoot. uid and username are the image's user (uid nil and username
// empty when the image names none: root). Messages are the kubelet's.
func verifyRunAsNonRoot(pod *v1.Pod, c *v1.Container, uid *int64, username string) error {
	e := effectiveSecurityOf(pod, c)
	if e.RunAsNonRoot == nil || !*e.RunAsNonRoot {
		return nil
	}
	if e.RunAsUser != nil {
		if *e.RunAsUser == 0 {
			return fmt.Errorf("container's runAsUser breaks non-root policy (pod: %q, container: %s)", formatPod(pod), c.Name)
		}
		return nil
	}
	switch {
	case uid == nil && username != "":
		return fmt.Errorf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root (pod: %q, container: %s)", username, formatPod(pod), c.Name)
	case uid == nil || *uid == 0:
		// As the kubelet's getImageUser: an image that names no user runs as root.
		return fmt.Errorf("container has runAsNonRoot and image will run as root (pod: %q, container: %s)", formatPod(pod), c.Name)
	}
	if errs := validation.IsValidUserID(*uid); len(errs) > 0 {
		return fmt.Errorf("container has runAsNonRoot and image has an invalid user id (%d). (Must be 1-(%d)): %s (pod: %q, container: %s)",
			*uid, math.MaxInt32, strings.Join(errs, "; "), formatPod(pod), c.Name)
	}
	return nil
}

// formatPod is how the kubelet names a pod in messages (format.Pod).
func formatPod(pod *v1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}

// imageUser is the user the image runs as, as the runtime reports it.
func (w *worker) imageUser(ctx context.Context, image string) (*int64, string, error) {
	st, err := w.m.cfg.Images.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: image}, false)
	if err != nil {
		return nil, "", fmt.Errorf("image status of %s: %w", image, err)
	}
	img := st.GetImage()
	if uid := img.GetUid(); uid != nil {
		v := uid.GetValue()
		return &v, "", nil
	}
	return nil, img.GetUsername(), nil
}

// addSecurityProfiles sets what the kubelet adds to the plain fields of a
// container's security context: seccomp, AppArmor, SELinux and the /proc
// masks. seccompRoot is where Localhost seccomp profiles live.
func addSecurityProfiles(sc *runtimeapi.LinuxContainerSecurityContext, pod *v1.Pod, c *v1.Container, seccompRoot string) {
	e := effectiveSecurityOf(pod, c)
	sc.Seccomp = seccompProfile(e.Seccomp, seccompRoot)
	//lint:ignore SA1019 containerd 1.6 reads only the deprecated string field
	sc.Apparmor, sc.ApparmorProfile = appArmorProfile(e.AppArmor)
	sc.SelinuxOptions = seLinuxOption(e.SELinux)
	var procMount *v1.ProcMountType
	if c.SecurityContext != nil {
		procMount = c.SecurityContext.ProcMount
	}
	sc.MaskedPaths, sc.ReadonlyPaths = procPaths(procMount)
}

// seccompProfile as the kubelet's fieldSeccompProfile with seccompDefault
// off: no profile is Unconfined.
func seccompProfile(p *v1.SeccompProfile, root string) *runtimeapi.SecurityProfile {
	if p == nil {
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}
	}
	switch p.Type {
	case v1.SeccompProfileTypeRuntimeDefault:
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}
	case v1.SeccompProfileTypeLocalhost:
		// Validation requires the profile's relative path.
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: filepath.Join(root, *p.LocalhostProfile)}
	default:
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}
	}
}

// appArmorProfile as the kubelet's getAppArmorProfile: the profile and,
// for runtimes that read only it, the deprecated profile string. No
// profile leaves the runtime's default.
func appArmorProfile(p *v1.AppArmorProfile) (*runtimeapi.SecurityProfile, string) {
	if p == nil {
		return nil, ""
	}
	switch p.Type {
	case v1.AppArmorProfileTypeRuntimeDefault:
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}, "runtime/default"
	case v1.AppArmorProfileTypeLocalhost:
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: *p.LocalhostProfile}, "localhost/" + *p.LocalhostProfile
	default:
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}, "unconfined"
	}
}

func seLinuxOption(o *v1.SELinuxOptions) *runtimeapi.SELinuxOption {
	if o == nil {
		return nil
	}
	return &runtimeapi.SELinuxOption{User: o.User, Role: o.Role, Type: o.Type, Level: o.Level}
}

// procPaths as the kubelet's ConvertToRuntimeMaskedPaths and
// ConvertToRuntimeReadonlyPaths: Unmasked masks nothing (an empty, not a
// nil, list, so the runtime adds none of its own).
func procPaths(pm *v1.ProcMountType) (masked, readonly []string) {
	if pm != nil && *pm == v1.UnmaskedProcMount {
		return []string{}, []string{}
	}
	return append([]string(nil), defaultMaskedPaths...), append([]string(nil), defaultReadonlyPaths...)
}
