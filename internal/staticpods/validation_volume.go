package staticpods

// This file ports the volume, volume mount and path checks of the API
// server's pod validation: k8s.io/kubernetes
// pkg/apis/core/validation/validation.go at v1.33, one function for each
// upstream function of the same name (exported ones unexported here), for
// the v1.Pod fields of k8s.io/api v0.37. Messages and field paths are the
// API server's. Only the sources validateVolumeSource lists are checked
// field by field; a source that needs the API server is refused by the
// static-pod policy (staticpod_policy.go).

import (
	"path"
	"path/filepath"
	"reflect"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// fileModeErrorMsg is the API server's message for volume file modes.
const fileModeErrorMsg = "must be a number between 0 and 0777 (octal), both inclusive"

var (
	supportedHostPathTypes = []v1.HostPathType{v1.HostPathUnset, v1.HostPathBlockDev, v1.HostPathCharDev, v1.HostPathDirectory, v1.HostPathDirectoryOrCreate, v1.HostPathFile, v1.HostPathFileOrCreate, v1.HostPathSocket}
	supportedPropagations  = []v1.MountPropagationMode{v1.MountPropagationBidirectional, v1.MountPropagationHostToContainer, v1.MountPropagationNone}
	supportedRecursiveRO   = []v1.RecursiveReadOnlyMode{v1.RecursiveReadOnlyDisabled, v1.RecursiveReadOnlyEnabled, v1.RecursiveReadOnlyIfPossible}
	validVolumeFieldPaths  = []string{"metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"}
)

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
			el = append(el, validateDNS1123Label(vol.Name, vp.Child("name"))...)
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
		errs = append(errs, validateHostPathVolumeSource(src.HostPath, p.Child("hostPath"))...)
	case src.EmptyDir != nil:
		ep := p.Child("emptyDir")
		if sl := src.EmptyDir.SizeLimit; sl != nil && sl.Sign() < 0 {
			errs = append(errs, field.Forbidden(ep.Child("sizeLimit"), "SizeLimit field must be a valid resource quantity"))
		}
		if mode := src.EmptyDir.Mode; mode != nil && (*mode < 0 || *mode > 0o777) {
			errs = append(errs, field.Invalid(ep.Child("mode"), *mode, fileModeErrorMsg))
		}
	case src.DownwardAPI != nil:
		errs = append(errs, validateDownwardAPIVolumeSource(src.DownwardAPI, p.Child("downwardAPI"))...)
	case src.Projected != nil:
		errs = append(errs, validateProjectedVolumeSource(src.Projected, p.Child("projected"))...)
	case src.Image != nil:
		errs = append(errs, validateImageVolumeSource(src.Image, p.Child("image"))...)
	case src.NFS != nil:
		errs = append(errs, validateNFSVolumeSource(src.NFS, p.Child("nfs"))...)
	case src.ISCSI != nil:
		errs = append(errs, validateISCSIVolumeSource(src.ISCSI, p.Child("iscsi"))...)
	case src.GitRepo != nil:
		errs = append(errs, validateGitRepoVolumeSource(src.GitRepo, p.Child("gitRepo"))...)
	}
	return errs
}

func validateHostPathVolumeSource(hp *v1.HostPathVolumeSource, p *field.Path) field.ErrorList {
	if hp.Path == "" {
		return field.ErrorList{field.Required(p.Child("path"), "")}
	}
	errs := validatePathNoBacksteps(hp.Path, p.Child("path"))
	return append(errs, validateHostPathType(hp.Type, p.Child("type"))...)
}

func validateHostPathType(t *v1.HostPathType, p *field.Path) field.ErrorList {
	if t != nil && !contains(supportedHostPathTypes, *t) {
		return field.ErrorList{field.NotSupported(p, *t, supportedHostPathTypes)}
	}
	return nil
}

func validateGitRepoVolumeSource(gr *v1.GitRepoVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if gr.Repository == "" {
		errs = append(errs, field.Required(p.Child("repository"), ""))
	}
	return append(errs, validateLocalDescendingPath(gr.Directory, p.Child("directory"))...)
}

func validateISCSIVolumeSource(iscsi *v1.ISCSIVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if iscsi.TargetPortal == "" {
		errs = append(errs, field.Required(p.Child("targetPortal"), ""))
	}
	if iscsi.IQN == "" {
		errs = append(errs, field.Required(p.Child("iqn"), ""))
	}
	if iscsi.Lun < 0 || iscsi.Lun > 255 {
		errs = append(errs, field.Invalid(p.Child("lun"), iscsi.Lun, validation.InclusiveRangeError(0, 255)))
	}
	return errs
}

func validateNFSVolumeSource(nfs *v1.NFSVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if nfs.Server == "" {
		errs = append(errs, field.Required(p.Child("server"), ""))
	}
	if nfs.Path == "" {
		errs = append(errs, field.Required(p.Child("path"), ""))
	} else if !path.IsAbs(nfs.Path) {
		errs = append(errs, field.Invalid(p.Child("path"), nfs.Path, "must be an absolute path"))
	}
	return errs
}

func validateImageVolumeSource(img *v1.ImageVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if img.Reference == "" {
		errs = append(errs, field.Required(p.Child("reference"), ""))
	}
	if pp := img.PullPolicy; pp != "" && !contains(supportedPullPolicies, pp) {
		errs = append(errs, field.NotSupported(p.Child("pullPolicy"), pp, supportedPullPolicies))
	}
	return errs
}

