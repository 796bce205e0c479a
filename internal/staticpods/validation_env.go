package staticpods

// This file ports the environment checks of the API server's pod
// validation, with the downward API field selectors that env and
// downwardAPI volumes share: k8s.io/kubernetes
// pkg/apis/core/validation/validation.go at v1.33, one function for each
// upstream function of the same name (exported ones unexported here), for
// the v1.Pod fields of k8s.io/api v0.37 (fileKeyRef is newer than
// v1.33). Messages and field paths are the API server's.

import (
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	validEnvFieldPaths    = []string{"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"}
	validResourceFields   = []string{"limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"}
	validResourceDivisors = []string{"1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"}
)

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
		errs = append(errs, validateEnvVarValueFrom(ev, vols, ep.Child("valueFrom"))...)
	}
	return errs
}

func validateEnvVarValueFrom(ev v1.EnvVar, vols map[string]*v1.VolumeSource, p *field.Path) field.ErrorList {
	vf := ev.ValueFrom
	if vf == nil {
		return nil
	}
	var errs field.ErrorList
	n := 0
	if vf.FieldRef != nil {
		n++
		errs = append(errs, validateObjectFieldSelector(vf.FieldRef, validEnvFieldPaths, p.Child("fieldRef"))...)
	}
	if vf.ResourceFieldRef != nil {
		n++
		errs = append(errs, validateContainerResourceFieldSelector(vf.ResourceFieldRef, false, p.Child("resourceFieldRef"))...)
	}
	if vf.ConfigMapKeyRef != nil {
		n++
	}
	if vf.SecretKeyRef != nil {
		n++
	}
	if vf.FileKeyRef != nil {
		n++
		errs = append(errs, validateFileKeySelector(vf.FileKeyRef, vols, p.Child("fileKeyRef"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, field.Invalid(p, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`"))
	case ev.Value != "":
		errs = append(errs, field.Invalid(p, "", "may not be specified when `value` is not empty"))
	case n > 1:
		errs = append(errs, field.Invalid(p, "", "may not have more than one field specified at a time"))
	}
	return errs
}

// validateFileKeySelector: the file is read from an emptyDir volume of the
// pod, at a relative path. (Named after the FileKeySelector type: the
// v1.33 reference has no fileKeyRef to take a name from.)
func validateFileKeySelector(f *v1.FileKeySelector, vols map[string]*v1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if f.VolumeName == "" {
		errs = append(errs, field.Required(p.Child("volumeName"), ""))
	} else if src, ok := vols[f.VolumeName]; !ok {
		errs = append(errs, field.NotFound(p.Child("volumeName"), f.VolumeName))
	} else if src.EmptyDir == nil {
		errs = append(errs, field.Invalid(p.Child("volumeName"), f.VolumeName, "must refer to an emptyDir volume"))
	}
	if f.Path == "" {
		errs = append(errs, field.Required(p.Child("path"), ""))
	} else {
		errs = append(errs, validateLocalNonReservedPath(f.Path, p.Child("path"))...)
	}
	if f.Key == "" {
		errs = append(errs, field.Required(p.Child("key"), ""))
	}
	return errs
}

func validateObjectFieldSelector(f *v1.ObjectFieldSelector, valid []string, p *field.Path) field.ErrorList {
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
	if base, sub, ok := splitMaybeSubscriptedPath(fp); ok {
		switch base {
		case "metadata.annotations":
			return validateQualifiedName(strings.ToLower(sub), p)
		case "metadata.labels":
			return validateQualifiedName(sub, p)
		default:
			return field.ErrorList{field.Invalid(p, base, "does not support subscript")}
		}
	}
	if !contains(valid, fp) {
		return field.ErrorList{field.NotSupported(p.Child("fieldPath"), fp, valid)}
	}
	return nil
}

// splitMaybeSubscriptedPath splits "metadata.labels['key']" into its path
// and key, as k8s.io/kubernetes pkg/fieldpath does.
func splitMaybeSubscriptedPath(fp string) (string, string, bool) {
	if !strings.HasSuffix(fp, "']") {
		return "", "", false
	}
	i := strings.Index(fp, "['")
	if i < 0 {
		return "", "", false
	}
	return fp[:i], fp[i+2 : len(fp)-2], true
}

func validateContainerResourceFieldSelector(f *v1.ResourceFieldSelector, volume bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case volume && f.ContainerName == "":
		errs = append(errs, field.Required(p.Child("containerName"), ""))
	case f.Resource == "":
		errs = append(errs, field.Required(p.Child("resource"), ""))
	case !contains(validResourceFields, f.Resource) && !strings.HasPrefix(f.Resource, "requests.hugepages-") && !strings.HasPrefix(f.Resource, "limits.hugepages-"):
		errs = append(errs, field.NotSupported(p.Child("resource"), f.Resource, validResourceFields))
	}
	return append(errs, validateContainerResourceDivisor(f.Resource, f.Divisor, p)...)
}

func validateContainerResourceDivisor(rName string, divisor resource.Quantity, p *field.Path) field.ErrorList {
	if divisor.IsZero() {
		return nil
	}
	d := divisor.String()
	if strings.HasSuffix(rName, ".cpu") {
		if d != "1m" && d != "1" {
			return field.ErrorList{field.Invalid(p.Child("divisor"), rName, "only divisor's values 1m and 1 are supported with the cpu resource")}
		}
		return nil
	}
	if !contains(validResourceDivisors, d) {
		return field.ErrorList{field.Invalid(p.Child("divisor"), rName, "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with this resource")}
	}
	return nil
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
