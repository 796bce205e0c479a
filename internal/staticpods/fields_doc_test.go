package staticpods

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// podFieldsDoc is the table of every pod field and what this node does
// with it, which these tests keep true.
const podFieldsDoc = "../../docs/pod-fields.md"

// The treatments a row may give, as the doc's legend explains them.
const (
	treatmentApplied = "applied"
	treatmentRefused = "refused"
	treatmentIgnored = "ignored as the kubelet ignores it"
	treatmentBug     = "silently ignored (bug)"
)

var treatments = []string{treatmentApplied, treatmentRefused, treatmentIgnored, treatmentBug}

// fieldTable is one table of the doc: the type whose fields it lists, and
// where a value of that type sits in the test pod (basePod).
type fieldTable struct {
	// heading is the table's "## " heading in the doc.
	heading string
	typ     reflect.Type
	// path is the field path of the struct in the test pod.
	path string
	// target returns the struct in pod whose fields a row sets.
	target func(pod *v1.Pod) reflect.Value
}

var fieldTables = []fieldTable{
	{"v1.PodSpec", reflect.TypeOf(v1.PodSpec{}), "spec", func(pod *v1.Pod) reflect.Value {
		return reflect.ValueOf(&pod.Spec).Elem()
	}},
	{"v1.Container", reflect.TypeOf(v1.Container{}), "spec.containers[0]", func(pod *v1.Pod) reflect.Value {
		return reflect.ValueOf(&pod.Spec.Containers[0]).Elem()
	}},
	{"v1.PodSecurityContext", reflect.TypeOf(v1.PodSecurityContext{}), "spec.securityContext", func(pod *v1.Pod) reflect.Value {
		pod.Spec.SecurityContext = &v1.PodSecurityContext{}
		return reflect.ValueOf(pod.Spec.SecurityContext).Elem()
	}},
	{"v1.SecurityContext", reflect.TypeOf(v1.SecurityContext{}), "spec.containers[0].securityContext", func(pod *v1.Pod) reflect.Value {
		pod.Spec.Containers[0].SecurityContext = &v1.SecurityContext{}
		return reflect.ValueOf(pod.Spec.Containers[0].SecurityContext).Elem()
	}},
	{"v1.VolumeSource", reflect.TypeOf(v1.VolumeSource{}), "spec.volumes[0]", func(pod *v1.Pod) reflect.Value {
		pod.Spec.Volumes[0].VolumeSource = v1.VolumeSource{}
		return reflect.ValueOf(&pod.Spec.Volumes[0].VolumeSource).Elem()
	}},
}

// refusedValue is the value tried for a refused field where a generic one
// (fillValue's) would mean the default or be refused for another reason;
// want, when set, is text the refusal must contain (otherwise it must be a
// Forbidden error).
type refusedValue struct {
	value any
	want  string
}

// refusedValues are keyed by "<heading>.<json name>".
var refusedValues = map[string]refusedValue{
	// true is the default; false asks for a user namespace.
	"v1.PodSpec.hostUsers": {value: ptrTo(false)},
	// The API server's own check: block devices need a PVC or an
	// ephemeral volume, which a static pod may not have.
	"v1.Container.volumeDevices": {
		value: []v1.VolumeDevice{{Name: "scratch", DevicePath: "/dev/xvdb"}},
		want:  "can only use volume source type of PersistentVolumeClaim or Ephemeral",
	},
	// Merge is what containerd 1.6 does; Strict it cannot.
	"v1.PodSecurityContext.supplementalGroupsPolicy": {value: ptrTo(v1.SupplementalGroupsPolicyStrict)},
	// Default is the default; Unmasked needs hostUsers false.
	"v1.SecurityContext.procMount": {value: ptrTo(v1.UnmaskedProcMount), want: "`hostUsers` must be false"},
}

// docRow is one row of a table in the doc.
type docRow struct {
	field, treatment, why string
	line                  int
}

