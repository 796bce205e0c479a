package qos

import (
	v1 "k8s.io/api/core/v1"
)

// computeResources are the resources the QoS class is computed from.
var computeResources = []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory}

// PodQOS is the pod's quality of service class, as the API server and the
// kubelet compute it (pkg/apis/core/v1/helper/qos ComputePodQOS): from the
// pod-level resources when the pod has them, else from every container's.
func PodQOS(spec *v1.PodSpec) v1.PodQOSClass {
	if spec.Resources != nil {
		return resourceQOS(spec.Resources)
	}
	var class v1.PodQOSClass
	for _, list := range [][]v1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			c := resourceQOS(&list[i].Resources)
			switch {
			case c == v1.PodQOSBurstable:
				return c
			case class == "":
				class = c
			case class != c:
				return v1.PodQOSBurstable
			}
		}
	}
	if class == "" {
		return v1.PodQOSBestEffort
	}
	return class
}

// resourceQOS is the class of one set of requirements: BestEffort with no
// cpu or memory, Guaranteed when both are limited and requested as
// limited, Burstable otherwise.
func resourceQOS(r *v1.ResourceRequirements) v1.PodQOSClass {
	if len(r.Requests) == 0 && len(r.Limits) == 0 {
		return v1.PodQOSBestEffort
	}
	var class v1.PodQOSClass
	for _, name := range computeResources {
		req, lim := r.Requests[name], r.Limits[name]
		if !req.Equal(lim) {
			return v1.PodQOSBurstable
		}
		c := v1.PodQOSGuaranteed
		if req.IsZero() {
			c = v1.PodQOSBestEffort
		}
		if class != "" && class != c {
			return v1.PodQOSBurstable
		}
		class = c
	}
	return class
}

// IsSidecar reports whether c is a restartable init container of spec.
func IsSidecar(spec *v1.PodSpec, c *v1.Container) bool {
	for i := range spec.InitContainers {
		if spec.InitContainers[i].Name == c.Name {
			return c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways
		}
	}
	return false
}