func validateDownwardAPIVolumeSource(d *v1.DownwardAPIVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if m := d.DefaultMode; m != nil && (*m < 0 || *m > 0o777) {
		errs = append(errs, field.Invalid(p.Child("defaultMode"), *m, fileModeErrorMsg))
	}
	for i := range d.Items {
		errs = append(errs, validateDownwardAPIVolumeFile(&d.Items[i], p.Child("items").Index(i))...)
	}
	return errs
}

func validateDownwardAPIVolumeFile(f *v1.DownwardAPIVolumeFile, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if f.Path == "" {
		errs = append(errs, field.Required(p.Child("path"), ""))
	}
	errs = append(errs, validateLocalNonReservedPath(f.Path, p.Child("path"))...)
	switch {
	case f.FieldRef != nil && f.ResourceFieldRef != nil:
		errs = append(errs, field.Invalid(p, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
	case f.FieldRef != nil:
		errs = append(errs, validateObjectFieldSelector(f.FieldRef, validVolumeFieldPaths, p.Child("fieldRef"))...)
	case f.ResourceFieldRef != nil:
		errs = append(errs, validateContainerResourceFieldSelector(f.ResourceFieldRef, true, p.Child("resourceFieldRef"))...)
	default:
		errs = append(errs, field.Required(p, "one of fieldRef and resourceFieldRef is required"))
	}
	if f.Mode != nil && (*f.Mode < 0 || *f.Mode > 0o777) {
		errs = append(errs, field.Invalid(p.Child("mode"), *f.Mode, fileModeErrorMsg))
	}
	return errs
}

func validateProjectedVolumeSource(proj *v1.ProjectedVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if m := proj.DefaultMode; m != nil && (*m < 0 || *m > 0o777) {
		errs = append(errs, field.Invalid(p.Child("defaultMode"), *m, fileModeErrorMsg))
	}
	return append(errs, validateProjectionSources(proj, p)...)
}

// validateProjectionSources checks the downwardAPI sources, the only ones a
// static pod may project, and that no two of them write the same path.
func validateProjectionSources(proj *v1.ProjectedVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, s := range proj.Sources {
		sp := p.Child("sources").Index(i)
		if s.DownwardAPI == nil {
			continue
		}
		for j := range s.DownwardAPI.Items {
			item := &s.DownwardAPI.Items[j]
			errs = append(errs, validateDownwardAPIVolumeFile(item, sp.Child("downwardAPI", "items").Index(j))...)
			if item.Path != "" && seen[item.Path] {
				errs = append(errs, field.Invalid(p, item.Path, "conflicting duplicate paths"))
			}
			seen[item.Path] = true
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
			errs = append(errs, validateLocalDescendingPath(m.SubPath, mp.Child("subPath"))...)
		}
		if m.SubPathExpr != "" {
			if m.SubPath != "" {
				errs = append(errs, field.Invalid(mp.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
			}
			errs = append(errs, validateLocalDescendingPath(m.SubPathExpr, mp.Child("subPathExpr"))...)
		}
		if m.MountPropagation != nil {
			errs = append(errs, validateMountPropagation(m.MountPropagation, c, mp.Child("mountPropagation"))...)
		}
		errs = append(errs, validateMountRecursiveReadOnly(m, mp.Child("recursiveReadOnly"))...)
	}
	return errs
}

func validateMountPropagation(mprop *v1.MountPropagationMode, c *v1.Container, p *field.Path) field.ErrorList {
	privileged := c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged
	if !contains(supportedPropagations, *mprop) {
		return field.ErrorList{field.NotSupported(p, *mprop, supportedPropagations)}
	}
	if *mprop == v1.MountPropagationBidirectional && !privileged {
		return field.ErrorList{field.Forbidden(p, "Bidirectional mount propagation is available only to privileged containers")}
	}
	return nil
}

func validateMountRecursiveReadOnly(m v1.VolumeMount, p *field.Path) field.ErrorList {
	if m.RecursiveReadOnly == nil {
		return nil
	}
	var errs field.ErrorList
	switch *m.RecursiveReadOnly {
	case v1.RecursiveReadOnlyDisabled:
	case v1.RecursiveReadOnlyEnabled, v1.RecursiveReadOnlyIfPossible:
		if !m.ReadOnly {
			errs = append(errs, field.Forbidden(p, "may only be specified when readOnly is true"))
		}
		if m.MountPropagation != nil && *m.MountPropagation != v1.MountPropagationNone {
			errs = append(errs, field.Forbidden(p, "may only be specified when mountPropagation is None or not specified"))
		}
	default:
		errs = append(errs, field.NotSupported(p, *m.RecursiveReadOnly, supportedRecursiveRO))
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

// validatePathNoBacksteps rejects a path with a ".." element.
func validatePathNoBacksteps(target string, p *field.Path) field.ErrorList {
	for _, part := range strings.Split(filepath.ToSlash(target), "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(p, target, "must not contain '..'")}
		}
	}
	return nil
}

// validateLocalDescendingPath: relative, no "..".
func validateLocalDescendingPath(target string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path.IsAbs(target) {
		errs = append(errs, field.Invalid(p, target, "must be a relative path"))
	}
	return append(errs, validatePathNoBacksteps(target, p)...)
}

// validateLocalNonReservedPath: relative, no "..", and not starting with "..".
func validateLocalNonReservedPath(target string, p *field.Path) field.ErrorList {
	errs := validateLocalDescendingPath(target, p)
	if strings.HasPrefix(target, "..") && !strings.HasPrefix(target, "../") {
		errs = append(errs, field.Invalid(p, target, "must not start with '..'"))
	}
	return errs
}