// The doc has one row per JSON field of each type, found by reflection over
// k8s.io/api (an upgrade that adds a field fails here until its row says
// what happens to it), and no row for a field that does not exist.
func TestPodFieldsDoc_EveryFieldHasExactlyOneRow(t *testing.T) {
	tables := readPodFieldsDoc(t)
	for _, ft := range fieldTables {
		rows, ok := tables[ft.heading]
		if !ok {
			t.Errorf("%s has no %q table: add a \"## %s\" section with a row for each field", podFieldsDoc, ft.heading, ft.heading)
			continue
		}
		known := jsonFields(ft.typ)
		seen := map[string]int{}
		for _, r := range rows {
			switch {
			case known[r.field] == nil:
				t.Errorf("%s:%d: `%s` is not a field of %s in k8s.io/api: remove the row, or fix its name", podFieldsDoc, r.line, r.field, ft.heading)
			case seen[r.field] != 0:
				t.Errorf("%s:%d: a second row for `%s` in the %s table (the first is at line %d): keep one", podFieldsDoc, r.line, r.field, ft.heading, seen[r.field])
			default:
				seen[r.field] = r.line
			}
			if !contains(treatments, r.treatment) {
				t.Errorf("%s:%d: `%s` has treatment %q: use one of %q", podFieldsDoc, r.line, r.field, r.treatment, treatments)
			}
			if r.why == "" {
				t.Errorf("%s:%d: `%s` says nothing in how / why: say what the node does with it, or why it is refused and what works instead", podFieldsDoc, r.line, r.field)
			}
		}
		for _, name := range sortedKeys(known) {
			if seen[name] == 0 {
				t.Errorf("%s has no row for %s field `%s`: find what the kubelet does with it, apply it or refuse it (the project's rule), and add its row", podFieldsDoc, ft.heading, name)
			}
		}
	}
}

// A manifest that sets a field the doc says is refused is refused when the
// file is read, with an error at that field.
func TestPodFieldsDoc_RefusedFieldsAreRefused(t *testing.T) {
	if _, err := DecodeManifest(testPath, encodePod(t, basePod()), testNode); err != nil {
		t.Fatalf("the test pod itself is refused, so no refusal below would mean anything: %v", err)
	}
	tables := readPodFieldsDoc(t)
	for _, ft := range fieldTables {
		for _, r := range tables[ft.heading] {
			if r.treatment != treatmentRefused {
				continue
			}
			t.Run(ft.heading+"."+r.field, func(t *testing.T) {
				pod := basePod()
				fv, ok := fieldByJSONName(ft.target(pod), r.field)
				if !ok {
					t.Skipf("`%s` is not a field of %s (reported by TestPodFieldsDoc_EveryFieldHasExactlyOneRow)", r.field, ft.heading)
				}
				rv, ok := refusedValues[ft.heading+"."+r.field]
				if ok {
					fv.Set(reflect.ValueOf(rv.value))
				} else {
					fillValue(fv, 1)
				}
				path := ft.path + "." + r.field
				value, err := json.Marshal(fv.Interface())
				if err != nil {
					t.Fatalf("encode the value of %s: %v", path, err)
				}
				where := fmt.Sprintf("%s:%d says %s is refused", podFieldsDoc, r.line, path)

				_, err = DecodeManifest(testPath, encodePod(t, pod), testNode)
				if err == nil {
					t.Fatalf("%s, but a manifest setting it to %s is accepted: refuse it when the file is read, naming the field, or correct the row", where, value)
				}
				var merr *ManifestError
				if !errors.As(err, &merr) || len(merr.Fields) == 0 {
					t.Fatalf("%s, but setting it to %s fails without a field error: %v\n(if the test's value does not decode, give the field one in refusedValues)", where, value, err)
				}
				if !refusalNames(merr.Fields, path, rv.want) {
					want := "a Forbidden error"
					if rv.want != "" {
						want = fmt.Sprintf("an error saying %q", rv.want)
					}
					t.Fatalf("%s, but setting it to %s gives no refusal naming it (want %s at %s or below), only:\n  %s\n(if the test's value is wrong for another reason, give the field one in refusedValues)",
						where, value, want, path, strings.Join(errorStrings(merr.Fields), "\n  "))
				}
			})
		}
	}
}

