package staticpods

// Admission as the kubelet's (pkg/kubelet/lifecycle/predicate.go): a pod
// is refused when its node selector or required node affinity does not
// match the node's labels, when the node has no room left for it (pods,
// cpu, memory, ephemeral-storage, hugepages, extended resources, counted
// over the manifests before it by file name), and then it does not run.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minikubelet/minikubelet/internal/qos"
)

// Node is what admission checks pods against.
type Node struct {
	Name   string
	Labels map[string]string
	// Allocatable is what pods may request, pods (the maxPods) included.
	Allocatable v1.ResourceList
}

// admission counts what the pods admitted so far use.
type admission struct {
	node Node
	used v1.ResourceList
	pods int64
}

func newAdmission(node Node) *admission {
	return &admission{node: node, used: v1.ResourceList{}}
}

// admit admits pod, counting its requests, or says why not, naming the
// field that asks for what the node cannot give.
func (a *admission) admit(pod *v1.Pod) field.ErrorList {
	spec := field.NewPath("spec")
	if errs := nodeAffinityErrors(pod, a.node, spec); len(errs) > 0 {
		return errs
	}
	if max := a.node.Allocatable[v1.ResourcePods]; a.pods+1 > max.Value() {
		return field.ErrorList{field.Forbidden(field.NewPath("metadata", "name"), insufficient(v1.ResourcePods, 1, a.pods, max.Value()))}
	}
	reqs := qos.PodRequests(&pod.Spec)
	var errs field.ErrorList
	for _, n := range sortedResourceNames(reqs) {
		name := v1.ResourceName(n)
		q := reqs[name]
		if q.IsZero() {
			continue
		}
		capacity, ok := a.node.Allocatable[name]
		used := a.used[name]
		if ok && used.Value()+q.Value() <= capacity.Value() && used.MilliValue()+q.MilliValue() <= capacity.MilliValue() {
			continue
		}
		// The kubelet admits a static pod asking for an extended resource
		// the node does not know (removeMissingExtendedResources, "a
		// caveat" in its comment); nothing here could give it one, so it
		// is refused like any resource the node lacks.
		errs = append(errs, field.Forbidden(requestPath(&pod.Spec, name), insufficientQuantity(name, q, used, capacity)))
	}
	if len(errs) > 0 {
		return errs
	}
	a.pods++
	for name, q := range reqs {
		v := a.used[name]
		v.Add(q)
		a.used[name] = v
	}
	return nil
}

// insufficient is the kubelet's InsufficientResourceError message, after
// its reason (OutOf<resource>).
func insufficient(name v1.ResourceName, requested, used, capacity int64) string {
	return fmt.Sprintf("OutOf%s: Node didn't have enough resource: %s, requested: %d, used: %d, capacity: %d", name, name, requested, used, capacity)
}

func insufficientQuantity(name v1.ResourceName, requested, used, capacity resource.Quantity) string {
	if name == v1.ResourceCPU {
		return insufficient(name, requested.MilliValue(), used.MilliValue(), capacity.MilliValue())
	}
	return insufficient(name, requested.Value(), used.Value(), capacity.Value())
}

// requestPath names the first field asking for name: the pod-level
// request, a container's, or the overhead.
func requestPath(spec *v1.PodSpec, name v1.ResourceName) *field.Path {
	p := field.NewPath("spec")
	if spec.Resources != nil {
		if _, ok := spec.Resources.Requests[name]; ok {
			return p.Child("resources", "requests").Key(string(name))
		}
	}
	for _, l := range []struct {
		name string
		list []v1.Container
	}{{"initContainers", spec.InitContainers}, {"containers", spec.Containers}} {
		for i := range l.list {
			if _, ok := l.list[i].Resources.Requests[name]; ok {
				return p.Child(l.name).Index(i).Child("resources", "requests").Key(string(name))
			}
		}
	}
	return p.Child("overhead").Key(string(name))
}

// nodeAffinityMessage is the kubelet's for a pod its node does not match.
const nodeAffinityMessage = "NodeAffinity: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"

// nodeAffinityErrors: every nodeSelector label must be the node's, and one
// of the required node affinity terms must match (the scheduler's
// nodeaffinity plugin, which the kubelet's admission runs).
func nodeAffinityErrors(pod *v1.Pod, node Node, p *field.Path) field.ErrorList {
	detail := func(what string) string {
		return fmt.Sprintf("%s (%s; the node's labels: %s)", nodeAffinityMessage, what, formatLabels(node.Labels))
	}
	for _, k := range sortedStringKeys(pod.Spec.NodeSelector) {
		if v, ok := node.Labels[k]; !ok || v != pod.Spec.NodeSelector[k] {
			return field.ErrorList{field.Forbidden(p.Child("nodeSelector").Key(k), detail(fmt.Sprintf("%s=%s", k, pod.Spec.NodeSelector[k])))}
		}
	}
	aff := pod.Spec.Affinity
	if aff == nil || aff.NodeAffinity == nil || aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return nil
	}
	terms := aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	for _, t := range terms {
		if termMatches(t, node) {
			return nil
		}
	}
	return field.ErrorList{field.Forbidden(p.Child("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"),
		detail(fmt.Sprintf("none of its %d nodeSelectorTerms matches", len(terms))))}
}

// termMatches: all of a term's expressions hold; a term with none matches
// nothing.
func termMatches(t v1.NodeSelectorTerm, node Node) bool {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return false
	}
	for _, r := range t.MatchExpressions {
		v, ok := node.Labels[r.Key]
		if !requirementHolds(r, v, ok) {
			return false
		}
	}
	for _, r := range t.MatchFields {
		// metadata.name is the only field the API allows.
		if !requirementHolds(r, node.Name, r.Key == "metadata.name") {
			return false
		}
	}
	return true
}

func requirementHolds(r v1.NodeSelectorRequirement, v string, present bool) bool {
	switch r.Operator {
	case v1.NodeSelectorOpIn:
		return present && contains(r.Values, v)
	case v1.NodeSelectorOpNotIn:
		return !present || !contains(r.Values, v)
	case v1.NodeSelectorOpExists:
		return present
	case v1.NodeSelectorOpDoesNotExist:
		return !present
	case v1.NodeSelectorOpGt, v1.NodeSelectorOpLt:
		if !present || len(r.Values) != 1 {
			return false
		}
		have, err1 := strconv.ParseInt(v, 10, 64)
		want, err2 := strconv.ParseInt(r.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.Operator == v1.NodeSelectorOpGt {
			return have > want
		}
		return have < want
	}
	return false
}

func sortedStringKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func formatLabels(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedStringKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}
