package staticpods

// The volume types this node can mount. The API server accepts every
// in-tree type; the kubelet mounts each through a plugin, and minikubelet
// has only emptyDir, hostPath, downwardAPI and projected (of the downward
// API). Any other type is refused here, with why and what works instead,
// rather than left to fail at every container start.

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// supportedVolumeTypes are the JSON names of the volume types this node
// mounts.
var supportedVolumeTypes = map[string]bool{"emptyDir": true, "hostPath": true, "downwardAPI": true, "projected": true}

// hostMountAdvice is what works on this node for network and cloud storage.
const hostMountAdvice = "mount the storage on the node and use a hostPath volume instead"

// volumeTypeRefusals say why a type cannot work here, where there is more
// to say than that the node has no plugin for it.
var volumeTypeRefusals = map[string]string{
	"image": "image volumes need a container runtime that mounts images (containerd 2.1 or later); this node runs containerd 1.6. " +
		"Copy the files out of the image into an emptyDir volume from an init container instead",
	"gitRepo": "the gitRepo volume type is deprecated and the kubelet no longer enables it (GitRepoVolumeDriver); " +
		"clone the repository into an emptyDir volume from an init container instead",
}

// validateVolumeSupport refuses the volume types this node cannot mount,
// and downwardAPI resource files about containers the pod does not have.
// A type the static-pod policy already refuses (it reads an API object)
// is not reported twice.
func validateVolumeSupport(spec *v1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range spec.Volumes {
		src := &spec.Volumes[i].VolumeSource
		vp := p.Child("volumes").Index(i)
		names := volumeSourceNames(src)
		if len(names) != 1 {
			continue // the API server's validation reports it
		}
		name := names[0]
		switch {
		case !supportedVolumeTypes[name]:
			if len(volumeAPIReferences(src, vp)) > 0 {
				continue
			}
			msg, ok := volumeTypeRefusals[name]
			if !ok {
				msg = fmt.Sprintf("this node has no %s volume plugin: %s", name, hostMountAdvice)
			}
			errs = append(errs, field.Forbidden(vp.Child(name), msg))
		case src.DownwardAPI != nil:
			errs = append(errs, validateResourceFileContainers(spec, src.DownwardAPI.Items, vp.Child("downwardAPI", "items"))...)
		case src.Projected != nil:
			for j, s := range src.Projected.Sources {
				if s.DownwardAPI != nil {
					errs = append(errs, validateResourceFileContainers(spec, s.DownwardAPI.Items, vp.Child("projected", "sources").Index(j).Child("downwardAPI", "items"))...)
				}
			}
		}
	}
	return errs
}

// validateResourceFileContainers: the kubelet fails to set up a volume
// whose resourceFieldRef names a container the pod does not have, at
// every start; the API server does not check it.
func validateResourceFileContainers(spec *v1.PodSpec, items []v1.DownwardAPIVolumeFile, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, item := range items {
		ref := item.ResourceFieldRef
		if ref == nil || ref.ContainerName == "" || hasContainer(spec, ref.ContainerName) {
			continue
		}
		errs = append(errs, &field.Error{Type: field.ErrorTypeNotFound, Field: p.Index(i).Child("resourceFieldRef", "containerName").String(),
			BadValue: ref.ContainerName, Detail: "no container or init container of the pod has this name"})
	}
	return errs
}

func hasContainer(spec *v1.PodSpec, name string) bool {
	for _, list := range [][]v1.Container{spec.Containers, spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return true
			}
		}
	}
	return false
}