// refusalNames reports whether one of errs is at path or below it and is
// the refusal: a Forbidden error, or one saying want when want is set.
func refusalNames(errs field.ErrorList, path, want string) bool {
	for _, e := range errs {
		if e.Field != path && !strings.HasPrefix(e.Field, path+".") && !strings.HasPrefix(e.Field, path+"[") {
			continue
		}
		if want == "" && e.Type == field.ErrorTypeForbidden || want != "" && strings.Contains(e.Error(), want) {
			return true
		}
	}
	return false
}

func errorStrings(errs field.ErrorList) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
	}
	return out
}

// basePod is a valid manifest's pod: one container and one emptyDir
// volume, named as fieldTables' paths expect.
func basePod() *v1.Pod {
	return &v1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: v1.PodSpec{
			Containers: []v1.Container{{Name: "app", Image: "busybox:1.36"}},
			Volumes:    []v1.Volume{{Name: "scratch", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}},
		},
	}
}

func encodePod(t *testing.T, pod *v1.Pod) []byte {
	t.Helper()
	data, err := json.MarshalIndent(pod, "", "  ")
	if err != nil {
		t.Fatalf("encode the test pod: %v", err)
	}
	return data
}

var (
	quantityValueType = reflect.TypeOf(resource.Quantity{})
	intOrStringType   = reflect.TypeOf(intstr.IntOrString{})
	timeType          = reflect.TypeOf(metav1.Time{})
)

// fillValue sets v to a plausible non-zero value: a pointer to a new
// element, filled; a struct's fields filled while depth lasts (a struct
// deeper than that stays empty); a string "a", a bool true, a number 1; a
// slice one filled element, a map one filled entry; a quantity and an
// int-or-string 1.
func fillValue(v reflect.Value, depth int) {
	switch v.Type() {
	case quantityValueType:
		v.Set(reflect.ValueOf(resource.MustParse("1")))
		return
	case intOrStringType:
		v.Set(reflect.ValueOf(intstr.FromInt32(1)))
		return
	case timeType:
		v.Set(reflect.ValueOf(metav1.Unix(1, 0)))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillValue(v.Elem(), depth)
	case reflect.Struct:
		if depth <= 0 {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fillValue(v.Field(i), depth-1)
			}
		}
	case reflect.String:
		v.SetString("a")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillValue(s.Index(0), depth)
		v.Set(s)
	case reflect.Map:
		key, elem := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillValue(key, depth)
		fillValue(elem, depth)
		m := reflect.MakeMap(v.Type())
		m.SetMapIndex(key, elem)
		v.Set(m)
	}
}

// fieldByJSONName finds the field of struct v with JSON name name, in
// inlined structs too.
func fieldByJSONName(v reflect.Value, name string) (reflect.Value, bool) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		tag, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && tag == "" || strings.Contains(opts, "inline") {
			if fv, ok := fieldByJSONName(v.Field(i), name); ok {
				return fv, true
			}
			continue
		}
		if tag == name || tag == "" && f.Name == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// readPodFieldsDoc parses the doc's tables: the rows under each "## "
// heading, keyed by the heading.
func readPodFieldsDoc(t *testing.T) map[string][]docRow {
	t.Helper()
	data, err := os.ReadFile(podFieldsDoc)
	if err != nil {
		t.Fatalf("read the field table: %v", err)
	}
	tables := map[string][]docRow{}
	heading := ""
	for i, line := range strings.Split(string(data), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			heading = strings.TrimSpace(h)
			continue
		}
		if heading == "" || !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		if cells[0] == "field" || strings.Trim(cells[0], "-") == "" {
			continue // the header and its rule
		}
		name, ok := strings.CutPrefix(cells[0], "`")
		name, ok2 := strings.CutSuffix(name, "`")
		if !ok || !ok2 || len(cells) != 3 {
			t.Errorf("%s:%d: a row must be | `field` | treatment | how / why |, with no other '|': %s", podFieldsDoc, i+1, line)
			continue
		}
		tables[heading] = append(tables[heading], docRow{field: name, treatment: cells[1], why: cells[2], line: i + 1})
	}
	return tables
}
