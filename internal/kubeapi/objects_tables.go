package kubeapi

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// tableOptions is a request's ask for a server-side Table
// (Accept: application/json;as=Table;v=v1;g=meta.k8s.io).
type tableOptions struct {
	apiVersion string // meta.k8s.io/v1 or meta.k8s.io/v1beta1
	// include is includeObject: None, Metadata (the default) or Object.
	include metav1.IncludeObjectPolicy
}

// tableRequest reads the Accept header and includeObject; nil means the
// request wants plain objects. The first Table media type in Accept wins,
// as the API server negotiates; protobuf and other forms fall back to
// JSON objects.
func tableRequest(r *http.Request) (*tableOptions, error) {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != "application/json" || params["as"] != "Table" || params["g"] != "meta.k8s.io" {
			continue
		}
		if v := params["v"]; v != "v1" && v != "v1beta1" {
			continue
		}
		opts := &tableOptions{apiVersion: "meta.k8s.io/" + params["v"], include: metav1.IncludeMetadata}
		switch inc := metav1.IncludeObjectPolicy(r.URL.Query().Get("includeObject")); inc {
		case "":
		case metav1.IncludeNone, metav1.IncludeMetadata, metav1.IncludeObject:
			opts.include = inc
		default:
			return nil, badRequest("includeObject: Unsupported value: %q: supported values: \"None\", \"Metadata\", \"Object\"", string(inc))
		}
		return opts, nil
	}
	return nil, nil
}

// table renders items as the API server's printer for res does: every
// column, the wide ones too (kubectl hides those of priority 1 unless -o
// wide), with withColumns false for the later events of a watch.
func (t *tableOptions) table(res *resource, items []runtime.Object, rv uint64, now time.Time, withColumns bool) *metav1.Table {
	tbl := &metav1.Table{
		TypeMeta: metav1.TypeMeta{Kind: "Table", APIVersion: t.apiVersion},
		ListMeta: metav1.ListMeta{ResourceVersion: formatRV(rv)},
		Rows:     []metav1.TableRow{},
	}
	if withColumns {
		tbl.ColumnDefinitions = res.columns
	}
	for _, obj := range items {
		row := res.row(obj, now)
		row.Object = t.rowObject(obj)
		tbl.Rows = append(tbl.Rows, row)
	}
	return tbl
}

// rowObject is a row's object by includeObject: the object's metadata as a
// PartialObjectMetadata (kubectl --show-labels reads it), the whole object,
// or nothing.
func (t *tableOptions) rowObject(obj runtime.Object) runtime.RawExtension {
	var v any
	switch t.include {
	case metav1.IncludeNone:
		return runtime.RawExtension{}
	case metav1.IncludeObject:
		v = obj
	default:
		a, ok := obj.(metav1.ObjectMetaAccessor)
		if !ok {
			return runtime.RawExtension{}
		}
		om, ok := a.GetObjectMeta().(*metav1.ObjectMeta)
		if !ok {
			return runtime.RawExtension{}
		}
		v = &metav1.PartialObjectMetadata{
			TypeMeta:   metav1.TypeMeta{Kind: "PartialObjectMetadata", APIVersion: "meta.k8s.io/v1"},
			ObjectMeta: *om,
		}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return runtime.RawExtension{}
	}
	return runtime.RawExtension{Raw: raw}
}
