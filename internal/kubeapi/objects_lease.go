package kubeapi

import (
	"net/http"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

// leaseDurationSeconds is the kubelet's nodeLeaseDurationSeconds default.
const leaseDurationSeconds = 40

var leaseResource = schema.GroupResource{Group: coordinationGroup, Resource: "leases"}

// registerLease adds the node's Lease in kube-node-lease, which kubectl
// describe node shows; it is renewed by every relist.
func (o *objects) registerLease(mux *http.ServeMux) {
	base := "/apis/" + coordinationGroup + "/" + coordinationVersion
	mux.HandleFunc("GET "+base+"/namespaces/{namespace}/leases/{name}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("namespace") != v1.NamespaceNodeLease || r.PathValue("name") != o.deps.Node.Name {
			o.writeError(w, notFound(leaseResource, r.PathValue("name")))
			return
		}
		o.writeJSON(w, http.StatusOK, o.lease())
	})
	list := func(w http.ResponseWriter, r *http.Request) {
		l := &coordinationv1.LeaseList{
			TypeMeta: metav1.TypeMeta{Kind: "LeaseList", APIVersion: coordinationGroup + "/" + coordinationVersion},
			ListMeta: metav1.ListMeta{ResourceVersion: formatRV(o.currentRV())},
			Items:    []coordinationv1.Lease{},
		}
		if ns := r.PathValue("namespace"); ns == "" || ns == v1.NamespaceNodeLease {
			l.Items = append(l.Items, *o.lease())
		}
		o.writeJSON(w, http.StatusOK, l)
	}
	mux.HandleFunc("GET "+base+"/leases", list)
	mux.HandleFunc("GET "+base+"/namespaces/{namespace}/leases", list)
}

// lease is the node's Lease, as the kubelet's node lease controller keeps
// it: held by the node, renewed at the last relist, owned by the Node.
func (o *objects) lease() *coordinationv1.Lease {
	f := o.deps.Node
	l := &coordinationv1.Lease{
		TypeMeta: metav1.TypeMeta{Kind: "Lease", APIVersion: coordinationGroup + "/" + coordinationVersion},
		ObjectMeta: metav1.ObjectMeta{
			Name:              f.Name,
			Namespace:         v1.NamespaceNodeLease,
			UID:               stableUID("lease", f.Info.MachineID, f.Name),
			CreationTimestamp: metav1.NewTime(o.deps.Started),
			ResourceVersion:   formatRV(o.currentRV()),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Node", Name: f.Name, UID: stableUID("node", f.Info.MachineID, f.Name),
			}},
		},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(f.Name),
			LeaseDurationSeconds: ptr.To[int32](leaseDurationSeconds),
		},
	}
	if o.deps.Relist != nil {
		if t := o.deps.Relist.LastRelist(); !t.IsZero() {
			l.Spec.RenewTime = &metav1.MicroTime{Time: t}
		}
	}
	return l
}
