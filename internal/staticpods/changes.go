package staticpods

import (
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxChanges caps the paths FieldChanges returns; a rewrite of a whole
// manifest is summed up by its first few changes and a count.
const maxChanges = 20

var jsonMarshaler = reflect.TypeFor[json.Marshaler]()

// FieldChanges lists the field paths whose values differ between two
// versions of a pod, such as "spec.containers[0].env[0].value" or
// "metadata.labels[app]", sorted. What the kubelet sets itself (the UID,
// the kubernetes.io/config.* annotations, the status) is left out. A
// missing list item or map key is reported at its own path. When there are
// more than maxChanges, the last entry says how many more.
func FieldChanges(oldPod, newPod *v1.Pod) []string {
	if oldPod == nil || newPod == nil {
		return nil
	}
	d := differ{}
	d.diff(reflect.ValueOf(comparablePod(oldPod)).Elem(), reflect.ValueOf(comparablePod(newPod)).Elem(), nil)
	sort.Strings(d.paths)
	if d.more > 0 {
		d.paths = append(d.paths, "... and "+strconv.Itoa(d.more)+" more")
	}
	return d.paths
}

func comparablePod(p *v1.Pod) *v1.Pod {
	c := p.DeepCopy()
	c.UID = ""
	c.Status = v1.PodStatus{}
	for k := range c.Annotations {
		if strings.HasPrefix(k, "kubernetes.io/config.") {
			delete(c.Annotations, k)
		}
	}
	if len(c.Annotations) == 0 {
		c.Annotations = nil
	}
	return c
}

type differ struct {
	paths []string
	more  int
}

func (d *differ) add(p *field.Path) {
	if len(d.paths) >= maxChanges {
		d.more++
		return
	}
	d.paths = append(d.paths, p.String())
}

func child(p *field.Path, name string) *field.Path {
	if p == nil {
		return field.NewPath(name)
	}
	return p.Child(name)
}

func (d *differ) diff(a, b reflect.Value, p *field.Path) {
	if equality.Semantic.DeepEqual(a.Interface(), b.Interface()) {
		return
	}
	t := a.Type()
	if t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) {
		d.add(p)
		return
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			d.add(p)
			return
		}
		d.diff(a.Elem(), b.Elem(), p)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-":
				continue
			case name == "" && (f.Anonymous || strings.Contains(opts, "inline")):
				d.diff(a.Field(i), b.Field(i), p)
			default:
				if name == "" {
					name = f.Name
				}
				d.diff(a.Field(i), b.Field(i), child(p, name))
			}
		}
	case reflect.Slice, reflect.Array:
		n := min(a.Len(), b.Len())
		for i := 0; i < n; i++ {
			d.diff(a.Index(i), b.Index(i), p.Index(i))
		}
		for i := n; i < max(a.Len(), b.Len()); i++ {
			d.add(p.Index(i))
		}
	case reflect.Map:
		keys := map[string]reflect.Value{}
		for _, k := range a.MapKeys() {
			keys[k.String()] = k
		}
		for _, k := range b.MapKeys() {
			keys[k.String()] = k
		}
		for _, name := range sortedKeys(keys) {
			k := keys[name]
			va, vb := a.MapIndex(k), b.MapIndex(k)
			if !va.IsValid() || !vb.IsValid() {
				d.add(p.Key(name))
				continue
			}
			d.diff(va, vb, p.Key(name))
		}
	default:
		d.add(p)
	}
}
