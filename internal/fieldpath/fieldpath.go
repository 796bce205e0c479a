package fieldpath

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// ExtractMetadata reads a metadata field of the pod by its fieldPath, as
// pkg/fieldpath's ExtractFieldPathAsString: name, namespace, uid, the
// labels or annotations as a whole (FormatMap) or one of them by key
// ("metadata.labels['key']", empty when absent). ok is false for a path
// outside metadata, which the caller reads itself.
func ExtractMetadata(pod *v1.Pod, fieldPath string) (value string, ok bool) {
	switch fieldPath {
	case "metadata.name":
		return pod.Name, true
	case "metadata.namespace":
		return pod.Namespace, true
	case "metadata.uid":
		return string(pod.UID), true
	case "metadata.labels":
		return FormatMap(pod.Labels), true
	case "metadata.annotations":
		return FormatMap(pod.Annotations), true
	}
	if base, key, sub := SplitMaybeSubscriptedPath(fieldPath); sub {
		switch base {
		case "metadata.labels":
			return pod.Labels[key], true
		case "metadata.annotations":
			return pod.Annotations[key], true
		}
	}
	return "", false
}

// SplitMaybeSubscriptedPath splits "metadata.labels['key']" into its path
// and key.
func SplitMaybeSubscriptedPath(fieldPath string) (string, string, bool) {
	i := strings.Index(fieldPath, "['")
	if i < 0 || !strings.HasSuffix(fieldPath, "']") {
		return "", "", false
	}
	return fieldPath[:i], fieldPath[i+2 : len(fieldPath)-2], true
}

// FormatMap is pkg/fieldpath's FormatMap: key="value" lines in key order,
// the value quoted as Go quotes it, no newline after the last.
func FormatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + "=" + strconv.Quote(m[k])
	}
	return strings.Join(lines, "\n")
}

// ContainerResource is the kubelet's
// ExtractResourceValueByContainerNameAndNodeAllocatable
// (pkg/api/v1/resource/helpers.go): the named container's request or
// limit, a limit it does not set being the node's allocatable amount,
// rounded up to whole divisors.
func ContainerResource(pod *v1.Pod, ref *v1.ResourceFieldSelector, allocatable v1.ResourceList) (string, error) {
	c := findContainer(pod, ref.ContainerName)
	if c == nil {
		return "", fmt.Errorf("container %q not found in the pod", ref.ContainerName)
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("unsupported resource %q", ref.Resource)
	}
	res := v1.ResourceName(name)
	var q resource.Quantity
	if kind == "limits" {
		l, set := c.Resources.Limits[res]
		if !set {
			l = allocatable[res]
		}
		q = l
	} else {
		q = c.Resources.Requests[res]
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if res == v1.ResourceCPU {
		return strconv.FormatInt(ceilDiv(q.MilliValue(), divisor.MilliValue()), 10), nil
	}
	return strconv.FormatInt(ceilDiv(q.Value(), divisor.Value()), 10), nil
}

func ceilDiv(a, b int64) int64 {
	return int64(math.Ceil(float64(a) / float64(b)))
}

func findContainer(pod *v1.Pod, name string) *v1.Container {
	for _, list := range [][]v1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}
