package kubeapi

import (
	"context"
	"sort"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minikubelet/minikubelet/internal/podcolumns"
)

// namespaceColumns are the API server's namespace printer columns.
var namespaceColumns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
	{Name: "Status", Type: "string", Description: "The status of the namespace"},
	{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
}

// alwaysNamespaces exist whatever the pods use: default, and the one the
// node's Lease is in.
var alwaysNamespaces = []string{metav1.NamespaceDefault, v1.NamespaceNodeLease}

func (o *objects) namespaceResource() *resource {
	return &resource{
		gr:         schema.GroupResource{Resource: "namespaces"},
		apiVersion: "v1",
		kind:       "Namespace",
		list: func(context.Context, time.Time) ([]runtime.Object, uint64) {
			pods, rv := o.deps.Pods.ListAt()
			return namespaces(pods, o.deps.Started, rv), rv
		},
		fields: func(obj runtime.Object) fields.Set {
			set := fields.Set{"metadata.name": "", "status.phase": ""}
			if ns, ok := obj.(*v1.Namespace); ok {
				set["metadata.name"] = ns.Name
				set["status.phase"] = string(ns.Status.Phase)
			}
			return set
		},
		columns: namespaceColumns,
		row: func(obj runtime.Object, now time.Time) metav1.TableRow {
			ns := obj.(*v1.Namespace)
			return metav1.TableRow{Cells: []any{ns.Name, string(ns.Status.Phase), podcolumns.Age(ns.CreationTimestamp, now)}}
		},
	}
}

// namespaces are the namespaces the pods use and the ones that always
// exist, all Active, created when the daemon started, sorted by name.
func namespaces(pods []v1.Pod, started time.Time, rv uint64) []runtime.Object {
	names := map[string]bool{}
	for _, n := range alwaysNamespaces {
		names[n] = true
	}
	for i := range pods {
		names[pods[i].Namespace] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	out := make([]runtime.Object, 0, len(sorted))
	for _, n := range sorted {
		out = append(out, &v1.Namespace{
			TypeMeta: metav1.TypeMeta{Kind: "Namespace", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{
				Name:              n,
				UID:               stableUID("namespace", n),
				Labels:            map[string]string{"kubernetes.io/metadata.name": n},
				CreationTimestamp: metav1.NewTime(started),
				ResourceVersion:   formatRV(rv),
			},
			Spec:   v1.NamespaceSpec{Finalizers: []v1.FinalizerName{v1.FinalizerKubernetes}},
			Status: v1.NamespaceStatus{Phase: v1.NamespaceActive},
		})
	}
	return out
}
