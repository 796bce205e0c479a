package kubeapi

import (
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// selector is what a list or watch asks for: a namespace ("" for all),
// labels and fields, with the API server's syntax (=, ==, !=, in, notin,
// exists for labels; =, ==, != for fields).
type selector struct {
	namespace string
	labels    labels.Selector
	fields    fields.Selector
}

// parseSelectors parses labelSelector and fieldSelector as the API server
// does: a field the kind does not offer is a 400, worded as the API
// server's field label conversion words it.
func parseSelectors(res *resource, labelSelector, fieldSelector string) (selector, error) {
	ls, err := labels.Parse(labelSelector)
	if err != nil {
		return selector{}, badRequest("%s", err.Error())
	}
	fs, err := fields.ParseSelector(fieldSelector)
	if err != nil {
		return selector{}, badRequest("%s", err.Error())
	}
	offered := res.fields(nil)
	for _, req := range fs.Requirements() {
		if _, ok := offered[req.Field]; !ok {
			return selector{}, badRequest("field label not supported: %s", req.Field)
		}
	}
	return selector{labels: ls, fields: fs}, nil
}

// withName restricts s to the object named name.
func (s selector) withName(name string) selector {
	s.fields = fields.AndSelectors(s.fields, fields.OneTermEqualSelector("metadata.name", name))
	return s
}

// matches reports whether obj is in the selection.
func (s selector) matches(res *resource, obj runtime.Object) bool {
	m, err := meta.Accessor(obj)
	if err != nil {
		return false
	}
	if s.namespace != "" && m.GetNamespace() != s.namespace {
		return false
	}
	return s.labels.Matches(labels.Set(m.GetLabels())) && s.fields.Matches(res.fields(obj))
}

// objectMetaFields are the fields every kind offers.
func objectMetaFields(obj runtime.Object) fields.Set {
	set := fields.Set{"metadata.name": "", "metadata.namespace": ""}
	if obj == nil {
		return set
	}
	if m, err := meta.Accessor(obj); err == nil {
		set["metadata.name"] = m.GetName()
		set["metadata.namespace"] = m.GetNamespace()
	}
	return set
}

func formatRV(rv uint64) string { return strconv.FormatUint(rv, 10) }
