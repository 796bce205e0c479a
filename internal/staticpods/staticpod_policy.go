package staticpods

// The kubelet's policy for static pods: what a pod that comes from a file
// rather than from the API server may not be or use. In a cluster the
// kubelet refuses a static pod that references API objects
// (PreventStaticPodAPIReferences) and the API server refuses its mirror pod;
// here there is no API server at all. A static pod is also bound to its node
// and named after it.

import (
	"fmt"
	"regexp"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateStaticPod checks what the kubelet requires of a static pod that
// nodeName will run, beyond what the API server requires of any pod.
func validateStaticPod(pod *v1.Pod, nodeName string) field.ErrorList {
	errs := validateStaticPodName(pod, nodeName, field.NewPath("metadata", "name"))
	errs = append(errs, validateStaticPodUID(pod.UID, field.NewPath("metadata", "uid"))...)
	specPath := field.NewPath("spec")
	// The kubelet binds a static pod to its node (spec.nodeName), and the
	// API server refuses a bound pod that still has scheduling gates.
	if len(pod.Spec.SchedulingGates) > 0 {
		errs = append(errs, field.Forbidden(specPath.Child("schedulingGates"), "a static pod is bound to its node (spec.nodeName) and cannot have scheduling gates"))
	}
	return append(errs, validateNoAPIReferences(&pod.Spec, specPath)...)
}

// validateStaticPodName checks the name the pod runs under,
// "<metadata.name>-<nodeName>", when metadata.name itself is valid.
func validateStaticPodName(pod *v1.Pod, nodeName string, p *field.Path) field.ErrorList {
	if pod.Name == "" || len(validation.IsDNS1123Subdomain(pod.Name)) > 0 {
		return nil
	}
	var errs field.ErrorList
	full := staticPodName(pod.Name, nodeName)
	for _, msg := range validation.IsDNS1123Subdomain(full) {
		errs = append(errs, field.Invalid(p, pod.Name,
			fmt.Sprintf("the static pod's name %q (<metadata.name>-<nodeName>) is invalid: %s", full, msg)))
	}
	return errs
}

// maxUIDLength bounds a manifest's metadata.uid; a UUID has 36 characters.
const maxUIDLength = 128

var uidPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// validateStaticPodUID checks a UID the manifest gives. The kubelet takes
// any, but names the pod's log, volume and cgroup directories after it, so
// here it must be one file name: letters, digits, '.', '_' and '-', not
// starting with '.' (a UUID, as the API server generates, always is).
func validateStaticPodUID(uid types.UID, p *field.Path) field.ErrorList {
	if uid == "" {
		return nil
	}
	if len(uid) > maxUIDLength {
		return field.ErrorList{field.TooLong(p, string(uid), maxUIDLength)}
	}
	if !uidPattern.MatchString(string(uid)) {
		return field.ErrorList{field.Invalid(p, string(uid),
			"must be letters, digits, '.', '_' or '-', starting with a letter or digit, such as a UUID (it names the pod's directories on the node)")}
	}
	return nil
}

// validateNoAPIReferences rejects what a static pod may not use: anything
// read from the API server.
func validateNoAPIReferences(spec *v1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.ServiceAccountName != "" {
		errs = append(errs, apiReferenceError(p.Child("serviceAccountName"), "serviceaccounts"))
	} else if spec.DeprecatedServiceAccount != "" {
		errs = append(errs, apiReferenceError(p.Child("serviceAccount"), "serviceaccounts"))
	}
	if len(spec.ImagePullSecrets) > 0 {
		errs = append(errs, apiReferenceError(p.Child("imagePullSecrets"), "secrets"))
	}
	if len(spec.ResourceClaims) > 0 {
		errs = append(errs, apiReferenceError(p.Child("resourceClaims"), "resourceclaims"))
	}
	errs = append(errs, containerAPIReferences(spec.InitContainers, p.Child("initContainers"))...)
	errs = append(errs, containerAPIReferences(spec.Containers, p.Child("containers"))...)
	ephemeral := make([]v1.Container, len(spec.EphemeralContainers))
	for i := range spec.EphemeralContainers {
		ephemeral[i] = v1.Container(spec.EphemeralContainers[i].EphemeralContainerCommon)
	}
	errs = append(errs, containerAPIReferences(ephemeral, p.Child("ephemeralContainers"))...)
	for i := range spec.Volumes {
		errs = append(errs, volumeAPIReferences(&spec.Volumes[i].VolumeSource, p.Child("volumes").Index(i))...)
	}
	return errs
}

func apiReferenceError(p *field.Path, what string) *field.Error {
	return field.Forbidden(p, fmt.Sprintf(
		"static pods may not reference %s: the API server rejects mirror pods that reference API objects, and a static pod must run without one", what))
}

// containerAPIReferences: environment from secrets or configMaps, and
// resource claims.
func containerAPIReferences(containers []v1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, c := range containers {
		cp := p.Index(i)
		for j, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			vp := cp.Child("env").Index(j).Child("valueFrom")
			if e.ValueFrom.SecretKeyRef != nil {
				errs = append(errs, apiReferenceError(vp.Child("secretKeyRef"), "secrets"))
			}
			if e.ValueFrom.ConfigMapKeyRef != nil {
				errs = append(errs, apiReferenceError(vp.Child("configMapKeyRef"), "configmaps"))
			}
		}
		for j, ef := range c.EnvFrom {
			ep := cp.Child("envFrom").Index(j)
			if ef.SecretRef != nil {
				errs = append(errs, apiReferenceError(ep.Child("secretRef"), "secrets"))
			}
			if ef.ConfigMapRef != nil {
				errs = append(errs, apiReferenceError(ep.Child("configMapRef"), "configmaps"))
			}
		}
		if len(c.Resources.Claims) > 0 {
			errs = append(errs, apiReferenceError(cp.Child("resources", "claims"), "resourceclaims"))
		}
	}
	return errs
}

