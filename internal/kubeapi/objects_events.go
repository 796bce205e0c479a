package kubeapi

import (
	"context"
	"fmt"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minikubelet/minikubelet/internal/podcolumns"
)

// eventColumns are the API server's event printer columns.
var eventColumns = []metav1.TableColumnDefinition{
	{Name: "Last Seen", Type: "string", Description: v1.Event{}.SwaggerDoc()["lastTimestamp"]},
	{Name: "Type", Type: "string", Description: v1.Event{}.SwaggerDoc()["type"]},
	{Name: "Reason", Type: "string", Description: v1.Event{}.SwaggerDoc()["reason"]},
	{Name: "Object", Type: "string", Description: v1.Event{}.SwaggerDoc()["involvedObject"]},
	{Name: "Subobject", Type: "string", Priority: 1, Description: v1.Event{}.InvolvedObject.SwaggerDoc()["fieldPath"]},
	{Name: "Source", Type: "string", Priority: 1, Description: v1.Event{}.SwaggerDoc()["source"]},
	{Name: "Message", Type: "string", Description: v1.Event{}.SwaggerDoc()["message"]},
	{Name: "First Seen", Type: "string", Priority: 1, Description: v1.Event{}.SwaggerDoc()["firstTimestamp"]},
	{Name: "Count", Type: "string", Priority: 1, Description: v1.Event{}.SwaggerDoc()["count"]},
	{Name: "Name", Type: "string", Priority: 1, Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
}

func (o *objects) eventResource() *resource {
	return &resource{
		gr:         schema.GroupResource{Resource: "events"},
		apiVersion: "v1",
		kind:       "Event",
		namespaced: true,
		list: func(context.Context, time.Time) ([]runtime.Object, uint64) {
			events, rv := o.deps.Events.ListAt()
			out := make([]runtime.Object, len(events))
			for i := range events {
				events[i].TypeMeta = metav1.TypeMeta{Kind: "Event", APIVersion: "v1"}
				out[i] = &events[i]
			}
			return out, rv
		},
		fields:  eventFields,
		owns:    func(obj runtime.Object) bool { _, ok := obj.(*v1.Event); return ok },
		columns: eventColumns,
		row:     eventRow,
	}
}

// eventFields are the API server's selectable event fields
// (pkg/registry/core/event ToSelectableFields).
func eventFields(obj runtime.Object) fields.Set {
	set := objectMetaFields(obj)
	ev, _ := obj.(*v1.Event)
	if ev == nil {
		ev = &v1.Event{}
	}
	set["involvedObject.kind"] = ev.InvolvedObject.Kind
	set["involvedObject.namespace"] = ev.InvolvedObject.Namespace
	set["involvedObject.name"] = ev.InvolvedObject.Name
	set["involvedObject.uid"] = string(ev.InvolvedObject.UID)
	set["involvedObject.apiVersion"] = ev.InvolvedObject.APIVersion
	set["involvedObject.resourceVersion"] = ev.InvolvedObject.ResourceVersion
	set["involvedObject.fieldPath"] = ev.InvolvedObject.FieldPath
	set["reason"] = ev.Reason
	set["reportingComponent"] = ev.ReportingController
	set["source"] = ev.Source.Component
	set["type"] = ev.Type
	return set
}

// eventRow is printEvent's row, with every column.
func eventRow(obj runtime.Object, now time.Time) metav1.TableRow {
	ev := obj.(*v1.Event)
	first := podcolumns.Age(ev.FirstTimestamp, now)
	last := podcolumns.Age(ev.LastTimestamp, now)
	if ev.LastTimestamp.IsZero() {
		last = first
	}
	count := ev.Count
	if count == 0 {
		count = 1
	}
	target := strings.ToLower(ev.InvolvedObject.Kind)
	if ev.InvolvedObject.Name != "" {
		target = fmt.Sprintf("%s/%s", target, ev.InvolvedObject.Name)
	}
	source := ev.Source.Component
	if ev.Source.Host != "" {
		source += ", " + ev.Source.Host
	}
	return metav1.TableRow{Cells: []any{last, ev.Type, ev.Reason, target, ev.InvolvedObject.FieldPath, source,
		strings.TrimSpace(ev.Message), first, int64(count), ev.Name}}
}
