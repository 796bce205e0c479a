package staticpods

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validation has three layers, each in its own files:
//   - the API server's ValidatePodCreate (pkg/apis/core/validation) for the
//     fields a static pod uses, with its field paths and messages, ported
//     function by function in validation_*.go;
//   - what the kubelet refuses in a static pod (references to API objects,
//     scheduling gates, a name too long once the node name is added), in
//     staticpod_policy.go;
//   - what this node cannot run although the API server accepts it
//     (unknown emptyDir media, probes naming ports the container lacks,
//     Windows pods, restartPolicyRules, a port listed twice), in
//     node_support.go, and what this node's kernel and runtime lack among
//     the security features (user namespaces, AppArmor, SELinux, unsafe
//     sysctls, recursive read-only mounts, runtime handlers), in
//     node_security.go.

// validatePod validates a defaulted pod before it is named; nodeName is the
// node it will be named after, node what that node offers.
func validatePod(pod *v1.Pod, nodeName string, node NodeFeatures) field.ErrorList {
	errs := validatePodCreate(pod)
	errs = append(errs, validateStaticPod(pod, nodeName)...)
	errs = append(errs, validateNodeSupport(&pod.Spec, field.NewPath("spec"))...)
	return append(errs, validateNodeSecurity(pod, node, field.NewPath("spec"))...)
}

// validateRequiredEnum: v must be set, to one of supported.
func validateRequiredEnum[T ~string](v T, supported []T, p *field.Path) field.ErrorList {
	switch {
	case v == "":
		return field.ErrorList{field.Required(p, "")}
	case !contains(supported, v):
		return field.ErrorList{field.NotSupported(p, v, supported)}
	}
	return nil
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