// volumeAPIReferences: volume types that are API objects or read one.
func volumeAPIReferences(src *v1.VolumeSource, p *field.Path) field.ErrorList {
	var ref *field.Error
	switch {
	case src.Secret != nil:
		ref = apiReferenceError(p.Child("secret"), "secrets")
	case src.ConfigMap != nil:
		ref = apiReferenceError(p.Child("configMap"), "configmaps")
	case src.PersistentVolumeClaim != nil:
		ref = apiReferenceError(p.Child("persistentVolumeClaim"), "persistentvolumeclaims")
	case src.Ephemeral != nil:
		ref = apiReferenceError(p.Child("ephemeral"), "persistentvolumeclaims (via ephemeral volumes)")
	case src.CSI != nil:
		ref = apiReferenceError(p.Child("csi"), "csidrivers (via CSI volumes)")
	case src.Glusterfs != nil:
		ref = apiReferenceError(p.Child("glusterfs"), "endpoints (via glusterfs volumes)")
	case src.AzureFile != nil:
		ref = apiReferenceError(p.Child("azureFile"), "secrets (via azureFile volumes)")
	case src.CephFS != nil && src.CephFS.SecretRef != nil:
		ref = apiReferenceError(p.Child("cephfs", "secretRef"), "secrets")
	case src.Cinder != nil && src.Cinder.SecretRef != nil:
		ref = apiReferenceError(p.Child("cinder", "secretRef"), "secrets")
	case src.FlexVolume != nil && src.FlexVolume.SecretRef != nil:
		ref = apiReferenceError(p.Child("flexVolume", "secretRef"), "secrets")
	case src.RBD != nil && src.RBD.SecretRef != nil:
		ref = apiReferenceError(p.Child("rbd", "secretRef"), "secrets")
	case src.ScaleIO != nil && src.ScaleIO.SecretRef != nil:
		ref = apiReferenceError(p.Child("scaleIO", "secretRef"), "secrets")
	case src.ISCSI != nil && src.ISCSI.SecretRef != nil:
		ref = apiReferenceError(p.Child("iscsi", "secretRef"), "secrets")
	case src.StorageOS != nil && src.StorageOS.SecretRef != nil:
		ref = apiReferenceError(p.Child("storageos", "secretRef"), "secrets")
	case src.Projected != nil:
		return projectedAPIReferences(src.Projected, p.Child("projected", "sources"))
	default:
		return nil
	}
	return field.ErrorList{ref}
}

// projectedAPIReferences: a projected volume may only project the downward
// API.
func projectedAPIReferences(proj *v1.ProjectedVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, s := range proj.Sources {
		sp := p.Index(i)
		switch {
		case s.Secret != nil:
			errs = append(errs, apiReferenceError(sp.Child("secret"), "secrets (via projected volumes)"))
		case s.ConfigMap != nil:
			errs = append(errs, apiReferenceError(sp.Child("configMap"), "configmaps (via projected volumes)"))
		case s.ServiceAccountToken != nil:
			errs = append(errs, apiReferenceError(sp.Child("serviceAccountToken"), "serviceaccounts (via projected volumes)"))
		case s.ClusterTrustBundle != nil:
			errs = append(errs, apiReferenceError(sp.Child("clusterTrustBundle"), "clustertrustbundles"))
		case s.PodCertificate != nil:
			errs = append(errs, apiReferenceError(sp.Child("podCertificate"), "podcertificates"))
		case s.DownwardAPI != nil:
		default:
			errs = append(errs, field.Required(sp, "must specify a projection source"))
		}
	}
	return errs
}
