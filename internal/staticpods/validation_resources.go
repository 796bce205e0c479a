package staticpods

// This file ports the resource checks of the API server's pod validation:
// k8s.io/kubernetes pkg/apis/core/validation/validation.go at v1.33, one
// function for each upstream function of the same name (exported ones
// unexported here), plus the pkg/apis/core/helper predicates they use, for
// the v1.Pod fields of k8s.io/api v0.37. Messages and field paths are the
// API server's.

import (
	"fmt"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	supportedResizeResources = []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory}
	supportedResizePolicies  = []v1.ResourceResizeRestartPolicy{v1.NotRequired, v1.RestartContainer}
)

// validateContainerResourceRequirements: names are standard or extended
// resources, quantities are non-negative, requests are at most limits
// (equal for resources that cannot be overcommitted).
func validateContainerResourceRequirements(r *v1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	limPath, reqPath := p.Child("limits"), p.Child("requests")
	hasCPUOrMemory, hasHugePages := false, false
	for _, name := range sortedResourceNames(r.Limits) {
		q := r.Limits[v1.ResourceName(name)]
		fp := limPath.Key(name)
		errs = append(errs, validateContainerResourceName(v1.ResourceName(name), fp)...)
		errs = append(errs, validateResourceQuantityValue(v1.ResourceName(name), q, fp)...)
		hasCPUOrMemory = hasCPUOrMemory || name == string(v1.ResourceCPU) || name == string(v1.ResourceMemory)
		hasHugePages = hasHugePages || strings.HasPrefix(name, v1.ResourceHugePagesPrefix)
	}
	for _, name := range sortedResourceNames(r.Requests) {
		q := r.Requests[v1.ResourceName(name)]
		fp := reqPath.Key(name)
		errs = append(errs, validateContainerResourceName(v1.ResourceName(name), fp)...)
		errs = append(errs, validateResourceQuantityValue(v1.ResourceName(name), q, fp)...)
		limit, hasLimit := r.Limits[v1.ResourceName(name)]
		switch {
		case hasLimit && q.Cmp(limit) != 0 && !isOvercommitAllowed(name):
			errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
		case hasLimit && q.Cmp(limit) > 0:
			errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		case !hasLimit && !isOvercommitAllowed(name):
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

// isOvercommitAllowed: requests may be below limits only for native
// resources other than hugepages.
func isOvercommitAllowed(name string) bool {
	return isNativeResource(name) && !strings.HasPrefix(name, v1.ResourceHugePagesPrefix)
}

func validateContainerResourceName(name v1.ResourceName, p *field.Path) field.ErrorList {
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

func validateResourceQuantityValue(name v1.ResourceName, q resource.Quantity, p *field.Path) field.ErrorList {
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
		errs = append(errs, validateRequiredEnum(rp.ResourceName, supportedResizeResources, p)...)
		errs = append(errs, validateRequiredEnum(rp.RestartPolicy, supportedResizePolicies, p)...)
		if podRestart == v1.RestartPolicyNever && rp.RestartPolicy != v1.NotRequired {
			errs = append(errs, field.Invalid(p, rp.RestartPolicy, "must be 'NotRequired' when `restartPolicy` is 'Never'"))
		}
	}
	return errs
}
