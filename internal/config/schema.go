package config

import (
	"encoding/json"
	"reflect"
	"strings"

	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
)

// schema is the tree of the JSON field names of a struct type: a field of
// struct type has its own schema, any other field (a scalar, a map, a
// list, a type that decodes itself such as metav1.Duration) is a leaf,
// nil.
type schema map[string]schema

var (
	// kubeletSchema is every field of the kubelet's KubeletConfiguration
	// (k8s.io/kubelet/config/v1beta1, the version in go.mod).
	kubeletSchema = withoutTypeMeta(schemaOf(reflect.TypeFor[kubeletv1beta1.KubeletConfiguration]()))
	// configSchema is every field the daemon acts on.
	configSchema = schemaOf(reflect.TypeFor[Config]())
)

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func schemaOf(t reflect.Type) schema {
	s := schema{}
	addFields(s, t)
	return s
}

func addFields(s schema, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if name == "" && f.Anonymous && ft.Kind() == reflect.Struct {
			// Inlined, as encoding/json does with an embedded struct.
			addFields(s, ft)
			continue
		}
		if name == "" {
			name = f.Name
		}
		if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(unmarshalerType) {
			s[name] = schemaOf(ft)
		} else {
			s[name] = nil
		}
	}
}

func withoutTypeMeta(s schema) schema {
	delete(s, "apiVersion")
	delete(s, "kind")
	return s
}

// decodeUpstream decodes fields of a KubeletConfiguration document into
// the kubelet's own type, strictly, so that a field the daemon does not act
// on is still checked: its type, and the fields inside it (a list of
// structs included).
func decodeUpstream(fields map[string]any) error {
	doc, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	var kc kubeletv1beta1.KubeletConfiguration
	return decodeStrict(doc, &kc)
}
