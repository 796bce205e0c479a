package staticpods

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Bounds on a quantity's text. Real quantities are short; parsing a long
// one, or one with a large exponent, can take the decoder minutes.
const (
	maxQuantityLength   = 64
	maxQuantityExponent = 1000
)

var (
	quantityType   = reflect.TypeFor[resource.Quantity]()
	podType        = reflect.TypeFor[v1.Pod]()
	exponentRE     = regexp.MustCompile(`[eE]([-+]?[0-9]+)$`)
	jsonFieldCache sync.Map // reflect.Type -> map[string]reflect.Type
)

// checkQuantities walks the document alongside the v1.Pod type and checks
// every value that decodes into a resource.Quantity, naming its field.
func checkQuantities(jsonDoc []byte) field.ErrorList {
	dec := json.NewDecoder(bytes.NewReader(jsonDoc))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil // the decoder will say what is wrong
	}
	var errs field.ErrorList
	walkQuantities(doc, podType, nil, func(text string, p *field.Path) {
		errs = append(errs, checkQuantity(text, p)...)
	})
	return errs
}

func walkQuantities(v any, t reflect.Type, p *field.Path, visit func(string, *field.Path)) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == quantityType {
		switch q := v.(type) {
		case string:
			visit(q, p)
		case json.Number:
			visit(q.String(), p)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		fields := jsonFields(t)
		for _, name := range sortedKeys(obj) {
			if ft, ok := fields[name]; ok {
				walkQuantities(obj[name], ft, child(p, name), visit)
			}
		}
	case reflect.Slice, reflect.Array:
		list, ok := v.([]any)
		if !ok {
			return
		}
		for i, item := range list {
			walkQuantities(item, t.Elem(), p.Index(i), visit)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		for _, k := range sortedKeys(obj) {
			walkQuantities(obj[k], t.Elem(), p.Key(k), visit)
		}
	}
}

// jsonFields maps a struct's JSON field names to their types, with inline
// (embedded) structs flattened.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := jsonFieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case name == "" && (f.Anonymous || strings.Contains(opts, "inline")):
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for n, t := range jsonFields(ft) {
					m[n] = t
				}
			}
		case name == "":
			m[f.Name] = f.Type
		default:
			m[name] = f.Type
		}
	}
	jsonFieldCache.Store(t, m)
	return m
}

func checkQuantity(s string, p *field.Path) field.ErrorList {
	const format = "must be a quantity such as 500m, 1, 128Mi"
	if len(s) > maxQuantityLength {
		return field.ErrorList{field.Invalid(p, s[:maxQuantityLength]+"...", fmt.Sprintf("%s, of at most %d characters", format, maxQuantityLength))}
	}
	if m := exponentRE.FindStringSubmatch(s); m != nil {
		if e, err := strconv.Atoi(m[1]); err != nil || e > maxQuantityExponent || e < -maxQuantityExponent {
			return field.ErrorList{field.Invalid(p, s, fmt.Sprintf("%s; the exponent must be between -%d and %d", format, maxQuantityExponent, maxQuantityExponent))}
		}
	}
	if _, err := resource.ParseQuantity(s); err != nil {
		return field.ErrorList{field.Invalid(p, s, format+": "+err.Error())}
	}
	return nil
}
